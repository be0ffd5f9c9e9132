# PRV-AZ-002: blob containers are private.
package provision.azure.container_public_access

import rego.v1

metadata := {
	"id": "PRV-AZ-002",
	"title": "Blob container public access is off",
	"severity": "critical",
	"phase": "both",
	"resource_types": ["azure:storage:BlobContainer"],
	"reads": ["public_access"],
	"remediation": "set public_access: none on the container",
}

deny contains v if {
	some r in input.by_type["azure:storage:BlobContainer"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

# Absent means the adapter's default, "none".
violation(props, _) := concat("", ["public_access is '", level, "' (anonymous reads allowed)"]) if {
	level := lower(object.get(props, "public_access", "none"))
	not level in {"none", "off", "private"}
}
