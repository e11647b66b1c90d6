"""Offline Azure snapshots: files printed by az / Resource Graph / the ARM REST API.

Each file is one of
- a JSON array of ARM resources (`az resource list`, `az resource show --ids ...`),
- an object with a `data` array (`az graph query -q ... -o json`),
- an object with a `value` array (an ARM list response; `nextLink` is ignored).
A folder is read recursively (*.json, in name order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.jsonfile import read_json

SOURCE = "snapshot"


def resources_in(document: Any, path: Path) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("data", "value"):
            if isinstance(document.get(key), list):
                return document[key]
    raise InputError("not an Azure snapshot: expected a JSON array of resources, or an object with "
                     "a 'data' array (az graph query) or a 'value' array (ARM list response)", path)


def snapshot_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise InputError("folder holds no .json files", path)
        return files
    if not path.exists():
        raise InputError("no such file or folder", path)
    return [path]


def load_snapshot(path: Path, inventory: Inventory, source: str = SOURCE) -> None:
    """Read every file first, then add: a bad file anywhere stops the scan before any result."""
    loaded = [(file, resources_in(read_json(file), file)) for file in snapshot_files(path)]
    for file, resources in loaded:
        inventory.extend(resources, source, {"file": str(file)})
        inventory.sources.append({"kind": source, "location": str(file), "resources": len(resources)})
