"""The generic ARM reads (vdcaudit/collectors/azure/generic.py) through the real azure-mgmt-resource
client against the local emulator: paging by nextLink, a missing resource, and a nextLink that would
carry the bearer token to another host."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from vdcaudit.collectors.azure.clients import Clients, Connection
from vdcaudit.collectors.azure.clouds import StaticTokenCredential
from vdcaudit.collectors.azure.generic import UnsafeNextLink, get_resource, list_collection
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import EmulatorServer, Response

SUB = "55555555-5555-4555-8555-555555555555"
SERVER = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql1"
PARAMETERS = [f"p{i}" for i in range(7)]


def _clients(url: str, ca_path: str) -> Clients:
    return Clients(Connection(endpoint=url, credential=StaticTokenCredential(), scope=f"{url}/.default",
                              ca_bundle=ca_path, timeout=5, retries=0))


@pytest.fixture
def arm():
    resources = [{"id": SERVER, "type": "Microsoft.DBforPostgreSQL/flexibleServers", "name": "psql1", "location": "westeurope",
                  "properties": {"version": "16"}}]
    resources += [{"id": f"{SERVER}/configurations/{name}", "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
                   "name": name, "properties": {"value": "on"}} for name in PARAMETERS]
    with ArmEmulator(resources=resources, page_size=3) as emulator:
        yield emulator


def test_list_follows_next_links_and_get_reads_one(arm):
    clients = _clients(arm.url, arm.ca_path)
    try:
        items = list_collection(clients, SUB, f"{SERVER}/configurations", "2024-08-01")
        assert [item["name"] for item in items] == PARAMETERS
        assert arm.log.count(r"/configurations$", "GET") == 3  # 7 items, 3 a page
        assert [e.api_version for e in arm.log.entries()][0] == "2024-08-01"
        assert get_resource(clients, SUB, SERVER, "2024-08-01")["properties"] == {"version": "16"}
        with pytest.raises(ResourceNotFoundError):
            get_resource(clients, SUB, f"{SERVER}/configurations/nope", "2024-08-01")
    finally:
        clients.close()


def test_next_link_to_another_host_is_refused():
    with EmulatorServer("127.0.0.1", 0) as server:
        server.add_route("GET", r"/subscriptions/.+/things", lambda request: Response.json(
            {"value": [{"id": "a"}], "nextLink": "https://attacker.invalid/steal?api-version=1"}))
        clients = _clients(server.url, server.ca_path)
        try:
            with pytest.raises(UnsafeNextLink, match="attacker.invalid"):
                list_collection(clients, SUB, f"/subscriptions/{SUB}/things", "2024-01-01")
        finally:
            clients.close()
