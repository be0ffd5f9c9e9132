# Rego unit tests of the azure pack: a passing and a failing example per rule.
# Rules are tested through their violation(props, params) function.
package provision.azure.azure_test

import rego.v1

import data.provision.azure.container_public_access
import data.provision.azure.storage_public_access
import data.provision.azure.storage_tls
import data.provision.azure.vnet_private_space
import data.provision.azure.generic_preview_api

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

test_vnet_private_pass if {
	not vnet_private_space.violation({"name": "hub", "address_space": ["10.10.0.0/16", "172.20.0.0/16", "192.168.1.0/24", "fd00:1::/48"]}, {})
}

test_vnet_public_space_fails if {
	vnet_private_space.violation({"name": "hub", "address_space": ["10.0.0.0/16", "20.0.0.0/16", "172.32.0.0/16"]}, {}) == "address space is not private: 172.32.0.0/16, 20.0.0.0/16"
}

test_generic_ga_api_pass if {
	not generic_preview_api.violation({"resource_type": "Microsoft.KeyVault/vaults", "api_version": "2023-07-01"}, {})
}

test_generic_preview_api_fails if {
	generic_preview_api.violation({"resource_type": "Microsoft.App/containerApps", "api_version": "2024-10-02-preview"}, {}) == "api_version '2024-10-02-preview' is a preview version of Microsoft.App/containerApps"
}
