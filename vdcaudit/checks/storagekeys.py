"""Storage account keys judged as Azure Policy's built-in "Storage account keys should not be expired"
does: an account whose keys are accepted (allowSharedKeyAccess not false) has a key expiration policy,
and neither key is older than the policy's period on the date the evidence describes
(vdcaudit.floors.evidence_date: --as-of, a snapshot's collection time, else the scan time).

Documented (https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage): the key
policy's keyExpirationPeriodInDays sets how long a key may live; keyCreationTime holds when each key
(key1, key2) was created or last rotated, and is null until a key is first rotated. A deployed account
without it cannot be judged (UNKNOWN); a template or plan declares an account whose keys are made at
deployment, so there the policy alone is judged.
"""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import as_bool, dig, props
from vdcaudit.checks import register_each
from vdcaudit.checks.keyage import key_ages
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

DEPLOYED = {"azure", "snapshot"}
KEYS = ("key1", "key2")


@register_each("storage_key_expiry")
def storage_key_expiry(rule: Rule, account: dict[str, Any], inventory: Inventory,
                       context: ScanContext) -> Finding | None:
    if account.get("properties") is None:
        return finding_for(rule, account, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    settings = props(account)
    if as_bool(settings.get("allowSharedKeyAccess")) is False:
        return None  # no usable keys to rotate
    period = dig(settings, "keyPolicy.keyExpirationPeriodInDays")
    evidence: dict[str, Any] = {"properties.keyPolicy.keyExpirationPeriodInDays": period,
                                "properties.keyCreationTime": dig(settings, "keyCreationTime"),
                                "properties.allowSharedKeyAccess": settings.get("allowSharedKeyAccess")}
    if not isinstance(period, int) or isinstance(period, bool) or period <= 0:
        return finding_for(rule, account, Status.FAIL, "Account keys in use have no expiration policy; nothing "
                           "flags keys that are never rotated", evidence)
    if account.get(META, {}).get("source") not in DEPLOYED:
        return finding_for(rule, account, Status.PASS, f"Keys expire after {period} days (their age is judged on "
                           "the deployed account: keys are made at deployment)", evidence)
    ages = key_ages(account, context, {key: dig(settings, f"keyCreationTime.{key}") for key in KEYS}, period,
                    "created")
    if ages.unknown:
        return finding_for(rule, account, Status.UNKNOWN, f"cannot assess: keyCreationTime.{' and '.join(ages.unknown)} "
                           "absent or not a time (null until the key is first rotated)", evidence)
    if ages.over:
        return finding_for(rule, account, Status.FAIL, f"Account keys past the policy's {period} days "
                           f"{ages.when}: {'; '.join(ages.over)}", evidence)
    return finding_for(rule, account, Status.PASS, f"Both keys are within the policy's {period} days {ages.when}",
                       evidence)
