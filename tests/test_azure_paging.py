"""The live Azure collector's paging against servers that misbehave (the project's HTTPS emulator
server with hand-written routes, the real azure-mgmt clients): a nextLink to plain HTTP or another
port is never followed (the bearer token stays on the ARM endpoint), a nextLink or Resource Graph
$skipToken that repeats ends the read, and so does a list that never stops paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors.azure import collector
from vdcaudit.emulator.httpserver import EmulatorServer, Request, Response
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory

SUB = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as arm:
        yield arm


def collect(arm: EmulatorServer, **params: Any) -> Inventory:
    inventory = Inventory()
    base = {"arm_endpoint": arm.url, "ca_bundle": arm.ca_path, "credential": "static-token", "quiet": True,
            "retry_backoff": 0.01, "request_timeout": 5, "all_subscriptions": True}
    azure_source.collect({**base, **params}, inventory)
    return inventory


def subscription_pages(next_link: str) -> Any:
    def handler(request: Request) -> Response:
        body = {"value": [{"id": f"/subscriptions/{SUB}", "subscriptionId": SUB}],
                "nextLink": next_link.format(url=request.server.url, port=request.server.url.rsplit(":", 1)[1])}
        return Response.json(body)
    return handler


@pytest.mark.parametrize("link", ["http://127.0.0.1:{port}/subscriptions?api-version=2022-12-01&$skiptoken=2",
                                  "https://127.0.0.1:1/subscriptions?api-version=2022-12-01&$skiptoken=2",
                                  "https://localhost:{port}/subscriptions?api-version=2022-12-01&$skiptoken=2"])
def test_a_next_link_off_the_endpoint_is_not_followed(server: EmulatorServer, link: str) -> None:
    server.add_route("GET", r"^/subscriptions$", subscription_pages(link))
    with pytest.raises(InputError) as raised:
        collect(server)
    assert "cannot list subscriptions: nextLink leaves the ARM endpoint" in str(raised.value)
    assert server.log.count(r"^/subscriptions$") == 1  # the token went nowhere else


def test_a_repeating_next_link_ends_the_read(server: EmulatorServer) -> None:
    server.add_route("GET", r"^/subscriptions$",
                     subscription_pages("{url}/subscriptions?api-version=2022-12-01&$skiptoken=same"))
    with pytest.raises(InputError) as raised:
        collect(server)
    assert str(raised.value).endswith("cannot list subscriptions: nextLink repeats an earlier page")
    assert server.log.count(r"^/subscriptions$") == 2


def test_endless_pages_end_the_read(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "MAX_PAGES", 4)

    def handler(request: Request) -> Response:
        page = int(request.param("$skiptoken") or 0)
        return Response.json({"value": [], "nextLink": f"{request.server.url}/subscriptions?api-version=1&$skiptoken={page + 1}"})

    server.add_route("GET", r"^/subscriptions$", handler)
    with pytest.raises(InputError) as raised:
        collect(server)
    assert str(raised.value).endswith("cannot list subscriptions: more than 4 pages")
    assert server.log.count(r"^/subscriptions$") == 4


def test_a_repeating_skip_token_ends_the_resource_graph_query(server: EmulatorServer) -> None:
    server.add_route("GET", rf"^/subscriptions/{SUB}$",
                     lambda request: Response.json({"id": f"/subscriptions/{SUB}", "subscriptionId": SUB}))
    server.add_route("POST", r"^/providers/Microsoft.ResourceGraph/resources$", lambda request: Response.json(
        {"totalRecords": 10, "count": 1, "resultTruncated": "false", "$skipToken": "again",
         "data": [{"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
                   "name": "st", "type": "microsoft.storage/storageaccounts", "subscriptionId": SUB}]}))
    server.add_route("GET", rf"^/subscriptions/{SUB}/resources$", lambda request: Response.json({"value": []}))
    inventory = collect(server, all_subscriptions=False, subscription=(SUB,))
    # the query failed (and fell back to the SDK lists, which found nothing): no endless loop
    assert server.log.count("resourcegraph", "POST") == 2
    assert server.log.count(rf"^/subscriptions/{SUB}/resources$") == 1
    assert len(inventory) == 0
