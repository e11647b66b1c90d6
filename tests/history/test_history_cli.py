"""The history as a user runs it: two demo scans with --history, then list, show, diff, prune, site;
and the notifications posted to a local receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.history.receiver import receiver
from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def two_demo_scans(tmp_path: Path, target: str, *extra: str) -> tuple[Result, Result]:
    first = run("scan", "--demo", "--out", str(tmp_path / "day1"), "--history", target, *extra)
    second = run("scan", "--demo-next", "--out", str(tmp_path / "day2"), "--history", target, *extra)
    return first, second


def test_readme_quick_start_two_scans_and_the_diff(tmp_path: Path, history_target: str) -> None:
    first, second = two_demo_scans(tmp_path, history_target)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "history: recorded scan #1" in first.output
    assert "since scan #1: 5 new FAIL, 1 regressed, 1 lost coverage, 1 fixed" in second.output
    diff = run("history", "diff", "--history", history_target, "--json")
    view = json.loads(diff.output)
    names = {kind: sorted(f"{c['rule_id']} {c['resource_name']}" for c in changes)
             for kind, changes in view["changes"].items() if changes}
    assert names == {"new": ["VDC-ST-002 stspoke2archive", "VDC-ST-003 stspoke2archive", "VDC-ST-004 stspoke2archive",
                             "VDC-ST-006 stspoke2archive", "VDC-ST-007 stspoke2archive"],
                     "regressed": ["VDC-SB-001 sb-spoke2-orders"], "lost_coverage": ["VDC-SB-001 sb-spoke2-legacy"],
                     "fixed": ["VDC-ST-002 stspoke2datalake"]}
    # the report carries the view: in the JSON's sections and as the HTML section
    document = json.loads((tmp_path / "day2" / "vdcaudit-findings.json").read_text())
    section = document["sections"]["history"]
    assert section["scan"] == 2 and section["before"]["id"] == 1 and section["counts"]["new"] == 5
    assert [p["id"] for p in section["trend"]] == [1, 2]
    html = (tmp_path / "day2" / "vdcaudit-report.html").read_text()
    regressed = view["changes"]["regressed"][0]["fingerprint"]
    assert "Since the last scan" in html and f'href="#finding-{regressed}"' in html
    assert "<svg" in html and "trend-score" in html


def test_list_show_prune_and_the_environment_variable(tmp_path: Path) -> None:
    target = str(tmp_path / "h.db")
    two_demo_scans(tmp_path, target, "--quiet")
    env = {"VDCAUDIT_HISTORY": target}
    listed = json.loads(run("history", "list", "--json", env=env).output)
    assert [row["id"] for row in listed] == [2, 1]
    # the open FAILs of the second scan, counted from its own findings file
    report = json.loads((tmp_path / "day2" / "vdcaudit-findings.json").read_text())
    open_fails = sum(1 for f in findings_in(tmp_path / "day2") if f["status"] == "FAIL" and not f.get("waiver"))
    assert open_fails > 0 and listed[0]["counts"]["by_status"]["FAIL"] == open_fails
    shown = json.loads(run("history", "show", "latest", "--json", env=env).output)
    assert shown["id"] == 2 and shown["open_fails_total"] == open_fails
    assert [f["rule_id"] for f in shown["fixed"]] == ["VDC-ST-002"]
    text = run("history", "show", "1", env=env)
    assert text.exit_code == 0 and "open FAILs, longest open first" in text.output
    one = json.loads(run("history", "diff", "2", "--json", env=env).output)  # 2 against the scan before it
    assert one["before"]["id"] == 1 and one["counts"]["fixed"] == 1
    assert "deleted 1 scan(s)" in run("history", "prune", "--keep", "1", env=env).output
    assert [row["id"] for row in json.loads(run("history", "list", "--json", env=env).output)] == [2]


@pytest.mark.parametrize("args, message", [
    (["history", "list"], "give --history DB_OR_URL (or set VDCAUDIT_HISTORY)"),
    (["history", "show", "7", "--history", "{db}"], "no scan 7 in the history"),
    (["history", "show", "yesterday", "--history", "{db}"], "not a scan: 'yesterday'"),
    (["history", "prune", "--history", "{db}"], "give --keep N or --older-than AGE"),
    (["history", "prune", "--older-than", "six months", "--history", "{db}"], "give a number and a unit"),
    (["history", "list", "--history", "{tmp}"], "is a folder"),
    (["history", "list", "--history", "{tmp}/missing/h.db"], "does not exist"),
    (["history", "list", "--history", "mysql://u:pw@h/db"], "mysql://u:***@h/db: unsupported database mysql"),
    (["scan", "--demo", "--notify-webhook", "http://127.0.0.1:9/x"], "need --history"),
    (["scan", "--demo", "--history", "{db}", "--notify-webhook", "ftp://x"], "a webhook is an http(s) URL"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(db=tmp_path / "h.db", tmp=tmp_path) for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_site_has_an_index_and_a_page_and_report_per_scan(tmp_path: Path) -> None:
    target = str(tmp_path / "h.db")
    two_demo_scans(tmp_path, target, "--quiet")
    result = run("history", "site", "--history", target, "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert names == ["index.html", "scan-1-report.html", "scan-1.html", "scan-2-report.html", "scan-2.html"]
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="scan-2.html"' in index and 'href="scan-2-report.html"' in index and "<svg" in index
    page = (tmp_path / "site" / "scan-2.html").read_text()
    assert "Regressed (PASS → FAIL)" in page and "scan-2-report.html#finding-" in page
    # the kept report is the one the scan wrote
    assert (tmp_path / "site" / "scan-2-report.html").read_bytes() == (tmp_path / "day2" / "vdcaudit-report.html").read_bytes()
    # rebuilding replaces the site whole
    run("history", "prune", "--keep", "1", "--history", target)
    run("history", "site", "--history", target, "--out", str(tmp_path / "site"))
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["index.html", "scan-2-report.html", "scan-2.html"]


@pytest.fixture(scope="module")
def posted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Two demo scans with a generic, a Teams and a Slack webhook: what each received, by format."""
    tmp_path = tmp_path_factory.mktemp("notify")
    with receiver() as hook:
        hooks = [arg for fmt in ("json", "teams", "slack")
                 for arg in ("--notify-webhook", f"{fmt}+{hook.url}/hooks/{fmt}/secret-path-token")]
        two_demo_scans(tmp_path, str(tmp_path / "h.db"), "--quiet", *hooks,
                       "--report-url", "https://reports.example/vdc/latest.html")
        return {post["path"].split("/")[2]: post for post in hook.posts}


