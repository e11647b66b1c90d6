"""Log Analytics: a workspace's data is encrypted with a customer-managed key only when the workspace
is linked to a dedicated cluster that has a key configured. The link shows on the workspace
(`properties.features.clusterResourceId`) and on the cluster (`properties.associatedWorkspaces`);
either is enough. Shapes follow Microsoft.OperationalInsights API 2022-10-01.
"""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import dig, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

CLUSTER_TYPE = "Microsoft.OperationalInsights/clusters"


def _workspaces_by_cluster(inventory: Inventory) -> dict[str, str]:
    """Workspace id (lower-case) -> the cluster that lists it in associatedWorkspaces. A cluster whose
    data is malformed lists nothing here; its own rules report it."""
    found: dict[str, str] = {}
    for cluster in inventory.of_type(CLUSTER_TYPE):
        try:
            associated = dig(cluster, "properties.associatedWorkspaces") or []
            for item in associated if isinstance(associated, list) else []:
                found.setdefault(str(dig(item, "resourceId") or "").lower(), cluster["id"])
        except TypeError:
            continue
    return found


def _linked_cluster_id(workspace: dict[str, Any], inventory: Inventory) -> str | None:
    cluster_id = dig(workspace, "properties.features.clusterResourceId")
    if cluster_id:
        return str(cluster_id)
    return inventory.derived("log-analytics-workspace-clusters", _workspaces_by_cluster).get(workspace["id"].lower())


@register_each("loganalytics_workspace_cmk")
def loganalytics_workspace_cmk(rule: Rule, workspace: dict[str, Any], inventory: Inventory,
                               context: ScanContext) -> Finding:
    cluster_id = _linked_cluster_id(workspace, inventory)
    evidence: dict[str, Any] = {"properties.features.clusterResourceId": cluster_id}
    if cluster_id is None:
        if "features" not in props(workspace):
            return finding_for(rule, workspace, Status.UNKNOWN, "cannot assess: properties.features absent "
                               "from the resource data and no cluster lists the workspace", evidence)
        return finding_for(rule, workspace, Status.FAIL, "the workspace is not linked to a dedicated cluster, "
                           "so its data is encrypted with Microsoft-managed keys only", evidence)
    cluster = inventory.get(cluster_id)
    if cluster is None:
        return finding_for(rule, workspace, Status.UNKNOWN,
                           f"cannot assess: the linked cluster {cluster_id} is not in the inventory", evidence)
    key_uri = dig(cluster, "properties.keyVaultProperties.keyVaultUri")
    evidence["cluster keyVaultProperties.keyVaultUri"] = key_uri
    if key_uri and dig(cluster, "properties.keyVaultProperties.keyName"):
        return finding_for(rule, workspace, Status.PASS,
                           f"linked to cluster {cluster.get('name')} with a customer-managed key", evidence)
    return finding_for(rule, workspace, Status.FAIL,
                       f"linked to cluster {cluster.get('name')}, which has no customer-managed key", evidence)
