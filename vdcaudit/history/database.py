"""Opening a history: a file path means SQLite, a URL means that database (PostgreSQL through
psycopg 3). Both get the same tables, migrated with Alembic on open; a history written by a newer
vdcaudit is refused. Writers are serialised by the database itself: SQLite's write lock (WAL,
BEGIN IMMEDIATE, a busy timeout) or a PostgreSQL advisory lock, so scans recorded at the same time
from several processes or runners all land."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from vdcaudit.errors import InputError
from vdcaudit.history.identify import damaged_row, identify_sqlite_file
from vdcaudit.history.schema import metadata
from vdcaudit.untrusted import mask_credentials, safe_text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 120_000  # how long a SQLite writer waits for another one to commit
# One advisory lock for every writer of a PostgreSQL history (an arbitrary constant: "vdca")
PG_WRITE_LOCK = 0x76646361
_SECRET_QUERY = re.compile(r"((?:password|passwd|pwd|sslpassword|token|secret)=)[^&\s]*", re.IGNORECASE)


def masked(target: str) -> str:
    """The history location as it may be printed: no password, in the URL or its query string."""
    if "://" not in target:
        return safe_text(target, limit=None)
    try:
        shown = make_url(target).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # e.g. a port that is not a number: masked as text
        shown = mask_credentials(target)
    return safe_text(_SECRET_QUERY.sub(r"\1***", shown), limit=None)


def _url(target: str) -> str:
    if "://" not in target:
        path = Path(target).expanduser()
        if path.is_dir():
            raise InputError("is a folder; --history takes a database file (created on first use) or a URL", target)
        if not path.parent.is_dir():
            raise InputError(f"folder {path.parent} does not exist", target)
        return f"sqlite:///{path.resolve()}"
    try:
        url = make_url(target)
        url.port  # noqa: B018 - parsed lazily by some versions: a port that is not a number fails here
    except (ArgumentError, ValueError):
        raise InputError("not a database URL (a file path, or postgresql://user@host[:port]/db)",
                         masked(target)) from None
    if url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise InputError(f"unsupported database {url.get_backend_name()} (a SQLite file path or postgresql://...)",
                         masked(target))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, the vdcaudit[postgres] extra
    return url.render_as_string(hide_password=False)


def _sqlite_setup(engine: Engine) -> None:
    """pysqlite begins transactions lazily and never before DDL; take over so that a transaction is
    a real one, and a writer takes the write lock at BEGIN (IMMEDIATE), waiting for others."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    def __init__(self, target: str) -> None:
        self.shown = masked(target)
        url = _url(target)
        if url.startswith("sqlite:///"):
            # Looked at read-only before any PRAGMA or write: another application's file is refused
            # exactly as it was, without -wal/-shm files left beside it.
            identify_sqlite_file(Path(url[len("sqlite:///"):]), self.shown)
        try:
            self.engine = create_engine(url, future=True)
        except (NoSuchModuleError, ArgumentError) as exc:
            raise InputError(f"not a database URL ({exc}); use a file path or postgresql://...", self.shown) from None
        except ModuleNotFoundError as exc:
            raise InputError(f"{exc.name} is not installed (pip install 'vdcaudit[postgres]')", self.shown) from None
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        with self.errors():
            self._migrate()

    def fail(self, exc: Exception) -> InputError:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return InputError(f"history database: {detail}", self.shown)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors as one clear line naming the (masked) history."""
        try:
            yield
        except (DBAPIError, SQLAlchemyError) as exc:
            raise self.fail(exc) from None
        except (ValueError, TypeError):  # a stored value that does not read back: which row?
            damage = damaged_row(self.engine) if self.dialect == "sqlite" else None
            if damage is None:
                raise
            raise InputError(f"history database: damaged row: {damage}; repair or remove that scan "
                             "(vdcaudit history prune) before recording again", self.shown) from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction that holds the history's write lock until it commits."""
        with self.errors(), self.engine.connect() as plain:
            connection = plain.execution_options(write=True)
            with connection.begin():
                if self.dialect == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK})
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One transaction, so what is read is one consistent state."""
        with self.errors(), self.engine.connect() as connection, connection.begin():
            yield connection

    def _migrate(self) -> None:
        scripts = ScriptDirectory(str(MIGRATIONS))
        head = scripts.get_current_head()
        known = {rev.revision for rev in scripts.walk_revisions()}
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        if current is not None and current not in known:
            raise InputError(f"written by a newer vdcaudit (schema revision {current}, this version knows up to "
                             f"{head}); upgrade vdcaudit to read it", self.shown)
        with self.write() as connection:
            # Looked at again under the write lock: another vdcaudit opening the same new history
            # may have created the tables (and the revision) since the read above, and must not
            # make this one take the history for somebody else's database.
            if MigrationContext.configure(connection).get_current_revision() is None:
                self._refuse_foreign(connection)
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")  # re-reads the revision under the lock: a racing opener did it

    def _refuse_foreign(self, connection: Connection) -> None:
        """A database with other tables, or some of ours without a revision, is not a history to
        migrate: never write into somebody else's database."""
        tables = set(inspect(connection).get_table_names())
        ours = set(metadata.tables)
        if (self.dialect == "sqlite" and tables) or (tables & ours):
            raise InputError("not a vdcaudit history (it has tables but no vdcaudit schema revision)", self.shown)

    def close(self) -> None:
        self.engine.dispose()
