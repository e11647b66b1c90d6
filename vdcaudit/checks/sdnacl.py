"""Which traffic the ACLs let cross the boundary of an encrypted subnet.

SDN encrypts only traffic that stays inside an encrypted subnet; anything to or from other
addresses leaves unencrypted. Network Controller ACL semantics as modelled here:

- An ACL's rules of one type (Inbound: traffic to the VM, Outbound: traffic from it) are evaluated
  in priority order (lower number first); the first rule that matches a packet decides (Allow or
  Deny). Traffic no rule matches is taken as dropped (an applied SDN ACL needs explicit Allow rules,
  as Microsoft's allow-all example shows). A rule matches on protocol, source/destination address
  prefix ("*", CIDR prefixes, comma-separated lists, the tags "Internet" and "VirtualNetwork") and
  source/destination port range ("*", "80", "0-65535", comma-separated lists).
- When a subnet ACL and a NIC ACL both apply, a packet passes only if BOTH allow it; an ACL that is
  absent filters nothing.

Each ACL is turned into the exact set of packets it allows, as a union of boxes over five
dimensions (remote address, local address, protocol, remote port, local port; IPv4 and IPv6
addresses share one number line). The boundary is crossed when the intersection of the applicable
ACLs' sets holds a packet whose remote address lies outside the subnet and whose local address lies
inside it.

A field vdcaudit cannot interpret (unknown tag, malformed prefix or port, unknown protocol) is
evaluated twice: as the most permissive reading (an Allow matching everything, a Deny matching
nothing) and as the least permissive one. Allowed traffic only grows with what an Allow rule
matches and only shrinks with what a Deny rule matches, so a leak under the least permissive
reading is certain, none under the most permissive reading is certain, and anything between is
reported as undecidable (UNKNOWN) with the reasons.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from vdcaudit.armdata import objects, props

V6_BASE = 1 << 32
ADDRESS_MAX = V6_BASE + (1 << 128) - 1
Interval = tuple[int, int]
Box = tuple[Interval, Interval, Interval, Interval, Interval]  # remote, local, protocol, remote port, local port
FULL: Box = ((0, ADDRESS_MAX), (0, ADDRESS_MAX), (0, 255), (0, 65535), (0, 65535))
ANY_TEXT = {"*", "any"}
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv4": 1, "icmpv6": 58}
PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6"}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Ambiguous(ValueError):
    """A field whose meaning vdcaudit cannot determine."""


def network_interval(net: Network) -> Interval:
    base = 0 if net.version == 4 else V6_BASE
    return base + int(net.network_address), base + int(net.broadcast_address)


@dataclass
class Leak:
    """Traffic crossing the boundary that every applicable ACL allows."""
    direction: str
    rules: list[dict[str, Any]]  # the deciding Allow rule of each applicable ACL
    remote: list[Interval] = field(default_factory=list)
    protocol: list[Interval] = field(default_factory=list)
    remote_ports: list[Interval] = field(default_factory=list)
    local_ports: list[Interval] = field(default_factory=list)
    nics: list[str] = field(default_factory=list)

    @property
    def inbound(self) -> bool:
        return self.direction.lower() == "inbound"

    def describe(self, subnet_prefix: str) -> str:
        arrow = "from" if self.inbound else "to"
        ports = self.local_ports if self.inbound else self.remote_ports
        rules = " and ".join(f"{r['acl']}/{r['rule']} (priority {r['priority']}) allows {self.direction.lower()} "
                             f"{r['protocol']} {arrow} {r['remote_prefix']} port {r['ports']}" for r in self.rules)
        nics = f" (NIC {', '.join(self.nics)})" if self.nics else ""
        both = "traffic both ACLs allow" if len(self.rules) > 1 else "so"
        return (f"{rules}{nics}, {both}: {self.direction.lower()} {render_protocols(self.protocol)} {arrow} "
                f"{render_addresses(self.remote, subnet_prefix)} port {render_ports(ports)}")

    def as_dict(self, subnet_prefix: str) -> dict[str, Any]:
        ports = self.local_ports if self.inbound else self.remote_ports
        source_ports = self.remote_ports if self.inbound else self.local_ports
        return {"direction": self.direction, "remote_prefix": render_addresses(self.remote, subnet_prefix),
                "local_prefix": subnet_prefix, "protocol": render_protocols(self.protocol),
                "ports": render_ports(ports), "source_ports": render_ports(source_ports),
                "nics": self.nics or None, "rules": self.rules}


# --- parsing -------------------------------------------------------------------------------------

def _parts(text: Any) -> list[str]:
    return [p.strip() for p in str(text if text not in (None, "") else "*").split(",") if p.strip()] or ["*"]


# Addresses that are not the public internet: private, shared, loopback, link-local, multicast, reserved.
NON_PUBLIC = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16", "224.0.0.0/3", "::/127", "fc00::/7", "fe80::/10", "ff00::/8"]


def _tag(tag: str, vnet_space: list[Interval] | None, permissive: bool, notes: list[str]) -> list[Interval]:
    """The tags' meaning (as in Azure) is only bounded: "VirtualNetwork" is at least the virtual
    network's address space and at most that plus every non-public range (peered or on-premises
    spaces); "Internet" is at least the public addresses outside the virtual network and at most
    every address outside it."""
    non_public = merge([network_interval(ipaddress.ip_network(p)) for p in NON_PUBLIC])
    if vnet_space is None:
        notes.append(f"tag {tag!r} needs the virtual network's addressSpace, which is missing or malformed")
        return [(0, ADDRESS_MAX)] if permissive else []
    meaning = "the virtual network" if tag.lower() == "virtualnetwork" else "addresses outside the virtual network"
    notes.append(f"tag {tag!r} is read as {meaning}; whether it covers other private ranges is not known")
    if tag.lower() == "virtualnetwork":
        return merge(vnet_space + non_public) if permissive else vnet_space
    outside = complement(vnet_space, 0, ADDRESS_MAX)
    return outside if permissive else complement(vnet_space + non_public, 0, ADDRESS_MAX)


def address_intervals(text: Any, vnet_space: list[Interval] | None, permissive: bool = True,
                      notes: list[str] | None = None) -> list[Interval]:
    """The addresses a prefix field names (for a tag: its widest reading when permissive, else its
    narrowest). Raises Ambiguous for what cannot be resolved."""
    found: list[Interval] = []
    for part in _parts(text):
        lowered = part.lower()
        if lowered in ANY_TEXT:
            return [(0, ADDRESS_MAX)]
        if lowered in ("internet", "virtualnetwork"):
            found += _tag(part, vnet_space, permissive, notes if notes is not None else [])
            continue
        try:
            found.append(network_interval(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise Ambiguous(f"address prefix {part!r} is neither a prefix nor a known tag") from None
    return merge(found)


def port_intervals(text: Any) -> list[Interval]:
    found: list[Interval] = []
    for part in _parts(text):
        if part.lower() in ANY_TEXT:
            return [(0, 65535)]
        low, dash, high = part.partition("-")
        try:
            lo, hi = int(low), int(high if dash else low)
        except ValueError:
            raise Ambiguous(f"port range {part!r} is malformed") from None
        if not 0 <= lo <= hi <= 65535:
            raise Ambiguous(f"port range {part!r} is out of bounds")
        found.append((lo, hi))
    return merge(found)


def protocol_intervals(text: Any) -> list[Interval]:
    value = str(text if text not in (None, "") else "All").strip().lower()
    if value in ("all", "*", "any"):
        return [(0, 255)]
    if value in PROTOCOLS:
        return [(PROTOCOLS[value], PROTOCOLS[value])]
    if value.isdigit() and int(value) <= 255:
        return [(int(value), int(value))]
    raise Ambiguous(f"protocol {text!r} is not known")


def priority_of(rule: dict[str, Any]) -> int:
    priority = props(rule).get("priority")
    try:
        return int(str(priority).strip())
    except ValueError:
        raise Ambiguous(f"priority {priority!r} is not a number, so the rule order is unknown") from None


# --- interval and box algebra ------------------------------------------------------------------

def merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def complement(intervals: list[Interval], low: int, high: int) -> list[Interval]:
    out: list[Interval] = []
    cursor = low
    for lo, hi in merge(intervals):
        if lo > cursor:
            out.append((cursor, lo - 1))
        cursor = max(cursor, hi + 1)
    if cursor <= high:
        out.append((cursor, high))
    return out


def intersect(a: Box, b: Box) -> Box | None:
    dims = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        lo, hi = max(alo, blo), min(ahi, bhi)
        if lo > hi:
            return None
        dims.append((lo, hi))
    return (dims[0], dims[1], dims[2], dims[3], dims[4])


def subtract(a: Box, b: Box) -> list[Box]:
    """a minus b as disjoint boxes."""
    if intersect(a, b) is None:
        return [a]
    pieces: list[Box] = []
    rest = list(a)
    for dim, ((alo, ahi), (blo, bhi)) in enumerate(zip(a, b)):
        if alo < blo:
            piece = list(rest)
            piece[dim] = (alo, blo - 1)
            pieces.append((piece[0], piece[1], piece[2], piece[3], piece[4]))
        if bhi < ahi:
            piece = list(rest)
            piece[dim] = (bhi + 1, ahi)
            pieces.append((piece[0], piece[1], piece[2], piece[3], piece[4]))
        rest[dim] = (max(alo, blo), min(ahi, bhi))
    return pieces


# --- ACL evaluation ----------------------------------------------------------------------------

@dataclass
class Evaluation:
    allowed: dict[str, list[tuple[Box, dict[str, Any]]]]  # direction -> (box, deciding rule)
    notes: list[str]


def _rule_info(acl_name: str, rule: dict[str, Any], index: int, direction: str) -> dict[str, Any]:
    rp = props(rule)
    inbound = direction == "inbound"
    remote = rp.get("sourceAddressPrefix") if inbound else rp.get("destinationAddressPrefix")
    local = rp.get("destinationAddressPrefix") if inbound else rp.get("sourceAddressPrefix")
    return {"acl": acl_name, "rule": str(rule.get("resourceId") or f"rule{index}"),
            "direction": str(rp.get("type") or "Inbound"), "remote_prefix": str(remote or "*"),
            "local_prefix": str(local or "*"), "protocol": str(rp.get("protocol") or "All"),
            "ports": str(rp.get("destinationPortRange") or "*"), "source_ports": str(rp.get("sourcePortRange") or "*"),
            "priority": rp.get("priority")}


def _rule_boxes(rp: dict[str, Any], direction: str, vnet_space: list[Interval] | None, permissive: bool,
                where: str, notes: list[str]) -> list[Box]:
    """The packets a rule matches, in (remote, local, protocol, remote port, local port) order."""
    inbound = direction == "inbound"
    fields = [("sourceAddressPrefix" if inbound else "destinationAddressPrefix", "address"),
              ("destinationAddressPrefix" if inbound else "sourceAddressPrefix", "address"),
              ("protocol", "protocol"),
              ("sourcePortRange" if inbound else "destinationPortRange", "port"),
              ("destinationPortRange" if inbound else "sourcePortRange", "port")]
    dims: list[list[Interval]] = []
    for name, kind in fields:
        try:
            if kind == "address":
                tag_notes: list[str] = []
                dims.append(address_intervals(rp.get(name), vnet_space, permissive, tag_notes))
                notes += [f"{where}: {n}" for n in tag_notes if f"{where}: {n}" not in notes]
            elif kind == "protocol":
                dims.append(protocol_intervals(rp.get(name)))
            else:
                dims.append(port_intervals(rp.get(name)))
        except Ambiguous as exc:
            note = f"{where}: {name} {exc}"
            if note not in notes:
                notes.append(note)
            if not permissive:
                return []
            dims.append([FULL[len(dims)]])
    return [(r, lo, p, rp_, lp) for r in dims[0] for lo in dims[1] for p in dims[2] for rp_ in dims[3]
            for lp in dims[4]]


def evaluate(acl: dict[str, Any], vnet_space: list[Interval] | None, worst_case: bool) -> Evaluation:
    """The packets the ACL allows per direction. worst_case: read unclear fields so that the ACL
    allows as much as it possibly could (else as little). Raises Ambiguous when the rule order
    itself is unknown."""
    acl_name = str(acl.get("name") or acl.get("resourceId"))
    rules = objects(props(acl).get("aclRules") or [], f"{acl_name}: properties.aclRules")
    notes: list[str] = []
    allowed: dict[str, list[tuple[Box, dict[str, Any]]]] = {}
    for direction in ("inbound", "outbound"):
        mine = [(i, r) for i, r in enumerate(rules)
                if str(props(r).get("type") or "Inbound").lower() == direction]
        for _, rule in mine:
            priority_of(rule)
        mine.sort(key=lambda item: priority_of(item[1]))
        for (_, a), (_, b) in zip(mine, mine[1:]):
            actions = {str(props(r).get("action", "")).lower() for r in (a, b)}
            if priority_of(a) == priority_of(b) and len(actions) > 1:
                raise Ambiguous(f"{acl_name}: rules {a.get('resourceId')} and {b.get('resourceId')} share priority "
                                f"{priority_of(a)} but not their action, so which one decides is unknown")
        covered: list[Box] = []
        out: list[tuple[Box, dict[str, Any]]] = []
        for index, rule in mine:
            rp = props(rule)
            action = str(rp.get("action", "")).lower()
            where = f"{acl_name}/{rule.get('resourceId') or f'rule{index}'}"
            if action not in ("allow", "deny"):
                notes.append(f"{where}: action {rp.get('action')!r} is neither Allow nor Deny")
                action = "allow" if worst_case else "deny"
            boxes = _rule_boxes(rp, direction, vnet_space, worst_case == (action == "allow"), where, notes)
            if action == "allow":
                info = _rule_info(acl_name, rule, index, direction)
                remaining = boxes
                for earlier in covered:
                    remaining = [piece for box in remaining for piece in subtract(box, earlier)]
                out += [(box, info) for box in remaining]
            covered += boxes
        allowed[direction] = out
    return Evaluation(allowed, notes)


def vnet_intervals(prefixes: Any) -> list[Interval] | None:
    if not isinstance(prefixes, list) or not prefixes:
        return None
    try:
        return merge([network_interval(ipaddress.ip_network(str(p), strict=False)) for p in prefixes])
    except ValueError:
        return None


def boundary_leaks(acls: list[list[tuple[Box, dict[str, Any]]] | None], subnet_prefix: str,
                   direction: str) -> list[tuple[Box, list[dict[str, Any]]]]:
    """Packets crossing the subnet's boundary in `direction` that every ACL (None: absent, allows
    everything) allows, with the deciding rule of each ACL present. Raises ValueError if the subnet
    prefix is not an address prefix."""
    inside = network_interval(ipaddress.ip_network(subnet_prefix, strict=False))
    boundary = [(remote, inside, FULL[2], FULL[3], FULL[4]) for remote in complement([inside], 0, ADDRESS_MAX)]
    current: list[tuple[Box, list[dict[str, Any]]]] = [(box, []) for box in boundary]
    for allowed in acls:
        if allowed is None:
            continue
        current = [(both, rules + [info]) for box, rules in current for other, info in allowed
                   if (both := intersect(box, other)) is not None]
    return current


# --- rendering ---------------------------------------------------------------------------------

def _to_networks(lo: int, hi: int) -> list[Network]:
    nets: list[Network] = []
    if lo < V6_BASE:
        nets += ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(min(hi, V6_BASE - 1)))
    if hi >= V6_BASE:
        nets += ipaddress.summarize_address_range(ipaddress.IPv6Address(max(lo, V6_BASE) - V6_BASE),
                                                  ipaddress.IPv6Address(hi - V6_BASE))
    return nets


def render_addresses(intervals: list[Interval], subnet_prefix: str) -> str:
    intervals = merge(intervals)
    inside = network_interval(ipaddress.ip_network(subnet_prefix, strict=False))
    if intervals == complement([inside], 0, ADDRESS_MAX):
        return f"any address outside {subnet_prefix}"
    nets = [n for lo, hi in intervals for n in _to_networks(lo, hi)]
    with_subnet = [n for lo, hi in merge(intervals + [inside]) for n in _to_networks(lo, hi)]
    if len(nets) > 4 and len(with_subnet) <= 4 and not any(lo <= inside[0] <= hi for lo, hi in intervals):
        return ", ".join(str(n) for n in with_subnet) + f" except {subnet_prefix}"
    if len(nets) <= 4:
        return ", ".join(str(n) for n in nets)
    return ", ".join(f"{n[0]}-{n[-1]}" for lo, hi in intervals for n in [_range_ends(lo, hi)])


def _range_ends(lo: int, hi: int) -> tuple[str, str]:
    def one(value: int) -> str:
        return str(ipaddress.IPv4Address(value)) if value < V6_BASE else str(ipaddress.IPv6Address(value - V6_BASE))
    return one(lo), one(hi)


def render_ports(intervals: list[Interval]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merge(intervals))


def render_protocols(intervals: list[Interval]) -> str:
    intervals = merge(intervals)
    if intervals == [(0, 255)]:
        return "All"
    return ",".join(PROTOCOL_NAMES.get(lo, str(lo)) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)
