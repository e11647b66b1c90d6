"""The Network Controller client against controllers that misbehave on purpose (a raw socket
server on loopback, TLS with a throw-away certificate): a body trickled a byte at a time, an
endless body, a nextLink to plain HTTP or another port, a nextLink loop, a server that speaks
plain HTTP. Each ends in one short reason, within the client's deadline; no test waits on a clock
beyond the hang guard."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.guards import hang_guard
from tests.raw_server import Handler, RawServer

from vdcaudit.commands.cli import cli
from vdcaudit.collectors.sdn import ncclient
from vdcaudit.collectors.sdn.ncclient import NOT_TLS, NcClient, NcReadError, NcSettings

@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler, tls: bool = True) -> RawServer:
        server = RawServer(handler, tmp_path, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """A client that ignores its deadline fails its test instead of hanging the suite."""
    with hang_guard(30, "the client ignored its deadline"):
        yield


def _json(conn: socket.socket, body: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)


def trickle(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    while not server.stopping.is_set():  # a header line, a byte at a time, never finished
        conn.sendall(b"X")
        time.sleep(0.1)


def endless(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                 b'{"value": ["')
    block = b"A" * 65536
    while not server.stopping.is_set():
        conn.sendall(block)


def client(server: RawServer, timeout: float = 0.5) -> NcClient:
    return NcClient(NcSettings(url=server.url, ca_bundle=str(server.ca_path), timeout=timeout))


def test_a_trickling_server_meets_the_total_deadline(serve: Callable[..., RawServer]) -> None:
    server = serve(trickle)
    with pytest.raises(NcReadError) as raised:
        client(server).list("virtualNetworks")
    assert raised.value.reason == "timeout after 0.5s"
    assert len(server.requests) == 1


def test_an_endless_body_is_cut_at_the_size_cap(serve: Callable[..., RawServer],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ncclient, "MAX_RESPONSE_BYTES", 1024 * 1024)
    server = serve(endless)
    with pytest.raises(NcReadError) as raised:
        client(server, timeout=20).list("virtualNetworks")
    assert raised.value.reason == "response larger than 1 MiB"


def test_a_declared_oversized_body_is_not_read(serve: Callable[..., RawServer],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ncclient, "MAX_RESPONSE_BYTES", 1024 * 1024)
    server = serve(lambda conn, _: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n{"))
    with pytest.raises(NcReadError) as raised:
        client(server).list("virtualNetworks")
    assert raised.value.reason == "response larger than 1 MiB (999,999,999,999 bytes)"


@pytest.mark.parametrize("link", ["http://127.0.0.1:{port}/networking/v1/virtualNetworks?page=2",
                                  "https://127.0.0.1:1/networking/v1/virtualNetworks?page=2",
                                  "https://localhost:{port}/networking/v1/virtualNetworks?page=2",
                                  "//evil.invalid/networking/v1/virtualNetworks"])
def test_a_next_link_leaving_the_controller_is_refused(serve: Callable[..., RawServer], link: str) -> None:
    def page(conn: socket.socket, server: RawServer) -> None:
        _json(conn, b'{"value": [{"resourceId": "a"}], "nextLink": "' + link.format(port=server.port).encode() + b'"}')

    server = serve(page)
    with pytest.raises(NcReadError) as raised:
        client(server).list("virtualNetworks")
    assert raised.value.reason == "nextLink leaves the controller (another scheme, host or port)"
    assert len(server.requests) == 1  # the link was not followed


def test_a_next_link_loop_and_endless_pages_stop(serve: Callable[..., RawServer],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    loop = serve(lambda conn, _: _json(conn, b'{"value": [], "nextLink": "/networking/v1/virtualNetworks?p=1"}'))
    with pytest.raises(NcReadError) as raised:
        client(loop).list("virtualNetworks")
    assert raised.value.reason == "nextLink repeats an earlier page"
    assert len(loop.requests) == 2

    monkeypatch.setattr(ncclient, "MAX_PAGES", 5)
    counter = iter(range(10**6))
    endless_pages = serve(lambda conn, _: _json(
        conn, b'{"value": [], "nextLink": "/networking/v1/virtualNetworks?p=%d"}' % next(counter)))
    with pytest.raises(NcReadError) as raised:
        client(endless_pages).list("virtualNetworks")
    assert raised.value.reason == "more than 5 pages"
    assert len(endless_pages.requests) == 5


def test_a_plain_http_server_is_named_as_such(serve: Callable[..., RawServer], tmp_path: Path) -> None:
    server = serve(lambda conn, _: conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), tls=False)
    with pytest.raises(NcReadError) as raised:
        client(server).discovery()
    assert raised.value.reason == NOT_TLS
    run = CliRunner().invoke(cli, ["sdn", "--nc", server.url, "--nc-ca-bundle", str(server.ca_path),
                                   "--out", str(tmp_path / "out"), "--format", "json", "--allow-empty", "-q"])
    assert "client certificate" not in run.output
    report = (tmp_path / "out" / "vdcaudit-findings.json").read_text(encoding="utf-8")
    assert NOT_TLS in report  # the coverage records say what happened


def test_deep_json_from_a_controller_is_one_reason(serve: Callable[..., RawServer]) -> None:
    server = serve(lambda conn, _: _json(conn, b'{"value": ' + b"[" * 5000 + b"]" * 5000 + b"}"))
    with pytest.raises(NcReadError) as raised:
        client(server).list("virtualNetworks")
    assert raised.value.reason == "response is JSON nested deeper than 200 levels"


def test_a_trickling_controller_ends_the_sdn_scan_after_one_deadline(serve: Callable[..., RawServer],
                                                                      tmp_path: Path) -> None:
    server = serve(trickle)
    run = CliRunner().invoke(cli, ["sdn", "--nc", server.url, "--nc-ca-bundle", str(server.ca_path),
                                   "--nc-timeout", "0.5", "--out", str(tmp_path / "out"), "--format", "json", "-q"])
    assert run.exit_code == 0, run.output
    assert len(server.requests) == 1  # discovery timed out: the collections were not asked for
    assert "timeout after 0.5s" in (tmp_path / "out" / "vdcaudit-findings.json").read_text(encoding="utf-8")
