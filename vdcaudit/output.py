"""Write the requested reports as one set (vdcaudit.atomic.FileSet): every format is written to a
temporary file first and all are renamed only when every one was written, so a failure leaves
every old report as it was and no temporary file behind.

Stale reports: a folder of reports must describe one scan. vdcaudit keeps a small manifest in the
folder (MANIFEST: file name -> format and sha256 of what it wrote). A report that an earlier scan
wrote there, that this scan did not ask for, and that is unchanged since (same sha256) is removed
once the new set is in place. A report file of a known name that vdcaudit cannot vouch for (not in
the manifest, or changed since) is left alone and listed as stale in the terminal summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdcaudit.atomic import FileSet, check_folder, check_replaceable, file_digest, json_bytes, kind_of
from vdcaudit.errors import InputError
from vdcaudit.jsonfile import read_json
from vdcaudit.render_worker import render_all
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult

MANIFEST = ".vdcaudit-manifest.json"


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # stale reports of an earlier scan, removed
    stale: list[Path] = field(default_factory=list)  # report files left from elsewhere, kept


def check_targets(formats: list[str], out_dir: Path) -> None:
    """Before a scan that may take minutes: refuse an --out that is no folder and any report path
    that is not a regular file. write_reports checks again when it writes."""
    check_folder(out_dir)
    for name in [*(RENDERERS[f].filename for f in formats), MANIFEST]:
        check_replaceable(out_dir / name)


def write_reports(result: ScanResult, formats: list[str], out_dir: Path) -> Written:
    check_targets(formats, out_dir)
    previous = _read_manifest(out_dir)
    entries: dict[str, dict[str, Any]] = {}
    with FileSet(out_dir) as files:
        # Each renderer streams into its temporary file, finding by finding; a large scan's formats
        # are split between this process and a worker (vdcaudit.render_worker).
        for name, digest in render_all(result, formats, files).items():
            entries[RENDERERS[name].filename] = {"format": name, "sha256": digest}
        files.write(MANIFEST, json_bytes({"tool": result.tool, "scan_started": result.started.isoformat(),
                                          "files": entries}))
    written = Written(paths=[out_dir / filename for filename in entries])
    _tidy(out_dir, previous, set(entries), written)
    return written


def _read_manifest(out_dir: Path) -> dict[str, Any]:
    """The files an earlier scan wrote here ({} when there is no readable manifest: then nothing
    is removed, which is the safe side)."""
    path = out_dir / MANIFEST
    if kind_of(path) is not None or not path.is_file():
        return {}
    try:
        document = read_json(path)
    except InputError:
        return {}
    files = document.get("files") if isinstance(document, dict) else None
    return {name: entry for name, entry in files.items() if isinstance(entry, dict)} \
        if isinstance(files, dict) else {}


def _tidy(out_dir: Path, previous: dict[str, Any], current: set[str], written: Written) -> None:
    for filename in sorted({r.filename for r in RENDERERS.values()} - current):
        path = out_dir / filename
        if not path.exists() or kind_of(path) is not None:
            continue
        entry = previous.get(filename)
        try:
            if entry is not None and file_digest(path) == entry.get("sha256"):
                path.unlink()
                written.removed.append(path)
                continue
        except OSError:
            pass
        written.stale.append(path)

