# PRV-AZ-005: generic ARM resources use a generally available API version; preview
# versions change or disappear without the usual deprecation period.
package provision.azure.generic_preview_api

import rego.v1

metadata := {
	"id": "PRV-AZ-005",
	"title": "Generic ARM resources use a GA API version",
	"severity": "low",
	"enforcement": "advisory",
	"phase": "both",
	"resource_types": ["azure:resources:Resource"],
	"reads": ["api_version"],
	"remediation": "pin a generally available api_version (without -preview)",
}

deny contains v if {
	some r in input.by_type["azure:resources:Resource"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["api_version '", version, "' is a preview version of ", object.get(props, "resource_type", "the type")]) if {
	version := object.get(props, "api_version", "")
	is_string(version)
	endswith(lower(version), "-preview")
}
