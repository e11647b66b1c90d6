"""A local Windows Server SDN Network Controller: serves an SDN snapshot folder (the layout
`vdcaudit sdn --save-snapshot` writes) on the northbound REST paths, over HTTPS on loopback.

Served (GET only; anything else is 405):
- `/networking/discovery`: the REST versions, as the controller announces them
- `/networking/v1/{collection}`: `{"value": [...], "nextLink": ...}`, `page_size` entries a page
- `/networking/v1/{collection}/{resourceId}`: one resource
Faults (latency, 401/403/500, dropped connections, timeouts) and the request log come from
`vdcaudit.emulator.httpserver`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vdcaudit.collectors.sdn.fabric import COLLECTIONS, entries_in
from vdcaudit.emulator.httpserver import EmulatedService, EmulatorServer, Request, Response
from vdcaudit.io.jsonfile import read_json

class NcEmulator(EmulatedService):
    def __init__(self, snapshot: Path, page_size: int = 2, host: str = "127.0.0.1",
                 client_ca: bytes | None = None) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {}
        for name in COLLECTIONS:
            path = snapshot / f"{name}.json"
            if path.is_file():
                self.collections[name] = entries_in(read_json(path), str(path))
        self.page_size = page_size
        self.server = EmulatorServer(host, client_ca=client_ca)
        self.server.add_route("GET", r"/networking/discovery", self._discovery)
        self.server.add_route("GET", r"/networking/v1/(?P<collection>[A-Za-z]+)", self._list)
        self.server.add_route("GET", r"/networking/v1/(?P<collection>[A-Za-z]+)/(?P<rid>[^/]+)", self._one)

    # -- the REST surface ----------------------------------------------------------------------
    def _discovery(self, request: Request) -> Response:
        return Response.json({"properties": {"currentRestVersion": "v4.1", "supportedRestVersions": [
            "v1", "v2", "v3", "v4", "v4.1"], "resourceRef": "/discovery"}})

    def _entries(self, collection: str) -> list[dict[str, Any]] | None:
        name = next((n for n in self.collections if n.lower() == collection.lower()), None)
        return self.collections[name] if name else None

    def _list(self, request: Request) -> Response:
        entries = self._entries(request.match["collection"])
        if entries is None:
            return _not_found(request.path)
        start = int(request.param("skip") or 0)
        page = entries[start:start + self.page_size]
        body: dict[str, Any] = {"value": page}
        if start + self.page_size < len(entries):
            body["nextLink"] = f"{request.path}?skip={start + self.page_size}"
        return Response.json(body)

    def _one(self, request: Request) -> Response:
        entries = self._entries(request.match["collection"]) or []
        rid = request.match["rid"].lower()
        found = next((e for e in entries if str(e.get("resourceId", "")).lower() == rid), None)
        return Response.json(found) if found is not None else _not_found(request.path)



def _not_found(path: str) -> Response:
    return Response.json({"code": "NotFound", "message": f"The resource {path} was not found."}, 404)
