"""Azure's documented limits in the schemas, checked by ``validate`` at file:line."""

from __future__ import annotations

import pytest

import providers
from provision.constraints import check_resource
from provision.errors import SpecError
from provision.spec import loads, validate
from providers.azure import limits
from providers.azure.virtual_network import SCHEMA as VNET

SPEC = """\
name: net
resources:
  vnet:
    type: azure:network:VirtualNetwork
    properties:
      name: "-bad"
      resource_group_name: "rg."
      address_space: ["10.0.0.0/16", "10.1.0.1/24"]
      subnets:
        - {name: app, address_prefix: 10.0.1.0/24}
        - {name: db, address_prefix: 10.0.1.128/25}
        - {name: out, address_prefix: 10.9.0.0/24}
  vault:
    type: azure:resources:Resource
    properties:
      resource_type: KeyVault/vaults
      api_version: "2023-7-1"
      name: "kv:1"
      parent: rg
"""


def test_violations_are_located_validate_errors_with_their_source() -> None:
    with pytest.raises(SpecError) as info:
        validate(loads(SPEC, "net.yaml"), providers.registry())
    found = {(d.line, d.resource, d.message) for d in info.value.diagnostics}
    assert (6, "vnet", "property 'name' '-bad' is not valid: letters, digits, '_', '.' and '-', "
                       "beginning with a letter or digit and ending with a letter, digit or "
                       "'_'") in found
    assert (7, "vnet", "property 'resource_group_name' 'rg.' is not allowed: a trailing "
                       "period") in found
    assert (8, "vnet", "property 'address_space.1' '10.1.0.1/24' has host bits set; the block "
                       "is 10.1.0.0/24") in found
    messages = {m for _, r, m in found if r == "vnet"}
    assert "property 'subnets.1.address_prefix' 10.0.1.128/25 overlaps 10.0.1.0/24, another " \
           "subnet" in messages
    assert any(m.startswith("property 'subnets.2.address_prefix' 10.9.0.0/24 is not inside")
               for m in messages)
    vault = {m for _, r, m in found if r == "vault"}
    assert any("'resource_type'" in m for m in vault)
    assert any("'api_version'" in m for m in vault)
    assert any("'name'" in m and "is not allowed" in m for m in vault)
    hints = {d.hint for d in info.value.diagnostics if "'name' '-bad'" in d.message}
    assert hints == {f"documented at {limits.NAME_RULES}"}


def test_a_valid_network_has_no_violation() -> None:
    props = {"name": "hub_", "resource_group_name": "rg-(net)", "address_space": ["10.0.0.0/16",
             "fd00::/48"], "subnets": [{"name": "a", "address_prefix": "10.0.0.0/24"},
                                        {"name": "b", "address_prefix": "fd00::/64"}],
             "tags": {"team": "net"}}
    constraints = {n: p.constraints for n, p in VNET.properties.items()}
    assert check_resource(constraints, VNET.rules, props) == []


def test_tag_limits() -> None:
    constraints = {n: p.constraints for n, p in VNET.properties.items()}
    found = check_resource(constraints, (), {"tags": {"a/b": "x", **{f"k{i}": "v"
                                                                      for i in range(50)}}})
    assert [v.path for v in found] == ["tags", "tags.a/b"]
