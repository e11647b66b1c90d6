"""A real client as a test of the emulator: the Azure SDK's own operations (azure-mgmt-*, not
vdcaudit's collector) list every resource type vdcaudit reads, at the API versions the collector
uses, and read the default children ARM serves for every parent. Every answer must deserialise
into the SDK's models, and no documented default child may answer 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.web import WebSiteManagementClient

from vdcaudit.collectors.azure import catalog, generic
from vdcaudit.collectors.azure.clients import Clients, Connection, wire
from vdcaudit.collectors.azure.clouds import StaticTokenCredential
from vdcaudit.collectors.azure.collector import every_item
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.inventory import parse_scope
from tests.test_azure_live import DEMO


@pytest.fixture(scope="module")
def arm() -> Iterator[ArmEmulator]:
    with ArmEmulator([DEMO / "azure"], page_size=4) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def clients(arm: ArmEmulator) -> Iterator[Clients]:
    made = Clients(Connection(endpoint=arm.url, credential=StaticTokenCredential(), ca_bundle=arm.ca_path,
                              scope="https://management.azure.com/.default", backoff=0.01))
    yield made
    made.close()


def of_type(arm: ArmEmulator, kind: str) -> list[dict[str, Any]]:
    return [r for r in arm.resources() if r["type"].lower() == kind.lower()]


def names(resource_id: str) -> tuple[str, str, list[str]]:
    """(subscription, resource group, names after the provider) of an ARM id."""
    sub, group = parse_scope(resource_id)
    assert sub and group
    return sub, group, catalog.parent_names(resource_id)


def test_typed_sdk_lists_of_every_type_deserialise(arm: ArmEmulator, clients: Clients) -> None:
    listed: dict[str, int] = {}
    for call in (c for c in catalog.LISTINGS if not c.api_version):
        group_name, method = call.operation.split(".")
        present = of_type(arm, call.type)
        for sub in sorted({parse_scope(r["id"])[0] or "" for r in present}):
            operation = getattr(getattr(clients.get(call.client, sub), group_name), method)
            if call.scope == "subscription":
                argument_sets = [()]
            elif call.scope == "resource_group":
                argument_sets = sorted({(parse_scope(r["id"])[1] or "",) for r in present if parse_scope(r["id"])[0] == sub})
            else:
                argument_sets = sorted({(names(p["id"])[1], *names(p["id"])[2]) for p in of_type(arm, call.parent or "")
                                        if parse_scope(p["id"])[0] == sub})
            for arguments in argument_sets:
                items = [wire(item) for item in every_item(operation(*arguments))]
                assert all(item.get("id") and item.get("name") for item in items), call.type
                listed[call.type] = listed.get(call.type, 0) + len(items)
    for call in (c for c in catalog.LISTINGS if not c.api_version):
        assert listed.get(call.type, 0) == len(of_type(arm, call.type)), f"{call.type}: listed {listed.get(call.type)}"


def test_generic_types_read_by_id_at_the_collectors_api_versions(arm: ArmEmulator, clients: Clients) -> None:
    read = 0
    for kind, version in generic.API_VERSIONS.items():
        for resource in of_type(arm, kind):
            sub = parse_scope(resource["id"])[0]
            got = clients.get(ResourceManagementClient, sub).resources.get_by_id(resource["id"], api_version=version)
            assert got.id == resource["id"] and got.type.lower() == kind
            read += 1
    assert read > 40


def test_default_children_arm_always_serves_answer(arm: ArmEmulator, clients: Clients) -> None:
    """The SDK's own get operations for the children every parent has: no 404, models deserialise."""
    checked = 0
    for account in of_type(arm, "Microsoft.Storage/storageAccounts"):
        sub, group, (name,) = names(account["id"])
        storage = clients.get(StorageManagementClient, sub)
        for operations in (storage.file_services, storage.blob_services, storage.queue_services, storage.table_services):
            assert operations.get_service_properties(group, name).name == "default"
            checked += 1
    for site in of_type(arm, "Microsoft.Web/sites"):
        sub, group, (name,) = names(site["id"])
        assert clients.get(WebSiteManagementClient, sub).web_apps.get_configuration(group, name).name == "web"
        checked += 1
    for slot in of_type(arm, "Microsoft.Web/sites/slots"):
        sub, group, (site_name, slot_name) = names(slot["id"])
        assert clients.get(WebSiteManagementClient, sub).web_apps.get_configuration_slot(group, site_name, slot_name).name == "web"
        checked += 1
    for server in of_type(arm, "Microsoft.Sql/servers"):
        sub, group, (name,) = names(server["id"])
        sql = clients.get(SqlManagementClient, sub)
        assert sql.encryption_protectors.get(group, name, "current").server_key_type
        assert sql.server_blob_auditing_policies.get(group, name).state in ("Enabled", "Disabled")
        assert sql.server_security_alert_policies.get(group, name, "Default").state in ("Enabled", "Disabled")
        checked += 3
    for database in of_type(arm, "Microsoft.Sql/servers/databases"):
        sub, group, (server_name, name) = names(database["id"])
        sql = clients.get(SqlManagementClient, sub)
        assert sql.backup_short_term_retention_policies.get(group, server_name, name, "default").retention_days
        checked += 1
        if name != "master":  # master is encrypted by the service and reports no TDE state (VDC-SQL-001)
            assert sql.transparent_data_encryptions.get(group, server_name, name, "current").state in ("Enabled", "Disabled")
            checked += 1
    for instance in of_type(arm, "Microsoft.Sql/managedInstances"):
        sub, group, (name,) = names(instance["id"])
        assert clients.get(SqlManagementClient, sub).managed_instance_encryption_protectors.get(group, name, "current").server_key_type
        checked += 1
    for database in of_type(arm, "Microsoft.Sql/managedInstances/databases"):
        sub, group, (instance_name, name) = names(database["id"])
        tde = clients.get(SqlManagementClient, sub).managed_database_transparent_data_encryption.get(
            group, instance_name, name, "current")
        assert tde.state in ("Enabled", "Disabled")
        checked += 1
    assert checked > 40


