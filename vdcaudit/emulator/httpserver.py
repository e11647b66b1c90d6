"""A small HTTPS server for emulating REST services locally: TLS on 127.0.0.1 with a throw-away
certificate, a route table, per-route fault injection and a thread-safe request log.

Used by the ARM emulator (vdcaudit.emulator.arm) and meant for any other emulator (the SDN
Network Controller, say). Usage:

    server = EmulatorServer()
    @server.route("GET", r"/things/(?P<name>[^/]+)")
    def get_thing(request: Request) -> Response:
        return Response.json({"name": request.match["name"]})
    server.add_fault(Fault.throttle(retry_after=1, times=2, path=r"^/things/"))
    with server:                      # starts a background thread, stops and cleans up on exit
        requests.get(server.url + "/things/a", verify=server.ca_path)
    server.log.methods()              # {"GET"}

Clients trust the server through `server.ca_path`, a PEM file holding the throw-away CA (created
at start with `cryptography`, deleted at stop). Nothing is written anywhere else.

Faults (see `Fault`) match on method and a regular expression searched in the request path, and
fire for every matching request or only the first `times` ones: added latency, an HTTP error
status (429 with Retry-After, 500, 503, 403 ...), a dropped connection (closed without a
response), a stall (no answer for longer than the client's timeout), or an answer of the test's
own (a body too large or nested too deep; with or without a Content-Length). Several latency and stall
faults add up; the first matching error or drop fault decides the answer.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# ---------------------------------------------------------------------------------------------
# Requests, responses, routes


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, str]  # first value of each parameter, names as sent
    headers: Message
    body: bytes
    match: re.Match[str]
    server: "EmulatorServer"

    def param(self, name: str) -> str | None:
        """A query parameter, its name compared case-insensitively (`$skipToken` == `$skiptoken`)."""
        lowered = name.lower()
        return next((value for key, value in self.query.items() if key.lower() == lowered), None)

    @property
    def api_version(self) -> str | None:
        return self.param("api-version")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, json.dumps(document).encode("utf-8"),
                   {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def error(cls, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> "Response":
        """An error in the shape Azure REST APIs use: {"error": {"code", "message"}}."""
        return cls.json({"error": {"code": code, "message": message}}, status, headers)


Handler = Callable[[Request], Response]
# Admits a request (method, path) before its route answers: (an answer instead of the route's, or
# None; headers to add to the route's answer). The ARM emulator's rate limits are one.
Limiter = Callable[[str, str], tuple[Response | None, dict[str, str]]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


# ---------------------------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """One injected misbehaviour. Build them with the class methods; `times=None` fires forever."""

    kind: str  # "latency" | "status" | "drop" | "stall" | "answer"
    path: str = ""  # regular expression searched (case-insensitively) in the request path
    method: str | None = None  # None: every method
    times: int | None = None
    seconds: float = 0.0  # latency / stall duration
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    code: str = ""  # error code in the body
    message: str = ""  # error message in the body (default: "injected fault: ...")
    body: bytes = b""  # "answer": the body sent instead of the route's
    declared: bool = True  # "answer": send a Content-Length (else the body ends when the connection closes)
    fired: int = 0

    @classmethod
    def latency(cls, seconds: float, path: str = "", method: str | None = None) -> "Fault":
        return cls("latency", path, method, None, seconds=seconds)

    @classmethod
    def throttle(cls, retry_after: float = 1, times: int | None = 1, path: str = "",
                 method: str | None = None) -> "Fault":
        """429 Too Many Requests with a Retry-After header (seconds)."""
        return cls("status", path, method, times, status=429, code="TooManyRequests",
                   headers={"Retry-After": f"{retry_after:g}"})

    @classmethod
    def error(cls, status: int = 503, times: int | None = 1, path: str = "", method: str | None = None,
              code: str = "ServiceUnavailable", message: str = "") -> "Fault":
        """An error answer in ARM's shape; `message` replaces the default "injected fault: ..." text."""
        return cls("status", path, method, times, status=status, code=code, message=message)

    @classmethod
    def forbidden(cls, scope: str, times: int | None = None, method: str | None = None) -> "Fault":
        """403 AuthorizationFailed for every path at or under `scope` (e.g. "/subscriptions/<id>")."""
        pattern = "^" + re.escape(scope.rstrip("/")) + "(/|$)"
        return cls("status", pattern, method, times, status=403, code="AuthorizationFailed")

    @classmethod
    def drop(cls, times: int | None = 1, path: str = "", method: str | None = None) -> "Fault":
        """Close the connection without sending a response."""
        return cls("drop", path, method, times)

    @classmethod
    def stall(cls, seconds: float, times: int | None = 1, path: str = "", method: str | None = None) -> "Fault":
        """Answer only after `seconds` (longer than the client's read timeout: a timeout)."""
        return cls("stall", path, method, times, seconds=seconds)

    @classmethod
    def answer(cls, body: bytes, times: int | None = 1, path: str = "", method: str | None = None,
               declared: bool = True) -> "Fault":
        """Answer 200 with `body` (JSON) instead of the route's answer; `declared=False` sends no
        Content-Length and closes the connection after the body, so only reading tells its size."""
        return cls("answer", path, method, times, status=200, body=body, declared=declared)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path, re.IGNORECASE) is not None if self.path else True

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def describe(self) -> str:
        return f"{self.kind} {self.status}" if self.kind == "status" else self.kind


