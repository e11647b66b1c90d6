"""What ARM would show once infrastructure code is deployed, for facts the code states elsewhere.

A template or a Terraform plan declares some facts on a different resource than the one ARM later
reports them on: a data disk is attached in the VM's storage profile (ARM then sets the disk's
`managedBy`), an ExpressRoute peering is its own resource (ARM's GET of the circuit lists it under
`properties.peerings`). Rules are written against the deployed shape, so both IaC sources apply
these adjustments to the resources they produced, and only to those.
"""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import ArmObject, dig, props, wrap

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


def apply_deployed_shape(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources (read case-insensitively, as ARM reads them) with these adjustments made. A
    resource whose data is malformed is left as it is: the rules that read it report ERROR."""
    wrapped = []
    for resource in resources:
        try:
            wrapped.append(wrap(resource)[0])
        except ValueError:  # nested too deep: Inventory.add refuses it with the file named
            wrapped.append(resource)
    by_id = {r["id"].lower(): r for r in wrapped}
    for adjust in (_attach_disks, _inline_children, _appgw_subresource_ids, _workspace_cluster_links,
                   _role_assignment_scope):
        for resource in wrapped:
            try:
                adjust(resource, by_id)
            except TypeError:
                continue
    return wrapped


def _attach_disks(vm: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    if vm["type"].lower() != "microsoft.compute/virtualmachines":
        return
    storage = props(vm).get("storageProfile") or {}
    for disk_ref in [dig(storage, "osDisk"), *(dig(storage, "dataDisks") or [])]:
        disk = by_id.get(str(dig(disk_ref, "managedDisk.id") or "").lower())
        if disk is not None and not disk.get("managedBy"):
            disk["managedBy"] = vm["id"]


def _inline_children(child: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    listed_as = INLINE_CHILDREN.get(child["type"].lower())
    parent = by_id.get(child["id"].rsplit("/", 2)[0].lower()) if listed_as else None
    if listed_as is None or parent is None:
        return
    inline = parent.setdefault("properties", ArmObject()).setdefault(listed_as, [])
    if not any(str(dig(item, "id") or "").lower() == child["id"].lower() for item in inline):
        inline.append(ArmObject({k: v for k, v in child.items() if k.lower() in ("id", "name", "type", "properties")}))


def _appgw_subresource_ids(gateway: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    """ARM gives each inline part of an application gateway the id GATEWAY/COLLECTION/NAME, and
    references between parts are ids; code names the parts (Terraform refers to them by name only)."""
    if gateway["type"].lower() != "microsoft.network/applicationgateways":
        return
    for collection in _APPGW_COLLECTIONS:
        for item in props(gateway).get(collection) or []:
            if not isinstance(item, dict):
                continue
            if item.get("name") and not item.get("id"):
                item["id"] = f"{gateway['id']}/{collection}/{item['name']}"
            for key, target in _APPGW_REFERENCES.items():
                ref = dig(item, ["properties", key])
                if isinstance(ref, dict) and ref.get("name") and not ref.get("id"):
                    props(item)[key] = ArmObject({"id": f"{gateway['id']}/{target}/{ref['name']}"})


def _workspace_cluster_links(link: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    """A workspace is linked to a dedicated cluster by its linked service 'Cluster' (writeAccessResourceId);
    ARM then reports the cluster on the workspace as properties.features.clusterResourceId."""
    if link["type"].lower() != "microsoft.operationalinsights/workspaces/linkedservices":
        return
    cluster_id = props(link).get("writeAccessResourceId")
    workspace = by_id.get(link["id"].rsplit("/", 2)[0].lower())
    if workspace is None or not isinstance(cluster_id, str) or "/clusters/" not in cluster_id.lower():
        return
    features = workspace.setdefault("properties", ArmObject()).setdefault("features", ArmObject())
    features.setdefault("clusterResourceId", cluster_id)


def _role_assignment_scope(assignment: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    """ARM reports where a role assignment applies as properties.scope (read-only); code states it as
    the extension resource's `scope` (or the deployment's resource group), which is in its id."""
    marker = "/providers/microsoft.authorization/roleassignments/"
    cut = assignment["id"].lower().rfind(marker)
    if assignment["type"].lower() != "microsoft.authorization/roleassignments" or cut <= 0:
        return
    properties = assignment.setdefault("properties", ArmObject())
    if not properties.get("scope"):
        properties["scope"] = assignment["id"][:cut]