def test_generic_json_notification_only_when_something_changed(posted: dict[str, dict[str, Any]]) -> None:
    # the first scan has nothing to compare with; the second posts once to each webhook
    assert sorted(posted) == ["json", "slack", "teams"]
    post = posted["json"]
    body = post["body"]
    assert post["content_type"] == "application/json" and post["path"] == "/hooks/json/secret-path-token"
    assert body["schema"] == "vdcaudit.history.notification/1"
    assert (body["scan"]["id"], body["previous"]["id"]) == (2, 1)
    assert {k: body["counts"][k] for k in ("new", "regressed", "lost_coverage", "fixed")} == \
        {"new": 5, "regressed": 1, "lost_coverage": 1, "fixed": 1}
    assert body["changes"]["regressed"][0]["link"].startswith("https://reports.example/vdc/latest.html#finding-")


def test_no_notification_when_nothing_got_worse(tmp_path: Path) -> None:
    with receiver() as hook:
        for day in ("a", "b"):
            run("scan", "--demo", "--out", str(tmp_path / day), "--history", str(tmp_path / "h.db"), "--quiet",
                "--notify-webhook", hook.url)
        assert hook.posts == []


def test_teams_adaptive_card(posted: dict[str, dict[str, Any]]) -> None:
    body = posted["teams"]["body"]
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert "5 new FAIL, 1 regressed (PASS → FAIL), 1 lost coverage" in card["body"][0]["text"]
    assert card["actions"][0]["url"] == "https://reports.example/vdc/latest.html"


def test_slack_block_kit(posted: dict[str, dict[str, Any]]) -> None:
    body = posted["slack"]["body"]
    assert body["blocks"][0]["type"] == "header" and "5 new FAIL" in body["text"]
    listed = body["blocks"][2]["text"]["text"]
    assert "<https://reports.example/vdc/latest.html#finding-" in listed and "sb-spoke2-orders" in listed


def test_a_failed_notification_is_reported_and_the_scan_is_kept(tmp_path: Path) -> None:
    target = str(tmp_path / "h.db")
    with receiver(status=500, headers={"Retry-After": "0"}) as failing:
        run("scan", "--demo", "--out", str(tmp_path / "a"), "--history", target, "--quiet")
        result = CliRunner().invoke(cli, ["scan", "--demo-next", "--out", str(tmp_path / "b"), "--history", target,
                                          "--notify-webhook", f"{failing.url}/secret-token", "--notify-webhook",
                                          "http://127.0.0.1:1/unreachable-secret"])
        assert len(failing.posts) == 3  # a 5xx is tried again, three attempts in all
    assert result.exit_code == 2  # the reports are written, the failure is not hidden
    assert (tmp_path / "b" / "vdcaudit-findings.json").is_file()
    assert f"notification to json+http://127.0.0.1/*** failed: HTTP 500 after 3 attempts" in result.output
    assert "failed: ConnectionError" in result.output
    assert "2 problem(s) after recording, see above" in result.output
    assert "secret" not in result.output
    assert [row["id"] for row in json.loads(run("history", "list", "--json", "--history", target).output)] == [2, 1]


def test_sdn_command_records_too(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "sdn"
    target = str(tmp_path / "h.db")
    for day in ("a", "b"):
        result = run("sdn", "--snapshot", str(demo), "--out", str(tmp_path / day), "--history", target, "--quiet",
                     "--history-scope", "onprem")
        assert result.exit_code == 0, result.output
    (latest, _) = json.loads(run("history", "list", "--json", "--history", target).output)
    assert latest["scope"] == "onprem"
    assert json.loads(run("history", "diff", "--json", "--history", target).output)["counts"]["new"] == 0


def test_site_names_the_scope_never_where_the_history_is_kept(tmp_path: Path, history_target: str) -> None:
    """The site is published: it shows the scope, and no part of the database location (file path,
    host, port, user, database name)."""
    first, second = two_demo_scans(tmp_path, history_target, "--quiet", "--history-scope", "contoso-prod")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    result = run("history", "site", "--history", history_target, "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Scope contoso-prod" in index
    if "://" in history_target:
        from sqlalchemy.engine import make_url

        url = make_url(history_target)
        secrets = [f"{url.host}:{url.port}", f"{url.username}@", str(url.database)]
    else:
        secrets = [history_target, Path(history_target).name]
    for page in (tmp_path / "site").iterdir():
        text = page.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, (page.name, secret)
