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
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

from vdcaudit.checks import register, resources_for
from vdcaudit.model import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

VAULT_TYPES = ("Microsoft.KeyVault/vaults", "Microsoft.KeyVault/managedHSMs")
_VAULT_ID = re.compile(r"^(/subscriptions/.+?/providers/Microsoft\.KeyVault/(?:vaults|managedHSMs)/[^/]+)", re.IGNORECASE)


def get_ci(data: Any, *keys: str) -> Any:
    """Nested lookup with case-insensitive keys (keyvaultproperties vs keyVaultProperties)."""
    node = data
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = next((v for k, v in node.items() if k.lower() == key.lower()), None)
    return node


def _protector_uri(resource: dict[str, Any]) -> str | None:
    children = resource.get(META, {}).get("children", {})
    for protector in children.get("encryptionprotector", []):
        props = protector.get("properties") or {}
        if str(props.get("serverKeyType", "")).lower() == "azurekeyvault":
            if props.get("uri"):
                return str(props["uri"])
            # a template sets the key on the `keys` child the protector names (GET fills in the uri)
            named = str(props.get("serverKeyName") or "").lower()
            key = next((k for k in children.get("keys", []) if str(k.get("name", "")).lower() == named), None)
            return ((key or {}).get("properties") or {}).get("uri") or None
    return None


def _storage(resource: dict[str, Any]) -> list[str]:
    encryption = get_ci(resource, "properties", "encryption") or {}
    if str(get_ci(encryption, "keySource") or "").lower() != "microsoft.keyvault":
        return []
    uri = get_ci(encryption, "keyvaultproperties", "keyvaulturi")
    return [uri] if uri else [""]


def _disk_encryption_set(resource: dict[str, Any]) -> list[str]:
    active = get_ci(resource, "properties", "activeKey") or {}
    ref = get_ci(active, "sourceVault", "id") or get_ci(active, "keyUrl")
    return [ref] if ref else [""]


def _sql(resource: dict[str, Any]) -> list[str]:
    uri = _protector_uri(resource)
    return [uri] if uri else []


def _service_bus(resource: dict[str, Any]) -> list[str]:
    encryption = get_ci(resource, "properties", "encryption") or {}
    if str(get_ci(encryption, "keySource") or "").lower() != "microsoft.keyvault":
        return []
    uris = [get_ci(item, "keyVaultUri") for item in get_ci(encryption, "keyVaultProperties") or []]
    return [u or "" for u in uris] or [""]


def _log_analytics_cluster(resource: dict[str, Any]) -> list[str]:
    uri = get_ci(resource, "properties", "keyVaultProperties", "keyVaultUri")
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
            props = vault.get("properties") or {}
            host = (urlparse(str(props.get("vaultUri") or props.get("hsmUri") or "")).hostname or "").lower()
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


@register("cmk_vault_protected")
def cmk_vault_protected(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    references_of = KEY_REFERENCES[rule.resource_type.lower()]
    vaults = inventory.derived("key-vaults", VaultIndex)
    for resource in resources_for(rule, inventory):
        references = references_of(resource)
        if not references:
            continue  # no customer-managed key in use
        evidence: dict[str, Any] = {"key references": references}
        if "" in references:
            yield finding_for(rule, resource, Status.UNKNOWN, "cannot assess: a customer-managed key is configured "
                              "but its key vault reference is absent from the resource data", evidence)
            continue
        missing, unprotected, protected, pending = [], [], [], []
        for reference in references:
            vault = vaults.find(reference)
            if vault is None:
                missing.append(reference)
                continue
            props = vault.get("properties") or {}
            unresolved = vault.get(META, {}).get("unresolved") or {}
            if props.get("enablePurgeProtection") is True and props.get("enableSoftDelete") is not False:
                protected.append(vault["name"])
            elif props.get("enableSoftDelete") is not False and "enablePurgeProtection" not in props and \
                    "properties.enablePurgeProtection" in unresolved:
                # template/plan: the setting is only known at deployment; not a FAIL, not a PASS
                pending.append(vault["name"])
            else:
                unprotected.append(vault["name"])
        evidence.update({"vaults with purge protection": protected, "vaults without purge protection": unprotected})
        if unprotected:
            yield finding_for(rule, resource, Status.FAIL, "the customer-managed key is in a vault without purge "
                              f"protection: {', '.join(unprotected)}", evidence)
        elif missing:
            yield finding_for(rule, resource, Status.UNKNOWN, "cannot assess: the key vault is not in the "
                              f"inventory: {', '.join(missing)}", evidence)
        elif pending:
            yield finding_for(rule, resource, Status.UNKNOWN, "cannot assess: purge protection of the key vault "
                              f"is known only at deployment: {', '.join(pending)}", evidence)
        else:
            yield finding_for(rule, resource, Status.PASS,
                              f"the customer-managed key is in a purge-protected vault ({', '.join(protected)})",
                              evidence)
