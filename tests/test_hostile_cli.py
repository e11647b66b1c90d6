"""Hostile inputs at the level a user meets them (the command line and its exit code): every piece of
work input drives has a budget, files that are not vdcaudit's are left as they were, text from input
is printed escaped and masked, and a crash is exit 3. Inputs are written as an attacker would."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.raw_server import RawServer

from vdcaudit.commands.cli import cli
from vdcaudit.errors import debug_enabled
from vdcaudit.history import notify
from tests.findings_json import findings_in

ROOT = Path(__file__).resolve().parent.parent
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"  # set the window title, clear the screen, go red


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, text


# --------------------------------------------------------------------------- JMESPath budget

DOUBLING_RULE = """\
id: VDC-ZZ-001
version: 1
title: A custom rule that doubles its data 34 times
severity: high
category: in-transit
resource_type: Microsoft.Storage/storageAccounts
assert: "length(properties{doubling}) > `0`"
rationale: written as an attacker (or a careless author) would
remediation: {{summary: none}}
references: {{baseline: none}}
"""


def test_a_rule_that_doubles_its_data_is_an_error_per_resource_and_validate_warns(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "VDC-ZZ-001.yaml").write_text(DOUBLING_RULE.format(doubling=" | [@, @][]" * 34))
    validated = CliRunner().invoke(cli, ["rules", "validate", str(rules)])
    assert validated.exit_code == 0, validated.output
    assert "warning:" in validated.output and "repeats the same sub-expression 34 time(s)" in validated.output

    code, output = run("scan", "--demo", "--rules", str(rules), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, output
    findings = findings_in(tmp_path / "out" / "vdcaudit-findings.json")
    ours = [f for f in findings if f["rule_id"] == "VDC-ZZ-001"]
    assert ours and {f["status"] for f in ours} == {"ERROR"}
    assert all("BudgetExceeded" in f["message"] and "steps" in f["message"] for f in ours)
    # the other rules judged the same resources as usual
    assert {f["status"] for f in findings if f["rule_id"] == "VDC-ST-002"} >= {"PASS", "FAIL"}


# --------------------------------------------------------------------------- webhooks

def _trickle(conn: socket.socket, server: RawServer) -> None:
    """Headers a byte at a time, slower than nothing but faster than any read timeout."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"a" * 100_000:
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


def _endless(conn: socket.socket, server: RawServer) -> None:
    """A 200 whose body never ends (7.5 GB in 40 s was read whole before)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    chunk = b"x" * 65536
    for _ in range(200_000):
        conn.sendall(chunk)


def _throttled(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n")


def _two_scans_notifying(tmp_path: Path, url: str) -> tuple[int, str]:
    target = str(tmp_path / "h.db")
    code, output = run("scan", "--demo", "--out", str(tmp_path / "a"), "--history", target, "--quiet")
    assert code == 0, output
    return run("scan", "--demo-next", "--out", str(tmp_path / "b"), "--history", target, "--quiet",
               "--notify-webhook", url)


@pytest.mark.parametrize("handler, failure", [
    (_trickle, "no answer within 1s (the deadline of a delivery)"),
    (_throttled, "HTTP 429 after 3 attempts"),
])
def test_a_hostile_webhook_cannot_hold_the_scan_and_the_reports_are_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handler: object, failure: str) -> None:
    monkeypatch.setattr(notify, "DEADLINE_SECONDS", 1.0)  # the real deadline is 15 s: same code path
    server = RawServer(handler, tmp_path, tls=False)  # type: ignore[arg-type]
    try:
        code, output = _two_scans_notifying(tmp_path, f"http://127.0.0.1:{server.port}/hook?token=s3cret")
    finally:
        server.close()
    assert code == 2, output
    assert (tmp_path / "b" / "vdcaudit-findings.json").is_file() and (tmp_path / "b" / "vdcaudit-report.html").is_file()
    assert f"notification to json+http://127.0.0.1/*** failed: {failure}" in output
    assert "s3cret" not in output


def test_a_webhook_reply_that_never_ends_is_read_only_up_to_its_limit(tmp_path: Path) -> None:
    server = RawServer(_endless, tmp_path, tls=False)
    try:
        hook = notify.parse_webhook(f"http://127.0.0.1:{server.port}/hook")
        # accepted (a 2xx): only the first REPLY_LIMIT bytes of the reply are read, then the connection is dropped
        assert notify.deliver(hook, {"schema": "test"}, deadline_seconds=30) is None
    finally:
        server.close()


def _unavailable_for_a_minute(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 60\r\nContent-Length: 8\r\n\r\n\x1b[2Jbusy")


def test_a_retry_after_past_the_deadline_is_not_waited_for(tmp_path: Path) -> None:
    server = RawServer(_unavailable_for_a_minute, tmp_path, tls=False)
    try:
        failure = notify.deliver(notify.parse_webhook(f"http://127.0.0.1:{server.port}/hook"), {"schema": "test"})
    finally:
        server.close()
    assert failure == "HTTP 503 (\\x1b[2Jbusy); retrying after 60s would pass the 15s deadline"
    assert len(server.requests) == 1


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert notify.retry_after_seconds("7") == 7.0
    assert notify.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert notify.retry_after_seconds("soon") is None and notify.retry_after_seconds(None) is None
    assert notify.retry_after_seconds("9" * 5000) == 86_400.0  # a day at most, and no 4,300-digit int()
    assert notify.retry_after_seconds("\u00b2") is None  # a digit to str.isdigit, not to int()


# --------------------------------------------------------------------------- history: files not ours

@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_another_applications_sqlite_file_is_refused_unchanged_and_the_reports_are_written(
        tmp_path: Path, journal: str) -> None:
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal}")
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        connection.execute("INSERT INTO invoices (total) VALUES (12.5)")
    connection.close()
    before = other.read_bytes()
    code, output = run("scan", "--demo", "--out", str(tmp_path / "out"), "--history", str(other), "--quiet")
    assert code == 2, output
    assert "the scan was not recorded" in output and "not a vdcaudit history" in output
    assert len(output.strip().splitlines()) == 1
    assert other.read_bytes() == before  # not switched to WAL: the header is byte-for-byte the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite", "out"]  # no -wal, -shm, -journal
    assert (tmp_path / "out" / "vdcaudit-findings.json").is_file()


def test_an_unreachable_history_still_writes_the_reports(tmp_path: Path) -> None:
    code, output = run("scan", "--demo", "--out", str(tmp_path / "out"), "--quiet",
                       "--history", "postgresql://scanner:s3cret@127.0.0.1:9/vdc?connect_timeout=3")
    assert code == 2, output
    assert "the scan was not recorded" in output and "s3cret" not in output
    assert (tmp_path / "out" / "vdcaudit-findings.json").is_file()


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history of two demo scans (recorded once for the tests that damage a copy of it)."""
    folder = tmp_path_factory.mktemp("history")
    for day, flag in (("a", "--demo"), ("b", "--demo-next")):
        code, output = run("scan", flag, "--out", str(folder / day), "--history", str(folder / "h.db"), "--quiet")
        assert code == 0, output
    return folder / "h.db"


