"""A throw-away PostgreSQL cluster for the history tests and benchmark: initdb + pg_ctl in a
temporary folder (as the `postgres` user when run as root: PostgreSQL refuses to run as root),
listening on 127.0.0.1 on a free port, removed on stop."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "vdcaudit"


class NoPostgres(RuntimeError):
    """PostgreSQL could not be started here; the message says why."""


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise NoPostgres("no initdb (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    base: Path
    port: int
    run_as: list[str]
    pg_ctl: Path

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.pg_ctl), "-D", str(self.base / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> Cluster:
    binaries = _binaries()
    try:
        import psycopg  # noqa: F401  (the driver the history uses)
    except ImportError as exc:
        raise NoPostgres(f"psycopg is not installed ({exc})") from None
    base = Path(tempfile.mkdtemp(prefix="vdcaudit-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            raise NoPostgres("running as root and there is no `postgres` user to run the server as") from None
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    cluster = Cluster(base, port, run_as, binaries / "pg_ctl")
    steps = [
        [str(binaries / "initdb"), "-D", str(base / "data"), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        [str(binaries / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "server.log"), "-w", "-t", "60", "-o",
         f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off "
         "-c synchronous_commit=off -c full_page_writes=off", "start"],
    ]
    for step in steps:
        done = subprocess.run([*run_as, *step], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
            cluster.stop()
            raise NoPostgres(f"{Path(step[0]).name} failed: {(done.stderr or done.stdout or log).strip()[-400:]}")
    return cluster
