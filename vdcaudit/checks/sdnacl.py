"""Which traffic the ACLs let cross the boundary of an encrypted subnet.

SDN encrypts only traffic that stays inside an encrypted subnet; anything to or from other
addresses leaves unencrypted. Network Controller ACL semantics as modelled here, each from the
source that states it:

- An ACL rule's `type` (Inbound: traffic to the VM, Outbound: traffic from it), `action` (Allow,
  Deny), `protocol`, `sourceAddressPrefix`, `destinationAddressPrefix` and `priority` are required
  ([MS-NCNBI] 3.1.5.1.2 aclRules); a rule missing one is read as unclear (below), never guessed.
  Rules of one type are evaluated in priority order (lower number first), the first rule that
  matches a packet decides. A rule matches on protocol, source/destination address prefix ("*",
  CIDR prefixes, host addresses, comma-separated lists, the tags "Internet" and "VirtualNetwork")
  and source/destination port range ("*", "80", "0-65535", comma-separated lists; absent reads "*").
- Subnet ACL and NIC ACL: "both ACLs are applied" (Learn, "Configure Datacenter Firewall ACLs"),
  so a packet passes only if both allow it; a NIC without an ACL of its own gets its subnet's
  ("Any network interface that is attached to that virtual network subnet automatically gets the
  above ACL rules applied", Learn, "Use Access Control Lists (ACLs) to Manage Datacenter Network
  Traffic Flow").
- No ACL on the subnet or the NIC: "The default set of rules allows all outbound traffic but blocks
  all inbound traffic" (Learn, "Configure Datacenter Firewall ACLs", removing an ACL).
- Traffic that no rule of an applied ACL matches (an empty `aclRules`, or an ACL without a Deny-all
  rule at its end): Microsoft documents no default for it. It is kept apart as "unmatched" traffic:
  a crossing only unmatched traffic makes is reported as undocumented (WARN, or UNKNOWN when an ACL
  has no rule at all for that direction), never as PASS or FAIL.

Each ACL is turned into the exact set of boundary-crossing packets it allows, as a union of boxes
over five dimensions (remote address, local address, protocol, remote port, local port). IPv4 and
IPv6 addresses sit on one number line (IPv6 above 2**32), but the boundary of a subnet lies in its
own address family only: a remote prefix of the other family cannot reach it. Rules are applied in
priority order to what earlier rules left unmatched, so the work per rule follows the pieces still
unmatched, not the number of earlier rules.

A field vdcaudit cannot interpret (absent required field, unknown type, action, tag or protocol,
malformed prefix or port) is evaluated twice: as the most permissive reading (an Allow matching
everything, in both directions; a Deny matching nothing) and as the least permissive one. Allowed
traffic only grows with what an Allow rule matches and only shrinks with what a Deny rule matches,
so a leak under the least permissive reading is certain, none under the most permissive reading is
certain, and anything between is reported as undecidable (UNKNOWN) naming the rules.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

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
T = TypeVar("T")


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

    @property
    def unmatched(self) -> bool:
        """The crossing is made of traffic that some ACL's rules do not match (undocumented)."""
        return any(r.get("unmatched") for r in self.rules)

    def describe(self, subnet_prefix: str) -> str:
        arrow = "from" if self.inbound else "to"
        ports = self.local_ports if self.inbound else self.remote_ports
        rules = " and ".join(_describe_rule(r, arrow) for r in self.rules)
        nics = f" (NIC {', '.join(_some(self.nics))})" if self.nics else ""
        both = "traffic both ACLs allow" if len(self.rules) > 1 else "so"
        return (f"{rules}{nics}, {both}: {self.direction.lower()} {render_protocols(self.protocol)} {arrow} "
                f"{render_addresses(self.remote, subnet_prefix)} port {render_ports(ports)}")

    def as_dict(self, subnet_prefix: str) -> dict[str, Any]:
        ports = self.local_ports if self.inbound else self.remote_ports
        source_ports = self.remote_ports if self.inbound else self.local_ports
        return {"direction": self.direction, "remote_prefix": render_addresses(self.remote, subnet_prefix),
                "local_prefix": subnet_prefix, "protocol": render_protocols(self.protocol),
                "ports": render_ports(ports), "source_ports": render_ports(source_ports),
                "nics": _some(self.nics) or None,
                "rules": [_rule_label(r) for r in self.rules]}


LISTED_NICS = 10  # evidence names this many NICs of a crossing, then counts the rest


