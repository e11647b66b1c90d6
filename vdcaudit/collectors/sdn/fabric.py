"""The SDN fabric as inventory resources, and the offline snapshot folder that holds it.

Snapshot layout (what `vdcaudit sdn --save-snapshot DIR` writes and `--snapshot DIR` reads):

    DIR/virtualNetworks.json       each file: the controller's response body, {"value": [...]}
    DIR/credentials.json
    DIR/servers.json
    DIR/accessControlLists.json
    DIR/networkInterfaces.json
    DIR/hosts/NAME.json            per Hyper-V host: certificate inventory (or NAME.pem/.cer/.der)

Resources keep the Network Controller's own shape (resourceId, resourceRef, etag, instanceId,
properties) and gain `id` = `sdn://<fabric><resourceRef>`, `type` = `Microsoft.SDN/<collection>` and
`name` = resourceId. <fabric> is the controller's host name. A saved snapshot records it beside the
response body (`"x_vdcaudit": {"fabric": "nc.contoso.local"}`), so live and snapshot scans of one
controller give the same ids (and finding fingerprints); a snapshot without it uses the folder name.

The controller's names are case-insensitive: a collection file may equally hold what the
NetworkController PowerShell cmdlets print (`Get-NetworkControllerVirtualNetwork -ConnectionUri $uri
| ConvertTo-Json -Depth 20`: `ResourceRef`, `ResourceId`, `Properties.Subnets`, `Properties.AclRules`,
`"Priority": "101"`), a bare array, or a single object (ConvertTo-Json prints one resource so).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from vdcaudit.armdata import ArmObject, shared_strings
from vdcaudit.io.atomic import FileSet, json_bytes
from vdcaudit.collectors.sdn.hostcerts import HOST_CERT_TYPE, is_host_file, load_host_inventories
from vdcaudit.errors import InputError
from vdcaudit.inventory import META, Inventory
from vdcaudit.io.jsonfile import read_json
from vdcaudit.model import CoverageRecord

SOURCE = "sdn"
# REST path segment under /networking/v1 -> inventory type
COLLECTIONS = {
    "virtualNetworks": "Microsoft.SDN/virtualNetworks",
    "credentials": "Microsoft.SDN/credentials",
    "servers": "Microsoft.SDN/servers",
    "accessControlLists": "Microsoft.SDN/accessControlLists",
    "networkInterfaces": "Microsoft.SDN/networkInterfaces",
}
# Credential types whose value is a secret (a password, an SNMP community): never kept or written.
PUBLIC_CREDENTIAL_TYPES = {"x509certificate"}


def redact(collection: str, entry: Any) -> Any:
    """A credential's value is kept only when it is a certificate thumbprint; anything else is a
    secret that an audit must not store (the controller may return it to an administrator)."""
    if collection != "credentials" or not isinstance(entry, dict):
        return entry
    properties = ArmObject(entry).get("properties")  # `Properties`/`Value` as the cmdlets print them
    if not isinstance(properties, dict) or "value" not in ArmObject(properties):
        return entry
    if str(ArmObject(properties).get("type") or "").lower() in PUBLIC_CREDENTIAL_TYPES:
        return entry
    entry = copy.deepcopy(entry)
    inner = next(v for k, v in entry.items() if str(k).lower() == "properties")
    for key in [k for k in inner if str(k).lower() == "value"]:
        inner[key] = "(redacted by vdcaudit)"
    return entry


def sdn_id(fabric: str, resource_ref: str) -> str:
    return f"sdn://{fabric}/{resource_ref.strip('/')}"


def to_resource(collection: str, entry: Any, fabric: str, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InputError(f"an entry of {collection} is not a JSON object", where)
    # Names in any case, as the NC reads them. Only the top level is read and written here (a
    # shallow copy, so the entry itself is left as the controller returned it): Inventory.add wraps
    # the whole resource once and refuses what cannot be read.
    resource = ArmObject(redact(collection, entry))
    resource_id = resource.get("resourceId")
    ref = resource.get("resourceRef") or (f"/{collection}/{resource_id}" if resource_id else None)
    if not isinstance(ref, str) or not ref:
        raise InputError(f"an entry of {collection} has neither resourceRef nor resourceId "
                         f"(keys: {', '.join(map(str, list(entry)[:8])) or 'none'})", where)
    resource.setdefault("properties", ArmObject())
    resource["id"] = sdn_id(fabric, ref)
    resource["type"] = COLLECTIONS[collection]
    resource["name"] = str(resource_id or ref.rstrip("/").rsplit("/", 1)[-1])
    return resource


def entries_in(document: Any, where: str) -> list[Any]:
    """The `value` array of a controller list response (a bare array, or one resource printed as an
    object by ConvertTo-Json, is accepted too)."""
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        return document["value"]
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and {"resourceref", "resourceid"} & {str(k).lower() for k in document}:
        return [document]
    raise InputError("not a Network Controller list response: expected an object with a 'value' array", where)


def host_resource(fabric: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties["host"]
    return {"id": sdn_id(fabric, f"hosts/{name}"), "type": HOST_CERT_TYPE, "name": name, "properties": properties}


def add_collection(inventory: Inventory, collection: str, entries: list[Any], fabric: str,
                   origin: dict[str, Any], release: bool = False) -> None:
    """With `release`, each entry is dropped from `entries` once added (the inventory holds its own
    copy): a parsed snapshot file is not needed again, and it would otherwise double the memory
    the fabric takes while it is read."""
    where = origin.get("file") or origin.get("url") or collection
    for index, entry in enumerate(entries):
        inventory.add(to_resource(collection, entry, fabric, where), SOURCE, {**origin, "index": index})
        if release:
            entries[index] = None


def add_hosts(inventory: Inventory, fabric: str, host_dir: Path) -> int:
    files = [p for p in sorted(host_dir.iterdir()) if is_host_file(p)] if host_dir.is_dir() else []
    hosts = load_host_inventories(files)
    first_file: dict[str, str] = {}  # host name (lower-case) -> the first of its files
    for path in files:
        first_file.setdefault(path.stem.lower(), str(path))
    for name, properties in hosts.items():
        inventory.add(host_resource(fabric, properties), SOURCE, {"file": first_file.get(name, str(host_dir))})
    return len(hosts)


def load_fabric_snapshot(folder: Path, inventory: Inventory, fabric: str | None = None) -> None:
    """Add a snapshot folder's fabric to the inventory. A collection file that is missing is a
    coverage gap (its rules say UNKNOWN), not an empty fabric."""
    if not folder.is_dir():
        raise InputError("no such folder (expected an SDN snapshot folder)", folder)
    present = {name: folder / f"{name}.json" for name in COLLECTIONS if (folder / f"{name}.json").is_file()}
    if not present:
        raise InputError("not an SDN snapshot: none of " + ", ".join(f"{n}.json" for n in COLLECTIONS)
                         + " is in the folder", folder)
    # Read and check everything first: a bad file stops the scan before anything is added.
    documents = {name: read_json(path) for name, path in present.items()}
    loaded = {name: entries_in(document, str(present[name])) for name, document in documents.items()}
    recorded = [d[META]["fabric"] for d in documents.values()
                if isinstance(d, dict) and isinstance(d.get(META), dict) and isinstance(d[META].get("fabric"), str)]
    fabric = fabric or (recorded[0] if recorded else folder.resolve().name)
    del documents
    with shared_strings():  # a fabric repeats its values in every NIC
        for name, entries in loaded.items():
            add_collection(inventory, name, entries, fabric, {"file": str(present[name])}, release=True)
    for name, rtype in COLLECTIONS.items():
        if name not in loaded:
            inventory.add_coverage(CoverageRecord(SOURCE, f"sdn://{fabric}", f"{name}.json missing from the snapshot",
                                                  rtype, str(folder)))
    hosts = add_hosts(inventory, fabric, folder / "hosts")
    inventory.sources.append({"kind": SOURCE, "location": str(folder), "fabric": fabric,
                              "resources": sum(len(v) for v in loaded.values()), "hosts": hosts})


def save_snapshot(folder: Path, fabric: str, bodies: dict[str, list[Any]], host_files: list[Path]) -> None:
    """Write the snapshot layout as one set: one response body per collection read, and the host
    files (all or nothing, see vdcaudit.io.atomic)."""
    with FileSet(folder) as files:
        for name, entries in bodies.items():
            files.write(f"{name}.json", json_bytes({"value": [redact(name, e) for e in entries], META: {"fabric": fabric}}))
        for path in host_files:
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
            files.write(f"hosts/{path.name}", content)
