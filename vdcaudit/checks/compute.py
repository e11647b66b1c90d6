"""Managed disks: encrypted with a customer key, or with platform keys plus encryption at host on
the VM that uses them (which also covers temp disks and caches)."""

from __future__ import annotations

from collections.abc import Iterator

from vdcaudit.checks import register, resources_for
from vdcaudit.engine import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

CUSTOMER_KEY_TYPES = {"encryptionatrestwithcustomerkey", "encryptionatrestwithplatformandcustomerkeys"}


@register("disk_encryption")
def disk_encryption(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    for disk in resources_for(rule, inventory):
        encryption = (disk.get("properties") or {}).get("encryption") or {}
        kind = encryption.get("type")
        vm_id = disk.get("managedBy")
        evidence = {"properties.encryption.type": kind,
                    "properties.encryption.diskEncryptionSetId": encryption.get("diskEncryptionSetId"),
                    "managedBy": vm_id}
        if kind is None:
            yield finding_for(rule, disk, Status.UNKNOWN,
                              "cannot assess: properties.encryption.type absent from the resource data", evidence)
            continue
        if kind.lower() in CUSTOMER_KEY_TYPES:
            yield finding_for(rule, disk, Status.PASS, f"Encrypted with a customer-managed key ({kind})", evidence)
            continue
        if not vm_id:
            yield finding_for(rule, disk, Status.FAIL,
                              f"Unattached disk encrypted only with platform-managed keys ({kind})", evidence)
            continue
        vm = inventory.get(vm_id)
        if vm is None:
            yield finding_for(rule, disk, Status.UNKNOWN,
                              f"platform-managed key; the VM {vm_id} is not in the inventory, so encryption "
                              "at host cannot be checked", evidence)
            continue
        at_host = ((vm.get("properties") or {}).get("securityProfile") or {}).get("encryptionAtHost")
        evidence["vm.properties.securityProfile.encryptionAtHost"] = at_host
        if at_host is True:
            yield finding_for(rule, disk, Status.PASS,
                              f"Platform-managed key with encryption at host on {vm.get('name')}", evidence)
        else:
            yield finding_for(rule, disk, Status.FAIL,
                              f"Platform-managed key only; encryption at host is off on {vm.get('name')} "
                              "(temp disk and caches unencrypted)", evidence)
