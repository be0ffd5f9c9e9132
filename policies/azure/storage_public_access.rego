# PRV-AZ-001: storage accounts do not allow public blob access.
package provision.azure.storage_public_access

import rego.v1

metadata := {
	"id": "PRV-AZ-001",
	"title": "Storage account disallows public blob access",
	"severity": "critical",
	"phase": "both",
	"resource_types": ["azure:storage:Account"],
	"reads": ["allow_blob_public_access"],
	"remediation": "set allow_blob_public_access: false on the storage account",
}

deny contains v if {
	some r in input.by_type["azure:storage:Account"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

# Absent means the adapter's default, false.
violation(props, _) := "allow_blob_public_access is true" if {
	props.allow_blob_public_access == true
}
