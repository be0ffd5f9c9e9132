# PRV-AWS-001: S3 buckets are encrypted at rest with an accepted algorithm.
package provision.aws.s3_encryption

import rego.v1

metadata := {
	"id": "PRV-AWS-001",
	"title": "S3 bucket encrypted at rest",
	"severity": "high",
	"phase": "both",
	"resource_types": ["aws:s3:Bucket"],
	"reads": ["server_side_encryption"],
	"remediation": "set server_side_encryption: AES256 (or aws:kms) on the bucket",
}

deny contains v if {
	some r in input.by_type["aws:s3:Bucket"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

# The rule's logic, per bucket; tests call it directly.
violation(props, _) := "server_side_encryption is not set" if {
	not props.server_side_encryption
}

violation(props, params) := msg if {
	alg := props.server_side_encryption
	not alg in params.sse_algorithms
	msg := concat("", ["server_side_encryption '", alg, "' is not one of ", concat(", ", params.sse_algorithms)])
}
