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

from collections.abc import Iterator
from typing import Any

from vdcaudit.checks import register, resources_for
from vdcaudit.model import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def vnet_encrypted(vnet: dict[str, Any]) -> bool:
    return ((vnet.get("properties") or {}).get("encryption") or {}).get("enabled") is True


def peerings_of(vnet: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Inline and child peerings, de-duplicated by id; None when the data does not say."""
    inline = (vnet.get("properties") or {}).get("virtualNetworkPeerings")
    children = vnet.get(META, {}).get("children", {}).get("virtualnetworkpeerings", [])
    if inline is None and not children:
        return None
    found: dict[str, dict[str, Any]] = {}
    for peering in list(inline or []) + list(children):
        found.setdefault(str(peering.get("id") or peering.get("name")).lower(), peering)
    return list(found.values())


def _remote_state(peering: dict[str, Any], inventory: Inventory) -> tuple[str, bool | None]:
    props = peering.get("properties") or {}
    remote_id = str((props.get("remoteVirtualNetwork") or {}).get("id", ""))
    remote = inventory.get(remote_id) if remote_id else None
    name = remote_id.rstrip("/").rsplit("/", 1)[-1] or str(peering.get("name"))
    if remote is not None:
        return name, vnet_encrypted(remote)
    reported = (props.get("remoteVirtualNetworkEncryption") or {}).get("enabled")
    return name, reported if isinstance(reported, bool) else None


@register("vnet_peering_encryption")
def vnet_peering_encryption(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    for vnet in resources_for(rule, inventory):
        peerings = peerings_of(vnet)
        if peerings is None:
            yield finding_for(rule, vnet, Status.UNKNOWN, "cannot assess: properties.virtualNetworkPeerings "
                              "absent from the resource data and no peering resources collected")
            continue
        if not peerings:
            continue  # not peered: nothing crosses a peering
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
            yield finding_for(rule, vnet, Status.FAIL,
                              "traffic over these peerings is not encrypted: " + ", ".join(clear), evidence)
        elif unknown:
            yield finding_for(rule, vnet, Status.UNKNOWN,
                              "cannot assess: the remote VNet of these peerings is not in the inventory and the "
                              "peering does not report remoteVirtualNetworkEncryption: " + ", ".join(unknown),
                              evidence)
        else:
            yield finding_for(rule, vnet, Status.PASS,
                              "VNet encryption is on at both ends of every peering", evidence)
