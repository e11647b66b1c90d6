"""Virtual WAN VPN: the site-to-site connections of a hub's VPN gateway (`vpnGateways`, connections
inline under properties.connections, each with its per-link connections) and the point-to-site
server configurations (`vpnServerConfigurations`). IPsec/IKE strength is judged by vdcaudit.ipsec,
the same list the gateway connection rules (VDC-VPN-002/005) use.

A tunnel is one site link connection, or the connection itself when it has no link connections
(the single-link shape of older API versions); its IPsec policies and protocol are its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vdcaudit.armdata import dig, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.ipsec import weak_choices
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.unresolved import note

P2S_PROTOCOLS = {"ikev2", "openvpn"}  # what Virtual WAN point-to-site offers; both are strong


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} is a {type(value).__name__}, not a list")
    return value


def tunnels(gateway: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, properties) of every tunnel of the gateway's site connections."""
    for connection in _list(props(gateway).get("connections"), "properties.connections"):
        name = str(connection.get("name") or "?")
        links = _list(dig(connection, "properties.vpnLinkConnections"), f"{name}.vpnLinkConnections")
        if not links:
            yield name, props(connection)
        for link in links:
            yield f"{name}/{link.get('name') or '?'}", props(link)


def _connections_or_unknown(rule: Rule, gateway: dict[str, Any]) -> Finding | None:
    if props(gateway).get("connections") is None:
        why = note(gateway, ["properties.connections"])  # e.g. a plan value known only after apply
        return finding_for(rule, gateway, Status.UNKNOWN,
                           "cannot assess: properties.connections absent from the resource data"
                           + (f" ({why})" if why else ""))
    return None


@register_each("vwan_site_ipsec")
def vwan_site_ipsec(rule: Rule, gateway: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    if (unknown := _connections_or_unknown(rule, gateway)) is not None:
        return unknown
    defaults, weak, judged = [], [], 0
    for label, tunnel in tunnels(gateway):
        judged += 1
        policies = _list(tunnel.get("ipsecPolicies"), f"{label}.ipsecPolicies")
        if not policies:
            defaults.append(label)
        weak += [f"{label}: {choice}" for choice in weak_choices(policies)]
    if not judged:
        return None  # a gateway without site connections carries no tunnel
    evidence = {"tunnels without a custom policy": defaults, "weak choices": weak}
    if defaults or weak:
        parts = ([f"Azure's default proposals (incl. SHA1, DH group 2) on {', '.join(defaults)}"] if defaults else []) \
            + ([f"weak algorithms: {'; '.join(weak)}"] if weak else [])
        return finding_for(rule, gateway, Status.FAIL, "; ".join(parts), evidence)
    return finding_for(rule, gateway, Status.PASS,
                       f"All {judged} site tunnel(s) use a custom IPsec/IKE policy with strong algorithms", evidence)


@register_each("vwan_site_ikev2")
def vwan_site_ikev2(rule: Rule, gateway: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    if (unknown := _connections_or_unknown(rule, gateway)) is not None:
        return unknown
    protocols = {label: tunnel.get("vpnConnectionProtocolType") for label, tunnel in tunnels(gateway)}
    if not protocols:
        return None
    evidence = {"vpnConnectionProtocolType": protocols}
    ikev1 = [label for label, value in protocols.items() if isinstance(value, str) and value.lower() == "ikev1"]
    if ikev1:
        return finding_for(rule, gateway, Status.FAIL, f"IKEv1 on {', '.join(ikev1)}", evidence)
    unrecognised = [label for label, value in protocols.items()
                    if not isinstance(value, str) or value.lower() != "ikev2"]
    if unrecognised:
        # The Microsoft.Network API documents no default for vpnConnectionProtocolType.
        return finding_for(rule, gateway, Status.UNKNOWN, "cannot assess: vpnConnectionProtocolType absent or "
                           f"unrecognised on {', '.join(unrecognised)}", evidence)
    return finding_for(rule, gateway, Status.PASS, f"All {len(protocols)} site tunnel(s) use IKEv2", evidence)


@register_each("vwan_p2s_protocols")
def vwan_p2s_protocols(rule: Rule, config: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    properties = props(config)
    protocols = properties.get("vpnProtocols")
    policies = _list(properties.get("vpnClientIpsecPolicies"), "properties.vpnClientIpsecPolicies")
    evidence = {"properties.vpnProtocols": protocols, "properties.vpnClientIpsecPolicies": policies}
    if protocols is None:
        return finding_for(rule, config, Status.UNKNOWN,
                           "cannot assess: properties.vpnProtocols absent from the resource data", evidence)
    other = [str(p) for p in _list(protocols, "properties.vpnProtocols") if str(p).lower() not in P2S_PROTOCOLS]
    weak = weak_choices(policies)
    problems = ([f"protocols other than IKEv2/OpenVPN: {', '.join(other)}"] if other else []) \
        + ([f"weak IKEv2 client policy choices: {'; '.join(weak)}"] if weak else [])
    if problems:
        return finding_for(rule, config, Status.FAIL, "; ".join(problems), evidence)
    note = "" if policies else " (IKEv2 clients negotiate Azure's default proposals: no custom policy set)"
    return finding_for(rule, config, Status.PASS,
                       f"Point-to-site protocols {', '.join(map(str, protocols))} with no weak IPsec/IKE choice{note}",
                       evidence)
