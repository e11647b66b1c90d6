"""Write the requested reports: every format is rendered first, then each is staged beside its
target and all are renamed only when every one was written, so a failure leaves no half report."""

from __future__ import annotations

import os
from pathlib import Path

from vdcaudit.atomic import stage
from vdcaudit.errors import InputError
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult


def write_reports(result: ScanResult, formats: list[str], out_dir: Path) -> list[Path]:
    rendered = [(out_dir / RENDERERS[name].filename, RENDERERS[name].render(result)) for name in formats]
    staged: list[tuple[Path, Path]] = []
    try:
        for final, content in rendered:
            staged.append((stage(final, content), final))
    except OSError as exc:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise InputError(f"cannot write report: {exc.strerror or exc}", out_dir) from None
    for temp, final in staged:
        os.replace(temp, final)
    return [final for _, final in staged]
