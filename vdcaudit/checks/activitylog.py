"""The storage account a subscription's activity log is exported to is encrypted with a
customer-managed key, as Azure Policy's built-in "Storage account containing the container with
activity logs must be encrypted with BYOK" asks of log profiles.

A subscription exports its activity log through diagnostic settings at subscription scope
(`/subscriptions/{id}/providers/Microsoft.Insights/diagnosticSettings/{name}`, properties.storageAccountId,
https://learn.microsoft.com/rest/api/monitor/subscription-diagnostic-settings/get) or through the
legacy log profile they replace (`Microsoft.Insights/logProfiles`, properties.storageAccountId,
https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log?tabs=powershell#legacy-collection-methods).
Either names the account by its ARM id; the account's encryption.keySource says whose key encrypts
it (absent: Microsoft.Storage, https://learn.microsoft.com/azure/storage/common/storage-service-encryption#about-encryption-key-management).
Diagnostic settings of single resources (under a resource's id) export that resource's logs and are
not judged here.
"""

from __future__ import annotations

import re
from typing import Any

from vdcaudit.armdata import dig, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

# The subscription's own settings; a template deployed at subscription scope is read into an assumed
# resource group, so a setting there (on no resource) is the subscription's too
SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+(/resourcegroups/[^/]+)?/providers/microsoft\.insights/"
                                r"(diagnosticsettings|logprofiles)/[^/]+$", re.IGNORECASE)
STORAGE_TYPE = "microsoft.storage/storageaccounts"


@register_each("activity_log_storage_cmk")
def activity_log_storage_cmk(rule: Rule, export: dict[str, Any], inventory: Inventory,
                             context: ScanContext) -> Finding | None:
    if not SUBSCRIPTION_SCOPE.match(str(export.get("id") or "")):
        return None  # a resource's own diagnostic setting: not the activity log
    if export.get("properties") is None:
        return finding_for(rule, export, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    account_id = props(export).get("storageAccountId")
    evidence: dict[str, Any] = {"properties.storageAccountId": account_id}
    if not account_id:
        return None  # exported to a workspace or an event hub only: no storage account to judge
    account = inventory.get(str(account_id))
    if account is None or str(account.get("type", "")).lower() != STORAGE_TYPE:
        return finding_for(rule, export, Status.UNKNOWN,
                           f"cannot assess: the storage account {account_id} is not in the inventory", evidence)
    if account.get("properties") is None:
        return finding_for(rule, export, Status.UNKNOWN,
                           f"cannot assess: the properties of storage account {account.get('name')} were not read",
                           evidence)
    key_source = dig(account, "properties.encryption.keySource")
    shown = key_source if key_source is not None else "absent, Azure default Microsoft.Storage"
    evidence["storage account encryption.keySource"] = shown
    if str(key_source or "Microsoft.Storage").lower() == "microsoft.keyvault":
        return finding_for(rule, export, Status.PASS,
                           f"the activity log goes to storage account {account.get('name')}, encrypted with a "
                           "customer-managed key", evidence)
    return finding_for(rule, export, Status.FAIL,
                       f"the activity log goes to storage account {account.get('name')}, encrypted with "
                       "Microsoft-managed keys only", evidence)
