# PRV-AZ-004: a virtual network's address space is private (RFC 1918 for IPv4,
# unique local fc00::/7 for IPv6), so it never shadows public internet ranges.
package provision.azure.vnet_private_space

import rego.v1

metadata := {
	"id": "PRV-AZ-004",
	"title": "Virtual network address space is private",
	"severity": "high",
	"phase": "both",
	"resource_types": ["azure:network:VirtualNetwork"],
	"reads": ["address_space"],
	"remediation": "use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (fd00::/8 for IPv6)",
}

deny contains v if {
	some r in input.by_type["azure:network:VirtualNetwork"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, params) := concat("", ["address space is not private: ", concat(", ", sort(public))]) if {
	public := {block |
		some block in object.get(props, "address_space", [])
		is_string(block)
		not private(block)
	}
	count(public) > 0
}

private(block) if startswith(block, "10.")

private(block) if startswith(block, "192.168.")

private(block) if {
	parts := split(block, ".")
	parts[0] == "172"
	second := to_number(parts[1])
	second >= 16
	second <= 31
}

private(block) if startswith(lower(block), "fd")

private(block) if startswith(lower(block), "fc")
