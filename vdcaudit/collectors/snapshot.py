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
from vdcaudit.model import CoverageRecord

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
    documents = [(file, read_json(file)) for file in snapshot_files(path)]
    loaded = [(file, resources_in(document, file), coverage_in(document, file)) for file, document in documents]
    for file, resources, gaps in loaded:
        inventory.extend(resources, source, {"file": str(file)})
        for gap in gaps:
            inventory.add_coverage(gap)
        inventory.sources.append({"kind": source, "location": str(file), "resources": len(resources)})
