"""ExpressRoute: private peering is private, not encrypted. It is encrypted only when the
ExpressRoute Direct port runs MACsec on its links, or when a site-to-site VPN runs over the
private peering (a VPN gateway connection using its private Azure IP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vdcaudit.checks import register, resources_for
from vdcaudit.model import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def _props(resource: dict[str, Any] | None) -> dict[str, Any]:
    return (resource or {}).get("properties") or {}


def _ref(value: Any) -> str:
    return str((value or {}).get("id", "")) if isinstance(value, dict) else ""


def _has_private_peering(circuit: dict[str, Any]) -> bool:
    peerings = _props(circuit).get("peerings") or []
    return any(str(_props(p).get("peeringType", p.get("peeringType", ""))).lower() == "azureprivatepeering"
               or str(p.get("name", "")).lower() == "azureprivatepeering" for p in peerings)


def _macsec_links(port: dict[str, Any]) -> tuple[int, int]:
    links = _props(port).get("links") or []
    protected = sum(1 for link in links
                    if (_props(link).get("macSecConfig") or {}).get("cipher")
                    and (_props(link).get("macSecConfig") or {}).get("cknSecretIdentifier"))
    return protected, len(links)


def _gateway_vnet(gateway: dict[str, Any] | None) -> str | None:
    for ip_config in _props(gateway).get("ipConfigurations") or []:
        subnet = _ref(_props(ip_config).get("subnet"))
        if "/subnets/" in subnet.lower():
            return subnet[: subnet.lower().index("/subnets/")].lower()
    return None


def _vpn_overlays(inventory: Inventory) -> dict[str, str]:
    """Circuit id (lower-case) -> id of an IPsec connection that runs over its private peering: a
    connection using its private Azure IP on a VPN gateway in the same virtual network as an
    ExpressRoute gateway connected to the circuit."""
    connections = inventory.of_type("Microsoft.Network/connections")
    vpn_over_private_ip: dict[str, str] = {}  # gateway vnet -> connection id
    circuit_vnets: dict[str, set[str]] = {}  # circuit id -> vnets of the ER gateways connected to it
    for conn in connections:
        props = _props(conn)
        kind = str(props.get("connectionType", "")).lower()
        vnet = _gateway_vnet(inventory.get(_ref(props.get("virtualNetworkGateway1"))))
        if vnet is None:
            continue
        if kind == "expressroute" and _ref(props.get("peer")):
            circuit_vnets.setdefault(_ref(props.get("peer")).lower(), set()).add(vnet)
        elif kind == "ipsec" and props.get("useLocalAzureIpAddress") is True:
            vpn_over_private_ip.setdefault(vnet, conn["id"])
    overlays = {}
    for circuit, vnets in circuit_vnets.items():
        found = sorted(vpn_over_private_ip[v] for v in vnets if v in vpn_over_private_ip)
        if found:
            overlays[circuit] = found[0]
    return overlays


@register("expressroute_private_peering_encryption")
def expressroute_encryption(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    overlays = inventory.derived("expressroute-vpn-overlays", _vpn_overlays)
    for circuit in resources_for(rule, inventory):
        props = _props(circuit)
        if "peerings" not in props:
            yield finding_for(rule, circuit, Status.UNKNOWN,
                              "cannot assess: properties.peerings absent from the resource data")
            continue
        if not _has_private_peering(circuit):
            continue  # no private peering: nothing of the VDC's private traffic crosses it
        port_id = _ref(props.get("expressRoutePort"))
        evidence: dict[str, Any] = {"properties.expressRoutePort.id": port_id or None}
        if port_id:
            port = inventory.get(port_id)
            if port is None:
                yield finding_for(rule, circuit, Status.UNKNOWN,
                                  f"cannot assess: ExpressRoute Direct port {port_id} is not in the inventory",
                                  evidence)
                continue
            protected, total = _macsec_links(port)
            evidence["port links with MACsec"] = f"{protected}/{total}"
            if total and protected == total:
                yield finding_for(rule, circuit, Status.PASS,
                                  "private peering runs over an ExpressRoute Direct port with MACsec on every link",
                                  evidence)
                continue
        overlay = overlays.get(circuit["id"].lower())
        evidence["VPN connection over private peering"] = overlay
        if overlay:
            yield finding_for(rule, circuit, Status.PASS,
                              "a site-to-site VPN (IPsec) runs over the private peering", evidence)
        else:
            yield finding_for(rule, circuit, Status.FAIL,
                              "private peering traffic crosses the provider network unencrypted: no MACsec on "
                              "an ExpressRoute Direct port and no VPN over the peering", evidence)
