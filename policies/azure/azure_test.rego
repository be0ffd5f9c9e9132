# Rego unit tests of the azure pack: a passing and a failing example per rule.
# Rules are tested through their violation(props, params) function.
package provision.azure.azure_test

import rego.v1

import data.provision.azure.container_public_access
import data.provision.azure.storage_public_access
import data.provision.azure.storage_tls

test_account_private_pass if {
	not storage_public_access.violation({"name": "st", "allow_blob_public_access": false}, {})
}

test_account_default_pass if {
	not storage_public_access.violation({"name": "st"}, {})
}

test_account_public_fails if {
	storage_public_access.violation({"allow_blob_public_access": true}, {}) == "allow_blob_public_access is true"
}

test_container_none_pass if {
	not container_public_access.violation({"name": "c", "public_access": "none"}, {})
}

test_container_blob_fails if {
	container_public_access.violation({"public_access": "blob"}, {}) == "public_access is 'blob' (anonymous reads allowed)"
}

test_container_container_fails if {
	container_public_access.violation({"public_access": "Container"}, {})
}

test_tls12_pass if {
	not storage_tls.violation({"min_tls_version": "TLS1_2"}, {"min_tls_versions": ["TLS1_2"]})
}

test_tls10_fails if {
	storage_tls.violation({"min_tls_version": "TLS1_0"}, {"min_tls_versions": ["TLS1_2"]}) == "min_tls_version is 'TLS1_0'; allowed: TLS1_2"
}
