"""Customer-managed keys must live in a vault that cannot lose them: the referenced vault (or managed
HSM) is in the inventory and has purge protection on. A key in a vault without purge protection can
be purged by one administrator, making everything it encrypts unreadable for good.

Where each resource type names its key (ARM wire shapes, API versions in brackets):
- storage account: properties.encryption.keyvaultproperties.keyvaulturi (Microsoft.Storage 2023-05-01;
  the wire names are lower-case, some SDK/IaC prints use keyVaultProperties.keyVaultUri)
- disk encryption set: properties.activeKey.sourceVault.id, else activeKey.keyUrl (Compute 2023-04-02)
- SQL server / managed instance: child encryptionProtector's properties.uri when serverKeyType is
  AzureKeyVault (Microsoft.Sql 2021-11-01)
- Service Bus namespace: properties.encryption.keyVaultProperties[].keyVaultUri (2022-10-01-preview)
- Log Analytics cluster: properties.keyVaultProperties.keyVaultUri (OperationalInsights 2022-10-01)
A resource that does not use a customer-managed key gets no finding here (its CMK rule reports it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from vdcaudit.armdata import as_bool, dig, props, same
from vdcaudit.checks import register_each
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, ScanContext, Status
from vdcaudit.rulepack import Rule

VAULT_TYPES = ("Microsoft.KeyVault/vaults", "Microsoft.KeyVault/managedHSMs")
_VAULT_ID = re.compile(r"^(/subscriptions/.+?/providers/Microsoft\.KeyVault/(?:vaults|managedHSMs)/[^/]+)", re.IGNORECASE)


def _protector_uri(resource: dict[str, Any]) -> str | None:
    children = resource.get(META, {}).get("children", {})
    for protector in children.get("encryptionprotector", []):
        if same(dig(protector, "properties.serverKeyType"), "AzureKeyVault"):
            if dig(protector, "properties.uri"):
                return str(dig(protector, "properties.uri"))
            # a template sets the key on the `keys` child the protector names (GET fills in the uri)
            named = str(dig(protector, "properties.serverKeyName") or "").lower()
            key = next((k for k in children.get("keys", []) if str(k.get("name", "")).lower() == named), None)
            return dig(key, "properties.uri") or None
    return None


def _storage(resource: dict[str, Any]) -> list[str]:
    # Microsoft.Storage prints keyvaultproperties.keyvaulturi in lower case; SDK/IaC prints camelCase:
    # the accessor reads both.
    if not same(dig(resource, "properties.encryption.keySource"), "Microsoft.Keyvault"):
        return []
    uri = dig(resource, "properties.encryption.keyVaultProperties.keyVaultUri")
    return [uri] if uri else [""]


def _disk_encryption_set(resource: dict[str, Any]) -> list[str]:
    active = dig(resource, "properties.activeKey")
    ref = dig(active, "sourceVault.id") or dig(active, "keyUrl")
    return [ref] if ref else [""]


def _sql(resource: dict[str, Any]) -> list[str]:
    uri = _protector_uri(resource)
    return [uri] if uri else []


def _service_bus(resource: dict[str, Any]) -> list[str]:
    if not same(dig(resource, "properties.encryption.keySource"), "Microsoft.KeyVault"):
        return []
    listed = dig(resource, "properties.encryption.keyVaultProperties") or []
    if not isinstance(listed, list):
        raise TypeError("properties.encryption.keyVaultProperties is not an array")
    uris = [dig(item, "keyVaultUri") for item in listed]
    return [u or "" for u in uris] or [""]


def _log_analytics_cluster(resource: dict[str, Any]) -> list[str]:
    uri = dig(resource, "properties.keyVaultProperties.keyVaultUri")
    return [uri] if uri else []


# resource type (lower-case) -> the key references it makes ("" when CMK is on but the reference is absent)
KEY_REFERENCES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "microsoft.storage/storageaccounts": _storage,
    "microsoft.compute/diskencryptionsets": _disk_encryption_set,
    "microsoft.sql/servers": _sql,
    "microsoft.sql/managedinstances": _sql,
    "microsoft.servicebus/namespaces": _service_bus,
    "microsoft.operationalinsights/clusters": _log_analytics_cluster,
}


class VaultIndex:
    """Finds the vault a key reference names: an ARM id, or a key/vault URI (matched on the vault's
    URI host, else on the vault name, which is the URI's first label and unique within a cloud).
    Each lookup is a dictionary hit, not a walk over every vault."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.by_host: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, dict[str, Any]] = {}
        for vault in (v for t in VAULT_TYPES for v in inventory.of_type(t)):
            try:
                uri = dig(vault, "properties.vaultUri") or dig(vault, "properties.hsmUri")
            except TypeError:
                uri = None  # a malformed vault is still found by name; its own rules report it
            host = (urlparse(str(uri or "")).hostname or "").lower()
            if host:
                self.by_host.setdefault(host, vault)
            self.by_name.setdefault(str(vault.get("name", "")).lower(), vault)

    def find(self, reference: str) -> dict[str, Any] | None:
        if reference.lower().startswith("/subscriptions/"):
            # a vault id, or the id of a key in it (.../vaults/V/keys/K): the vault is what is checked
            match = _VAULT_ID.match(reference)
            return self.inventory.get(match.group(1) if match else reference)
        host = (urlparse(reference).hostname or "").lower()
        if not host:
            return None
        return self.by_host.get(host) or self.by_name.get(host.split(".", 1)[0])


def _vault_verdict(vault: dict[str, Any]) -> str:
    """'protected', 'pending' (known only at deployment) or 'unprotected'. A vault whose data is
    malformed raises, so the resource whose key it holds gets ERROR rather than a guess."""
    purge = as_bool(dig(vault, "properties.enablePurgeProtection"))
    soft_delete = as_bool(dig(vault, "properties.enableSoftDelete"))
    if purge is True and soft_delete is not False:
        return "protected"
    unresolved = vault.get(META, {}).get("unresolved") or {}
    if soft_delete is not False and "enablePurgeProtection" not in props(vault) and \
            "properties.enablePurgeProtection" in unresolved:
        return "pending"  # template/plan: the setting is only known at deployment; not a FAIL, not a PASS
    return "unprotected"


@register_each("cmk_vault_protected")
def cmk_vault_protected(rule: Rule, resource: dict[str, Any], inventory: Inventory,
                        context: ScanContext) -> Finding | None:
    references = KEY_REFERENCES[rule.resource_type.lower()](resource)
    if not references:
        return None  # no customer-managed key in use
    vaults = inventory.derived("key-vaults", VaultIndex)
    evidence: dict[str, Any] = {"key references": references}
    if "" in references:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: a customer-managed key is configured "
                           "but its key vault reference is absent from the resource data", evidence)
    found: dict[str, list[str]] = {"missing": [], "unprotected": [], "protected": [], "pending": []}
    for reference in references:
        vault = vaults.find(reference)
        if vault is None:
            found["missing"].append(reference)
        else:
            found[_vault_verdict(vault)].append(vault["name"])
    evidence.update({"vaults with purge protection": found["protected"],
                     "vaults without purge protection": found["unprotected"]})
    if found["unprotected"]:
        return finding_for(rule, resource, Status.FAIL, "the customer-managed key is in a vault without purge "
                           f"protection: {', '.join(found['unprotected'])}", evidence)
    if found["missing"]:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: the key vault is not in the "
                           f"inventory: {', '.join(found['missing'])}", evidence)
    if found["pending"]:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: purge protection of the key vault "
                           f"is known only at deployment: {', '.join(found['pending'])}", evidence)
    return finding_for(rule, resource, Status.PASS,
                       f"the customer-managed key is in a purge-protected vault ({', '.join(found['protected'])})",
                       evidence)
