"""Where a scan's result comes from, as the report states it: every input file with its SHA-256,
the operator, and who the report is for and who signs it off.

Paths are printed relative to the folder the scan ran in, never absolute: a report is shared, and an
absolute path names machines and home folders. Data shipped with vdcaudit (the demo) is named
`<vdcaudit>/...` when it lies outside that folder.
"""

from __future__ import annotations

import getpass
import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any

from vdcaudit.io.atomic import file_digest
from vdcaudit.io.reads import ReadLog
from vdcaudit.resources import data_path

REPORT_KEYS = ("title", "organisation", "engagement", "prepared_by", "reviewed_by")
# Folders (an SDN fabric) are listed file by file, up to this many files each
FILES_PER_FOLDER = 500


def shown_path(location: str, cwd: Path | None = None) -> str:
    """A source location as the report prints it: URLs as they are, files relative to `cwd`."""
    if "://" in location:
        return location
    return _relative(location, str(cwd) if cwd else os.getcwd())


@lru_cache(maxsize=4096)  # the findings of one template share its path: resolved once
def _relative(location: str, cwd: str) -> str:
    path = Path(location).resolve()
    base = Path(cwd).resolve()
    if path.is_relative_to(base):
        return path.relative_to(base).as_posix() or "."
    for name in ("demo", "demo-next", "rules"):
        shipped = data_path(name).resolve()
        if path.is_relative_to(shipped):
            return (Path(f"<vdcaudit>/{name}") / path.relative_to(shipped)).as_posix()
    return Path(os.path.relpath(path, base)).as_posix()


def shown_location(location: str) -> str:
    """`file:line` (a waiver's place in its file) with the file as shown_path prints it."""
    path, sep, line = location.rpartition(":")
    if sep and line.isdigit() and path:
        return f"{shown_path(path)}:{line}"
    return shown_path(location)


def _entries(role: str, path: Path, cwd: Path | None, reads: ReadLog | None) -> list[dict[str, Any]]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())[:FILES_PER_FOLDER]
        return [entry for f in files for entry in _entries(role, f, cwd, reads)]
    read = reads.get(path) if reads is not None else None
    if read is not None:  # what the scan parsed, whatever the file holds now
        return [{"role": role, "path": shown_path(str(path), cwd), "sha256": read.sha256, "bytes": read.size}]
    if not path.is_file():
        return []
    return [{"role": role, "path": shown_path(str(path), cwd), "sha256": file_digest(path), "bytes": path.stat().st_size}]


def scan_inputs(sources: list[dict[str, Any]], config_path: Path | None, waivers_path: Path | None,
                baseline_path: Path | None, reads: ReadLog | None = None, cwd: Path | None = None) -> list[dict[str, Any]]:
    """Every file the scan read (sources, config, waivers, baseline): role, path, sha256, bytes;
    the digest of the bytes the scan read where `reads` logged them. A live source (a URL) has no
    file; the report lists it under the scope instead."""
    entries: list[dict[str, Any]] = []
    for record in sources:
        location = str(record.get("location", ""))
        if location and "://" not in location:
            entries += _entries(str(record.get("kind", "source")), Path(location), cwd, reads)
    for role, path in (("config", config_path), ("waivers", waivers_path), ("baseline", baseline_path)):
        if path is not None:
            entries += _entries(role, path, cwd, reads)
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        unique.setdefault((entry["role"], entry["path"]), entry)
    return list(unique.values())


def operator() -> str:
    """user@host of the process that ran the scan."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container's arbitrary user)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def report_facts(settings: dict[str, str], title: str | None) -> dict[str, str]:
    """The `report:` section of vdcaudit.yaml, with --title over its title, and the operator."""
    facts = {key: str(settings[key]) for key in REPORT_KEYS if settings.get(key)}
    if title:
        facts["title"] = title
    facts["operator"] = operator()
    return facts
