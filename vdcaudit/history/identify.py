"""Looking at a history database without changing it.

`identify_sqlite_file`: before vdcaudit opens a SQLite file for writing (which sets WAL mode, a
change to the file's header, and leaves -wal/-shm files beside it), the file is read read-only and,
unless it is a WAL database in use, immutable (no lock, no journal, no side file), and refused unless it is empty or a vdcaudit history
(its Alembic revision table names one of vdcaudit's revisions). See sqlite.org/uri.html ("mode=ro",
"immutable=1") and sqlite.org/fileformat.html (the 100-byte header).

`damaged_row`: when a stored value does not read back (a date that is not a date, counts that are
not JSON), which table, row and column it is, found by SQL so that the message can name it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import JSON, DateTime, Engine, text

from vdcaudit.errors import InputError
from vdcaudit.history.schema import metadata
from vdcaudit.untrusted import safe_text

SQLITE_MAGIC = b"SQLite format 3\x00"
VERSIONS_TABLE = "alembic_version"


def identify_sqlite_file(path: Path, shown: str) -> None:
    """Nothing when `path` is absent, empty, or a vdcaudit history; else InputError, the file untouched."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", shown) from None
    if not header.startswith(SQLITE_MAGIC):
        raise InputError("not a vdcaudit history (not a SQLite database); left unchanged", shown)
    # immutable: no lock, no journal, no side file. But a WAL database in use (its -wal/-shm are
    # there: another vdcaudit recording now) is read with its locks, to see a consistent state.
    in_use = header[18:20] == b"\x02\x02" and any(path.with_name(path.name + s).exists() for s in ("-wal", "-shm"))
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if in_use else "&immutable=1")
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = ({row[0] for row in connection.execute(f"SELECT version_num FROM {VERSIONS_TABLE}")}
                         if VERSIONS_TABLE in tables else set())
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not a vdcaudit history (unreadable SQLite file: {exc}); left unchanged", shown) from None
    if not tables:
        return  # an empty database: a new history
    if not revisions or not {"scans", "scan_findings"} <= tables:
        raise InputError("not a vdcaudit history (it has tables but no vdcaudit schema revision); left unchanged",
                         shown)
    # A revision this vdcaudit does not know is a newer one's history: Database says so when it opens.


def damaged_row(engine: Engine) -> str | None:
    """The first stored value of a vdcaudit table that does not read back, described as
    'table id N: column ... (value)', or None when every date and JSON value is sound."""
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            key = ", ".join(column.name for column in table.primary_key.columns)
            for column in table.columns:
                if isinstance(column.type, DateTime):
                    bad = (f"{column.name} IS NOT NULL AND (typeof({column.name}) != 'text' OR "
                           f"datetime({column.name}) IS NULL)")
                    what = "is not a date-time"
                elif isinstance(column.type, JSON):
                    bad = f"{column.name} IS NOT NULL AND (typeof({column.name}) != 'text' OR NOT json_valid({column.name}))"
                    what = "is not JSON"
                else:
                    continue
                row = connection.execute(text(
                    f"SELECT {key}, {column.name} FROM {table.name} WHERE {bad} LIMIT 1")).first()
                if row is not None:
                    where = ", ".join(f"{name} {value}" for name, value in zip(key.split(", "), row[:-1]))
                    return f"{table.name} {where}: {column.name} {what} ({safe_text(row[-1], 80)!s})"
    return None
