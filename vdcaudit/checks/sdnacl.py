"""Which ACL rules let traffic cross the boundary of an encrypted subnet.

SDN encrypts only traffic that stays inside an encrypted subnet; anything to or from other
addresses leaves unencrypted. An ACL rule "opens the boundary" when it is an Allow rule whose remote
side (the source of an Inbound rule, the destination of an Outbound rule) reaches addresses outside
the subnet's prefix, and no Deny rule evaluated before it (lower priority number) in the same ACL
covers all of its traffic. Traffic no rule matches is taken as dropped (an applied SDN ACL needs
explicit Allow rules, as Microsoft's allow-all example shows).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

ANY_PREFIXES = {"*", "any", "internet", "0.0.0.0/0", "::/0"}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class OpenRule:
    acl: str
    rule: str
    direction: str
    remote: str
    local: str
    protocol: str
    ports: str
    priority: Any

    def describe(self) -> str:
        arrow = "from" if self.direction.lower() == "inbound" else "to"
        return (f"{self.acl}/{self.rule} (priority {self.priority}) allows {self.direction.lower()} "
                f"{self.protocol} {arrow} {self.remote} port {self.ports}")

    def as_dict(self) -> dict[str, Any]:
        return {"acl": self.acl, "rule": self.rule, "direction": self.direction, "remote_prefix": self.remote,
                "local_prefix": self.local, "protocol": self.protocol, "ports": self.ports,
                "priority": self.priority}


def _networks(text: Any) -> list[Network] | None:
    """Networks named by a prefix field (comma-separated allowed); None means 'any address'."""
    parts = [p.strip() for p in str(text if text is not None else "*").split(",") if p.strip()]
    if not parts or any(p.lower() in ANY_PREFIXES for p in parts):
        return None
    networks: list[Network] = []
    for part in parts:
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            return None  # a tag or name vdcaudit cannot resolve: treated as any address (conservative)
    return networks


def _subnet_of(inner: Network, outer: Network) -> bool:
    """inner lies within outer; networks of different IP versions never do."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def _inside(networks: list[Network] | None, subnet: Network) -> bool:
    return networks is not None and all(_subnet_of(n, subnet) for n in networks)


def _overlaps(networks: list[Network] | None, subnet: Network) -> bool:
    return networks is None or any(n.version == subnet.version and n.overlaps(subnet) for n in networks)


def _covers(outer: list[Network] | None, inner: list[Network] | None) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(any(_subnet_of(i, o) for o in outer) for i in inner)


def _port_range(text: Any) -> tuple[int, int]:
    value = str(text if text not in (None, "") else "*").strip()
    if value == "*":
        return 0, 65535
    low, _, high = value.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        return 0, 65535  # unparseable: taken as every port (conservative for allows)


def _priority(rule: dict[str, Any]) -> float:
    priority = (rule.get("properties") or {}).get("priority")
    if priority is None:
        return float("inf")
    try:
        return float(priority)
    except (TypeError, ValueError):
        return float("inf")


def _direction(rp: dict[str, Any]) -> str:
    return str(rp.get("type") or "Inbound")


def _sides(rp: dict[str, Any]) -> tuple[str, str, str]:
    """(remote prefix, local prefix, remote-side ports text) for the rule's direction."""
    if _direction(rp).lower() == "inbound":
        return str(rp.get("sourceAddressPrefix") or "*"), str(rp.get("destinationAddressPrefix") or "*"), \
            str(rp.get("destinationPortRange") or "*")
    return str(rp.get("destinationAddressPrefix") or "*"), str(rp.get("sourceAddressPrefix") or "*"), \
        str(rp.get("destinationPortRange") or "*")


def _shadowed(rule: dict[str, Any], earlier: list[dict[str, Any]]) -> bool:
    rp = rule.get("properties") or {}
    remote = _networks(_sides(rp)[0])
    low, high = _port_range(_sides(rp)[2])
    protocol = str(rp.get("protocol") or "All").lower()
    for other in earlier:
        op = other.get("properties") or {}
        if str(op.get("action", "")).lower() != "deny" or _direction(op).lower() != _direction(rp).lower():
            continue
        other_protocol = str(op.get("protocol") or "All").lower()
        if other_protocol not in ("all", "*", protocol):
            continue
        olow, ohigh = _port_range(_sides(op)[2])
        if _covers(_networks(_sides(op)[0]), remote) and olow <= low and high <= ohigh:
            return True
    return False


def open_rules(acl: dict[str, Any], subnet_prefix: str) -> list[OpenRule]:
    """The Allow rules of one ACL that reach outside `subnet_prefix`. Raises ValueError if the
    subnet prefix is not an address prefix."""
    subnet = ipaddress.ip_network(subnet_prefix, strict=False)
    rules = sorted((r for r in ((acl.get("properties") or {}).get("aclRules") or []) if isinstance(r, dict)),
                   key=_priority)
    found: list[OpenRule] = []
    for index, rule in enumerate(rules):
        rp = rule.get("properties") or {}
        if str(rp.get("action", "")).lower() != "allow":
            continue
        remote_text, local_text, ports = _sides(rp)
        if _inside(_networks(remote_text), subnet) or not _overlaps(_networks(local_text), subnet):
            continue  # stays inside the subnet, or is about other addresses than this subnet's
        if _shadowed(rule, rules[:index]):
            continue
        found.append(OpenRule(acl=str(acl.get("name") or acl.get("resourceId")),
                              rule=str(rule.get("resourceId") or f"rule{index}"), direction=_direction(rp),
                              remote=remote_text, local=local_text, protocol=str(rp.get("protocol") or "All"),
                              ports=ports, priority=rp.get("priority")))
    return found
