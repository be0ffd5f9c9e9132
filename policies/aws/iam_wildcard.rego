# PRV-AWS-003: IAM role inline policies grant no wildcard actions.
package provision.aws.iam_wildcard

import rego.v1

metadata := {
	"id": "PRV-AWS-003",
	"title": "IAM role policy without wildcard actions",
	"severity": "high",
	"phase": "both",
	"resource_types": ["aws:iam:Role"],
	# Only the statements' Effect and Action decide: a Resource known only after apply
	# (an ARN of another resource) defers nothing.
	"reads": ["inline_policies.*.Statement.*.Effect", "inline_policies.*.Statement.*.Action"],
	"remediation": "list the exact actions the role needs instead of '*' or 'service:*'",
}

deny contains v if {
	some r in input.by_type["aws:iam:Role"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

# inline_policies maps a policy name to its document; a finding names the policy.
violation(props, _) := concat("; ", sort(found)) if {
	found := [msg |
		policies := object.get(props, "inline_policies", {})
		doc := policies[name]
		bad := wildcards(document(doc))
		count(bad) > 0
		msg := concat("", ["policy '", name, "' allows wildcard action(s): ", concat(", ", sort(bad))])
	]
	count(found) > 0
}

# The policy document may be written as a JSON string or as a map.
document(p) := json.unmarshal(p) if is_string(p)

document(p) := p if is_object(p)

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

wildcards(doc) := [a |
	some s in as_list(object.get(doc, "Statement", []))
	object.get(s, "Effect", "Allow") == "Allow"
	some a in as_list(object.get(s, "Action", []))
	contains(a, "*")
]