@pytest.mark.parametrize("damage, named", [
    ("UPDATE scans SET started = 'last tuesday' WHERE id = 1", "scans id 1: started is not a date-time"),
    ("UPDATE scans SET counts = '{not json' WHERE id = 2", "scans id 2: counts is not JSON"),
])
def test_damaged_rows_are_exit_2_naming_the_history_and_the_row(tmp_path: Path, two_scans: Path, damage: str,
                                                                named: str) -> None:
    target = tmp_path / "h.db"
    shutil.copyfile(two_scans, target)
    with sqlite3.connect(target) as connection:
        connection.execute(damage)
    connection.close()
    for args in (["history", "list"], ["history", "show", "latest"], ["history", "diff"], ["history", "site", "--out", str(tmp_path / "site")],
                 ["scan", "--demo", "--out", str(tmp_path / "c"), "--quiet"]):
        code, output = run(*args, "--history", str(target))
        assert code == 2, (args, output)
        assert str(target) in output and named in output, (args, output)
        assert "Traceback" not in output


# --------------------------------------------------------------------------- untrusted text

def test_a_duplicate_id_with_another_type_is_printed_escaped(tmp_path: Path) -> None:
    rid = f"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st{ESC}"
    (tmp_path / "a.json").write_text(json.dumps([
        {"id": rid, "name": "st", "type": "Microsoft.Storage/storageAccounts"},
        {"id": rid, "name": "st", "type": f"Microsoft.Evil/things{ESC}"}]))
    # an entry error for both entries (judged as ERROR, so the gate fails), printed nowhere raw
    code, output = run("scan", "--snapshot", str(tmp_path / "a.json"), "--out", str(tmp_path / "out"),
                       "--format", "json,html,csv,md", "--fail-on", "high")
    assert code == 1, output
    _no_raw_controls(output)
    errors = [f for f in findings_in(tmp_path / "out") if f["status"] == "ERROR"]
    # the second entry's stated type contradicts its id: the storage rules (the id's type) report it
    assert errors and all("names a Microsoft.Storage/storageAccounts" in f["message"] for f in errors)
    assert {f["rule_id"] for f in errors} >= {"VDC-ST-001", "VDC-ST-002"}
    for report in ("vdcaudit-report.html", "vdcaudit-findings.csv", "vdcaudit-summary.md"):
        _no_raw_controls((tmp_path / "out" / report).read_text(encoding="utf-8"))


def test_an_az_powershell_entry_whose_resources_is_not_an_array_is_printed_escaped(tmp_path: Path) -> None:
    (tmp_path / "ps.json").write_text(json.dumps([
        {"ResourceId": f"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/servers/s{ESC}",
         "ResourceType": "Microsoft.Sql/servers", "Name": "s", "Properties": {}, "resources": "oops"}]))
    code, output = run("scan", "--snapshot", str(tmp_path / "ps.json"), "--out", str(tmp_path / "out"))
    assert code == 2, output
    assert "is not an array" in output
    _no_raw_controls(output)


