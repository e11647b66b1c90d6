"""A total deadline for an HTTP exchange with a server that is not trusted to answer sanely.

requests' `timeout=` bounds each socket read, not the exchange: a server that sends its headers or
its body a byte at a time holds the client for as long as it likes. Here the exchange runs on a
helper thread; when the deadline passes, the sockets of its connections are shut down (which wakes
the thread blocked on them) and the caller gets `DeadlinePassed`. Used by the Network Controller
client and by webhook notifications.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

T = TypeVar("T")


class DeadlinePassed(TimeoutError):
    """The exchange did not end within its deadline; its connections were shut down."""


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter (http and https), keeping the sockets of its connections so that a request
    past its deadline can be ended from outside."""

    def __init__(self) -> None:
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        adapter = self

        def tracked(base: type[HTTPConnection]) -> type[HTTPConnection]:
            class Tracked(base):  # type: ignore[valid-type,misc]
                def connect(self) -> None:
                    super().connect()
                    with adapter._lock:
                        adapter._sockets.add(self.sock)
            return Tracked

        class TrackedHttpsPool(HTTPSConnectionPool):
            ConnectionCls = tracked(HTTPSConnection)  # type: ignore[assignment]

        class TrackedHttpPool(HTTPConnectionPool):
            ConnectionCls = tracked(HTTPConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": TrackedHttpPool, "https": TrackedHttpsPool}

    def abort(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the fd, not the TLS layer's state
            except OSError:
                pass


def within(seconds: float, call: Callable[[], T], adapter: DeadlineAdapter) -> T:
    """`call()`'s result (or its exception) if it ends within `seconds`; else the adapter's
    connections are shut down and DeadlinePassed is raised."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller's thread, never raised on the helper
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="vdcaudit-deadline")
    worker.start()
    worker.join(max(seconds, 0.0))
    if worker.is_alive():
        adapter.abort()
        worker.join(1)  # let it end on the closed socket; a daemon thread never holds the exit
        raise DeadlinePassed(f"no complete answer within {seconds:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
