"""Log Analytics: a workspace's data is encrypted with a customer-managed key only when the workspace
is linked to a dedicated cluster that has a key configured. The link shows on the workspace
(`properties.features.clusterResourceId`) and on the cluster (`properties.associatedWorkspaces`);
either is enough. Shapes follow Microsoft.OperationalInsights API 2022-10-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vdcaudit.checks import register, resources_for
from vdcaudit.model import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

CLUSTER_TYPE = "Microsoft.OperationalInsights/clusters"


def _linked_cluster_id(workspace: dict[str, Any], inventory: Inventory) -> str | None:
    features = (workspace.get("properties") or {}).get("features") or {}
    if features.get("clusterResourceId"):
        return str(features["clusterResourceId"])
    return inventory.derived("loganalytics-cluster-of-workspace", _clusters_by_workspace).get(workspace["id"].lower())


def _clusters_by_workspace(inventory: Inventory) -> dict[str, str]:
    """Workspace id (lower-cased) -> the first cluster that lists it: built once per inventory, so
    the check stays linear in workspaces + clusters."""
    index: dict[str, str] = {}
    for cluster in inventory.of_type(CLUSTER_TYPE):
        for associated in (cluster.get("properties") or {}).get("associatedWorkspaces") or []:
            index.setdefault(str(associated.get("resourceId", "")).lower(), cluster["id"])
    return index


@register("loganalytics_workspace_cmk")
def loganalytics_workspace_cmk(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    for workspace in resources_for(rule, inventory):
        cluster_id = _linked_cluster_id(workspace, inventory)
        evidence: dict[str, Any] = {"properties.features.clusterResourceId": cluster_id}
        if cluster_id is None:
            if "features" not in (workspace.get("properties") or {}):
                yield finding_for(rule, workspace, Status.UNKNOWN, "cannot assess: properties.features absent "
                                  "from the resource data and no cluster lists the workspace", evidence)
            else:
                yield finding_for(rule, workspace, Status.FAIL, "the workspace is not linked to a dedicated cluster, "
                                  "so its data is encrypted with Microsoft-managed keys only", evidence)
            continue
        cluster = inventory.get(cluster_id)
        if cluster is None:
            yield finding_for(rule, workspace, Status.UNKNOWN,
                              f"cannot assess: the linked cluster {cluster_id} is not in the inventory", evidence)
            continue
        key = (cluster.get("properties") or {}).get("keyVaultProperties") or {}
        evidence["cluster keyVaultProperties.keyVaultUri"] = key.get("keyVaultUri")
        if key.get("keyVaultUri") and key.get("keyName"):
            yield finding_for(rule, workspace, Status.PASS,
                              f"linked to cluster {cluster.get('name')} with a customer-managed key", evidence)
        else:
            yield finding_for(rule, workspace, Status.FAIL,
                              f"linked to cluster {cluster.get('name')}, which has no customer-managed key", evidence)
