# PRV-AWS-005: DynamoDB tables are encrypted with a KMS key the account can see and
# audit (server_side_encryption.enabled), not only with the AWS-owned default key.
package provision.aws.dynamodb_encryption

import rego.v1

metadata := {
	"id": "PRV-AWS-005",
	"title": "DynamoDB table encrypted with a KMS key",
	"severity": "medium",
	"phase": "both",
	"resource_types": ["aws:dynamodb:Table"],
	"reads": ["server_side_encryption"],
	"remediation": "set server_side_encryption: {enabled: true} (optionally with kms_key_arn) on the table",
}

deny contains v if {
	some r in input.by_type["aws:dynamodb:Table"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := "server_side_encryption is not enabled (only the AWS-owned key protects the table)" if {
	object.get(props, ["server_side_encryption", "enabled"], false) != true
}
