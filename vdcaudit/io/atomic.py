"""Write files so that a failure never damages what was there: every file of a set goes to a
temporary file beside its target first; only when all of them are complete are they renamed over
their targets. If anything fails, the temporary files are removed, every target keeps its old
content (a target already replaced is put back from a hard-link backup) and one InputError names
the path.

Only regular files are ever replaced: a symlink, a folder, a device node (/dev/full, /dev/null),
a FIFO or a socket where a file should go is refused before anything is written.

    with FileSet(out_dir) as files:
        stream = files.open("vdcaudit-findings.json")   # a binary file object, written piece by piece
        stream.write(...)
    # here every file is in place, or none was touched
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from vdcaudit.errors import InputError

_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def kind_of(path: Path) -> str | None:
    """What is at path when it is not a regular file ("a folder", "a symbolic link", ...); None
    when nothing is there or a regular file is."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot write: {reason(exc)}", path) from None
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_replaceable(path: Path) -> None:
    """Refuse a target that is not a regular file (nothing there is fine)."""
    kind = kind_of(path)
    if kind is not None:
        raise InputError(f"is {kind}, not a regular file: refusing to replace it", path)


def check_folder(folder: Path) -> None:
    """The folder files are written into: it may be missing (it is created), never something else."""
    try:
        mode = os.stat(folder).st_mode  # a symlink to a folder is a folder the user chose
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot write: {reason(exc)}", folder) from None
    if not stat.S_ISDIR(mode):
        kind = kind_of(folder) or "a file"
        raise InputError(f"is {kind}, not a folder: cannot write files into it", folder)


def reason(exc: OSError) -> str:
    """What happened, in words: 'no space left on device', 'file too large', 'permission denied'."""
    return (exc.strerror or str(exc)).lower().rstrip(".") or type(exc).__name__


class FileSet:
    """Files written together into one folder (names may hold subfolders: "hosts/hv01.json")."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._staged: list[tuple[Path, Path, BinaryIO]] = []  # (temp, final, open stream)

    def __enter__(self) -> FileSet:
        return self

    def target(self, name: str) -> Path:
        return self.folder / name

    def open(self, name: str) -> BinaryIO:
        """A binary stream into the temporary file of `name`; closed and renamed by the set."""
        final = self.target(name)
        check_folder(self.folder)
        check_folder(final.parent)
        check_replaceable(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        except OSError as exc:
            self._discard()
            raise InputError(f"cannot write: {reason(exc)}", final) from None
        # renderers write finding by finding; the sha256 is taken on the way to the file
        stream: BinaryIO = io.BufferedWriter(_Hashing(io.FileIO(handle, "wb")), 1 << 20)  # type: ignore[arg-type]
        self._staged.append((Path(temp), final, stream))
        return stream

    def write(self, name: str, content: bytes) -> None:
        self.open(name).write(content)

    def stream(self, name: str) -> BinaryIO:
        """The stream open() gave for `name`."""
        return self._entry(name)[2]

    def digest(self, name: str) -> str:
        """sha256 of what has been written to `name` so far (its stream is flushed first)."""
        stream = self._entry(name)[2]
        stream.flush()
        return stream.raw.sha.hexdigest()  # type: ignore[attr-defined]

    def _entry(self, name: str) -> tuple[Path, Path, BinaryIO]:
        final = self.target(name)
        return next(entry for entry in self._staged if entry[1] == final)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            where = self._staged[-1][1] if self._staged else self.folder  # the file being written
            self._discard()
            if isinstance(error, OSError):  # a render writing into its stream hit a full disk, say
                raise InputError(f"cannot write: {reason(error)}", where) from None
            return  # the caller's exception propagates
        self._commit()

    def _discard(self) -> None:
        for temp, _, stream in self._staged:
            try:
                stream.close()
            except OSError:
                pass
            temp.unlink(missing_ok=True)
        self._staged.clear()

    def _commit(self) -> None:
        # 1. finish every temporary file (a full disk often shows only at flush or close)
        for temp, final, stream in self._staged:
            try:
                stream.flush()
                os.fsync(stream.fileno())
                stream.close()
                os.chmod(temp, 0o644)  # mkstemp makes 0600; reports and snapshots are meant to be shared
            except OSError as exc:
                self._discard()
                raise InputError(f"cannot write: {reason(exc)}", final) from None
        # 2. the targets may have changed since open(): check again, then keep a backup of each
        backups: dict[Path, Path] = {}
        try:
            for _, final, _ in self._staged:
                check_replaceable(final)
                if final.exists():
                    backups[final] = _backup(final)
        except (OSError, InputError) as exc:
            for backup in backups.values():
                backup.unlink(missing_ok=True)
            self._discard()
            if isinstance(exc, InputError):
                raise
            raise InputError(f"cannot write: {reason(exc)}", final) from None
        # 3. rename; on a failure put back what was replaced and remove what was new
        done: list[Path] = []
        for temp, final, _ in self._staged:
            try:
                os.replace(temp, final)
            except OSError as exc:
                for restored in done:
                    if restored in backups:
                        os.replace(backups.pop(restored), restored)
                    else:
                        restored.unlink(missing_ok=True)
                for backup in backups.values():
                    backup.unlink(missing_ok=True)
                self._discard()
                raise InputError(f"cannot write: {reason(exc)}", final) from None
            done.append(final)
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        self._staged.clear()


class _Hashing(io.RawIOBase):
    """A file that hashes (sha256) what is written to it, as it is written."""

    def __init__(self, file: io.FileIO) -> None:
        self.file = file
        self.sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        written = self.file.write(data)
        self.sha.update(memoryview(data)[:written])
        return written

    def fileno(self) -> int:
        return self.file.fileno()

    def close(self) -> None:
        self.file.close()
        super().close()


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _backup(path: Path) -> Path:
    """A second name for the old file (a hard link: no copy), or a copy where links are not
    supported, so it can be put back if a later rename of the set fails."""
    backup = path.with_name(f".{path.name}.{secrets.token_hex(6)}.old")
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def write_atomically(path: Path, content: bytes) -> None:
    """One file, the same guarantees as a FileSet."""
    with FileSet(path.parent) as files:
        files.write(path.name, content)


def json_bytes(document: Any, indent: int = 2) -> bytes:
    return (json.dumps(document, indent=indent, ensure_ascii=False, default=str) + "\n").encode("utf-8")
