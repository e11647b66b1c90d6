"""IPsec/IKE policy strength: the one definition of a weak algorithm choice, shared by the gateway
connection rules (VDC-VPN-002/005, through the JMESPath function `weak_ipsec`) and the Virtual WAN
checks (VDC-VWAN-*), so every tunnel in the VDC is judged by the same list.

Weak (NIST SP 800-131A, SP 800-77r1): DES/3DES or no encryption, MD5/SHA1 integrity, Diffie-Hellman
groups 1 and 2, and no perfect forward secrecy (PFS None, groups 1 and 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# ARM property of an IpsecPolicy -> values (lower-case) that make the policy weak
WEAK_CHOICES: dict[str, frozenset[str]] = {
    "ipsecEncryption": frozenset({"none", "des", "des3"}),
    "ikeEncryption": frozenset({"des", "des3"}),
    "ipsecIntegrity": frozenset({"md5", "sha1"}),
    "ikeIntegrity": frozenset({"md5", "sha1"}),
    "dhGroup": frozenset({"none", "dhgroup1", "dhgroup2"}),
    "pfsGroup": frozenset({"none", "pfs1", "pfs2"}),
}


def weak_choices(policies: Any) -> list[str]:
    """The weak choices in a list of IpsecPolicy objects, as 'policy[i].name=value' (empty: none).
    An absent list has no weak choice; a malformed one (not a list of objects) raises TypeError,
    so the resource gets ERROR rather than a verdict."""
    if policies is None:
        return []
    if not isinstance(policies, list):
        raise TypeError(f"IPsec policies are a {type(policies).__name__}, not a list")
    found: list[str] = []
    for index, policy in enumerate(policies):
        if not isinstance(policy, Mapping):
            raise TypeError(f"IPsec policy [{index}] is a {type(policy).__name__}, not an object")
        lowered = {str(k).lower(): v for k, v in policy.items()}
        for name, weak in WEAK_CHOICES.items():
            value = lowered.get(name.lower())
            if isinstance(value, str) and value.lower() in weak:
                found.append(f"policy[{index}].{name}={value}")
    return found
