"""Every input file is read through `read_input`, once: while a scan records (`recording`), each
read is logged by path with the SHA-256 and size of the bytes the scan parsed, so the report's
provenance and the evidence bundle state what was scanned, not what a second read of the same
path finds later (a file rewritten mid-scan, an export still being written).

With a spool folder (an evidence bundle's staging), the bytes read are also written there as
they are read, under their digest: the bundle takes its copy of an input from the spool, never
from the user's file again. A path read twice with different bytes within one scan is refused
(InputError): the scan would otherwise have judged two versions of one file.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vdcaudit.errors import InputError


@dataclass(frozen=True)
class Read:
    sha256: str
    size: int
    spooled: Path | None  # the bytes as read, when the log spools


class ReadLog:
    """What one scan read: resolved path -> Read."""

    def __init__(self, spool: Path | None = None) -> None:
        self.spool = spool
        self._reads: dict[Path, Read] = {}
        self._lock = threading.Lock()  # the live collector's workers share the log

    def record(self, path: Path, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        key = path.resolve()
        with self._lock:
            earlier = self._reads.get(key)
            if earlier is not None:
                if earlier.sha256 != digest:
                    raise InputError("changed while the scan was reading it: scan it again once it is complete", path)
                return
            spooled = None
            if self.spool is not None:
                spooled = self.spool / digest
                if not spooled.exists():
                    self.spool.mkdir(parents=True, exist_ok=True)
                    spooled.write_bytes(data)
            self._reads[key] = Read(digest, len(data), spooled)

    def get(self, path: Path) -> Read | None:
        """The read of `path` in this scan, if it was read."""
        with self._lock:
            return self._reads.get(path.resolve())


_active: ReadLog | None = None


@contextmanager
def recording(log: ReadLog) -> Iterator[ReadLog]:
    """Log every read_input of the block (one scan per process at a time)."""
    global _active
    previous, _active = _active, log
    try:
        yield log
    finally:
        _active = previous


def read_input(path: Path) -> bytes:
    """The file's bytes, logged when a scan records. OSError is the caller's to word."""
    data = path.read_bytes()
    if _active is not None:
        _active.record(path, data)
    return data
