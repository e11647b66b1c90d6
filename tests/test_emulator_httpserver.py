"""The generic HTTPS emulator base: routes, faults, request log, TLS trust through ca_path."""

from __future__ import annotations

import time

import pytest
import requests

from vdcaudit.emulator.httpserver import EmulatorServer, Fault, Request, Response


@pytest.fixture
def server():
    server = EmulatorServer()

    @server.route("GET", r"/things/(?P<name>[^/]+)")
    def get_thing(request: Request) -> Response:
        return Response.json({"name": request.match["name"], "apiVersion": request.api_version})

    with server:
        yield server


def get(server: EmulatorServer, path: str, session: requests.Session | None = None) -> requests.Response:
    return (session or requests).get(server.url + path, verify=server.ca_path, timeout=5)


def test_route_over_tls_with_the_throwaway_ca(server):
    response = get(server, "/things/a?api-version=2024-01-01")
    assert response.json() == {"name": "a", "apiVersion": "2024-01-01"}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/things/a", timeout=5)  # the system trust store does not know it


def test_unknown_path_and_wrong_method_get_azure_error_bodies(server):
    assert get(server, "/nothing").json()["error"]["code"] == "NotFound"
    response = requests.post(server.url + "/things/a", verify=server.ca_path, timeout=5)
    assert response.status_code == 405


def test_faults_fire_the_given_number_of_times(server):
    server.add_fault(Fault.throttle(retry_after=2, times=1, path=r"^/things/b"))
    server.add_fault(Fault.error(503, times=1, path=r"^/things/c"))
    first = get(server, "/things/b")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert get(server, "/things/b").status_code == 200
    assert get(server, "/things/c").status_code == 503
    assert get(server, "/things/c").status_code == 200


def test_forbidden_scope_and_is_forbidden(server):
    server.add_fault(Fault.forbidden("/things/secret"))
    assert get(server, "/things/secret").json()["error"]["code"] == "AuthorizationFailed"
    assert get(server, "/things/secretive").status_code == 200  # a prefix of a name is not the scope
    assert server.is_forbidden("/things/secret/child") and not server.is_forbidden("/things/other")


def test_dropped_connection_and_stall(server):
    server.add_fault(Fault.drop(times=1, path="/things/d"))
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/things/d")
    assert get(server, "/things/d").status_code == 200
    server.add_fault(Fault.stall(1.0, times=1, path="/things/e"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.url + "/things/e", verify=server.ca_path, timeout=0.2)


def test_latency_and_request_log(server):
    server.add_fault(Fault.latency(0.05))
    session = requests.Session()
    started = time.monotonic()
    get(server, "/things/a?api-version=1", session)
    assert time.monotonic() - started >= 0.05
    entries = server.log.entries()
    assert [(e.method, e.path, e.api_version, e.status) for e in entries] == [("GET", "/things/a", "1", 200)]
    assert server.log.count(r"^/things/") == 1 and server.log.methods() == {"GET"}
