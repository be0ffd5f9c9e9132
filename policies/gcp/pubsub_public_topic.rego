# PRV-GCP-003: no Pub/Sub topic grants a role to allUsers / allAuthenticatedUsers.
# A public topic lets anyone on the internet publish (or attach subscriptions).
package provision.gcp.pubsub_public_topic

import rego.v1

metadata := {
	"id": "PRV-GCP-003",
	"title": "Pub/Sub topic grants nothing to allUsers",
	"severity": "critical",
	"phase": "both",
	"resource_types": ["gcp:pubsub:Topic"],
	"reads": ["iam_bindings"],
	"remediation": "remove allUsers / allAuthenticatedUsers from the topic's iam_bindings",
}

deny contains v if {
	some r in input.by_type["gcp:pubsub:Topic"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["iam_bindings grant ", concat(", ", sort(found))]) if {
	bindings := object.get(props, "iam_bindings", {})
	found := {grant |
		members := bindings[role]
		m := members[_]
		m in params.public_members
		grant := concat("", [m, " ", role])
	}
	count(found) > 0
}
