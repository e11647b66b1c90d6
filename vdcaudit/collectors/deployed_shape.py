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


# application gateway: reference key -> the collection it points into (Microsoft.Network 2023-09-01)
_APPGW_REFERENCES = {
    "httpListener": "httpListeners", "targetListener": "httpListeners",
    "redirectConfiguration": "redirectConfigurations", "sslProfile": "sslProfiles",
    "backendHttpSettings": "backendHttpSettingsCollection", "backendAddressPool": "backendAddressPools",
}
_APPGW_COLLECTIONS = ("httpListeners", "requestRoutingRules", "redirectConfigurations", "sslProfiles",
                      "backendHttpSettingsCollection", "backendAddressPools", "frontendPorts",
                      "frontendIPConfigurations", "gatewayIPConfigurations", "sslCertificates", "probes")


def apply_deployed_shape(resources: list[dict[str, Any]]) -> None:
    by_id = {r["id"].lower(): r for r in resources}
    _attach_disks(resources, by_id)
    _inline_children(resources, by_id)
    _appgw_subresource_ids(resources)
    _workspace_cluster_links(resources, by_id)


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


def _appgw_subresource_ids(resources: list[dict[str, Any]]) -> None:
    """ARM gives each inline part of an application gateway the id GATEWAY/COLLECTION/NAME, and
    references between parts are ids; code names the parts (Terraform refers to them by name only)."""
    for gateway in resources:
        if gateway["type"].lower() != "microsoft.network/applicationgateways":
            continue
        props = gateway.get("properties") or {}
        for collection in _APPGW_COLLECTIONS:
            for item in props.get(collection) or []:
                if isinstance(item, dict) and item.get("name") and not item.get("id"):
                    item["id"] = f"{gateway['id']}/{collection}/{item['name']}"
                for key, target in _APPGW_REFERENCES.items():
                    ref = (item.get("properties") or {}).get(key) if isinstance(item, dict) else None
                    if isinstance(ref, dict) and ref.get("name") and not ref.get("id"):
                        item["properties"][key] = {"id": f"{gateway['id']}/{target}/{ref['name']}"}


def _workspace_cluster_links(resources: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    """A workspace is linked to a dedicated cluster by its linked service 'Cluster' (writeAccessResourceId);
    ARM then reports the cluster on the workspace as properties.features.clusterResourceId."""
    for link in resources:
        if link["type"].lower() != "microsoft.operationalinsights/workspaces/linkedservices":
            continue
        cluster_id = (link.get("properties") or {}).get("writeAccessResourceId")
        workspace = by_id.get(link["id"].rsplit("/", 2)[0].lower())
        if workspace is None or not isinstance(cluster_id, str) or "/clusters/" not in cluster_id.lower():
            continue
        features = workspace.setdefault("properties", {}).setdefault("features", {})
        features.setdefault("clusterResourceId", cluster_id)
