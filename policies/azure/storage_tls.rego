# PRV-AZ-003: storage accounts require TLS 1.2 or later.
package provision.azure.storage_tls

import rego.v1

metadata := {
	"id": "PRV-AZ-003",
	"title": "Storage account requires TLS 1.2+",
	"severity": "medium",
	"enforcement": "advisory",
	"phase": "both",
	"resource_types": ["azure:storage:Account"],
	"reads": ["min_tls_version"],
	"remediation": "set min_tls_version: TLS1_2",
}

deny contains v if {
	some r in input.by_type["azure:storage:Account"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["min_tls_version is '", tls, "'; allowed: ", concat(", ", params.min_tls_versions)]) if {
	tls := object.get(props, "min_tls_version", "unset")
	not tls in params.min_tls_versions
}