@pytest.mark.parametrize("url", [
    "http://admin:Passw0rd!@nc.contoso.local/?token=s3cret",  # not https: refused, URL quoted
    "https://admin:Passw0rd!@127.0.0.1:9/?token=s3cret",  # nothing answers: refused, URL quoted
])
def test_credentials_in_an_nc_url_are_never_printed(tmp_path: Path, url: str) -> None:
    code, output = run("sdn", "--nc", url, "--out", str(tmp_path / "out"))
    assert code == 2, output
    assert "Passw0rd" not in output and "s3cret" not in output and "admin" not in output
    assert "***" in output


@pytest.mark.parametrize("args, message", [
    (["--history", "postgresql://scanner:s3cret@db.example:notaport/vdc"], "not a database URL"),
    (["--history", "{db}", "--notify-webhook", "https://[::1/hook?sig=s3cret"], "the webhook URL does not parse"),
    (["--history", "{db}", "--notify-webhook", "teams+https://u:s3cret@[fe80::1/x"], "the webhook URL does not parse"),
])
def test_urls_that_do_not_parse_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(db=tmp_path / "h.db") for a in args]
    code, output = run("scan", "--demo", "--out", str(tmp_path / "out"), *args)
    assert code == 2, output
    assert message in output and "s3cret" not in output and "Traceback" not in output


# --------------------------------------------------------------------------- crashes

_CRASH = ("import sys, vdcaudit.commands.cli as cli\n"
          "def boom(*a, **k):\n    raise RuntimeError('boom')\n"
          "cli.load_rules = boom\n"
          "sys.argv = ['vdcaudit', 'scan', '--demo', '--out', sys.argv[1]]\n"
          "from vdcaudit.commands.entry import main\nmain()\n")


@pytest.mark.parametrize("value, on", [("", False), ("0", False), ("false", False), ("no", False), ("off", False),
                                       ("1", True), ("TRUE", True), ("yes", True), (" Yes ", True)])
def test_vdcaudit_debug_is_on_only_for_1_true_yes(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("VDCAUDIT_DEBUG", value)
    assert debug_enabled() is on


@pytest.mark.parametrize("debug, traceback", [("0", False), ("1", True)])
def test_a_crash_exits_3_whatever_vdcaudit_debug_says(tmp_path: Path, debug: str, traceback: bool) -> None:
    env = {**os.environ, "VDCAUDIT_DEBUG": debug, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _CRASH, str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 3, done.stderr
    assert ("Traceback" in done.stderr) is traceback, done.stderr
    assert "RuntimeError: boom" in done.stderr


# --------------------------------------------------------------------------- template functions

def test_template_date_functions_at_their_extremes_leave_the_value_unresolved(tmp_path: Path) -> None:
    def account(name: str, tls: str) -> dict[str, object]:
        return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
                "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                "properties": {"minimumTlsVersion": tls, "supportsHttpsTrafficOnly": True}}

    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": [
                    account("stepoch", "[if(equals(dateTimeFromEpoch(9223372036854775807), 'x'), 'TLS1_0', 'TLS1_2')]"),
                    account("stadd", "[if(equals(dateTimeAdd(utcNow(), 'P9999999999D'), 'x'), 'TLS1_0', 'TLS1_2')]"),
                    account("stadd2", "[if(equals(dateTimeAdd('2026-01-01T00:00:00Z', 'P9999999999D'), 'x'), "
                                      "'TLS1_0', 'TLS1_2')]"),
                    account("stplain", "TLS1_2")]}
    (tmp_path / "main.json").write_text(json.dumps(template))
    # as of a day before Azure Storage's TLS floor, so the accounts' own (unresolved) values decide
    code, output = run("scan", "--template", str(tmp_path / "main.json"), "--out", str(tmp_path / "out"), "--quiet",
                       "--as-of", "2024-06-01")
    assert code == 0, output
    verdicts = {f["resource_id"].rsplit("/", 1)[-1]: f["status"]
                for f in findings_in(tmp_path / "out") if f["rule_id"] == "VDC-ST-002"}
    assert verdicts == {"stepoch": "UNKNOWN", "stadd": "UNKNOWN", "stadd2": "UNKNOWN", "stplain": "PASS"}


def test_a_custom_rule_title_is_listed_escaped_and_not_read_as_markup(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    title = f"evil {ESC} [bold red]styled[/] [link=https://example.invalid]"
    (rules / "VDC-ZZ-002.yaml").write_text(DOUBLING_RULE.format(doubling="").replace("VDC-ZZ-001", "VDC-ZZ-002")
                                           .replace("A custom rule that doubles its data 34 times", json.dumps(title)))
    code, output = run("rules", "list", "--rules", str(rules), "--service", "storage")
    assert code == 0, output
    _no_raw_controls(output)
    assert "[bold red]styled[/]" in output
