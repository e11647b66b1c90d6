"""Write rendered reports: render every format first, then write each to a temporary file and
rename, so a failure never leaves a half-written report behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vdcaudit.errors import InputError
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult


def write_reports(result: ScanResult, formats: list[str], out_dir: Path) -> list[Path]:
    rendered = [(RENDERERS[name].filename, RENDERERS[name].render(result)) for name in formats]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder: {exc.strerror or exc}", out_dir) from None
    staged: list[tuple[str, Path]] = []
    try:
        for filename, content in rendered:
            handle, temp = tempfile.mkstemp(prefix=f".{filename}.", dir=out_dir)
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.chmod(temp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
            staged.append((temp, out_dir / filename))
    except OSError as exc:
        for temp, _ in staged:
            Path(temp).unlink(missing_ok=True)
        raise InputError(f"cannot write report: {exc.strerror or exc}", out_dir) from None
    for temp, final in staged:
        os.replace(temp, final)
    return [final for _, final in staged]