def _some(names: list[str]) -> list[str]:
    return names[:LISTED_NICS] + ([f"(and {len(names) - LISTED_NICS} more)"] if len(names) > LISTED_NICS else [])


def _rule_label(rule: dict[str, Any]) -> str:
    if rule.get("default") or rule.get("unmatched"):
        return f"{rule['acl']}: {rule['rule']}"
    return f"{rule['acl']}/{rule['rule']} (priority {rule['priority']})"


def _describe_rule(rule: dict[str, Any], arrow: str) -> str:
    direction = str(rule["direction"]).lower()
    if rule.get("default"):
        return "no ACL applies, so the default rules do, which allow all outbound traffic"
    if rule.get("unmatched"):
        if rule.get("empty"):
            return f"{rule['acl']} has no {direction} rule"
        return f"no rule of {rule['acl']} matches some {direction} traffic"
    return (f"{rule['acl']}/{rule['rule']} (priority {rule['priority']}) allows {direction} "
            f"{rule['protocol']} {arrow} {rule['remote_prefix']} port {rule['ports']}")


# --- parsing -------------------------------------------------------------------------------------

def _parts(text: Any) -> list[str]:
    return [p.strip() for p in str(text if text not in (None, "") else "*").split(",") if p.strip()] or ["*"]


# Addresses that are not the public internet: private, shared, loopback, link-local, multicast, reserved.
NON_PUBLIC = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16", "224.0.0.0/3", "::/127", "fc00::/7", "fe80::/10", "ff00::/8"]


@functools.cache
def _non_public() -> list[Interval]:
    return merge([network_interval(ipaddress.ip_network(p)) for p in NON_PUBLIC])


def _tag(tag: str, vnet_space: list[Interval] | None, permissive: bool, notes: list[str]) -> list[Interval]:
    """The tags' meaning (as in Azure) is only bounded: "VirtualNetwork" is at least the virtual
    network's address space and at most that plus every non-public range (peered or on-premises
    spaces); "Internet" is at least the public addresses outside the virtual network and at most
    every address outside it."""
    non_public = _non_public()
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
        found.append(_prefix_interval(part))
    return merge(found)


