# PRV-GCP-002: no bucket property grants access to allUsers / allAuthenticatedUsers.
# Scans every property value, so IAM bindings or ACL entries added to the bucket
# type later are covered without changing the rule.
package provision.gcp.no_public_members

import rego.v1

metadata := {
	"id": "PRV-GCP-002",
	"title": "GCS bucket grants nothing to allUsers",
	"severity": "critical",
	"phase": "both",
	"resource_types": ["gcp:storage:Bucket"],
	"remediation": "remove allUsers / allAuthenticatedUsers members from the bucket",
}

deny contains v if {
	some r in input.by_type["gcp:storage:Bucket"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["grants access to ", concat(", ", sort(found))]) if {
	found := {m |
		walk(props, [_, value])
		is_string(value)
		some m in params.public_members
		contains(value, m)
	}
	count(found) > 0
}
