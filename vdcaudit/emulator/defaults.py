"""What ARM serves whatever a fixture says: the default child resources every parent has, the shape
an API version gives a resource, the tenant list and a subscription's locations.

Default children (collectors.azure.catalog.ALWAYS_PRESENT) are served with the values ARM gives a
parent nobody configured, for the children vdcaudit does not judge (blob, queue and table services
of a storage account; a SQL server's auditing and threat-detection policies; a database's
short-term backup retention): another client that reads them finds them, as on Azure. The
children vdcaudit's rules judge (file services, a web app's config/web, TDE, encryption
protectors, server parameters) are served only as the fixture states them: a default invented
here would be evidence nobody collected, so a fixture without one answers 404 (or an empty list),
which the collector reports as a coverage gap.
"""

from __future__ import annotations

from typing import Any

from vdcaudit.collectors.azure import catalog

# Default values, from the REST references' GET examples and the documented defaults:
# learn.microsoft.com/rest/api/storagerp/blob-services/get-service-properties (delete retention off
# unless set), .../queue-services/get-service-properties, .../table-services/get-service-properties;
# learn.microsoft.com/rest/api/sql/server-blob-auditing-policies/get (auditing Disabled until set),
# .../server-security-alert-policies/get (Disabled until set),
# .../backup-short-term-retention-policies/get and learn.microsoft.com/azure/azure-sql/database/
# automated-backups-overview (point-in-time restore kept 7 days, differential backups every 12 hours).
_NO_CORS: dict[str, Any] = {"cors": {"corsRules": []}}
DEFAULT_PROPERTIES: dict[str, dict[str, Any]] = {
    "blobservices/default": {**_NO_CORS, "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}},
    "queueservices/default": _NO_CORS,
    "tableservices/default": _NO_CORS,
    "auditingsettings/default": {"state": "Disabled", "retentionDays": 0, "auditActionsAndGroups": [],
                                 "isAzureMonitorTargetEnabled": False, "isStorageSecondaryKeyInUse": False},
    "securityalertpolicies/default": {"state": "Disabled", "disabledAlerts": [], "emailAddresses": [],
                                      "emailAccountAdmins": False, "retentionDays": 0},
    "backupshorttermretentionpolicies/default": {"retentionDays": 7, "diffBackupIntervalInHours": 12},
}
# Child types whose GET takes the SKU of the parent (storage services)
_WITH_SKU = ("blobservices", "queueservices", "tableservices")


def judged_paths(parent_type: str) -> set[str]:
    """The always-present children of a parent type that the collector reads (catalog CHILDREN),
    lower-case paths under the parent."""
    return {call.segment.lower() for call in catalog.CHILDREN if (call.parent or "").lower() == parent_type.lower()}


def default_children(parent: dict[str, Any], have: set[str]) -> list[dict[str, Any]]:
    """The default children ARM serves under `parent` that the fixture lacks (`have`: lower-case
    ids present) and vdcaudit does not judge."""
    served = []
    judged = judged_paths(parent["type"])
    for path in catalog.ALWAYS_PRESENT.get(parent["type"].lower(), ()):
        key = path.lower()
        properties = DEFAULT_PROPERTIES.get(key)
        child_id = f"{parent['id']}/{path}"
        if properties is None or key in judged or child_id.lower() in have:
            continue
        kind, name = path.split("/")
        child: dict[str, Any] = {"id": child_id, "name": name, "type": f"{parent['type']}/{kind}",
                                 "properties": dict(properties)}
        if kind.lower() in _WITH_SKU and isinstance(parent.get("sku"), dict):
            child["sku"] = parent["sku"]
        served.append(child)
    return served


# Transparent data encryption says Enabled/Disabled in `status` up to API version 2014-04-01 and in
# `state` from 2021-02-01-preview on (learn.microsoft.com/rest/api/sql/2014-04-01/transparent-data-encryptions/get
# and learn.microsoft.com/rest/api/sql/transparent-data-encryptions/get). Synapse's dedicated SQL pools
# keep `status` in every version (learn.microsoft.com/rest/api/synapse/sqlserver/sql-pool-transparent-data-encryptions/get).
TDE_STATE_SINCE = "2021-02-01-preview"


def shaped(resource: dict[str, Any], api_version: str | None) -> dict[str, Any]:
    """The resource as the requested API version shapes it (where the versions differ)."""
    kind = resource["type"].lower()
    if not (kind.startswith("microsoft.sql/") and kind.endswith("/transparentdataencryption")):
        return resource
    properties = dict(resource.get("properties") or {})
    value = properties.pop("state", None) or properties.pop("status", None)
    if value is None:
        return resource
    old = bool(api_version) and str(api_version) < TDE_STATE_SINCE
    properties["status" if old else "state"] = value
    return {**resource, "properties": properties}


# Display names of the regions the emulator lists (learn.microsoft.com/azure/reliability/regions-list)
REGION_NAMES = {
    "westeurope": ("West Europe", "Europe", "northeurope"),
    "northeurope": ("North Europe", "Europe", "westeurope"),
    "germanywestcentral": ("Germany West Central", "Europe", "germanynorth"),
    "swedencentral": ("Sweden Central", "Europe", "swedensouth"),
    "uksouth": ("UK South", "Europe", "ukwest"),
    "eastus": ("East US", "US", "westus"),
    "eastus2": ("East US 2", "US", "centralus"),
    "westus2": ("West US 2", "US", "westcentralus"),
}


def locations(subscription: str, used: set[str]) -> list[dict[str, Any]]:
    """`GET /subscriptions/{id}/locations`: the regions above and any other the tenant uses."""
    items = []
    for name in sorted(set(REGION_NAMES) | {u.lower().replace(" ", "") for u in used if u}):
        display, geography, pair = REGION_NAMES.get(name, (name, "", ""))
        items.append({
            "id": f"/subscriptions/{subscription}/locations/{name}", "name": name, "type": "Region",
            "displayName": display, "regionalDisplayName": f"({geography}) {display}" if geography else display,
            "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": geography,
                         "pairedRegion": [{"name": pair, "id": f"/subscriptions/{subscription}/locations/{pair}"}]
                         if pair else []}})
    return items


def tenant(tenant_id: str) -> dict[str, Any]:
    """An entry of `GET /tenants`."""
    return {"id": f"/tenants/{tenant_id}", "tenantId": tenant_id, "tenantCategory": "Home", "countryCode": "NL",
            "displayName": "vdcaudit emulator", "defaultDomain": "vdcaudit-emulator.onmicrosoft.com",
            "domains": ["vdcaudit-emulator.onmicrosoft.com"], "tenantType": "AAD"}
