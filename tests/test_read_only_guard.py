"""The read-only guard of the live Azure clients refuses a write verb itself, before anything is
sent: the real azure-mgmt clients, built the way the collector builds them, against the local
ARM emulator, which records every request that reaches it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from vdcaudit.collectors.azure.clients import Clients, Connection, ReadOnlyViolation
from vdcaudit.collectors.azure.clouds import StaticTokenCredential
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.resources import data_path

SUB = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def clients() -> Iterator[tuple[Clients, ArmEmulator]]:
    with ArmEmulator([data_path("demo") / "azure"]) as arm:
        built = Clients(Connection(endpoint=arm.url, credential=StaticTokenCredential(),
                                   scope="https://management.azure.com/.default", ca_bundle=arm.ca_path,
                                   retries=0))
        yield built, arm
        built.close()


@pytest.mark.parametrize("write", [
    lambda c: c.resource_groups.create_or_update("rg-new", {"location": "westeurope"}),
    lambda c: c.resource_groups.begin_delete("rg-hub").result(),
    lambda c: c.tags.create_or_update("owner"),
    lambda c: c.resource_groups.update("rg-hub", {"tags": {"a": "b"}}),
], ids=["PUT", "DELETE", "PUT-tag", "PATCH"])
def test_write_verbs_are_refused_before_they_are_sent(clients: tuple[Clients, ArmEmulator], write) -> None:
    built, arm = clients
    management = built.get(ResourceManagementClient, SUB)
    with pytest.raises(ReadOnlyViolation, match="vdcaudit only reads"):
        write(management)
    assert arm.log.entries() == []  # nothing reached the server


def test_reads_and_the_resource_graph_query_pass(clients: tuple[Clients, ArmEmulator]) -> None:
    built, arm = clients
    groups = list(built.get(ResourceManagementClient, SUB).resources.list())
    page = built.get(ResourceGraphClient).resources(QueryRequest(subscriptions=[SUB], query="Resources"))
    assert groups and page.data
    assert {(e.method, e.status) for e in arm.log.entries()} == {("GET", 200), ("POST", 200)}
