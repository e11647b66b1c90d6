"""ExpressRoute: private peering is private, not encrypted. It is encrypted only when the
ExpressRoute Direct port runs MACsec on its links, or when a site-to-site VPN runs over the
private peering (a VPN gateway connection using its private Azure IP)."""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import as_bool, dig, objects, props, same
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def _list(resource: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """properties.<name> as a list of objects ([] when absent); anything else is malformed and raises."""
    return objects(props(resource or {}).get(name) or [], f"properties.{name}")


def _ref(value: Any, path: str) -> str:
    return str(dig(value, path) or "")


def _peerings(circuit: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Peerings inline (ARM GET) and as child resources (templates); None when the data has neither."""
    children = circuit.get(META, {}).get("children", {}).get("peerings", [])
    if "peerings" not in props(circuit) and not children:
        return None
    return [*_list(circuit, "peerings"), *children]


def _has_private_peering(peerings: list[dict[str, Any]]) -> bool:
    # A child peering's name is "circuit/AzurePrivatePeering" in a template, "AzurePrivatePeering" inline.
    return any(same(dig(p, "properties.peeringType") or p.get("peeringType"), "AzurePrivatePeering")
               or same(str(p.get("name") or "").rsplit("/", 1)[-1], "AzurePrivatePeering") for p in peerings)


def _macsec_links(port: dict[str, Any]) -> tuple[int, int]:
    links = _list(port, "links")
    protected = sum(1 for link in links
                    if dig(link, "properties.macSecConfig.cipher") and dig(link, "properties.macSecConfig.cknSecretIdentifier"))
    return protected, len(links)


def _gateway_vnet(gateway: dict[str, Any] | None) -> str | None:
    for ip_config in _list(gateway, "ipConfigurations"):
        subnet = _ref(ip_config, "properties.subnet.id")
        if "/subnets/" in subnet.lower():
            return subnet[: subnet.lower().index("/subnets/")].lower()
    return None


def _vpn_overlays(inventory: Inventory) -> dict[str, str]:
    """Circuit id (lower-case) -> id of an IPsec connection that runs over its private peering: a
    connection using its private Azure IP on a VPN gateway in the same virtual network as an
    ExpressRoute gateway connected to the circuit. A connection or gateway whose data is malformed
    adds no overlay (so it can never turn a circuit's FAIL into a PASS); its own rules report it."""
    vpn_over_private_ip: dict[str, str] = {}  # gateway vnet -> connection id
    circuit_vnets: dict[str, set[str]] = {}  # circuit id -> vnets of the ER gateways connected to it
    for conn in inventory.of_type("Microsoft.Network/connections"):
        try:
            vnet = _gateway_vnet(inventory.get(_ref(conn, "properties.virtualNetworkGateway1.id")))
            kind = str(dig(conn, "properties.connectionType") or "").lower()
            peer = _ref(conn, "properties.peer.id")
            over_private_ip = as_bool(dig(conn, "properties.useLocalAzureIpAddress")) is True
        except TypeError:
            continue
        if vnet is None:
            continue
        if kind == "expressroute" and peer:
            circuit_vnets.setdefault(peer.lower(), set()).add(vnet)
        elif kind == "ipsec" and over_private_ip:
            vpn_over_private_ip.setdefault(vnet, conn["id"])
    overlays = {}
    for circuit, vnets in circuit_vnets.items():
        found = sorted(vpn_over_private_ip[v] for v in vnets if v in vpn_over_private_ip)
        if found:
            overlays[circuit] = found[0]
    return overlays


@register_each("expressroute_private_peering_encryption")
def expressroute_encryption(rule: Rule, circuit: dict[str, Any], inventory: Inventory,
                            context: ScanContext) -> Finding | None:
    peerings = _peerings(circuit)
    if peerings is None:
        return finding_for(rule, circuit, Status.UNKNOWN,
                           "cannot assess: properties.peerings absent from the resource data")
    if not _has_private_peering(peerings):
        return None  # no private peering: nothing of the VDC's private traffic crosses it
    port_id = _ref(circuit, "properties.expressRoutePort.id")
    evidence: dict[str, Any] = {"properties.expressRoutePort.id": port_id or None}
    if port_id:
        port = inventory.get(port_id)
        if port is None:
            return finding_for(rule, circuit, Status.UNKNOWN,
                               f"cannot assess: ExpressRoute Direct port {port_id} is not in the inventory",
                               evidence)
        protected, total = _macsec_links(port)
        evidence["port links with MACsec"] = f"{protected}/{total}"
        if total and protected == total:
            return finding_for(rule, circuit, Status.PASS,
                               "private peering runs over an ExpressRoute Direct port with MACsec on every link",
                               evidence)
    overlay = inventory.derived("expressroute-vpn-overlays", _vpn_overlays).get(circuit["id"].lower())
    evidence["VPN connection over private peering"] = overlay
    if overlay:
        return finding_for(rule, circuit, Status.PASS,
                           "a site-to-site VPN (IPsec) runs over the private peering", evidence)
    return finding_for(rule, circuit, Status.FAIL,
                       "private peering traffic crosses the provider network unencrypted: no MACsec on "
                       "an ExpressRoute Direct port and no VPN over the peering", evidence)
