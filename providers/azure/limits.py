"""Azure naming and value limits shared by several resource types, each with its source.

Type-specific limits live beside the type's schema; these are the ones Azure
states once for many resource types (tags, resource group names, CIDR blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from provision.constraints import Cidr, Keys, Length, Pattern, Related, Violation, parse_cidr

# "Naming rules and restrictions for Azure resources".
NAME_RULES = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
              "resource-name-rules")
# "Use tags to organize your Azure resources", Limitations: at most 50 tag name/value
# pairs; names up to 512 characters (128 for storage accounts), values up to 256;
# names cannot contain < > % & \ ? /.
TAGGING = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
           "tag-resources#limitations")

TAGS = (
    Length(0, 50, source=TAGGING),
    Keys((Length(1, 512, source=TAGGING),
          Pattern(r"[<>%&\\?/]", "the characters < > % & \\ ? /", forbid=True,
                  source=TAGGING))),
)

# Microsoft.Resources/resourcegroups: 1-90 letters, digits, underscores, parentheses,
# hyphens and periods (Unicode letters too); cannot end with a period.
RESOURCE_GROUP_NAME = (
    Length(1, 90, source=NAME_RULES),
    Pattern(r"[-\w._()]+", "letters, digits, '_', '(', ')', '-' and '.'", source=NAME_RULES),
    Pattern(r"\.$", "a trailing period", forbid=True, source=NAME_RULES),
)

# Microsoft.Network/virtualNetworks: 2-64 letters, digits, underscores, periods and
# hyphens, beginning with a letter or digit, ending with a letter, digit or underscore.
VNET_NAME = (
    Length(2, 64, source=NAME_RULES),
    Pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]", "letters, digits, '_', '.' and '-', "
            "beginning with a letter or digit and ending with a letter, digit or '_'",
            source=NAME_RULES),
)

# Microsoft.Network/virtualNetworks/subnets: 1-80 characters, same character rules.
SUBNET_NAME = (
    Length(1, 80, source=NAME_RULES),
    Pattern(r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", "letters, digits, '_', '.' and "
            "'-', beginning with a letter or digit and ending with a letter, digit or '_'",
            source=NAME_RULES),
)

# Characters no ARM resource name may contain (the same page, "Resource names").
ARM_NAME = (
    Length(1, 260, source=NAME_RULES),
    Pattern(r"[<>%&:\\?/*#|\x00-\x1f]", "the characters < > % & : \\ ? / * # | or control "
            "characters", forbid=True, source=NAME_RULES),
)

# "Virtual network address space": IPv4 and IPv6 CIDR blocks.
VNET_DOCS = ("https://learn.microsoft.com/azure/virtual-network/"
             "manage-virtual-network#add-or-remove-an-address-range")
SUBNET_DOCS = ("https://learn.microsoft.com/azure/virtual-network/"
               "virtual-network-manage-subnet#add-a-subnet")


@dataclass(frozen=True)
class IpCidr:
    """An IPv4 or IPv6 CIDR block in canonical form (Azure address spaces take both)."""

    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, str):
            return []
        return Cidr(6 if ":" in value else 4, source=self.source).check(value)


@dataclass(frozen=True)
class SubnetsInside:
    """Every subnet's ``address_prefix`` lies inside one of the ``address_space`` blocks,
    and no two subnets overlap (Azure refuses both when the network is written)."""

    space: str = "address_space"
    subnets: str = "subnets"
    source: str = SUBNET_DOCS

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        space, subnets = props.get(self.space), props.get(self.subnets)
        if not isinstance(space, list) or not isinstance(subnets, list):
            return []
        blocks = [parse_cidr(b, 6 if ":" in b else 4) for b in space if isinstance(b, str)]
        if len(blocks) != len(space) or None in blocks:
            return []  # unknown until apply, or a syntax error IpCidr reports
        found: list[Violation] = []
        seen: list[tuple[str, Any]] = []
        for index, subnet in enumerate(subnets):
            prefix = subnet.get("address_prefix") if isinstance(subnet, dict) else None
            net = parse_cidr(prefix, 6 if ":" in prefix else 4) if isinstance(prefix, str) \
                else None
            if net is None:
                continue
            path = f"{self.subnets}.{index}.address_prefix"
            if not any(b is not None and b.version == net.version
                       and net.subnet_of(b) for b in blocks):  # type: ignore[arg-type]
                found.append(Violation(f"{prefix} is not inside the address space "
                                       f"({', '.join(space)})", path, self.source))
            for other_prefix, other in seen:
                if net.overlaps(other):
                    found.append(Violation(f"{prefix} overlaps {other_prefix}, another subnet",
                                           path, self.source))
            seen.append((str(prefix), net))
        return found
