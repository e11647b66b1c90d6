"""Managed disks: encrypted with a customer key, with Azure Disk Encryption (guest BitLocker /
DM-Crypt with keys in the customer's Key Vault), or with platform keys plus encryption at host on the
VM that uses them (which also covers temp disks and caches).

Documented defaults used here:
- https://learn.microsoft.com/rest/api/compute/disks/create-or-update : encryption.type
  "EncryptionAtRestWithPlatformKey: disk is encrypted at rest with Platform managed key. It is the
  default encryption type" - a disk whose properties hold no `encryption` block uses it.
- https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update : encryption at host
  "will be disabled unless this property is set to true".
Azure Disk Encryption shows on the disk (`encryptionSettingsCollection.enabled`, set by the ADE
extension; https://learn.microsoft.com/azure/virtual-machines/windows/disk-encryption-overview) or as
the VM's AzureDiskEncryption / AzureDiskEncryptionForLinux extension (publisher
Microsoft.Azure.Security), whose VolumeType setting says which disks it encrypts (OS, Data, All).
"""

from __future__ import annotations

import json
from typing import Any

from vdcaudit.armdata import as_bool, dig, props, same
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

CUSTOMER_KEY_TYPES = {"encryptionatrestwithcustomerkey", "encryptionatrestwithplatformandcustomerkeys"}
PLATFORM_KEY_DEFAULT = "EncryptionAtRestWithPlatformKey"
ADE_EXTENSION_TYPES = {"azurediskencryption", "azurediskencryptionforlinux"}
MAX_SETTINGS_TEXT = 64 * 1024  # an extension's settings text; longer is not an ADE settings block


def ade_extension(vm: dict[str, Any]) -> dict[str, Any] | None:
    """The VM's Azure Disk Encryption extension that finished provisioning, if any."""
    for extension in vm.get(META, {}).get("children", {}).get("extensions", []):
        if not same(dig(extension, "properties.publisher"), "Microsoft.Azure.Security"):
            continue
        if str(dig(extension, "properties.type") or "").lower() not in ADE_EXTENSION_TYPES:
            continue
        state = dig(extension, "properties.provisioningState")
        if state is None or same(state, "Succeeded"):
            return extension
    return None


def ade_covers(extension: dict[str, Any], vm: dict[str, Any], disk: dict[str, Any]) -> bool | None:
    """Whether the ADE extension's VolumeType covers this disk (None when the setting is absent)."""
    settings = dig(extension, "properties.settings")
    if isinstance(settings, str) and len(settings) <= MAX_SETTINGS_TEXT:
        # Terraform's azurerm_virtual_machine_extension gives `settings` as a JSON string.
        try:
            settings = json.loads(settings)
        except ValueError:
            raise TypeError("the extension's settings are neither an object nor JSON text") from None
    volume_type = dig(settings, "VolumeType")
    if volume_type is None:
        return None
    os_disk = str(dig(vm, "properties.storageProfile.osDisk.managedDisk.id") or "").lower()
    role = "os" if os_disk == str(disk.get("id", "")).lower() else "data"
    return str(volume_type).lower() in ("all", role)


@register_each("disk_encryption")
def disk_encryption(rule: Rule, disk: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    settings = props(disk)
    kind = dig(settings, "encryption.type")
    encryption_set = dig(settings, "encryption.diskEncryptionSetId")
    vm_id = disk.get("managedBy")
    evidence: dict[str, Any] = {"properties.encryption.type": kind,
                                "properties.encryption.diskEncryptionSetId": encryption_set,
                                "managedBy": vm_id}
    ade_on_disk = as_bool(dig(settings, "encryptionSettingsCollection.enabled"))
    if ade_on_disk is not None:
        evidence["properties.encryptionSettingsCollection.enabled"] = ade_on_disk
    note = ""
    if kind is None:
        if disk.get("properties") is None or "encryption" in settings:
            # Printed without properties (az resource list), or an encryption block without a type.
            return finding_for(rule, disk, Status.UNKNOWN,
                               "cannot assess: properties.encryption.type absent from the resource data", evidence)
        kind = PLATFORM_KEY_DEFAULT
        note = f" (properties.encryption absent, Azure default {PLATFORM_KEY_DEFAULT!r} applies)"
    if not isinstance(kind, str):
        raise TypeError(f"properties.encryption.type is a {type(kind).__name__}, not a string")
    if kind.lower() in CUSTOMER_KEY_TYPES:
        return finding_for(rule, disk, Status.PASS, f"Encrypted with a customer-managed key ({kind})", evidence)
    if ade_on_disk is True:
        return finding_for(rule, disk, Status.PASS, "Encrypted with Azure Disk Encryption (guest BitLocker/DM-Crypt, "
                           f"key in Key Vault) over platform-managed keys ({kind}){note}", evidence)
    if not vm_id:
        return finding_for(rule, disk, Status.FAIL,
                           f"Unattached disk encrypted only with platform-managed keys ({kind}){note}", evidence)
    vm = inventory.get(vm_id)
    if vm is None:
        return finding_for(rule, disk, Status.UNKNOWN,
                           f"platform-managed key{note}; the VM {vm_id} is not in the inventory, so encryption "
                           "at host and Azure Disk Encryption cannot be checked", evidence)
    at_host = as_bool(dig(props(vm), "securityProfile.encryptionAtHost"))
    evidence["vm.properties.securityProfile.encryptionAtHost"] = at_host
    if at_host is True:
        return finding_for(rule, disk, Status.PASS,
                           f"Platform-managed key with encryption at host on {vm.get('name')}{note}", evidence)
    extension = ade_extension(vm)
    if extension is not None:
        covers = ade_covers(extension, vm, disk)
        evidence["vm Azure Disk Encryption extension"] = {
            "name": extension.get("name"), "covers this disk": covers}
        if covers is True:
            return finding_for(rule, disk, Status.PASS, f"Encrypted with Azure Disk Encryption on {vm.get('name')} "
                               f"(extension {extension.get('name')}){note}", evidence)
        if covers is None:
            return finding_for(rule, disk, Status.UNKNOWN, f"platform-managed key{note}; {vm.get('name')} has the "
                               "Azure Disk Encryption extension but its VolumeType setting is not in the data, so "
                               "whether it encrypts this disk is unknown", evidence)
    return finding_for(rule, disk, Status.FAIL,
                       f"Platform-managed key only{note}; encryption at host is off on {vm.get('name')} "
                       "(temp disk and caches unencrypted) and Azure Disk Encryption does not cover this disk",
                       evidence)
