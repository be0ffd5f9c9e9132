# Rego unit tests of the aws pack: a passing and a failing example per rule.
# They call each rule's violation(props, params) function directly (rego-cpp 1.5.2
# crashes on `with input as` over rules that call functions).
package provision.aws.aws_test

import rego.v1

import data.provision.aws.iam_wildcard
import data.provision.aws.s3_encryption
import data.provision.aws.s3_public_access



test_encryption_pass if {
	not s3_encryption.violation({"server_side_encryption": "aws:kms"}, {"sse_algorithms": ["AES256", "aws:kms"]})
}

test_encryption_missing_fails if {
	s3_encryption.violation({"bucket": "b"}, {"sse_algorithms": ["AES256", "aws:kms"]}) == "server_side_encryption is not set"
}

test_encryption_unknown_algorithm_fails if {
	contains(s3_encryption.violation({"server_side_encryption": "ROT13"}, {"sse_algorithms": ["AES256", "aws:kms"]}), "ROT13")
}

test_public_access_pass if {
	not s3_public_access.violation({"public_access_block": {
		"block_public_acls": true, "block_public_policy": true,
		"ignore_public_acls": true, "restrict_public_buckets": true,
	}}, {})
}

test_public_access_partial_fails if {
	msg := s3_public_access.violation({"public_access_block": {
		"block_public_acls": true, "block_public_policy": true,
		"ignore_public_acls": false, "restrict_public_buckets": true,
	}}, {})
	msg == "public_access_block does not enable: ignore_public_acls"
}

test_public_access_missing_fails if {
	s3_public_access.violation({"bucket": "b"}, {})
}

test_iam_exact_actions_pass if {
	not iam_wildcard.violation({"policy": "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"*\"}]}"}, {})
}

test_iam_wildcard_fails if {
	iam_wildcard.violation({"policy": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}, {}) == "policy allows wildcard action(s): s3:*"
}

test_iam_deny_wildcard_pass if {
	not iam_wildcard.violation({"policy": {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}}, {})
}
