"""Which SDK call reads which ARM resource type: a table, so adding a type is one line.

LISTINGS: how `--no-graph` lists each type it reads in full (with `properties`); other types
come from the generic resource list (id, name, type, location, tags, sku, kind; no properties).
CHILDREN: data Resource Graph does not carry, read per parent on both paths (a SQL database's
TDE state, a server's encryption protector, a web app's configuration ...). Their results are
linked to the parent under `x_vdcaudit.children.<last type segment>` by the inventory.
SUBSCRIPTION_EXTRAS: lists read once per subscription when it holds a given type (role
assignments, for Key Vault's separation-of-duties check).
ALWAYS_PRESENT: the children ARM serves for every parent of a type; a 404 on a read of one (or of
the collection holding one) is a coverage gap, never "the child does not exist".
A call with an `api_version` is a generic ARM GET (collectors/azure/generic.py; its version from
the one table, generic.API_VERSIONS): every child read and subscription extra, and the listings of
types without a typed client installed. It GETs
`/subscriptions/{s}/providers/{type}` (scope "subscription"),
`{parent id}/{segment}` (scope "parent"), or each resource of the type by its id (scope "each",
for nested tracked types the generic list names: one GET per resource).
Types with no typed listing at all are read without Resource Graph through generic.py (GET by id).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from vdcaudit.collectors.azure import generic

# Client classes by "module:class": a package is imported only when a call needs it (the SDK
# packages take seconds to import; a scan's first request should not wait for all of them).
COMPUTE = "azure.mgmt.compute:ComputeManagementClient"
KEYVAULT = "azure.mgmt.keyvault:KeyVaultManagementClient"
LOGANALYTICS = "azure.mgmt.loganalytics:LogAnalyticsManagementClient"
NETWORK = "azure.mgmt.network:NetworkManagementClient"
REDIS = "azure.mgmt.redis:RedisManagementClient"
SERVICEBUS = "azure.mgmt.servicebus:ServiceBusManagementClient"
RESOURCES = "azure.mgmt.resource.resources:ResourceManagementClient"
SQL = "azure.mgmt.sql:SqlManagementClient"
STORAGE = "azure.mgmt.storage:StorageManagementClient"
WEB = "azure.mgmt.web:WebSiteManagementClient"


@dataclass(frozen=True)
class Call:
    type: str  # the ARM type the call returns
    client_name: str  # "module:class" of the management client
    operation: str  # "<operation group>.<method>"
    # "subscription": no arguments; "resource_group": (group,); "parent": (group, *parent names)
    scope: str
    parent: str | None = None  # the parent's ARM type, for scope "parent"
    single: bool = False  # the call returns one resource, not a page of them
    api_version: str | None = None  # set: a generic ARM GET (no typed client), see generic.py
    segment: str = ""  # generic scope "parent": the child collection under the parent's id
    # Only parents of these kinds (lower-case) have the child; None: every parent
    parent_kinds: frozenset[str] | None = None

    @property
    def client(self) -> Any:
        """The client class, imported on first use."""
        module, _, name = self.client_name.partition(":")
        return getattr(importlib.import_module(module), name)


def generic_child(child_type: str, parent: str, segment: str, **options: Any) -> Call:
    """A child collection read by a generic GET of `{parent id}/{segment}`, with the api-version
    generic.API_VERSIONS names for the child type."""
    return Call(child_type, RESOURCES, "", "parent", parent=parent, api_version=generic.api_version(child_type),
                segment=segment, **options)


LISTINGS: list[Call] = [
    Call("Microsoft.Storage/storageAccounts", STORAGE, "storage_accounts.list", "subscription"),
    Call("Microsoft.KeyVault/vaults", KEYVAULT, "vaults.list_by_subscription", "subscription"),
    Call("Microsoft.Sql/servers", SQL, "servers.list", "subscription"),
    Call("Microsoft.Sql/servers/databases", SQL, "databases.list_by_server", "parent",
         parent="Microsoft.Sql/servers"),
    Call("Microsoft.Sql/managedInstances", SQL, "managed_instances.list", "subscription"),
    Call("Microsoft.ServiceBus/namespaces", SERVICEBUS, "namespaces.list", "subscription"),
    Call("Microsoft.Compute/disks", COMPUTE, "disks.list", "subscription"),
    Call("Microsoft.Compute/virtualMachines", COMPUTE, "virtual_machines.list_all", "subscription"),
    Call("Microsoft.Network/connections", NETWORK,
         "virtual_network_gateway_connections.list", "resource_group"),
    Call("Microsoft.Network/expressRouteCircuits", NETWORK, "express_route_circuits.list_all",
         "subscription"),
    Call("Microsoft.Network/expressRoutePorts", NETWORK, "express_route_ports.list", "subscription"),
    Call("Microsoft.Network/virtualNetworkGateways", NETWORK, "virtual_network_gateways.list",
         "resource_group"),
    Call("Microsoft.Network/localNetworkGateways", NETWORK, "local_network_gateways.list",
         "resource_group"),
    Call("Microsoft.Network/virtualNetworks", NETWORK, "virtual_networks.list_all", "subscription"),
    Call("Microsoft.Network/applicationGateways", NETWORK, "application_gateways.list_all",
         "subscription"),
    Call("Microsoft.Web/sites", WEB, "web_apps.list", "subscription"),
    Call("Microsoft.Web/sites/slots", WEB, "web_apps.list_slots", "parent",
         parent="Microsoft.Web/sites"),
    Call("Microsoft.Compute/virtualMachineScaleSets", COMPUTE, "virtual_machine_scale_sets.list_all",
         "subscription"),
    Call("Microsoft.Compute/diskEncryptionSets", COMPUTE, "disk_encryption_sets.list", "subscription"),
    Call("Microsoft.Compute/images", COMPUTE, "images.list", "subscription"),
    Call("Microsoft.Compute/snapshots", COMPUTE, "snapshots.list", "subscription"),
    Call("Microsoft.OperationalInsights/clusters", LOGANALYTICS, "clusters.list", "subscription"),
    Call("Microsoft.OperationalInsights/workspaces", LOGANALYTICS, "workspaces.list", "subscription"),
    Call("Microsoft.Cache/redis", REDIS, "redis.list_by_subscription", "subscription"),
    # --- issue 13, in transit: types without a typed client installed, read by generic GETs ---
    *(Call(kind, RESOURCES, "", "subscription", api_version=generic.api_version(kind)) for kind in (
        "Microsoft.DocumentDB/databaseAccounts",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.DBforMySQL/flexibleServers",
        "Microsoft.EventHub/namespaces",
        "Microsoft.EventGrid/topics",
        "Microsoft.EventGrid/domains",
        "Microsoft.Devices/IotHubs",
        "Microsoft.Cache/redisEnterprise",
        "Microsoft.Network/frontDoors",
        "Microsoft.ApiManagement/service",
        "Microsoft.App/containerApps",
        "Microsoft.Web/hostingEnvironments",
        "Microsoft.Network/vpnGateways",
        "Microsoft.Network/vpnServerConfigurations",
        "Microsoft.BotService/botServices",
        "Microsoft.Insights/scheduledQueryRules",
    )),
    *(Call(kind, RESOURCES, "", "each", api_version=generic.api_version(kind)) for kind in (
        "Microsoft.Cdn/profiles/afdEndpoints",
        "Microsoft.Cdn/profiles/endpoints",
        "Microsoft.NetApp/netAppAccounts/capacityPools/volumes",
    )),
]

# Child data is read as ARM sends it, through the one generic pipeline (generic.py): a typed client
# would parse each answer into SDK models only for wire() to turn them back into the same JSON, which
# cost most of the collector's CPU at thousands of child reads. Each api-version (generic.API_VERSIONS)
# is the one the typed client sent before, so the requests and the shapes are unchanged.
CHILDREN: list[Call] = [
    generic_child("Microsoft.Sql/servers/databases/transparentDataEncryption", "Microsoft.Sql/servers/databases",
                  "transparentDataEncryption"),
    generic_child("Microsoft.Sql/servers/encryptionProtector", "Microsoft.Sql/servers", "encryptionProtector"),
    generic_child("Microsoft.Sql/managedInstances/encryptionProtector", "Microsoft.Sql/managedInstances",
                  "encryptionProtector"),
    # Key metadata only (type, size, rotation policy): the management plane never returns key material
    generic_child("Microsoft.KeyVault/vaults/keys", "Microsoft.KeyVault/vaults", "keys"),
    generic_child("Microsoft.Web/sites/config", "Microsoft.Web/sites", "config/web", single=True),
    # --- issue 13, in transit ---
    # Server parameters (require_secure_transport, ssl_min_protocol_version / tls_version)
    generic_child("Microsoft.DBforPostgreSQL/flexibleServers/configurations",
                  "Microsoft.DBforPostgreSQL/flexibleServers", "configurations"),
    generic_child("Microsoft.DBforMySQL/flexibleServers/configurations",
                  "Microsoft.DBforMySQL/flexibleServers", "configurations"),
    # SMB protocol settings; accounts of the blob-only kinds have no file service
    generic_child("Microsoft.Storage/storageAccounts/fileServices", "Microsoft.Storage/storageAccounts",
                  "fileServices/default", single=True, parent_kinds=frozenset({"storage", "storagev2", "filestorage"})),
    generic_child("Microsoft.Cache/redisEnterprise/databases",
                  "Microsoft.Cache/redisEnterprise", "databases"),
    generic_child("Microsoft.Cdn/profiles/afdEndpoints/routes",
                  "Microsoft.Cdn/profiles/afdEndpoints", "routes"),
    # Front Door Standard/Premium custom domains (classic CDN profiles keep theirs under endpoints)
    generic_child("Microsoft.Cdn/profiles/customDomains", "Microsoft.Cdn/profiles", "customDomains",
                  parent_kinds=frozenset({"frontdoor"})),

    generic_child("Microsoft.Web/sites/slots/config", "Microsoft.Web/sites/slots", "config/web", single=True),
    # Secret metadata only (attributes: exp, nbf, enabled): the management plane never returns values
    generic_child("Microsoft.KeyVault/vaults/secrets", "Microsoft.KeyVault/vaults", "secrets"),
    # GET {database id}/transparentDataEncryption (Microsoft.Sql 2021-11-01): the "current" setting
    generic_child("Microsoft.Sql/managedInstances/databases/transparentDataEncryption",
                  "Microsoft.Sql/managedInstances/databases", "transparentDataEncryption"),
    # Elastic SAN volume groups (their key choice) are proxy resources: not in Resource Graph's
    # Resources table nor in the generic resource list, only under their SAN
    # (learn.microsoft.com/rest/api/elasticsan/volume-groups/list-by-elastic-san)
    generic_child("Microsoft.ElasticSan/elasticSans/volumegroups", "Microsoft.ElasticSan/elasticSans", "volumegroups"),
    # --- data platform (Azure Policy definitions on these children) ---
    generic_child("Microsoft.Synapse/workspaces/sqlPools/transparentDataEncryption",
                  "Microsoft.Synapse/workspaces/sqlPools", "transparentDataEncryption"),
    generic_child("Microsoft.Synapse/workspaces/dedicatedSQLminimalTlsSettings", "Microsoft.Synapse/workspaces",
                  "dedicatedSQLminimalTlsSettings"),
    generic_child("Microsoft.Storage/storageAccounts/encryptionScopes", "Microsoft.Storage/storageAccounts",
                  "encryptionScopes"),
    generic_child("Microsoft.Batch/batchAccounts/pools", "Microsoft.Batch/batchAccounts", "pools"),
    # Application-layer secrets: where each is kept, never its value (inventory.normalise drops
    # named values' and variables' values and linked services' secret fields)
    generic_child("Microsoft.ApiManagement/service/apis", "Microsoft.ApiManagement/service", "apis"),
    generic_child("Microsoft.ApiManagement/service/backends", "Microsoft.ApiManagement/service", "backends"),
    generic_child("Microsoft.ApiManagement/service/namedValues", "Microsoft.ApiManagement/service", "namedValues"),
    generic_child("Microsoft.DataFactory/factories/linkedservices", "Microsoft.DataFactory/factories",
                  "linkedservices"),
    generic_child("Microsoft.Automation/automationAccounts/variables", "Microsoft.Automation/automationAccounts",
                  "variables"),
]

# (type that makes the list worth reading, or None: read in every subscription; the list)
SUBSCRIPTION_EXTRAS: list[tuple[str | None, Call]] = [
    ("Microsoft.KeyVault/vaults",
     Call("Microsoft.Authorization/roleAssignments", RESOURCES, "", "subscription",
          api_version=generic.api_version("Microsoft.Authorization/roleAssignments"))),
    # where each subscription's activity log is exported: diagnostic settings, and the legacy log
    # profiles they replace (a subscription may send its log to a storage account anywhere)
    *((None, Call(kind, RESOURCES, "", "subscription", api_version=generic.api_version(kind)))
      for kind in ("Microsoft.Insights/diagnosticSettings", "Microsoft.Insights/logProfiles")),
]

LISTED_TYPES = {call.type.lower() for call in LISTINGS}

# Children ARM creates with their parent and serves for as long as it exists (parent type, lower-case
# -> paths under the parent id). From the REST references, whose GET takes a fixed name:
# storage "{blob,file,queue,table}Services/default" (learn.microsoft.com/rest/api/storagerp/file-services/get-service-properties:
# "The name of the file Service within the specified storage account. File Service Name must be
# 'default'"; file services only in kinds that hold files, see catalog CHILDREN);
# a web app's and a slot's "config/web" (learn.microsoft.com/rest/api/appservice/web-apps/get-configuration);
# SQL's "current" transparent data encryption and encryption protector and "default" auditing,
# threat-detection and short-term backup policies
# (learn.microsoft.com/rest/api/sql/transparent-data-encryptions/get, .../encryption-protectors/get,
# .../server-blob-auditing-policies/get, .../server-security-alert-policies/get,
# .../backup-short-term-retention-policies/get); a flexible server's full parameter list
# "configurations", every parameter with its default
# (learn.microsoft.com/rest/api/postgresql/flexibleserver/configurations/list-by-server);
# a Synapse dedicated SQL pool's "current" TDE and a workspace's "default" dedicated SQL minimal TLS
# settings (learn.microsoft.com/rest/api/synapse/sqlserver/sql-pool-transparent-data-encryptions/get,
# .../workspace-managed-sql-server-dedicated-sql-minimal-tls-settings/get: the name must be "current",
# "default").
ALWAYS_PRESENT: dict[str, tuple[str, ...]] = {
    "microsoft.storage/storageaccounts": ("blobServices/default", "fileServices/default", "queueServices/default",
                                          "tableServices/default"),
    "microsoft.web/sites": ("config/web",),
    "microsoft.web/sites/slots": ("config/web",),
    "microsoft.sql/servers": ("encryptionProtector/current", "auditingSettings/default", "securityAlertPolicies/Default"),
    "microsoft.sql/servers/databases": ("transparentDataEncryption/current", "backupShortTermRetentionPolicies/default"),
    "microsoft.sql/managedinstances": ("encryptionProtector/current",),
    "microsoft.sql/managedinstances/databases": ("transparentDataEncryption/current",),
    "microsoft.dbforpostgresql/flexibleservers": ("configurations",),
    "microsoft.dbformysql/flexibleservers": ("configurations",),
    "microsoft.synapse/workspaces/sqlpools": ("transparentDataEncryption/current",),
    "microsoft.synapse/workspaces": ("dedicatedSQLminimalTlsSettings/default",),
}


def always_present(call: Call) -> bool:
    """Whether ARM serves what this child read asks for on every parent: the child itself, or the
    collection that holds it (`transparentDataEncryption` holds `transparentDataEncryption/current`)."""
    served = ALWAYS_PRESENT.get((call.parent or "").lower(), ())
    segment = call.segment.lower()
    return bool(segment) and any(path.lower() == segment or path.lower().startswith(segment + "/") for path in served)


def children_of(resource_type: str, kind: str | None = None) -> list[Call]:
    """The child reads for a parent of this type (and kind, where only some kinds have the child;
    an unknown kind gets the read)."""
    folded = (kind or "").lower()
    return [call for call in CHILDREN if call.parent and call.parent.lower() == resource_type.lower()
            and (call.parent_kinds is None or not folded or folded in call.parent_kinds)]


def parent_names(resource_id: str) -> list[str]:
    """The names along an ARM id after its provider namespace: servers/a/databases/b -> [a, b]."""
    lowered = resource_id.lower()
    tail = resource_id[lowered.rfind("/providers/") + len("/providers/"):].strip("/").split("/")
    return tail[2::2]
