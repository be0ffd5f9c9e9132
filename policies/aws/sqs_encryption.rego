# PRV-AWS-007: an SQS queue keeps server-side encryption. New queues get SSE-SQS by
# default (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html),
# so only a queue that turns it off without a KMS key instead is a violation.
package provision.aws.sqs_encryption

import rego.v1

metadata := {
	"id": "PRV-AWS-007",
	"title": "SQS queue encrypted at rest",
	"severity": "medium",
	"phase": "both",
	"resource_types": ["aws:sqs:Queue"],
	"reads": ["sqs_managed_sse_enabled", "kms_master_key_id"],
	"remediation": "leave sqs_managed_sse_enabled unset or true, or set kms_master_key_id",
}

deny contains v if {
	some r in input.by_type["aws:sqs:Queue"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := "sqs_managed_sse_enabled is false and no kms_master_key_id is set: messages are stored unencrypted" if {
	object.get(props, "sqs_managed_sse_enabled", true) == false
	no_kms_key(props)
}

no_kms_key(props) if not props.kms_master_key_id

no_kms_key(props) if props.kms_master_key_id == null

no_kms_key(props) if props.kms_master_key_id == ""
