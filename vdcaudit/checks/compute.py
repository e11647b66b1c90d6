"""Managed disks: encrypted with a customer key, or with platform keys plus encryption at host on
the VM that uses them (which also covers temp disks and caches)."""

from __future__ import annotations

from typing import Any

from vdcaudit.armdata import as_bool, dig, props
from vdcaudit.checks import register_each
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, ScanContext, Status
from vdcaudit.rulepack import Rule

CUSTOMER_KEY_TYPES = {"encryptionatrestwithcustomerkey", "encryptionatrestwithplatformandcustomerkeys"}


@register_each("disk_encryption")
def disk_encryption(rule: Rule, disk: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    kind = dig(props(disk), "encryption.type")
    encryption_set = dig(props(disk), "encryption.diskEncryptionSetId")
    vm_id = disk.get("managedBy")
    evidence = {"properties.encryption.type": kind,
                "properties.encryption.diskEncryptionSetId": encryption_set,
                "managedBy": vm_id}
    if kind is None:
        return finding_for(rule, disk, Status.UNKNOWN,
                           "cannot assess: properties.encryption.type absent from the resource data", evidence)
    if not isinstance(kind, str):
        raise TypeError(f"properties.encryption.type is a {type(kind).__name__}, not a string")
    if kind.lower() in CUSTOMER_KEY_TYPES:
        return finding_for(rule, disk, Status.PASS, f"Encrypted with a customer-managed key ({kind})", evidence)
    if not vm_id:
        return finding_for(rule, disk, Status.FAIL,
                           f"Unattached disk encrypted only with platform-managed keys ({kind})", evidence)
    vm = inventory.get(vm_id)
    if vm is None:
        return finding_for(rule, disk, Status.UNKNOWN,
                           f"platform-managed key; the VM {vm_id} is not in the inventory, so encryption "
                           "at host cannot be checked", evidence)
    at_host = as_bool(dig(props(vm), "securityProfile.encryptionAtHost"))
    evidence["vm.properties.securityProfile.encryptionAtHost"] = at_host
    if at_host is True:
        return finding_for(rule, disk, Status.PASS,
                           f"Platform-managed key with encryption at host on {vm.get('name')}", evidence)
    return finding_for(rule, disk, Status.FAIL,
                       f"Platform-managed key only; encryption at host is off on {vm.get('name')} "
                       "(temp disk and caches unencrypted)", evidence)
