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
The services VDC-CMK-007 covers (the API versions the live collector reads them with):
- Cosmos DB account: properties.keyVaultKeyUri (Microsoft.DocumentDB 2024-11-15)
- PostgreSQL / MySQL flexible server: properties.dataEncryption.primaryKeyURI and, with geo-redundant
  backup, geoBackupKeyURI, when dataEncryption.type is AzureKeyVault (DBforPostgreSQL 2024-08-01,
  DBforMySQL 2023-12-30)
- Event Hubs namespace: as Service Bus (Microsoft.EventHub 2024-01-01)
- container registry: properties.encryption.keyVaultProperties.keyIdentifier when encryption.status
  is enabled (Microsoft.ContainerRegistry 2023-07-01)
- AKS cluster: properties.diskEncryptionSetID (the key is the disk encryption set's, read from it) and,
  with KMS etcd encryption on, properties.securityProfile.azureKeyVaultKms.keyId
  (Microsoft.ContainerService 2024-09-01)
- Recovery Services vault: properties.encryption.keyVaultProperties.keyUri (2024-04-01)
- Backup vault: properties.securitySettings.encryptionSettings.keyVaultProperties.keyUri when
  encryptionSettings.state is Enabled (Microsoft.DataProtection 2024-04-01)
- Data Explorer (Kusto) cluster: properties.keyVaultProperties.keyVaultUri (Microsoft.Kusto 2023-08-15)
- Synapse workspace: properties.encryption.cmk.key.keyVaultUrl (Microsoft.Synapse 2021-06-01)
- Databricks workspace: properties.encryption.entities.{managedServices,managedDisk}.keyVaultProperties
  .keyVaultUri where that entity's keySource is Microsoft.Keyvault, and the DBFS root's
  properties.parameters.encryption.value.KeyVaultUri (Microsoft.Databricks 2024-05-01)
- Data Factory: properties.encryption.vaultBaseUrl (Microsoft.DataFactory 2018-06-01)
- Cognitive Services / Azure AI account: properties.encryption.keyVaultProperties.keyVaultUri when
  encryption.keySource is Microsoft.KeyVault (Microsoft.CognitiveServices 2024-10-01)
- Machine Learning workspace: properties.encryption.keyVaultProperties.keyVaultArmId (else its
  keyIdentifier) when encryption.status is Enabled (Microsoft.MachineLearningServices 2024-04-01)
- App Configuration store: properties.encryption.keyVaultProperties.keyIdentifier
  (Microsoft.AppConfiguration 2024-05-01)
- Automation account: properties.encryption.keyVaultProperties.keyvaultUri when encryption.keySource
  is Microsoft.Keyvault (Microsoft.Automation 2023-11-01)
- Batch account: properties.encryption.keyVaultProperties.keyIdentifier when encryption.keySource is
  Microsoft.KeyVault (Microsoft.Batch 2024-07-01)
- Azure API for FHIR: properties.cosmosDbConfiguration.keyVaultKeyUri; Health Data Services FHIR and
  DICOM services and Fluid Relay servers: properties.encryption.customerManagedKeyEncryption
  .keyEncryptionKeyUrl (HealthcareApis 2024-03-31, FluidRelay 2022-06-01)
- Load Testing: properties.encryption.keyUrl (LoadTestService 2022-12-01); container group:
  properties.encryptionProperties.vaultBaseUrl (ContainerInstance 2023-05-01); Health Bot:
  properties.keyVaultProperties.keyVaultUri (HealthBot 2023-05-01); Device Update account:
  properties.encryption.keyVaultKeyUri (DeviceUpdate 2023-07-01)
- Elastic SAN volume group: properties.encryptionProperties.keyVaultProperties.keyVaultUri when
  properties.encryption is EncryptionAtRestWithCustomerManagedKey (ElasticSan 2024-05-01)
- HPC Cache: properties.encryptionSettings.keyEncryptionKey.sourceVault.id, else its keyUrl
  (StorageCache 2023-05-01)
A resource that does not use a customer-managed key gets no finding here (its CMK rule reports it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from vdcaudit.armdata import as_bool, dig, props, same
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.unresolved import note

KeyReader = Callable[[dict[str, Any]], list[str]]

VAULT_TYPES = ("Microsoft.KeyVault/vaults", "Microsoft.KeyVault/managedHSMs")
_DES_ID = re.compile(r"^/subscriptions/.+/providers/Microsoft\.Compute/diskEncryptionSets/[^/]+$", re.IGNORECASE)
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


def _namespace(resource: dict[str, Any]) -> list[str]:
    """Service Bus and Event Hubs namespaces list their keys the same way."""
    if not same(dig(resource, "properties.encryption.keySource"), "Microsoft.KeyVault"):
        return []
    listed = dig(resource, "properties.encryption.keyVaultProperties") or []
    if not isinstance(listed, list):
        raise TypeError("properties.encryption.keyVaultProperties is not an array")
    uris = [dig(item, "keyVaultUri") for item in listed]
    return [u or "" for u in uris] or [""]


class KeyUnknowable(Exception):
    """A value that decides the key reference is known only at deployment (a template's
    reference(), a plan's "known after apply"): the resource's verdict is UNKNOWN, saying why."""


def _known(resource: dict[str, Any], path: str) -> Any:
    """The value at `path`; raises KeyUnknowable when it is absent because the source cannot know it yet."""
    value = dig(resource, path)
    if value is None and (why := note(resource, [path])):
        raise KeyUnknowable(why)
    return value


def _reference_at(path: str) -> KeyReader:
    """The key reference at `path`; its presence is what turns the customer-managed key on."""
    def read(resource: dict[str, Any]) -> list[str]:
        reference = _known(resource, path)
        return [str(reference)] if reference else []
    return read


def _when_on(switch: str, on: str, *paths: str) -> KeyReader:
    """A customer-managed key is on when `switch` equals `on` (case-insensitively); its reference is
    the first of `paths` present ("" when none is: UNKNOWN)."""
    def read(resource: dict[str, Any]) -> list[str]:
        if not same(_known(resource, switch), on):
            return []
        present = next((str(v) for v in (dig(resource, p) for p in paths) if v), None)
        if present is None:
            for path in paths:
                _known(resource, path)  # raises when the reference is known only at deployment
        return [present or ""]
    return read


def _flexible_server(resource: dict[str, Any]) -> list[str]:
    # the geo-backup key (geo-redundant backup) sits in the paired region's vault: both must be kept
    primary = _when_on("properties.dataEncryption.type", "AzureKeyVault", "properties.dataEncryption.primaryKeyURI")
    references = primary(resource)
    if not references:
        return []
    return references + _reference_at("properties.dataEncryption.geoBackupKeyURI")(resource)


def _aks(resource: dict[str, Any]) -> list[str]:
    # node disks: the disk encryption set's key (resolved by the check); etcd secrets: the KMS key
    kms = "properties.securityProfile.azureKeyVaultKms"
    references = _reference_at("properties.diskEncryptionSetID")(resource)
    if as_bool(_known(resource, f"{kms}.enabled")) is True:
        references.append(str(_known(resource, f"{kms}.keyId") or ""))
    return references


def _databricks(resource: dict[str, Any]) -> list[str]:
    entities = "properties.encryption.entities"
    return [reference
            for reader in (_when_on(f"{entities}.managedServices.keySource", "Microsoft.Keyvault",
                                    f"{entities}.managedServices.keyVaultProperties.keyVaultUri"),
                           _when_on(f"{entities}.managedDisk.keySource", "Microsoft.Keyvault",
                                    f"{entities}.managedDisk.keyVaultProperties.keyVaultUri"),
                           _when_on("properties.parameters.encryption.value.keySource", "Microsoft.Keyvault",
                                    "properties.parameters.encryption.value.KeyVaultUri"))
            for reference in reader(resource)]


def _hpc_cache(resource: dict[str, Any]) -> list[str]:
    key = "properties.encryptionSettings.keyEncryptionKey"
    reference = _known(resource, f"{key}.sourceVault.id") or _known(resource, f"{key}.keyUrl")
    return [str(reference)] if reference else []


# resource type (lower-case) -> the key references it makes ("" when CMK is on but the reference is absent)
KEY_REFERENCES: dict[str, KeyReader] = {
    "microsoft.storage/storageaccounts": _storage,
    "microsoft.compute/diskencryptionsets": _disk_encryption_set,
    "microsoft.sql/servers": _sql,
    "microsoft.sql/managedinstances": _sql,
    "microsoft.servicebus/namespaces": _namespace,
    "microsoft.operationalinsights/clusters": _reference_at("properties.keyVaultProperties.keyVaultUri"),
    "microsoft.documentdb/databaseaccounts": _reference_at("properties.keyVaultKeyUri"),
    "microsoft.dbforpostgresql/flexibleservers": _flexible_server,
    "microsoft.dbformysql/flexibleservers": _flexible_server,
    "microsoft.eventhub/namespaces": _namespace,
    "microsoft.containerregistry/registries": _when_on(
        "properties.encryption.status", "enabled", "properties.encryption.keyVaultProperties.keyIdentifier"),
    "microsoft.containerservice/managedclusters": _aks,
    "microsoft.recoveryservices/vaults": _reference_at("properties.encryption.keyVaultProperties.keyUri"),
    "microsoft.dataprotection/backupvaults": _when_on(
        "properties.securitySettings.encryptionSettings.state", "Enabled",
        "properties.securitySettings.encryptionSettings.keyVaultProperties.keyUri"),
    "microsoft.kusto/clusters": _reference_at("properties.keyVaultProperties.keyVaultUri"),
    "microsoft.synapse/workspaces": _reference_at("properties.encryption.cmk.key.keyVaultUrl"),
    "microsoft.databricks/workspaces": _databricks,
    "microsoft.datafactory/factories": _reference_at("properties.encryption.vaultBaseUrl"),
    "microsoft.cognitiveservices/accounts": _when_on(
        "properties.encryption.keySource", "Microsoft.KeyVault", "properties.encryption.keyVaultProperties.keyVaultUri"),
    "microsoft.machinelearningservices/workspaces": _when_on(
        "properties.encryption.status", "Enabled", "properties.encryption.keyVaultProperties.keyVaultArmId",
        "properties.encryption.keyVaultProperties.keyIdentifier"),
    "microsoft.appconfiguration/configurationstores": _reference_at(
        "properties.encryption.keyVaultProperties.keyIdentifier"),
    "microsoft.automation/automationaccounts": _when_on(
        "properties.encryption.keySource", "Microsoft.Keyvault", "properties.encryption.keyVaultProperties.keyvaultUri"),
    "microsoft.batch/batchaccounts": _when_on(
        "properties.encryption.keySource", "Microsoft.KeyVault", "properties.encryption.keyVaultProperties.keyIdentifier"),
    "microsoft.healthcareapis/services": _reference_at("properties.cosmosDbConfiguration.keyVaultKeyUri"),
    "microsoft.healthcareapis/workspaces/fhirservices": _reference_at(
        "properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl"),
    "microsoft.healthcareapis/workspaces/dicomservices": _reference_at(
        "properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl"),
    "microsoft.loadtestservice/loadtests": _reference_at("properties.encryption.keyUrl"),
    "microsoft.containerinstance/containergroups": _reference_at("properties.encryptionProperties.vaultBaseUrl"),
    "microsoft.elasticsan/elasticsans/volumegroups": _when_on(
        "properties.encryption", "EncryptionAtRestWithCustomerManagedKey",
        "properties.encryptionProperties.keyVaultProperties.keyVaultUri"),
    "microsoft.fluidrelay/fluidrelayservers": _reference_at(
        "properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl"),
    "microsoft.healthbot/healthbots": _reference_at("properties.keyVaultProperties.keyVaultUri"),
    "microsoft.deviceupdate/accounts": _reference_at("properties.encryption.keyVaultKeyUri"),
    "microsoft.storagecache/caches": _hpc_cache,
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
    try:
        references = KEY_REFERENCES[resource["type"].lower()](resource)
    except KeyUnknowable as unknowable:
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {unknowable}")
    if not references:
        return None  # no customer-managed key in use
    vaults = inventory.derived("key-vaults", VaultIndex)
    evidence: dict[str, Any] = {"key references": references}
    found: dict[str, list[str]] = {"missing": [], "unprotected": [], "protected": [], "pending": []}
    absent = False
    for reference in references:
        if _DES_ID.match(reference):
            # an AKS cluster names a disk encryption set: the key is the set's, read from it
            des = inventory.get(reference)
            if des is None:
                found["missing"].append(f"the disk encryption set {reference}")
                continue
            keys = _disk_encryption_set(des)
            evidence.setdefault("keys of the disk encryption set", []).extend(keys)
        else:
            keys = [reference]
        for key in keys:
            vault = vaults.find(key) if key else None
            absent = absent or not key
            if key and vault is None:
                found["missing"].append(f"the key vault of {key}")
            elif vault is not None:
                found[_vault_verdict(vault)].append(vault["name"])
    evidence.update({"vaults with purge protection": found["protected"],
                     "vaults without purge protection": found["unprotected"]})
    if found["unprotected"]:  # a known defect is reported whatever else is unknown
        return finding_for(rule, resource, Status.FAIL, "the customer-managed key is in a vault without purge "
                           f"protection: {', '.join(found['unprotected'])}", evidence)
    if absent:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: a customer-managed key is configured "
                           "but its key vault reference is absent from the resource data", evidence)
    if found["missing"]:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: not in the inventory: "
                           f"{', '.join(found['missing'])}", evidence)
    if found["pending"]:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: purge protection of the key vault "
                           f"is known only at deployment: {', '.join(found['pending'])}", evidence)
    return finding_for(rule, resource, Status.PASS,
                       f"the customer-managed key is in a purge-protected vault ({', '.join(found['protected'])})",
                       evidence)
