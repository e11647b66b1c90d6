"""Write files so that a failure never leaves half a file behind: content goes to a temporary file
in the target folder, which is renamed over the target only when it is complete."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import Any, BinaryIO

from vdcaudit.errors import InputError


def stage(path: Path, content: bytes) -> Path:
    """Write content to a temporary file beside path; the caller renames it (os.replace)."""
    return stage_stream(path, lambda stream: stream.write(content))


def stage_stream(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Let `write` stream into a temporary file beside path; the caller renames it (os.replace).
    Whatever `write` raises, the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb", buffering=1 << 20) as stream:
            write(stream)
        os.chmod(temp, 0o644)  # mkstemp makes 0600; reports and snapshots are meant to be shared
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_atomically(path: Path, content: bytes) -> None:
    try:
        os.replace(stage(path, content), path)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path) from None


def json_bytes(document: Any, indent: int = 2) -> bytes:
    return (json.dumps(document, indent=indent, ensure_ascii=False, default=str) + "\n").encode("utf-8")