@pytest.mark.parametrize("kind", ["Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforMySQL/flexibleServers"])
def test_every_flexible_server_lists_its_parameters(arm: ArmEmulator, clients: Clients, kind: str) -> None:
    """A flexible server's parameter list always holds require_secure_transport (at the collector's
    api-version; no typed client is installed for these)."""
    servers = of_type(arm, kind)
    assert servers
    for server in servers:
        sub = parse_scope(server["id"])[0] or ""
        parameters = generic.list_collection(clients, sub, f"{server['id']}/configurations",
                                             generic.api_version(f"{kind}/configurations"))
        assert "require_secure_transport" in {p["name"] for p in parameters}


def test_tenants_and_locations(arm: ArmEmulator, clients: Clients) -> None:
    client = clients.get(SubscriptionClient)
    [tenant] = list(client.tenants.list())
    assert tenant.tenant_id == arm.tenant_id
    for sub in arm.subscriptions:
        regions = {location.name: location for location in client.subscriptions.list_locations(sub)}
        assert "westeurope" in regions and regions["westeurope"].display_name == "West Europe"


def test_tde_shape_follows_the_api_version(arm: ArmEmulator, clients: Clients) -> None:
    [database] = [d for d in of_type(arm, "Microsoft.Sql/servers/databases") if d["name"] == "payments"]
    sub = parse_scope(database["id"])[0] or ""
    path = f"{database['id']}/transparentDataEncryption/current"
    old = generic.get_resource(clients, sub, path, "2014-04-01")["properties"]
    new = generic.get_resource(clients, sub, path, "2021-11-01")["properties"]
    assert set(old) == {"status"} and set(new) == {"state"} and old["status"] == new["state"]
