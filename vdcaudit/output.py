"""Write the requested reports: every format is streamed into a temporary file beside its target,
and all are renamed only when every one was written, so a failure leaves no half report."""

from __future__ import annotations

import os
from pathlib import Path

from vdcaudit.atomic import stage_stream
from vdcaudit.errors import InputError
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult


def write_reports(result: ScanResult, formats: list[str], out_dir: Path) -> list[Path]:
    staged: list[tuple[Path, Path]] = []
    try:
        for name in formats:
            renderer = RENDERERS[name]
            final = out_dir / renderer.filename
            staged.append((stage_stream(final, lambda stream: renderer.write(result, stream)), final))
    except OSError as exc:
        _discard(staged)
        raise InputError(f"cannot write report: {exc.strerror or exc}", out_dir) from None
    except BaseException:
        _discard(staged)
        raise
    for temp, final in staged:
        os.replace(temp, final)
    return [final for _, final in staged]


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for temp, _ in staged:
        temp.unlink(missing_ok=True)
