"""Which SDK call reads which ARM resource type: a table, so adding a type is one line.

LISTINGS: how `--no-graph` lists each type it reads in full (with `properties`); other types
come from the generic resource list (id, name, type, location, tags, sku, kind; no properties).
CHILDREN: data Resource Graph does not carry, read per parent on both paths (a SQL database's
TDE state, a server's encryption protector, a web app's configuration ...). Their results are
linked to the parent under `x_vdcaudit.children.<last type segment>` by the inventory.
SUBSCRIPTION_EXTRAS: lists read once per subscription when it holds a given type (role
assignments, for Key Vault's separation-of-duties check).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

# Client classes by "module:class": a package is imported only when a call needs it (the SDK
# packages take seconds to import; a scan's first request should not wait for all of them).
AUTHORIZATION = "azure.mgmt.authorization:AuthorizationManagementClient"
COMPUTE = "azure.mgmt.compute:ComputeManagementClient"
KEYVAULT = "azure.mgmt.keyvault:KeyVaultManagementClient"
LOGANALYTICS = "azure.mgmt.loganalytics:LogAnalyticsManagementClient"
NETWORK = "azure.mgmt.network:NetworkManagementClient"
REDIS = "azure.mgmt.redis:RedisManagementClient"
SERVICEBUS = "azure.mgmt.servicebus:ServiceBusManagementClient"
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

    @property
    def client(self) -> Any:
        """The client class, imported on first use."""
        module, _, name = self.client_name.partition(":")
        return getattr(importlib.import_module(module), name)


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
    Call("Microsoft.Compute/diskEncryptionSets", COMPUTE, "disk_encryption_sets.list", "subscription"),
    Call("Microsoft.Compute/images", COMPUTE, "images.list", "subscription"),
    Call("Microsoft.Compute/snapshots", COMPUTE, "snapshots.list", "subscription"),
    Call("Microsoft.OperationalInsights/clusters", LOGANALYTICS, "clusters.list", "subscription"),
    Call("Microsoft.OperationalInsights/workspaces", LOGANALYTICS, "workspaces.list", "subscription"),
    Call("Microsoft.Cache/redis", REDIS, "redis.list_by_subscription", "subscription"),
]

CHILDREN: list[Call] = [
    Call("Microsoft.Sql/servers/databases/transparentDataEncryption", SQL,
         "transparent_data_encryptions.list_by_database", "parent", parent="Microsoft.Sql/servers/databases"),
    Call("Microsoft.Sql/servers/encryptionProtector", SQL,
         "encryption_protectors.list_by_server", "parent", parent="Microsoft.Sql/servers"),
    Call("Microsoft.Sql/managedInstances/encryptionProtector", SQL,
         "managed_instance_encryption_protectors.list_by_instance", "parent", parent="Microsoft.Sql/managedInstances"),
    # Key metadata only (type, size, rotation policy): the management plane never returns key material
    Call("Microsoft.KeyVault/vaults/keys", KEYVAULT, "keys.list", "parent",
         parent="Microsoft.KeyVault/vaults"),
    Call("Microsoft.Web/sites/config", WEB, "web_apps.get_configuration", "parent",
         parent="Microsoft.Web/sites", single=True),
]

# (type that makes the list worth reading, the list)
SUBSCRIPTION_EXTRAS: list[tuple[str, Call]] = [
    ("Microsoft.KeyVault/vaults",
     Call("Microsoft.Authorization/roleAssignments", AUTHORIZATION,
          "role_assignments.list_for_subscription", "subscription")),
]

LISTED_TYPES = {call.type.lower() for call in LISTINGS}


def children_of(resource_type: str) -> list[Call]:
    return [call for call in CHILDREN if call.parent and call.parent.lower() == resource_type.lower()]


def parent_names(resource_id: str) -> list[str]:
    """The names along an ARM id after its provider namespace: servers/a/databases/b -> [a, b]."""
    lowered = resource_id.lower()
    tail = resource_id[lowered.rfind("/providers/") + len("/providers/"):].strip("/").split("/")
    return tail[2::2]
