"""What ARM would show once infrastructure code is deployed, for facts the code states elsewhere.

A template or a Terraform plan declares some facts on a different resource than the one ARM later
reports them on: a data disk is attached in the VM's storage profile (ARM then sets the disk's
`managedBy`), an ExpressRoute peering is its own resource (ARM's GET of the circuit lists it under
`properties.peerings`). Rules are written against the deployed shape, so both IaC sources apply
these adjustments to the resources they produced, and only to those.
"""

from __future__ import annotations

from typing import Any

# child type (lower-case) -> the parent's property that lists the children inline
INLINE_CHILDREN = {
    "microsoft.network/expressroutecircuits/peerings": "peerings",
}


def apply_deployed_shape(resources: list[dict[str, Any]]) -> None:
    by_id = {r["id"].lower(): r for r in resources}
    _attach_disks(resources, by_id)
    _inline_children(resources, by_id)


def _attach_disks(resources: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    for vm in resources:
        if vm["type"].lower() != "microsoft.compute/virtualmachines":
            continue
        storage = (vm.get("properties") or {}).get("storageProfile") or {}
        disks = [storage.get("osDisk") or {}, *(storage.get("dataDisks") or [])]
        for disk_ref in disks:
            disk_id = str(((disk_ref or {}).get("managedDisk") or {}).get("id", "")).lower()
            disk = by_id.get(disk_id)
            if disk is not None and not disk.get("managedBy"):
                disk["managedBy"] = vm["id"]


def _inline_children(resources: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    for child in resources:
        listed_as = INLINE_CHILDREN.get(child["type"].lower())
        if listed_as is None:
            continue
        parent = by_id.get(child["id"].rsplit("/", 2)[0].lower())
        if parent is None:
            continue
        inline = parent.setdefault("properties", {}).setdefault(listed_as, [])
        if not any(str(item.get("id", "")).lower() == child["id"].lower() for item in inline):
            inline.append({k: v for k, v in child.items() if k in ("id", "name", "type", "properties")})