@functools.lru_cache(maxsize=65536)
def _prefix_interval(text: str) -> Interval:
    """One address prefix or host address (parsed once per distinct text: ACLs repeat them)."""
    try:
        return network_interval(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise Ambiguous(f"address prefix {text!r} is neither a prefix nor a known tag") from None


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
    # Comparisons rather than min()/max(): the boundary check makes hundreds of thousands of these.
    out = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        lo = alo if alo > blo else blo
        hi = ahi if ahi < bhi else bhi
        if lo > hi:
            return None
        out.append((lo, hi))
    return (out[0], out[1], out[2], out[3], out[4])


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


class BoxIndex(Generic[T]):
    """Boxes with a payload, found by overlap without testing every one. ACLs grow by rules that
    open one service port each, so boxes narrow in the service-port dimension are kept sorted by it
    and a query looks only at those near its own ports; wider boxes are always candidates. The
    caller still tests each candidate with intersect()."""

    NARROW_SPAN = 1024

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.wide: list[tuple[Box, T]] = []
        self.narrow: list[tuple[int, int, Box, T]] = []  # (low end in dim, insertion order, box, payload)
        self.widest = 0

    def add(self, box: Box, payload: T) -> None:
        lo, hi = box[self.dim]
        if hi - lo < self.NARROW_SPAN:
            bisect.insort(self.narrow, (lo, len(self.narrow) + len(self.wide), box, payload))
            self.widest = max(self.widest, hi - lo)
        else:
            self.wide.append((box, payload))

    def candidates(self, box: Box) -> Iterator[tuple[Box, T]]:
        yield from self.wide
        lo, hi = box[self.dim]
        if hi - lo >= self.NARROW_SPAN:
            near = self.narrow
        else:
            near = self.narrow[bisect.bisect_left(self.narrow, (lo - self.widest,)):
                               bisect.bisect_right(self.narrow, (hi, math.inf))]
        for _, _, other, payload in near:
            yield other, payload


def service_port_dim(direction: str) -> int:
    """The box dimension of the destination port: the local port inbound, the remote one outbound."""
    return 4 if direction == "inbound" else 3


# --- ACL evaluation ----------------------------------------------------------------------------

DIRECTIONS = ("inbound", "outbound")
# What the controller applies where no ACL applies at all (Learn, "Configure Datacenter Firewall
# ACLs": the default set of rules allows all outbound traffic but blocks all inbound traffic).
DEFAULT_RULES = {"acl": "(no ACL)", "rule": "default rules", "default": True, "priority": None,
                 "protocol": "All", "remote_prefix": "*", "local_prefix": "*", "ports": "*", "source_ports": "*"}


def family_of(interval: Interval) -> Interval:
    """The whole address family (IPv4 or IPv6 part of the number line) the interval lies in."""
    return (0, V6_BASE - 1) if interval[0] < V6_BASE else (V6_BASE, ADDRESS_MAX)


def boundary_region(subnet_prefix: str) -> list[Box]:
    """Packets crossing the subnet's boundary: local address inside, remote address outside it but
    in the same address family. Raises ValueError if the prefix is not an address prefix."""
    inside = network_interval(ipaddress.ip_network(subnet_prefix, strict=False))
    return [(remote, inside, FULL[2], FULL[3], FULL[4]) for remote in complement([inside], *family_of(inside))]


@dataclass
class Evaluation:
    """The boundary-crossing packets one ACL allows, per direction, each with its deciding rule;
    packets no rule matches carry an "unmatched" rule info (see the module docstring)."""
    allowed: dict[str, list[tuple[Box, dict[str, Any]]]]
    notes: list[str]


def _rule_info(acl_name: str, rule: dict[str, Any], index: int, direction: str) -> dict[str, Any]:
    rp = props(rule)
    inbound = direction == "inbound"
    remote = rp.get("sourceAddressPrefix") if inbound else rp.get("destinationAddressPrefix")
    local = rp.get("destinationAddressPrefix") if inbound else rp.get("sourceAddressPrefix")
    return {"acl": acl_name, "rule": _rule_name(rule, index), "direction": direction.capitalize(),
            "remote_prefix": str(remote), "local_prefix": str(local), "protocol": str(rp.get("protocol")),
            "ports": str(rp.get("destinationPortRange") or "*"), "source_ports": str(rp.get("sourcePortRange") or "*"),
            "priority": rp.get("priority")}


def _unmatched_info(acl_name: str, direction: str, rule_count: int) -> dict[str, Any]:
    return {"acl": acl_name, "rule": "(no rule matches)", "unmatched": True, "empty": rule_count == 0,
            "direction": direction.capitalize(), "priority": None, "protocol": "All", "remote_prefix": "*",
            "local_prefix": "*", "ports": "*", "source_ports": "*"}


def _rule_name(rule: dict[str, Any], index: int) -> str:
    return str(rule.get("resourceId") or f"rule{index}")


TAGGED = re.compile(r"internet|virtualnetwork", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def _field_intervals(kind: str, text: str) -> tuple[Interval, ...]:
    """A port, protocol or tag-free address field, parsed once per distinct text (ACLs repeat them)."""
    if kind == "port":
        return tuple(port_intervals(text))
    if kind == "protocol":
        return tuple(protocol_intervals(text))
    return tuple(address_intervals(text, None))


REQUIRED_TEXT = ("sourceAddressPrefix", "destinationAddressPrefix", "protocol")


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
            value = rp.get(name)
            if name in REQUIRED_TEXT and (value is None or str(value).strip() == ""):
                raise Ambiguous("is absent (required by [MS-NCNBI] aclRules)")
            if isinstance(value, str) and not (kind == "address" and TAGGED.search(value)):
                dims.append(list(_field_intervals(kind, value)))
            elif kind == "address":
                tag_notes: list[str] = []
                dims.append(address_intervals(value, vnet_space, permissive, tag_notes))
                notes += [f"{where}: {n}" for n in tag_notes if f"{where}: {n}" not in notes]
            elif kind == "protocol":
                dims.append(protocol_intervals(value))
            else:
                dims.append(port_intervals(value))
        except Ambiguous as exc:
            note = f"{where}: {name} {exc}"
            if note not in notes:
                notes.append(note)
            if not permissive:
                return []
            dims.append([FULL[len(dims)]])
    return [(r, lo, p, rp_, lp) for r in dims[0] for lo in dims[1] for p in dims[2] for rp_ in dims[3]
            for lp in dims[4]]


@dataclass
class _Rule:
    index: int
    rule: dict[str, Any]
    priority: int
    action: str  # "allow" / "deny" as read (an unclear action: per reading)
    directions: tuple[str, ...]  # the directions this reading places it in


def _read_rules(acl_name: str, rules: list[dict[str, Any]], worst_case: bool, notes: list[str]) -> list[_Rule]:
    """The rules with action and direction as this reading takes them. An unclear action is Allow
    in the permissive reading and Deny in the other; a rule whose type is unclear is placed in both
    directions when that widens what is allowed (an Allow read permissively, a Deny read strictly)
    and in neither otherwise."""
    read = []
    for index, rule in enumerate(rules):
        rp = props(rule)
        where = f"{acl_name}/{_rule_name(rule, index)}"
        action = str(rp.get("action") or "").strip().lower()
        if action not in ("allow", "deny"):
            notes.append(f"{where}: action {rp.get('action')!r} is neither Allow nor Deny")
            action = "allow" if worst_case else "deny"
        kind = str(rp.get("type") or "").strip().lower()
        if kind in DIRECTIONS:
            directions: tuple[str, ...] = (kind,)
        else:
            notes.append(f"{where}: type {rp.get('type')!r} is neither Inbound nor Outbound, so the rule's "
                         "direction is unknown")
            directions = DIRECTIONS if worst_case == (action == "allow") else ()
        read.append(_Rule(index, rule, priority_of(rule), action, directions))
    return read


def _minus(box: Box, index: BoxIndex[None]) -> list[Box]:
    """box minus every box of the index, as disjoint boxes."""
    pieces = [box]
    for other, _ in index.candidates(box):
        if intersect(box, other) is None:
            continue
        if other == box or all(olo <= lo and hi <= ohi for (lo, hi), (olo, ohi) in zip(box, other)):
            return []  # covered whole (a Deny-all rule, say)
        pieces = [piece for kept in pieces for piece in subtract(kept, other)]
        if not pieces:
            return []
    return pieces


@dataclass
class ReadAcl:
    """An ACL's rules as one reading takes them, per direction in priority order: (boxes matched,
    deciding-rule info for an Allow or None for a Deny). Independent of the subnet, so an ACL
    applied to many subnets is parsed once."""
    name: str
    rules: dict[str, list[tuple[list[Box], dict[str, Any] | None]]]
    notes: list[str]


def read_acl(acl: dict[str, Any], vnet_space: list[Interval] | None, worst_case: bool) -> ReadAcl:
    """worst_case: read unclear fields so that the ACL allows as much as it possibly could (else as
    little). Raises Ambiguous when the rule order itself is unknown."""
    acl_name = str(acl.get("name") or acl.get("resourceId"))
    rules = objects(props(acl).get("aclRules"), f"{acl_name}: properties.aclRules")
    notes: list[str] = []
    read = _read_rules(acl_name, rules, worst_case, notes)
    by_direction: dict[str, list[tuple[list[Box], dict[str, Any] | None]]] = {}
    for direction in DIRECTIONS:
        mine = sorted((r for r in read if direction in r.directions), key=lambda r: r.priority)
        for a, b in zip(mine, mine[1:]):
            if a.priority == b.priority and a.action != b.action:
                raise Ambiguous(f"{acl_name}: rules {_rule_name(a.rule, a.index)} and {_rule_name(b.rule, b.index)} "
                                f"share priority {a.priority} but not their action, so which one decides is unknown")
        by_direction[direction] = [
            (_rule_boxes(props(rule.rule), direction, vnet_space, worst_case == (rule.action == "allow"),
                         f"{acl_name}/{_rule_name(rule.rule, rule.index)}", notes),
             _rule_info(acl_name, rule.rule, rule.index, direction) if rule.action == "allow" else None)
            for rule in mine]
    return ReadAcl(acl_name, by_direction, notes)


def evaluate(acl: ReadAcl, region: list[Box]) -> Evaluation:
    """The packets of `region` (a subnet's boundary) the ACL allows per direction. First match: an
    Allow rule allows what it matches minus what earlier rules matched; only earlier rules that
    overlap it are subtracted (see BoxIndex), so the work follows overlaps, not rules squared."""
    allowed: dict[str, list[tuple[Box, dict[str, Any]]]] = {}
    for direction, rules in acl.rules.items():
        earlier: BoxIndex[None] = BoxIndex(service_port_dim(direction))
        out: list[tuple[Box, dict[str, Any]]] = []
        for rule_boxes, info in rules:
            boxes = [hit for box in rule_boxes for part in region if (hit := intersect(box, part)) is not None]
            if info is not None:
                out += [(piece, info) for box in boxes for piece in _minus(box, earlier)]
            for box in boxes:
                earlier.add(box, None)
        unmatched = [piece for part in region for piece in _minus(part, earlier)]
        if unmatched:
            out += [(piece, _unmatched_info(acl.name, direction, len(rules))) for piece in unmatched]
        allowed[direction] = out
    return Evaluation(allowed, acl.notes)


def clip(evaluation: Evaluation, region: list[Box]) -> Evaluation:
    """An evaluation over all traffic cut to one subnet's boundary."""
    return Evaluation({direction: [(hit, info) for box, info in allowed for part in region
                                   if (hit := intersect(box, part)) is not None]
                       for direction, allowed in evaluation.allowed.items()}, evaluation.notes)


def default_evaluation(region: list[Box]) -> Evaluation:
    """Where neither the subnet nor the NIC has an ACL: the documented default rules."""
    return Evaluation({"inbound": [], "outbound": [(box, {**DEFAULT_RULES, "direction": "Outbound"})
                                                   for box in region]}, [])


def vnet_intervals(prefixes: Any) -> list[Interval] | None:
    if not isinstance(prefixes, list) or not prefixes:
        return None
    try:
        return merge([network_interval(ipaddress.ip_network(str(p), strict=False)) for p in prefixes])
    except ValueError:
        return None


def boundary_leaks(acls: list[list[tuple[Box, dict[str, Any]]] | None],
                   direction: str) -> list[tuple[Box, list[dict[str, Any]]]]:
    """Boundary packets every ACL (None: absent, the other decides) allows, with the deciding rule
    of each ACL present. The ACLs' allowed sets already lie within the boundary region."""
    present = [allowed for allowed in acls if allowed is not None]
    if not present:
        return []
    current: list[tuple[Box, list[dict[str, Any]]]] = [(box, [info]) for box, info in present[0]]
    for allowed in present[1:]:
        index: BoxIndex[dict[str, Any]] = BoxIndex(service_port_dim(direction))
        for box, info in allowed:
            index.add(box, info)
        current = [(both, rules + [info]) for box, rules in current for other, info in index.candidates(box)
                   if (both := intersect(box, other)) is not None]
    return current


# --- rendering ---------------------------------------------------------------------------------

def _to_networks(lo: int, hi: int) -> list[str]:
    """The fewest CIDR networks covering lo..hi, as text: what ipaddress.summarize_address_range
    gives, worked out on the integers (it builds an address object per step, which a fabric's
    thousands of address sets made slow)."""
    nets: list[str] = []
    if lo < V6_BASE:
        nets += (f"{first >> 24}.{first >> 16 & 255}.{first >> 8 & 255}.{first & 255}/{length}"
                 for first, length in _blocks(lo, min(hi, V6_BASE - 1), 32))
    if hi >= V6_BASE:
        nets += (f"{ipaddress.IPv6Address(first)}/{length}"
                 for first, length in _blocks(max(lo, V6_BASE) - V6_BASE, hi - V6_BASE, 128))
    return nets


def _blocks(first: int, last: int, bits: int) -> Iterator[tuple[int, int]]:
    """(first address, prefix length) of each aligned block, largest first, from first to last."""
    while first <= last:
        size = (last - first + 1).bit_length() - 1  # the largest block that fits what is left...
        if first:
            size = min(size, (first & -first).bit_length() - 1)  # ...and starts on its own boundary
        yield first, bits - size
        first += 1 << size


def render_addresses(intervals: list[Interval], subnet_prefix: str) -> str:
    return _render_addresses(tuple(merge(intervals)), subnet_prefix)


@functools.lru_cache(maxsize=4096)
def _render_addresses(merged: tuple[Interval, ...], subnet_prefix: str) -> str:
    """Rendered once per distinct address set and subnet."""
    intervals = list(merged)
    inside = _prefix_interval(subnet_prefix)
    if intervals == complement([inside], *family_of(inside)):
        return f"any address outside {subnet_prefix}"
    nets = _networks(merged)
    with_subnet = _networks(tuple(merge(intervals + [inside])))
    if len(nets) > 4 and len(with_subnet) <= 4 and not any(lo <= inside[0] <= hi for lo, hi in intervals):
        return ", ".join(with_subnet) + f" except {subnet_prefix}"
    if len(nets) <= 4:
        return ", ".join(nets)
    return ", ".join(f"{n[0]}-{n[-1]}" for lo, hi in intervals for n in [_range_ends(lo, hi)])


@functools.lru_cache(maxsize=4096)
def _networks(merged: tuple[Interval, ...]) -> list[str]:
    """The networks that make up an address set, worked out once per set (the subnets of one fabric
    repeat the same remote sets, each under its own prefix); callers only read the list."""
    return [n for lo, hi in merged for n in _to_networks(lo, hi)]


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
