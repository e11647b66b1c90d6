"""Managed disks encrypted with one of the organisation's disk encryption sets, as Azure Policy's
built-in "Managed disks should use a specific set of disk encryption sets for the customer-managed key
encryption" judges them. The allowed sets are the policy's parameter `allowedEncryptionSets`, which has
no default: here `thresholds.disks.allowed_disk_encryption_sets` in vdcaudit.yaml. Without it a disk
cannot be judged (UNKNOWN naming the setting), as VDC-KV-003 does without `key_owners`.

Documented (https://learn.microsoft.com/rest/api/compute/disks/get): `encryption.diskEncryptionSetId`
is the ARM id of the disk encryption set a customer-managed key disk uses; a disk without one uses a
platform-managed key ("EncryptionAtRestWithPlatformKey ... the default encryption type"). ARM ids compare
case-insensitively.
"""

from __future__ import annotations

from typing import Any

from vdcaudit import thresholds
from vdcaudit.armdata import dig, props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

SETTING = "thresholds.disks.allowed_disk_encryption_sets"


def allowed_sets(context: ScanContext) -> set[str] | None:
    """The declared disk encryption set ids, lower-case; None when the setting is absent."""
    declared = thresholds.read(context.config.raw, thresholds.DISKS, "allowed_disk_encryption_sets").value
    return None if declared is None else {item.strip().rstrip("/").lower() for item in declared}


@register_each("disk_encryption_set_allowed")
def disk_encryption_set_allowed(rule: Rule, disk: dict[str, Any], inventory: Inventory,
                                context: ScanContext) -> Finding:
    if disk.get("properties") is None:
        return finding_for(rule, disk, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    set_id = dig(props(disk), "encryption.diskEncryptionSetId")
    evidence: dict[str, Any] = {"properties.encryption.diskEncryptionSetId": set_id,
                                "properties.encryption.type": dig(props(disk), "encryption.type")}
    allowed = allowed_sets(context)
    if allowed is None:
        return finding_for(rule, disk, Status.UNKNOWN, f"cannot assess: the allowed disk encryption sets are not "
                           f"declared: list their ARM ids under `{SETTING}` in vdcaudit.yaml", evidence)
    if not isinstance(set_id, str) or not set_id.strip():
        return finding_for(rule, disk, Status.FAIL, "The disk uses no disk encryption set (a platform-managed key), "
                           f"not one of the {len(allowed)} allowed ({SETTING})", evidence)
    if set_id.strip().rstrip("/").lower() in allowed:
        return finding_for(rule, disk, Status.PASS, f"The disk's encryption set is one of the allowed ({SETTING})",
                           evidence)
    return finding_for(rule, disk, Status.FAIL, f"The disk's encryption set is not one of the {len(allowed)} allowed "
                       f"({SETTING})", evidence)
