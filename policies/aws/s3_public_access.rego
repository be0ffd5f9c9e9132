# PRV-AWS-002: S3 buckets block every kind of public access.
package provision.aws.s3_public_access

import rego.v1

metadata := {
	"id": "PRV-AWS-002",
	"title": "S3 bucket blocks public access",
	"severity": "critical",
	"phase": "both",
	"resource_types": ["aws:s3:Bucket"],
	"reads": ["public_access_block"],
	"remediation": "set public_access_block: {block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true}",
}

deny contains v if {
	some r in input.by_type["aws:s3:Bucket"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := concat("", ["public_access_block does not enable: ", concat(", ", off)]) if {
	off := [s |
		some s in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
		object.get(props, ["public_access_block", s], false) != true
	]
	count(off) > 0
}