# ---------------------------------------------------------------------------------------------
# Request log


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    api_version: str | None
    status: int | None  # None: the connection was dropped
    fault: str | None  # what was injected, if anything
    at: float
    query: dict[str, str] = field(default_factory=dict)  # as parsed for the handler (first values)


class RequestLog:
    """Every request the server saw, in arrival order. Safe to read while the server runs."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def methods(self) -> set[str]:
        return {entry.method for entry in self.entries()}

    def count(self, path: str = "", method: str | None = None) -> int:
        """Requests whose path matches the regular expression (searched, case-insensitive)."""
        return sum(1 for e in self.entries()
                   if (method is None or e.method == method) and re.search(path, e.path, re.IGNORECASE))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.entries())


# ---------------------------------------------------------------------------------------------
# Throw-away certificate


def make_certificate(host: str = "127.0.0.1", client: bool = False) -> tuple[bytes, bytes, bytes]:
    """(cert PEM, key PEM, CA cert PEM): a one-day CA and a certificate it signs for `host`,
    localhost and 127.0.0.1 — a server certificate, or with `client` a client-authentication one.
    A separate CA keeps strict verifiers (which refuse a self-signed leaf used as its own trust
    anchor) happy."""
    now = dt.datetime.now(dt.timezone.utc)
    valid = (now - dt.timedelta(minutes=5), now + dt.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vdcaudit emulator throw-away CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(valid[0]).not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        if ipaddress.ip_address(host) != ipaddress.ip_address("127.0.0.1"):
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(valid[0]).not_valid_after(valid[1])
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client
                                              else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(pem), key_pem, ca_cert.public_bytes(pem)


# ---------------------------------------------------------------------------------------------
# The server


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients open a connection per worker thread at once
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: "EmulatorServer", context: ssl.SSLContext) -> None:
        self.emulator = emulator
        self.tls = context
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, so a slow client cannot
        # hold up the accept loop.
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)  # instantiates RequestHandlerClass
        finally:
            tls.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their pooled connections
    server: _TLSServer
    timeout = 60  # an idle keep-alive connection is closed after this
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the request log records
        pass

    def _handle(self) -> None:
        self.server.emulator._dispatch(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class EmulatorServer:
    """An HTTPS server on a loopback address with a route table, faults and a request log."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, client_ca: bytes | None = None) -> None:
        self.host = host
        self.requested_port = port
        # With a CA (PEM), the TLS handshake demands a client certificate it issued, as a Network
        # Controller set to `-ClientAuthentication X509` does.
        self.client_ca = client_ca
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self.limiter: Limiter | None = None
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends every stall at once when the server stops
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: Path | None = None

    # -- configuration -------------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Routes are tried in order; `pattern` must match the whole (decoded) path, case-insensitively."""
        self.routes.append(Route(method.upper(), re.compile(pattern, re.IGNORECASE), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler)
            return handler
        return decorate

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def is_forbidden(self, path: str, method: str = "GET") -> bool:
        """Whether an active 403 fault covers `path`, without firing it. Lets an emulator apply a
        scope's 403 inside an answer that spans scopes (Resource Graph leaves out what the caller
        cannot read)."""
        with self._lock:
            return any(f.kind == "status" and f.status == 403 and not f.spent and f.matches(method, path)
                       for f in self.faults)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_path(self) -> str:
        if self._tempdir is None:
            raise RuntimeError("server not started")
        return str(self._tempdir / "ca.pem")

    def start(self) -> "EmulatorServer":
        cert, key, ca = make_certificate(self.host)
        self._stopping.clear()
        self._tempdir = Path(tempfile.mkdtemp(prefix="vdcaudit-emulator-"))
        (self._tempdir / "server.pem").write_bytes(cert + ca)
        (self._tempdir / "server.key").write_bytes(key)
        (self._tempdir / "ca.pem").write_bytes(ca)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self._tempdir / "server.pem", self._tempdir / "server.key")
        (self._tempdir / "server.key").unlink()  # loaded; no need to keep a key on disk
        if self.client_ca is not None:
            context.load_verify_locations(cadata=self.client_ca.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED
        self._server = _TLSServer((self.host, self.requested_port), self, context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- request handling ----------------------------------------------------------------------

    def _take_faults(self, method: str, path: str) -> tuple[float, Fault | None]:
        """(seconds to wait, the error/drop fault to apply), counting every fault that fires."""
        delay, terminal = 0.0, None
        with self._lock:
            for fault in self.faults:
                if fault.spent or not fault.matches(method, path):
                    continue
                if fault.kind in ("latency", "stall"):
                    delay += fault.seconds
                    fault.fired += 1
                elif terminal is None:
                    terminal = fault
                    fault.fired += 1
        return delay, terminal

    def _dispatch(self, handler: _Handler) -> None:
        method = handler.command.upper()
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        api_version = next((v for k, v in query.items() if k.lower() == "api-version"), None)
        delay, fault = self._take_faults(method, path)
        if delay and self._stopping.wait(delay):
            handler.close_connection = True  # stopped while stalled: nobody waits for the answer
            return
        if fault is not None and fault.kind == "drop":
            self.log.record(LoggedRequest(method, path, api_version, None, "drop", time.time(), query))
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault.kind == "answer":
            response = Response(200, fault.body, {"Content-Type": "application/json; charset=utf-8"})
        elif fault is not None:
            response = Response.error(fault.status, fault.code, fault.message or f"injected fault: {fault.describe()}",
                                      fault.headers)
        else:
            refused, extra = self.limiter(method, path) if self.limiter else (None, {})
            response = refused or self._route(method, path, query, handler, body)
            response.headers.update(extra)
        self.log.record(LoggedRequest(method, path, api_version, response.status,
                                      fault.describe() if fault else None, time.time(), query))
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        if fault is None or fault.declared:
            handler.send_header("Content-Length", str(len(response.body)))
        else:  # the body ends when the connection closes (HTTP/1.1 without a length)
            handler.close_connection = True
            handler.send_header("Connection", "close")
        handler.end_headers()
        if method != "HEAD":
            try:
                handler.wfile.write(response.body)
            except OSError:  # the client stopped reading (refused a body too large): nothing to do
                handler.close_connection = True

    def _route(self, method: str, path: str, query: dict[str, str], handler: _Handler, body: bytes) -> Response:
        allowed = False
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method != method:
                allowed = True
                continue
            request = Request(method, path, query, handler.headers, body, match, self)
            try:
                return route.handler(request)
            except Exception as exc:  # a handler bug must reach the client as a 500, not a hang
                return Response.error(500, "EmulatorError", f"{type(exc).__name__}: {exc}")
        if allowed:
            return Response.error(405, "MethodNotAllowed", f"{method} is not supported on {path}")
        return Response.error(404, "NotFound", f"no route for {method} {path}")


_Service = TypeVar("_Service", bound="EmulatedService")


class EmulatedService:
    """Base of an emulator built on an EmulatorServer (the ARM and Network Controller emulators):
    it exposes the server's address, CA, request log and fault injection, and starts and stops it,
    also as a context manager. Subclasses set `self.server` and add their routes."""

    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca_path(self) -> str:
        return self.server.ca_path

    @property
    def log(self) -> RequestLog:
        return self.server.log

    def add_fault(self, fault: Fault) -> Fault:
        return self.server.add_fault(fault)

    def start(self: _Service) -> _Service:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self: _Service) -> _Service:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
