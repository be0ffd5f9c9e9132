# Rego unit tests of the gcp pack: a passing and a failing example per rule.
# Rules are tested through their violation(props, params) function.
package provision.gcp.gcp_test

import rego.v1

import data.provision.gcp.no_public_members
import data.provision.gcp.uniform_access
import data.provision.gcp.pubsub_public_topic
import data.provision.gcp.pubsub_push_https

test_uniform_pass if {
	not uniform_access.violation({"name": "b", "uniform_bucket_level_access": true}, {})
}

test_uniform_off_fails if {
	uniform_access.violation({"name": "b", "uniform_bucket_level_access": false}, {})
}

test_uniform_missing_fails if {
	uniform_access.violation({"name": "b"}, {})
}

test_no_public_members_pass if {
	not no_public_members.violation({"name": "b", "iam_members": ["user:a@example.com"]}, {"public_members": ["allUsers"]})
}

test_all_users_fails if {
	no_public_members.violation({"name": "b", "iam_members": [{"role": "roles/storage.objectViewer", "member": "allUsers"}]}, {"public_members": ["allUsers", "allAuthenticatedUsers"]}) == "grants access to allUsers"
}

test_pubsub_private_topic_pass if {
	not pubsub_public_topic.violation({"name": "orders", "iam_bindings": {"roles/pubsub.publisher": ["serviceAccount:app@p.iam.gserviceaccount.com"]}}, {"public_members": ["allUsers", "allAuthenticatedUsers"]})
}

test_pubsub_public_topic_fails if {
	pubsub_public_topic.violation({"name": "orders", "iam_bindings": {"roles/pubsub.publisher": ["allUsers"], "roles/pubsub.viewer": ["allAuthenticatedUsers", "user:a@example.com"]}}, {"public_members": ["allUsers", "allAuthenticatedUsers"]}) == "iam_bindings grant allAuthenticatedUsers roles/pubsub.viewer, allUsers roles/pubsub.publisher"
}

test_pubsub_push_https_pass if {
	not pubsub_push_https.violation({"name": "s", "push_endpoint": "https://example.com/push"}, {})
}

test_pubsub_pull_pass if {
	not pubsub_push_https.violation({"name": "s"}, {})
}

test_pubsub_push_http_fails if {
	pubsub_push_https.violation({"name": "s", "push_endpoint": "http://example.com/push"}, {}) == "push_endpoint 'http://example.com/push' is not https"
}
