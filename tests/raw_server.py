"""A deliberately minimal server for tests of clients against misbehaving peers: it accepts
connections on 127.0.0.1 (TLS with a throw-away certificate, or plain), reads the request head and
hands the socket to a handler that may answer anything, slowly, forever or not at all."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from vdcaudit.emulator.httpserver import make_certificate

Handler = Callable[[socket.socket, "RawServer"], None]


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each (TLS unless plain) to `handler`."""

    def __init__(self, handler: Handler, folder: Path, tls: bool = True) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[str] = []
        self.context: ssl.SSLContext | None = None
        cert, key, ca = make_certificate()
        self.ca_path = folder / "ca.pem"
        self.ca_path.write_bytes(ca)
        if tls:
            (folder / "cert.pem").write_bytes(cert + ca)
            (folder / "key.pem").write_bytes(key)
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            request = b""
            # a plain-HTTP server answers whatever arrives (a TLS ClientHello is not HTTP): 400
            while b"\r\n\r\n" not in request and not (self.context is None and request):
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            self.requests.append(request.split(b"\r\n", 1)[0].decode("utf-8", "replace"))
            self.handler(conn, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
