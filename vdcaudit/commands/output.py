"""Write the requested reports as one set (vdcaudit.io.atomic.FileSet): every format is written to a
temporary file first and all are renamed only when every one was written, so a failure leaves
every old report as it was and no temporary file behind.

Stale reports: vdcaudit never deletes a file it was not asked to write. It keeps a small manifest
in the folder (MANIFEST: "files", file name -> format and sha256 of what this scan wrote). A report
an earlier scan wrote there that this scan did not ask for, unchanged since (same sha256), is kept
and moved to the manifest's "stale" list with the start of the scan it belongs to, so a reader of
the folder can tell which files describe which scan; the terminal says so. A report file of a known
name that vdcaudit cannot vouch for (not in the manifest, or changed since) is left alone and
listed as not from this scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdcaudit.io.atomic import FileSet, check_folder, check_replaceable, file_digest, json_bytes, kind_of
from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import read_json
from vdcaudit.render_worker import render_all
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult

MANIFEST = ".vdcaudit-manifest.json"


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)
    earlier: list[Path] = field(default_factory=list)  # reports of an earlier scan, kept, marked stale
    stale: list[Path] = field(default_factory=list)  # report files vdcaudit cannot vouch for, kept


def check_targets(formats: list[str], out_dir: Path) -> None:
    """Before a scan that may take minutes: refuse an --out that is no folder and any report path
    that is not a regular file. write_reports checks again when it writes."""
    check_folder(out_dir)
    for name in [*(RENDERERS[f].filename for f in formats), MANIFEST]:
        check_replaceable(out_dir / name)


def write_reports(result: ScanResult, formats: list[str], out_dir: Path) -> Written:
    check_targets(formats, out_dir)
    previous, started_before = _read_manifest(out_dir)
    current = {RENDERERS[name].filename for name in formats}
    written = Written()
    earlier = _earlier_reports(out_dir, previous, started_before, current, written)
    entries: dict[str, dict[str, Any]] = {}
    with FileSet(out_dir) as files:
        # Each renderer streams into its temporary file, finding by finding; a large scan's formats
        # are split between this process and a worker (vdcaudit.render_worker).
        for name, digest in render_all(result, formats, files).items():
            entries[RENDERERS[name].filename] = {"format": name, "sha256": digest}
        files.write(MANIFEST, json_bytes({"tool": result.tool, "scan_started": result.started.isoformat(),
                                          "files": entries, "stale": earlier}))
    written.paths = [out_dir / filename for filename in entries]
    return written


def _read_manifest(out_dir: Path) -> tuple[dict[str, Any], str]:
    """The reports the manifest here vouches for (the earlier scan's and those it already marked
    stale, each with the start of its scan), and that scan's start; ({}, "") when there is no
    readable manifest: then no file is vouched for."""
    path = out_dir / MANIFEST
    if kind_of(path) is not None or not path.is_file():
        return {}, ""
    try:
        document = read_json(path)
    except InputError:
        return {}, ""
    if not isinstance(document, dict):
        return {}, ""
    started = str(document.get("scan_started") or "")
    vouched: dict[str, Any] = {}
    for key in ("stale", "files"):  # the earlier scan's own files win over what it carried as stale
        listed = document.get(key)
        if isinstance(listed, dict):
            vouched.update({name: {"scan_started": started, **entry} if key == "files" else entry
                            for name, entry in listed.items() if isinstance(entry, dict)})
    return vouched, started


def _earlier_reports(out_dir: Path, previous: dict[str, Any], started_before: str, current: set[str],
                     written: Written) -> dict[str, Any]:
    """Report files this scan does not rewrite: those the manifest vouches for (unchanged since) are
    kept and listed as stale with their scan's start; the others are kept and named as unknown."""
    stale: dict[str, Any] = {}
    for filename in sorted({r.filename for r in RENDERERS.values()} - current):
        path = out_dir / filename
        if not path.exists() or kind_of(path) is not None:
            continue
        entry = previous.get(filename)
        try:
            vouched = entry is not None and file_digest(path) == entry.get("sha256")
        except OSError:
            vouched = False
        if vouched and entry is not None:
            stale[filename] = {"format": entry.get("format"), "sha256": entry.get("sha256"),
                               "scan_started": entry.get("scan_started") or started_before}
            written.earlier.append(path)
        else:
            written.stale.append(path)
    return stale

