"""The command line: the demo, exit codes, the JSON contract and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit import __version__
from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in

FINDING_FIELDS = {"rule_id", "resource_id", "resource_type", "status", "message", "evidence", "fingerprint"}


def invoke(*args: str) -> "object":
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("demo")
    result = invoke("scan", "--demo", "--out", str(out))
    return out, result


def test_demo_scan_writes_both_reports_and_a_summary(demo) -> None:
    out, result = demo
    assert result.exit_code == 0, result.output
    assert (out / "vdcaudit-report.html").stat().st_size > 1000
    assert "total" in result.output and "PASS" in result.output and "in-transit" in result.output
    document = json.loads((out / "vdcaudit-findings.json").read_text(encoding="utf-8"))
    assert {"tool", "scan", "summary", "coverage", "findings"} <= set(document)
    findings = findings_in(out)
    statuses = {f["status"] for f in findings}
    assert {"PASS", "FAIL", "UNKNOWN"} <= statuses
    rules = {rule["id"]: rule for rule in document["rules"]}
    for finding in findings:
        assert FINDING_FIELDS <= set(finding)
        assert {"title", "severity", "category"} <= set(rules[finding["rule_id"]])  # listed once, per rule
    assert document["summary"]["by_status"]["FAIL"] == sum(f["status"] == "FAIL" for f in findings)
    assert document["summary"]["not_assessed"]["resources"] > 0


def test_demo_report_shows_real_findings(demo) -> None:
    out, _ = demo
    html = (out / "vdcaudit-report.html").read_text(encoding="utf-8")
    assert "stspoke1diaglogs" in html and "VDC-ST-002" in html
    assert "Content-Security-Policy" in html


@pytest.mark.parametrize(("threshold", "code"), [("high", 1), ("critical", 0)])
def test_fail_on_gate(tmp_path: Path, threshold: str, code: int) -> None:
    result = invoke("scan", "--demo", "--out", str(tmp_path), "--quiet", "--fail-on", threshold)
    assert result.exit_code == code


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = invoke("scan", "--demo", "--out", str(tmp_path), "--quiet", "--format", "json")
    assert result.exit_code == 0 and result.output == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [".vdcaudit-manifest.json", "vdcaudit-findings.json"]


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("scan", "--demo", "--out", str(tmp_path), "--format", "json,pdf")
    assert result.exit_code == 2 and "unknown format pdf" in result.output
    assert not any(tmp_path.iterdir())


def test_no_source_is_a_usage_error() -> None:
    result = invoke("scan")
    assert result.exit_code == 2 and "choose what to scan" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    assert invoke("scan", "--demo", "--colour").exit_code == 2


@pytest.mark.parametrize(("content", "expected"), [
    ('[{"id": "x", "type": }]', "bad.json:1:22: malformed JSON"),
    ('{"resources": []}', "bad.json: not an Azure snapshot"),
])
def test_bad_snapshot_gives_one_line_exit_2_and_no_report(tmp_path: Path, content: str, expected: str) -> None:
    snapshot = tmp_path / "bad.json"
    snapshot.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(snapshot), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vdcaudit: error: ") and expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_config_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "vdcaudit.yaml"
    config.write_text("key_owners: 42\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(config), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "vdcaudit.yaml: key_owners" in result.output


def test_invalid_rule_folder_stops_the_scan(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "VDC-X-001.yaml").write_text("id: [", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--rules", str(rules), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "VDC-X-001.yaml:1" in result.output
    assert not (tmp_path / "o").exists()


def test_rules_list_show_validate(builtin_rules) -> None:
    listed = invoke("rules", "list")
    assert listed.exit_code == 0 and "VDC-ST-002" in listed.output
    nist = invoke("rules", "list", "--framework", "nist-800-53:SC-28")
    assert "VDC-SQL-001" in nist.output and "VDC-ST-002" not in nist.output
    shown = invoke("rules", "show", "vdc-st-002")
    assert shown.exit_code == 0 and "minimumTlsVersion" in shown.output and "remediation" in shown.output
    assert invoke("rules", "show", "VDC-NOPE-001").exit_code == 2
    validated = invoke("rules", "validate")
    assert validated.exit_code == 0 and f"{len(builtin_rules)} valid, 0 invalid" in validated.output


def test_rules_validate_reports_each_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "VDC-A-001.yaml").write_text("id: VDC-A-001\n", encoding="utf-8")
    (tmp_path / "VDC-B-001.yaml").write_text("::\n- [", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "0 valid, 2 invalid" in result.output
    assert "VDC-A-001.yaml" in result.output and "VDC-B-001.yaml" in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.skipif(shutil.which("vdcaudit") is None and not (Path(sys.executable).parent / "vdcaudit").exists(),
                    reason="console script not installed")
def test_installed_console_script_runs_from_any_directory(tmp_path: Path) -> None:
    """The installed command finds its rules, templates and demo without the source tree."""
    script = Path(sys.executable).parent / "vdcaudit"
    command = [str(script)] if script.exists() else ["vdcaudit"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([*command, "scan", "--demo", "--out", "out", "--quiet"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "vdcaudit-report.html").exists()


def test_internal_error_is_one_line_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("vdcaudit.commands.cli.load_rules", broken)
    monkeypatch.delenv("VDCAUDIT_DEBUG", raising=False)
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == [
        "vdcaudit: error: internal error: RuntimeError: boom (set VDCAUDIT_DEBUG=1 for a traceback)"]
    assert not (tmp_path / "o").exists()


def test_findings_reader_gives_every_finding_its_rule_fields(demo) -> None:
    from vdcaudit.findings_file import read_findings_file

    out, _ = demo
    path = out / "vdcaudit-findings.json"
    rules = {rule["id"]: rule for rule in json.loads(path.read_text(encoding="utf-8"))["rules"]}
    findings = read_findings_file(path).findings
    assert findings and all(f["title"] == rules[f["rule_id"]]["title"] and f["severity"] == rules[f["rule_id"]]["severity"]
                            and f["category"] == rules[f["rule_id"]]["category"] for f in findings)


def test_version_fast_path_prints_what_click_prints() -> None:
    import subprocess
    import sys

    fast = subprocess.run([sys.executable, "-m", "vdcaudit", "--version"], capture_output=True, text=True, check=True)
    assert fast.stdout == invoke("--version").output
    assert "vdcaudit.commands.cli" not in subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv = ['vdcaudit', '--version']; from vdcaudit.commands.entry import main; "
                               "main(); print(sorted(m for m in sys.modules if m.startswith('vdcaudit')))"],
        capture_output=True, text=True, check=True).stdout


def test_the_command_ends_with_its_status_and_every_line_flushed(tmp_path: Path) -> None:
    """The command ends the process itself (os._exit, no interpreter teardown): the gate's status
    and a usage error's must still be the exit status, and what it printed into a pipe must arrive."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "vdcaudit", "scan", "--demo", "--format", "json", "--out", str(out),
                          "--fail-on", "high"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert f"wrote {out / 'vdcaudit-findings.json'}" in run.stdout
    assert "gate failed:" in run.stderr
    bad = subprocess.run([sys.executable, "-m", "vdcaudit", "scan", "--snapshot", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("no such file or folder")
