"""Virtual network peerings: traffic between peered VNets (VDC to VDC, hub to spoke) is private but
not encrypted unless virtual network encryption is on at both ends.

A peering is listed inline (`properties.virtualNetworkPeerings`, as ARM GET and Resource Graph print
it) or as its own child resource (`Microsoft.Network/virtualNetworks/virtualNetworkPeerings`, as
templates and `az network vnet peering list` give it). The remote end is read from the inventory; if
the remote VNet is elsewhere, the peering's `remoteVirtualNetworkEncryption` (API 2023-02-01 on)
tells its state. VNet encryption is opt-in: a VNet without `properties.encryption` has it off
(same documented default as rule VDC-VNET-001). Shapes follow Microsoft.Network API 2023-09-01.
"""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import as_bool, dig, objects, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def vnet_encrypted(vnet: dict[str, Any]) -> bool:
    return as_bool(dig(vnet, "properties.encryption.enabled")) is True


def peerings_of(vnet: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Inline and child peerings, de-duplicated by id; None when the data does not say."""
    inline = props(vnet).get("virtualNetworkPeerings")
    listed = objects(inline, "properties.virtualNetworkPeerings")
    children = vnet.get(META, {}).get("children", {}).get("virtualnetworkpeerings", [])
    if inline is None and not children:
        return None
    found: dict[str, dict[str, Any]] = {}
    for peering in listed + list(children):
        found.setdefault(str(peering.get("id") or peering.get("name")).lower(), peering)
    return list(found.values())


def _remote_state(peering: dict[str, Any], inventory: Inventory) -> tuple[str, bool | None]:
    remote_id = str(dig(peering, "properties.remoteVirtualNetwork.id") or "")
    remote = inventory.get(remote_id) if remote_id else None
    name = remote_id.rstrip("/").rsplit("/", 1)[-1] or str(peering.get("name"))
    if remote is not None:
        return name, vnet_encrypted(remote)
    return name, as_bool(dig(peering, "properties.remoteVirtualNetworkEncryption.enabled"))


@register_each("vnet_peering_encryption")
def vnet_peering_encryption(rule: Rule, vnet: dict[str, Any], inventory: Inventory,
                            context: ScanContext) -> Finding | None:
    peerings = peerings_of(vnet)
    if peerings is None:
        return finding_for(rule, vnet, Status.UNKNOWN, "cannot assess: properties.virtualNetworkPeerings "
                           "absent from the resource data and no peering resources collected")
    if not peerings:
        return None  # not peered: nothing crosses a peering
    local = vnet_encrypted(vnet)
    clear, unknown, encrypted = [], [], []
    for peering in peerings:
        remote_name, remote = _remote_state(peering, inventory)
        if not local or remote is False:
            side = "this VNet" if not local else remote_name
            clear.append(f"{remote_name} (encryption off on {side})")
        elif remote is None:
            unknown.append(remote_name)
        else:
            encrypted.append(remote_name)
    evidence = {"properties.encryption.enabled": local, "unencrypted peerings": clear,
                "peerings with remote state unknown": unknown, "encrypted peerings": encrypted}
    if clear:
        return finding_for(rule, vnet, Status.FAIL,
                           "traffic over these peerings is not encrypted: " + ", ".join(clear), evidence)
    if unknown:
        return finding_for(rule, vnet, Status.UNKNOWN,
                           "cannot assess: the remote VNet of these peerings is not in the inventory and the "
                           "peering does not report remoteVirtualNetworkEncryption: " + ", ".join(unknown),
                           evidence)
    return finding_for(rule, vnet, Status.PASS, "VNet encryption is on at both ends of every peering", evidence)
