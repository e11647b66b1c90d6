"""Open an evidence bundle (folder or .zip) for checking: a zip is extracted into a temporary
folder first, member by member, within budgets (no absolute or `..` names, no links, a cap on the
total size), so a hostile archive cannot write outside it or fill the disk."""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from vdcaudit.bundle.layout import FORMAT, MANIFEST, is_zip
from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import read_json

MAX_EXTRACTED_BYTES = 8 << 30
MAX_MEMBERS = 1_000_000


@dataclass
class OpenBundle:
    name: Path  # as given
    folder: Path  # where its files are
    manifest: dict[str, Any]


def _extract(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_MEMBERS:
                raise InputError(f"holds more than {MAX_MEMBERS} files", archive)
            budget = MAX_EXTRACTED_BYTES
            for member in members:
                parts = PurePosixPath(member.filename).parts
                if member.filename.startswith("/") or ".." in parts or "\\" in member.filename or not parts:
                    raise InputError(f"unsafe name in the archive: {member.filename!r}", archive)
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise InputError(f"link in the archive: {member.filename!r}", archive)
                if member.is_dir():
                    continue
                target = into.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source, open(target, "wb") as sink:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        budget -= len(block)
                        if budget < 0:
                            raise InputError(f"extracts to more than {MAX_EXTRACTED_BYTES >> 30} GiB", archive)
                        sink.write(block)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise InputError(f"not a readable zip archive: {exc}", archive) from None
    except OSError as exc:
        raise InputError(f"cannot read: {(exc.strerror or str(exc)).lower()}", archive) from None


@contextmanager
def open_bundle(path: Path) -> Iterator[OpenBundle]:
    temporary = None
    try:
        if is_zip(path):
            if not path.is_file():
                raise InputError("no such file", path)
            temporary = Path(tempfile.mkdtemp(prefix="vdcaudit-bundle-"))
            _extract(path, temporary)
            folder = temporary
        elif path.is_dir():
            folder = path
        else:
            raise InputError("no such bundle (a folder or .zip written by --evidence)", path)
        if not (folder / MANIFEST).is_file():
            raise InputError(f"no {MANIFEST}: not an evidence bundle", path)
        manifest = read_json(folder / MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InputError(f"{MANIFEST} is not a {FORMAT} manifest", path)
        if not isinstance(manifest.get("files"), dict):
            raise InputError(f"{MANIFEST}: `files` must be an object", path)
        yield OpenBundle(path, folder, manifest)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
