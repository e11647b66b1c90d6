"""A large scan's report formats are split between the command's process and a forked worker:
the files must be exactly what one process writes, and any failure on either side must leave
every old report as it was and no temporary file behind."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from vdcaudit import render_worker
from vdcaudit.errors import InputError
from vdcaudit.io.atomic import file_digest
from vdcaudit.commands.output import MANIFEST, write_reports
from vdcaudit.reports import RENDERERS, Renderer
from vdcaudit.scan import ScanResult

FORMATS = ["json", "html", "sarif", "junit", "csv", "md"]


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_worker, "PARALLEL_FROM_FINDINGS", 0)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_costliest_formats_go_to_opposite_sides() -> None:
    here, there = render_worker.split(FORMATS)
    assert sorted(here + there) == sorted(FORMATS) and here and there
    assert {"csv", "junit"} & set(here) and {"csv", "junit"} & set(there)


def test_worker_output_is_byte_for_byte_what_one_process_writes(demo_result: ScanResult, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               forked_workers: list[str]) -> None:
    write_reports(demo_result, FORMATS, tmp_path / "one")
    assert not forked_workers  # the demo is far below the threshold: one process
    monkeypatch.setattr(render_worker, "PARALLEL_FROM_FINDINGS", 0)
    write_reports(demo_result, FORMATS, tmp_path / "two")
    assert len(forked_workers) == 1 and forked_workers[0].startswith("the worker rendering ")
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    manifest = json.loads((tmp_path / "two" / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert {name: entry["sha256"] for name, entry in manifest.items()} == \
        {RENDERERS[f].filename: file_digest(tmp_path / "two" / RENDERERS[f].filename) for f in FORMATS}


def _old_reports(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    for name in FORMATS:
        (folder / RENDERERS[name].filename).write_bytes(b"old " + name.encode())
    return _files(folder)


@pytest.mark.parametrize("side", [0, 1], ids=["here", "in the worker"])
def test_a_full_disk_keeps_every_old_report(side: int, parallel: None, demo_result: ScanResult, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    before = _old_reports(out)
    failing = render_worker.split(FORMATS)[side][-1]

    def full(result: ScanResult, stream: Any) -> None:
        stream.write(b"half a report")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setitem(RENDERERS, failing, Renderer(RENDERERS[failing].filename, full))
    with pytest.raises(InputError) as raised:
        write_reports(demo_result, FORMATS, out)
    assert raised.value.one_line() == f"{out / RENDERERS[failing].filename}: cannot write: no space left on device"
    assert _files(out) == before  # nothing replaced, no temporary file left


def test_a_worker_that_dies_fails_the_write(parallel: None, demo_result: ScanResult, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    before = _old_reports(out)
    worker_side = render_worker.split(FORMATS)[1][0]

    def die(result: ScanResult, stream: Any) -> None:
        os._exit(9)
    monkeypatch.setitem(RENDERERS, worker_side, Renderer(RENDERERS[worker_side].filename, die))
    with pytest.raises(InputError, match=r"stopped without a result \(exit code 9\)"):
        write_reports(demo_result, FORMATS, out)
    assert _files(out) == before


def test_a_failure_here_stops_the_worker_and_keeps_the_old_reports(parallel: None, demo_result: ScanResult,
                                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    before = _old_reports(out)
    own_side = render_worker.split(FORMATS)[0][0]

    def broken(result: ScanResult, stream: Any) -> None:
        raise InputError("broken here")
    monkeypatch.setitem(RENDERERS, own_side, Renderer(RENDERERS[own_side].filename, broken))
    with pytest.raises(InputError, match="broken here"):
        write_reports(demo_result, FORMATS, out)
    assert _files(out) == before
