"""IPsec/IKE policy strength: the one definition of a weak algorithm choice, shared by the gateway
connection rules (VDC-VPN-002/005, through the JMESPath function `weak_ipsec`) and the Virtual WAN
checks (VDC-VWAN-*), so every tunnel in the VDC is judged by the same list.

Weak (NIST SP 800-131A, SP 800-77r1): DES/3DES or no encryption, MD5/SHA1 integrity, Diffie-Hellman
groups 1 and 2, and no perfect forward secrecy (PFS None, groups 1 and 2).

A tenant may also mandate the algorithms it allows, per property, as Azure Policy's built-in IPsec
definitions take an allow-list per assignment (vdcaudit.yaml `ipsec.allowed`, e.g. only GCMAES256 for
ipsecEncryption): a value that list does not name is reported too, beside the built-in weak list.
The scan's list is set for the duration of a scan (`allowing`), so the JMESPath function and the
Python checks read the same one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError

# ARM property of an IpsecPolicy -> values (lower-case) that make the policy weak
WEAK_CHOICES: dict[str, frozenset[str]] = {
    "ipsecEncryption": frozenset({"none", "des", "des3"}),
    "ikeEncryption": frozenset({"des", "des3"}),
    "ipsecIntegrity": frozenset({"md5", "sha1"}),
    "ikeIntegrity": frozenset({"md5", "sha1"}),
    "dhGroup": frozenset({"none", "dhgroup1", "dhgroup2"}),
    "pfsGroup": frozenset({"none", "pfs1", "pfs2"}),
}


Allowed = Mapping[str, frozenset[str]]  # property (ARM spelling) -> allowed values, lower-case
_ALLOWED: ContextVar[Allowed] = ContextVar("ipsec_allowed", default={})


def parse_allowed(data: Any, path: Path | None = None) -> dict[str, frozenset[str]]:
    """vdcaudit.yaml `ipsec.allowed`: {IpsecPolicy property: [allowed values]}."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError("ipsec.allowed must map IPsec policy properties to lists of allowed values", path)
    known = {name.lower(): name for name in WEAK_CHOICES}
    allowed: dict[str, frozenset[str]] = {}
    for name, values in data.items():
        if str(name).lower() not in known:
            raise InputError(f"ipsec.allowed: unknown property {name} (known: {', '.join(WEAK_CHOICES)})", path)
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            raise InputError(f"ipsec.allowed.{name} must be a non-empty list of algorithm names", path)
        allowed[known[str(name).lower()]] = frozenset(v.lower() for v in values)
    return allowed


@contextmanager
def allowing(allowed: Allowed) -> Iterator[None]:
    """Judge IPsec policies against the tenant's allow-list while the block runs."""
    token = _ALLOWED.set(allowed)
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def weak_choices(policies: Any) -> list[str]:
    """The weak choices in a list of IpsecPolicy objects, as 'policy[i].name=value' (empty: none):
    the built-in weak list, and values the tenant's allow-list (`allowing`) does not name.
    An absent list has no weak choice; a malformed one (not a list of objects) raises TypeError,
    so the resource gets ERROR rather than a verdict."""
    if policies is None:
        return []
    if not isinstance(policies, list):
        raise TypeError(f"IPsec policies are a {type(policies).__name__}, not a list")
    allowed = _ALLOWED.get()
    found: list[str] = []
    for index, policy in enumerate(policies):
        if not isinstance(policy, Mapping):
            raise TypeError(f"IPsec policy [{index}] is a {type(policy).__name__}, not an object")
        lowered = {str(k).lower(): v for k, v in policy.items()}
        for name, weak in WEAK_CHOICES.items():
            value = lowered.get(name.lower())
            if not isinstance(value, str):
                continue
            if value.lower() in weak:
                found.append(f"policy[{index}].{name}={value}")
            elif name in allowed and value.lower() not in allowed[name]:
                found.append(f"policy[{index}].{name}={value} (not in ipsec.allowed)")
    return found
