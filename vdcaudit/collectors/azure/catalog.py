"""Which SDK call reads which ARM resource type: a table, so adding a type is one line.

LISTINGS: how `--no-graph` lists each type it reads in full (with `properties`); other types
come from the generic resource list (id, name, type, location, tags, sku, kind; no properties).
CHILDREN: data Resource Graph does not carry, read per parent on both paths (a SQL database's
TDE state, a server's encryption protector, a web app's configuration ...). Their results are
linked to the parent under `x_vdcaudit.children.<last type segment>` by the inventory.
CHILD_COLLECTIONS: child data read per parent through the generic ARM client (generic.py), for
children no typed SDK call lists.
SUBSCRIPTION_EXTRAS: lists read once per subscription when it holds a given type (role
assignments, for Key Vault's separation-of-duties check).
Types with no typed listing are read without Resource Graph through generic.py (GET by id).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.redis import RedisManagementClient
from azure.mgmt.servicebus import ServiceBusManagementClient
from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.web import WebSiteManagementClient


@dataclass(frozen=True)
class Call:
    type: str  # the ARM type the call returns
    client: builtins.type  # `type` here would name the field above
    operation: str  # "<operation group>.<method>"
    # "subscription": no arguments; "resource_group": (group,); "parent": (group, *parent names)
    scope: str
    parent: str | None = None  # the parent's ARM type, for scope "parent"
    single: bool = False  # the call returns one resource, not a page of them


LISTINGS: list[Call] = [
    Call("Microsoft.Storage/storageAccounts", StorageManagementClient, "storage_accounts.list", "subscription"),
    Call("Microsoft.KeyVault/vaults", KeyVaultManagementClient, "vaults.list_by_subscription", "subscription"),
    Call("Microsoft.Sql/servers", SqlManagementClient, "servers.list", "subscription"),
    Call("Microsoft.Sql/servers/databases", SqlManagementClient, "databases.list_by_server", "parent",
         parent="Microsoft.Sql/servers"),
    Call("Microsoft.Sql/managedInstances", SqlManagementClient, "managed_instances.list", "subscription"),
    Call("Microsoft.ServiceBus/namespaces", ServiceBusManagementClient, "namespaces.list", "subscription"),
    Call("Microsoft.Compute/disks", ComputeManagementClient, "disks.list", "subscription"),
    Call("Microsoft.Compute/virtualMachines", ComputeManagementClient, "virtual_machines.list_all", "subscription"),
    Call("Microsoft.Network/connections", NetworkManagementClient,
         "virtual_network_gateway_connections.list", "resource_group"),
    Call("Microsoft.Network/expressRouteCircuits", NetworkManagementClient, "express_route_circuits.list_all",
         "subscription"),
    Call("Microsoft.Network/expressRoutePorts", NetworkManagementClient, "express_route_ports.list", "subscription"),
    Call("Microsoft.Network/virtualNetworkGateways", NetworkManagementClient, "virtual_network_gateways.list",
         "resource_group"),
    Call("Microsoft.Network/localNetworkGateways", NetworkManagementClient, "local_network_gateways.list",
         "resource_group"),
    Call("Microsoft.Network/virtualNetworks", NetworkManagementClient, "virtual_networks.list_all", "subscription"),
    Call("Microsoft.Network/applicationGateways", NetworkManagementClient, "application_gateways.list_all",
         "subscription"),
    Call("Microsoft.Web/sites", WebSiteManagementClient, "web_apps.list", "subscription"),
    Call("Microsoft.Compute/diskEncryptionSets", ComputeManagementClient, "disk_encryption_sets.list", "subscription"),
    Call("Microsoft.Compute/images", ComputeManagementClient, "images.list", "subscription"),
    Call("Microsoft.Compute/snapshots", ComputeManagementClient, "snapshots.list", "subscription"),
    Call("Microsoft.OperationalInsights/clusters", LogAnalyticsManagementClient, "clusters.list", "subscription"),
    Call("Microsoft.OperationalInsights/workspaces", LogAnalyticsManagementClient, "workspaces.list", "subscription"),
    Call("Microsoft.Cache/redis", RedisManagementClient, "redis.list_by_subscription", "subscription"),
]

CHILDREN: list[Call] = [
    Call("Microsoft.Sql/servers/databases/transparentDataEncryption", SqlManagementClient,
         "transparent_data_encryptions.list_by_database", "parent", parent="Microsoft.Sql/servers/databases"),
    Call("Microsoft.Sql/servers/encryptionProtector", SqlManagementClient,
         "encryption_protectors.list_by_server", "parent", parent="Microsoft.Sql/servers"),
    Call("Microsoft.Sql/managedInstances/encryptionProtector", SqlManagementClient,
         "managed_instance_encryption_protectors.list_by_instance", "parent", parent="Microsoft.Sql/managedInstances"),
    # Key metadata only (type, size, rotation policy): the management plane never returns key material
    Call("Microsoft.KeyVault/vaults/keys", KeyVaultManagementClient, "keys.list", "parent",
         parent="Microsoft.KeyVault/vaults"),
    Call("Microsoft.Web/sites/config", WebSiteManagementClient, "web_apps.get_configuration", "parent",
         parent="Microsoft.Web/sites", single=True),
    # Secret metadata only (attributes: exp, nbf, enabled): the management plane never returns values
    Call("Microsoft.KeyVault/vaults/secrets", KeyVaultManagementClient, "secrets.list", "parent",
         parent="Microsoft.KeyVault/vaults"),
]


@dataclass(frozen=True)
class ChildCollection:
    type: str  # the child's ARM type; its last segment is the collection under the parent's id
    parent: str  # the parent's ARM type
    api_version: str


CHILD_COLLECTIONS: list[ChildCollection] = [
    # GET {database id}/transparentDataEncryption (Microsoft.Sql 2021-11-01): the "current" setting
    ChildCollection("Microsoft.Sql/managedInstances/databases/transparentDataEncryption",
                    "Microsoft.Sql/managedInstances/databases", "2021-11-01"),
]

# (type that makes the list worth reading, the list)
SUBSCRIPTION_EXTRAS: list[tuple[str, Call]] = [
    ("Microsoft.KeyVault/vaults",
     Call("Microsoft.Authorization/roleAssignments", AuthorizationManagementClient,
          "role_assignments.list_for_subscription", "subscription")),
]

LISTED_TYPES = {call.type.lower() for call in LISTINGS}


def children_of(resource_type: str) -> list[Call]:
    return [call for call in CHILDREN if call.parent and call.parent.lower() == resource_type.lower()]


def collections_of(resource_type: str) -> list[ChildCollection]:
    return [child for child in CHILD_COLLECTIONS if child.parent.lower() == resource_type.lower()]


def parent_names(resource_id: str) -> list[str]:
    """The names along an ARM id after its provider namespace: servers/a/databases/b -> [a, b]."""
    lowered = resource_id.lower()
    tail = resource_id[lowered.rfind("/providers/") + len("/providers/"):].strip("/").split("/")
    return tail[2::2]
