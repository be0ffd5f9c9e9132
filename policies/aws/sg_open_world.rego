# PRV-AWS-004: security groups admit no traffic from the whole internet,
# except on the ports listed in params.public_ports (80 and 443 by default).
package provision.aws.sg_open_world

import rego.v1

metadata := {
	"id": "PRV-AWS-004",
	"title": "Security group not open to the world",
	"severity": "high",
	"phase": "both",
	"resource_types": ["aws:ec2:SecurityGroup"],
	# A rule's description or source security group known only after apply defers nothing.
	"reads": [
		"ingress.*.cidr_blocks", "ingress.*.ipv6_cidr_blocks", "ingress.*.protocol",
		"ingress.*.from_port", "ingress.*.to_port",
	],
	"remediation": "narrow cidr_blocks to the networks that need access, or serve the port through a load balancer",
}

deny contains v if {
	some r in input.by_type["aws:ec2:SecurityGroup"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["ingress open to the world: ", concat(", ", sort(open))]) if {
	open := {describe(rule) |
		some rule in object.get(props, "ingress", [])
		world(rule)
		not public_port(rule, params)
	}
	count(open) > 0
}

world(rule) if "0.0.0.0/0" in object.get(rule, "cidr_blocks", [])

world(rule) if "::/0" in object.get(rule, "ipv6_cidr_blocks", [])

# A rule for exactly one allowed port (all protocols count as every port).
public_port(rule, params) if {
	object.get(rule, "protocol", "-1") in {"tcp", "udp", "6", "17"}
	rule.from_port == rule.to_port
	rule.from_port in object.get(params, "public_ports", [80, 443])
}

describe(rule) := concat("", [
	format_protocol(object.get(rule, "protocol", "-1")), " ",
	ports(rule),
])

format_protocol(p) := "all protocols" if p in {"-1", "all"}

format_protocol(p) := p if not p in {"-1", "all"}

ports(rule) := "" if object.get(rule, "protocol", "-1") in {"-1", "all"}

ports(rule) := concat("", ["port ", format_int(rule.from_port, 10)]) if {
	not object.get(rule, "protocol", "-1") in {"-1", "all"}
	rule.from_port == rule.to_port
}

ports(rule) := concat("", ["ports ", format_int(rule.from_port, 10), "-", format_int(rule.to_port, 10)]) if {
	not object.get(rule, "protocol", "-1") in {"-1", "all"}
	rule.from_port != rule.to_port
}
