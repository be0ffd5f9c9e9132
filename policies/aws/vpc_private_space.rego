# PRV-AWS-006: a VPC's and a subnet's IPv4 block is private (RFC 1918), as AWS
# recommends for VPCs: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
# (a public block shadows internet ranges the VPC can then never reach).
package provision.aws.vpc_private_space

import rego.v1

metadata := {
	"id": "PRV-AWS-006",
	"title": "VPC and subnet address space is private",
	"severity": "high",
	"phase": "both",
	"resource_types": ["aws:ec2:Vpc", "aws:ec2:Subnet"],
	"reads": ["cidr_block"],
	"remediation": "use a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
}

deny contains v if {
	some type in ["aws:ec2:Vpc", "aws:ec2:Subnet"]
	some r in input.by_type[type]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := concat("", ["cidr_block is not private: ", block]) if {
	block := object.get(props, "cidr_block", null)
	is_string(block)
	not private(block)
}

private(block) if startswith(block, "10.")

private(block) if startswith(block, "192.168.")

private(block) if {
	parts := split(block, ".")
	parts[0] == "172"
	second := to_number(parts[1])
	second >= 16
	second <= 31
}
