"""Offline Azure snapshots: files printed by az / Resource Graph / the ARM REST API.

Each file is one of
- a JSON array of ARM resources (`az resource list`, `az resource show --ids ...`),
- an object with a `data` array (`az graph query -q ... -o json`),
- an object with a `value` array (an ARM list response; `nextLink` is ignored),
- Az PowerShell's `Get-AzResource -ExpandProperties | ConvertTo-Json -Depth 100`: an array (or, for
  one resource, a single object) of PSResource objects, PascalCase (`ResourceId`, `Name`,
  `ResourceType`, `ResourceGroupName`, `SubscriptionId`, `Location`, `Properties`, `Sku`, `Kind`,
  `Tags`), child resources nested under `resources`.
The shape is told per resource, so one file may mix them. A folder is read recursively (*.json, in
name order).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError
from vdcaudit.identity import LAYOUTS_KEPT, IdentityError, settle
from vdcaudit.inventory import Inventory
from vdcaudit.io.jsonfile import read_json
from vdcaudit.model import CoverageRecord
from vdcaudit.timestamps import parse_datetime

SOURCE = "snapshot"


# Az PowerShell's PSResource names -> the ARM envelope names (matched case-insensitively); its
# identity names (`ResourceId`, `Id`, `ResourceType`, `Type`, `ExtensionResourceType`) are read by
# vdcaudit.identity, as every entry's are.
POWERSHELL_NAMES = {"resourcegroupname": "resourceGroup"}
# Members only a PSResource prints: any of them tells the shape.
POWERSHELL_MARKS = frozenset({"resourceid", "resourcetype", "resourcegroupname", "resourcename"})
# PSResource members that say how PowerShell found the resource, not what it is: not carried over.
POWERSHELL_ONLY = {"resourcename", "extensionresourcename", "parentresource", "createdtime", "changedtime"}
# Entries of one export share their key layout: whether a layout is PowerShell's is decided once.
_marked_layouts: dict[tuple[Any, ...], bool] = {}
# Nesting of `resources` deeper than ARM allows child types (a few levels) is hostile input.
MAX_CHILD_DEPTH = 10


def is_powershell(resource: Any) -> bool:
    """A PSResource print (names in any case): it has a member only PSResource has (`ResourceId`,
    `ResourceType`, `ResourceGroupName`, `ResourceName`); children nested under its `resources` are
    PSResources too, even those that print only `Id`."""
    if not isinstance(resource, dict):
        return False
    layout = tuple(resource)
    marked = _marked_layouts.get(layout)
    if marked is None:
        marked = any(str(key).lower() in POWERSHELL_MARKS for key in layout)
        if len(_marked_layouts) < LAYOUTS_KEPT:
            _marked_layouts[layout] = marked
    return marked


def from_powershell(resource: dict[str, Any]) -> dict[str, Any]:
    """A PSResource as the ARM shape: envelope names renamed, everything else (`Properties`, `Sku`,
    `Tags`, ...) kept with the spelling PowerShell printed; the accessor reads them in any case."""
    names = {str(key).lower() for key in resource}
    converted: dict[str, Any] = {}
    for key, value in resource.items():
        lowered = str(key).lower()
        if lowered in POWERSHELL_ONLY or lowered == "resources":
            continue
        target = POWERSHELL_NAMES.get(lowered)
        if target is not None and target.lower() in names:
            continue  # the ARM name is printed too: keep that one
        converted[target or key] = value
    return converted


def _flattened(resources: list[Any], path: Path, position: str, depth: int = 0) -> Iterator[tuple[Any, str]]:
    """Each resource with its position in the document (`value[3]`, `[0].resources[1]`), then the
    children an Az PowerShell print nests under its `resources`."""
    for index, resource in enumerate(resources):
        here = f"{position}[{index}]"
        if not (depth or is_powershell(resource)) or not isinstance(resource, dict):
            yield resource, here
            continue
        yield from_powershell(resource), here
        key, children = next(((k, v) for k, v in resource.items() if str(k).lower() == "resources"), ("", None))
        if children is None:
            continue
        if not isinstance(children, list):
            raise InputError(f"'resources' of the entry at {here} is not an array", path)
        if depth >= MAX_CHILD_DEPTH:
            raise InputError(f"child resources nested deeper than {MAX_CHILD_DEPTH} levels", path)
        yield from _flattened(children, path, f"{here}.{key}", depth + 1)


def resources_in(document: Any, path: Path) -> list[tuple[Any, str]]:
    """The entries of a snapshot document, each with its position in it."""
    if isinstance(document, list):
        return list(_flattened(document, path, ""))
    if isinstance(document, dict):
        for key in ("data", "value"):
            if isinstance(document.get(key), list):
                return list(_flattened(document[key], path, key))
        if is_powershell(document):  # ConvertTo-Json prints a single resource as an object
            return [(entry, position.removeprefix("[0]").lstrip(".") or "$")
                    for entry, position in _flattened([document], path, "")]
    raise InputError("not an Azure snapshot: expected a JSON array of resources, an object with "
                     "a 'data' array (az graph query) or a 'value' array (ARM list response), or "
                     "Get-AzResource | ConvertTo-Json output", path)


def coverage_in(document: Any, path: Path) -> list[CoverageRecord]:
    """Coverage gaps that `vdcaudit snapshot` recorded when it collected the file: what could not
    be read then is still unknown now, so an offline re-scan reports it as UNKNOWN again."""
    block = document.get("vdcaudit_snapshot") if isinstance(document, dict) else None
    records = block.get("coverage", []) if isinstance(block, dict) else []
    if not isinstance(records, list):
        raise InputError("vdcaudit_snapshot.coverage must be an array", path)
    gaps = []
    for index, record in enumerate(records):
        try:
            gaps.append(CoverageRecord(
                source=str(record["source"]), scope=str(record["scope"]), reason=str(record["reason"]),
                resource_type=record.get("resource_type"), detail=str(record.get("detail") or "")))
        except (KeyError, TypeError, AttributeError):
            raise InputError(f"vdcaudit_snapshot.coverage[{index}] needs source, scope and reason", path) from None
    return gaps


def collected_in(document: Any, path: Path) -> str | None:
    """When `vdcaudit snapshot` collected the file (vdcaudit_snapshot.collected, ISO 8601): the day
    its evidence describes, which platform floors are judged on (vdcaudit.floors)."""
    block = document.get("vdcaudit_snapshot") if isinstance(document, dict) else None
    collected = block.get("collected") if isinstance(block, dict) else None
    if collected is None:
        return None
    try:
        parse_datetime(collected, naive="keep")
    except ValueError:
        raise InputError(f"vdcaudit_snapshot.collected is not an ISO 8601 time: {str(collected)[:40]!r}", path) from None
    return str(collected)


def snapshot_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise InputError("folder holds no .json files", path)
        return files
    if not path.exists():
        raise InputError("no such file or folder", path)
    return [path]


def load_snapshot(path: Path, inventory: Inventory, source: str = SOURCE, collected: str | None = None) -> None:
    """Read every file first, then add: a file that is not JSON or not a snapshot stops the scan
    before any result. An entry whose identity is missing or contradicts itself is an entry error
    (inventory.reject): it is not judged, and every other entry of the file is.
    `collected`: when the evidence was collected, for files that do not record it themselves."""
    documents = [(file, read_json(file)) for file in snapshot_files(path)]
    loaded = [(file, resources_in(document, file), coverage_in(document, file), collected_in(document, file))
              for file, document in documents]
    for file, entries, gaps, recorded in loaded:
        observed = recorded or collected
        for index, (entry, position) in enumerate(entries):
            origin = {"file": str(file), "index": index, "entry": position}
            if not isinstance(entry, dict):
                inventory.reject("is not a JSON object", source, origin)
                continue
            try:
                settled = settle(entry)
            except IdentityError as exc:
                inventory.reject(str(exc), source, origin, exc.resource_type)
                continue
            inventory.add(settled, source, origin, observed)
        for gap in gaps:
            inventory.add_coverage(gap)
        inventory.sources.append({"kind": source, "location": str(file), "resources": len(entries)})
