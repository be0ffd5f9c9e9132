# Rego unit tests of the aws pack: a passing and a failing example per rule.
# They call each rule's violation(props, params) function directly (rego-cpp 1.5.2
# crashes on `with input as` over rules that call functions).
package provision.aws.aws_test

import rego.v1

import data.provision.aws.dynamodb_encryption
import data.provision.aws.iam_wildcard
import data.provision.aws.s3_encryption
import data.provision.aws.s3_public_access
import data.provision.aws.sg_open_world
import data.provision.aws.sqs_encryption
import data.provision.aws.vpc_private_space



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
	not iam_wildcard.violation({"inline_policies": {"read": "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"*\"}]}"}}, {})
}

test_iam_wildcard_fails if {
	iam_wildcard.violation({"inline_policies": {"admin": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}}, {}) == "policy 'admin' allows wildcard action(s): s3:*"
}

test_iam_deny_wildcard_pass if {
	not iam_wildcard.violation({"inline_policies": {"guard": {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}}}, {})
}

test_iam_no_inline_policies_pass if {
	not iam_wildcard.violation({"name": "r"}, {})
}

test_sg_https_from_anywhere_pass if {
	not sg_open_world.violation({"ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}]}, {"public_ports": [80, 443]})
}

test_sg_ssh_from_a_network_pass if {
	not sg_open_world.violation({"ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}]}, {"public_ports": [80, 443]})
}

test_sg_ssh_from_anywhere_fails if {
	sg_open_world.violation({"ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"]}]}, {"public_ports": [80, 443]}) == "ingress open to the world: tcp port 22"
}

test_sg_everything_from_ipv6_anywhere_fails if {
	sg_open_world.violation({"ingress": [{"protocol": "all", "ipv6_cidr_blocks": ["::/0"]}]}, {"public_ports": [80, 443]}) == "ingress open to the world: all protocols "
}

test_dynamodb_kms_pass if {
	not dynamodb_encryption.violation({"server_side_encryption": {"enabled": true}}, {})
}

test_dynamodb_default_key_fails if {
	contains(dynamodb_encryption.violation({"name": "orders"}, {}), "not enabled")
}

test_vpc_private_pass if {
	not vpc_private_space.violation({"cidr_block": "10.60.0.0/16"}, {})
	not vpc_private_space.violation({"cidr_block": "172.20.1.0/24"}, {})
}

test_vpc_public_block_fails if {
	vpc_private_space.violation({"cidr_block": "52.10.0.0/16"}, {}) == "cidr_block is not private: 52.10.0.0/16"
}

test_subnet_public_block_fails if {
	vpc_private_space.violation({"vpc_id": "vpc-1", "cidr_block": "172.32.1.0/24"}, {}) == "cidr_block is not private: 172.32.1.0/24"
}

test_sqs_default_encryption_pass if {
	not sqs_encryption.violation({"name": "jobs"}, {})
	not sqs_encryption.violation({"name": "jobs", "sqs_managed_sse_enabled": false, "kms_master_key_id": "alias/aws/sqs"}, {})
}

test_sqs_encryption_off_fails if {
	contains(sqs_encryption.violation({"name": "jobs", "sqs_managed_sse_enabled": false}, {}), "unencrypted")
}
