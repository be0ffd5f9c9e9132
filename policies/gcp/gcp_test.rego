# Rego unit tests of the gcp pack: a passing and a failing example per rule.
# Rules are tested through their violation(props, params) function.
package provision.gcp.gcp_test

import rego.v1

import data.provision.gcp.no_public_members
import data.provision.gcp.uniform_access

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
