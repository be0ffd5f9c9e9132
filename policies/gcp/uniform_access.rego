# PRV-GCP-001: buckets use uniform bucket-level access (no per-object ACLs).
package provision.gcp.uniform_access

import rego.v1

metadata := {
	"id": "PRV-GCP-001",
	"title": "GCS bucket uses uniform bucket-level access",
	"severity": "high",
	"phase": "both",
	"resource_types": ["gcp:storage:Bucket"],
	"reads": ["uniform_bucket_level_access"],
	"remediation": "set uniform_bucket_level_access: true on the bucket",
}

deny contains v if {
	some r in input.by_type["gcp:storage:Bucket"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := "uniform_bucket_level_access is not enabled (object ACLs can make objects public)" if {
	object.get(props, "uniform_bucket_level_access", false) != true
}
