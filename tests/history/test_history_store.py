"""The history store on SQLite and on a real PostgreSQL: first_seen, fixes, pruning, migrations,
one transaction per scan, concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.history.history_data import T0, finding, scan
from vdcaudit.errors import InputError
from vdcaudit.history.database import MIGRATIONS, masked
from vdcaudit.history.store import History

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def test_first_seen_is_carried_while_failing_and_fixes_give_the_mean_time_to_fix(history_target: str) -> None:
    with History(history_target) as history:
        history.record(scan(0, finding("a", "FAIL"), finding("b", "PASS"), finding("c", "FAIL", severity="low")))
        history.record(scan(2, finding("a", "FAIL"), finding("b", "FAIL"), finding("c", "UNKNOWN", severity="low")))
        third = history.record(scan(5, finding("a", "PASS"), finding("b", "FAIL"), finding("c", "FAIL", severity="low")))
        loaded = {f.resource_name: f for f in history.load(third.scan_id).findings}
        assert loaded["a"].first_seen is None
        assert loaded["b"].first_seen == T0 + timedelta(days=2)
        # losing sight of c (UNKNOWN) did not end its failing run
        assert loaded["c"].first_seen == T0
        assert [c.finding.resource_name for c in third.diff.changes["fixed"]] == ["a"]
        mttf = history.mean_time_to_fix("prod", T0)
        assert mttf == {"high": {"fixed": 1, "mean_days": 5.0}}
        assert list(history.fixed_in(third.scan_id).values())[0] == (T0, T0 + timedelta(days=5))


def test_a_finding_that_disappears_is_not_counted_as_fixed(history_target: str) -> None:
    with History(history_target) as history:
        history.record(scan(0, finding("a", "FAIL")))
        recorded = history.record(scan(1, finding("b", "PASS")))
        assert recorded.diff.count("gone") == 1 and recorded.diff.count("fixed") == 0
        assert history.mean_time_to_fix("prod", T0) == {}


def test_scopes_are_compared_only_with_themselves(history_target: str) -> None:
    with History(history_target) as history:
        history.record(scan(0, finding("a", "FAIL"), scope="mg-prod"))
        other = history.record(scan(1, finding("a", "PASS"), scope="mg-dev"))
        assert other.diff.before is None
        again = history.record(scan(2, finding("a", "PASS"), scope="mg-prod"))
        assert again.diff.count("fixed") == 1
        assert [row.scope for row in history.scans()] == ["mg-prod", "mg-dev", "mg-prod"]
        assert history.previous(again.scan_id) == 1


def test_prune_by_count_and_by_age(history_target: str) -> None:
    with History(history_target) as history:
        for day in range(5):
            history.record(scan(day, finding(f"only-{day}", "FAIL"), finding("shared", "PASS")))
        history.record(scan(0, finding("x", "FAIL"), scope="other"))
        assert history.prune(keep=2) == 3
        assert [(row.scope, row.started) for row in history.scans()] == [
            ("prod", T0 + timedelta(days=4)), ("prod", T0 + timedelta(days=3)), ("other", T0)]
        # findings only the deleted scans held are gone; the kept scans load whole
        assert {f.resource_name for f in history.load(history.scans()[0].id).findings} == {"only-4", "shared"}
        assert history.prune(older_than=timedelta(days=1)) == 3  # T0 is in the past
        assert history.scans() == []


def test_a_failure_inside_the_transaction_records_nothing(history_target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with History(history_target) as history:
        history.record(scan(0, finding("a", "FAIL")))

        def broken(*args: object) -> None:
            raise RuntimeError("disk full, say")

        monkeypatch.setattr(History, "_insert_findings", broken)
        with pytest.raises(RuntimeError):
            history.record(scan(1, finding("a", "PASS")))
        monkeypatch.undo()
        assert len(history.scans()) == 1
        assert history.record(scan(2, finding("a", "PASS"))).diff.count("fixed") == 1


def _writer(target: str, scope: str, scans: int, findings: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    return subprocess.Popen([sys.executable, str(HERE / "writer.py"), target, scope, str(scans), str(findings), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_a_writer_killed_half_way_records_nothing(history_target: str) -> None:
    History(history_target).close()  # created and migrated
    process = _writer(history_target, "killed", 1, 3000, "hang")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "inside", process.stderr.read() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with History(history_target) as history:
        assert history.scans() == []
        history.record(scan(0, finding("a", "FAIL"), scope="killed"))  # and the history still takes writes
        assert len(history.scans()) == 1


def test_two_processes_writing_at_once_both_land(history_target: str) -> None:
    writers = [_writer(history_target, scope, 4, 1500) for scope in ("left", "right")]
    for process in writers:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0 and out.strip() == "done", err
    with History(history_target) as history:
        rows = history.scans()
        assert sorted(row.scope for row in rows) == ["left"] * 4 + ["right"] * 4
        for row in rows:
            assert len(history.load(row.id).findings) == 1500


def _alembic_upgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{target}"


def test_an_older_history_is_migrated_on_open(history_target: str) -> None:
    _alembic_upgrade(_url(history_target), "0001")  # the first released schema
    engine = create_engine(_url(history_target).replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO scans (scope, started, finished, recorded, tool_version, rulepack, sources, coverage, rules, counts, score) "
            "VALUES ('prod', '2026-01-01 00:00:00', '2026-01-01 00:01:00', '2026-01-01 00:02:00', '0.0.9', 'r', '[]', '[]', '{}', "
            "'{\"by_status\": {\"FAIL\": 0}}', 50.0)"))
    engine.dispose()
    with History(history_target) as history:
        (old,) = history.scans()
        assert (old.tool_version, old.score, old.has_report) == ("0.0.9", 50.0, False)
        recorded = history.record(scan(0, finding("a", "FAIL")))
        history.attach_report(recorded.scan_id, b"<html></html>")  # a column the migration added
        assert history.report_html(recorded.scan_id) == b"<html></html>"


def test_a_newer_history_is_refused(history_target: str) -> None:
    History(history_target).close()
    engine = create_engine(_url(history_target).replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(InputError, match="written by a newer vdcaudit .schema revision 0099"):
        History(history_target)


def test_a_database_that_is_not_a_history_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER)")
    before = other.read_bytes()
    with pytest.raises(InputError, match="not a vdcaudit history"):
        History(str(other))
    # identified read-only: not switched to WAL (a header change), no -wal/-shm/-journal beside it
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
    text_file = tmp_path / "notes.db"
    text_file.write_text("just some text, long enough to be read as a header " * 4)
    with pytest.raises(InputError, match="notes.db: not a vdcaudit history .not a SQLite database"):
        History(str(text_file))


def test_passwords_never_appear_in_what_is_printed() -> None:
    assert masked("postgresql://scanner:s3cret@db.example:5432/vdc") == "postgresql://scanner:***@db.example:5432/vdc"
    assert "s3cret" not in masked("postgresql://db.example/vdc?password=s3cret&sslmode=require")
    assert masked("/var/lib/vdcaudit/history.db") == "/var/lib/vdcaudit/history.db"


def test_an_unreachable_postgresql_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(InputError) as caught:
        History("postgresql://scanner:s3cret@127.0.0.1:1/vdc?connect_timeout=3")
    assert "s3cret" not in str(caught.value)
    assert str(caught.value).startswith("postgresql://scanner:***@127.0.0.1:1/vdc")


def test_a_history_created_by_another_opener_meanwhile_is_opened_not_refused(history_target: str,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Two scans start at once on a new history: the second reads "no schema yet", then the first
    creates the tables before the second takes the write lock. The second must open the history
    the first made, not refuse it as somebody else's database (seen as a rare flake of the test above)."""
    from alembic.runtime.migration import MigrationContext

    from vdcaudit.history import database

    target = history_target
    seen_first = []

    class OtherOpenerMeanwhile:
        @staticmethod
        def configure(connection: object) -> object:
            context = MigrationContext.configure(connection)
            if seen_first:
                return context
            seen_first.append(context.get_current_revision())  # nothing there yet
            monkeypatch.setattr(database, "MigrationContext", MigrationContext)
            database.Database(target).close()  # the other vdcaudit creates the history now
            return type("Before", (), {"get_current_revision": lambda self: None})()

    monkeypatch.setattr(database, "MigrationContext", OtherOpenerMeanwhile)
    with History(target) as history:
        assert seen_first == [None] and history.scans() == []
