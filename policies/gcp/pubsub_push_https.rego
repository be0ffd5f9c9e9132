# PRV-GCP-004: a push subscription delivers messages over HTTPS only.
package provision.gcp.pubsub_push_https

import rego.v1

metadata := {
	"id": "PRV-GCP-004",
	"title": "Pub/Sub push endpoints use HTTPS",
	"severity": "high",
	"phase": "both",
	"resource_types": ["gcp:pubsub:Subscription"],
	"reads": ["push_endpoint"],
	"remediation": "use an https:// push_endpoint",
}

deny contains v if {
	some r in input.by_type["gcp:pubsub:Subscription"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["push_endpoint '", endpoint, "' is not https"]) if {
	endpoint := object.get(props, "push_endpoint", "")
	is_string(endpoint)
	endpoint != ""
	not startswith(lower(endpoint), "https://")
}
