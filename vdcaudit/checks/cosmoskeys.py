"""Cosmos DB account keys judged as Azure Policy's built-in "Azure Cosmos DB accounts should not exceed
the maximum number of days allowed since last account key regeneration" does: each of the four account
keys (primary, secondary, primary read-only, secondary read-only) was generated or regenerated within
`thresholds.cosmos_db.max_key_age_days` (the policy's default, 60) of the date the evidence describes
(vdcaudit.floors.evidence_date: --as-of, a snapshot's collection time, else the scan time).

Documented (https://learn.microsoft.com/azure/cosmos-db/database-security#key-rotation-and-regeneration
and the REST reference learn.microsoft.com/rest/api/cosmos-db-resource-provider/database-accounts/get):
`properties.keysMetadata.<key>.generationTime` is when Azure last generated that key. It is read-only,
so only a deployed account (live or exported) holds it; a key without it cannot be judged (UNKNOWN).
"""

from __future__ import annotations

from typing import Any

from vdcaudit import thresholds
from vdcaudit.armdata import dig, props
from vdcaudit.checks import register_each
from vdcaudit.checks.keyage import key_ages
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

KEYS = ("primaryMasterKey", "secondaryMasterKey", "primaryReadonlyMasterKey", "secondaryReadonlyMasterKey")


@register_each("cosmos_key_age")
def cosmos_key_age(rule: Rule, account: dict[str, Any], inventory: Inventory,
                   context: ScanContext) -> Finding | None:
    if account.get("properties") is None:
        return finding_for(rule, account, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    metadata = dig(props(account), "keysMetadata")
    evidence: dict[str, Any] = {f"properties.keysMetadata.{key}.generationTime": dig(metadata, f"{key}.generationTime")
                                for key in KEYS}
    setting = thresholds.read(context.config.raw, thresholds.COSMOS, "max_key_age_days")
    limit, origin = setting.value, setting.origin
    ages = key_ages(account, context, {key: dig(metadata, f"{key}.generationTime") for key in KEYS}, limit, "generated")
    if ages.unknown:
        return finding_for(rule, account, Status.UNKNOWN, f"cannot assess: keysMetadata generationTime of "
                           f"{', '.join(ages.unknown)} absent or not a time", evidence)
    status = Status.FAIL if ages.over else Status.PASS
    message = (f"Account keys not regenerated within {limit} days ({origin}) {ages.when}: {'; '.join(ages.over)}"
               if ages.over else f"All four account keys were regenerated within {limit} days ({origin}) {ages.when}")
    return finding_for(rule, account, status, message, evidence)
