"""CI consumers as they are: JUnit against junit-10.xsd (Jenkins, Azure DevOps), SARIF against
GitHub code scanning's category handling and its 25,000-results-per-run limit, and the gate line
that --quiet still prints."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.model import Status
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.sarif_report import MAX_RESULTS
from vdcaudit.scan import ScanResult

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))


@pytest.mark.parametrize("which", ["demo_result", "waived_result", "hostile_result"])
def test_junit_validates_against_junit_10_xsd(which: str, request: pytest.FixtureRequest,
                                              junit_schema: xmlschema.XMLSchema) -> None:
    document = RENDERERS["junit"].render(request.getfixturevalue(which)).decode("utf-8")
    errors = list(junit_schema.iter_errors(document))
    assert not errors, errors[0]


def test_the_xsd_refuses_skipped_on_testsuites(junit_schema: xmlschema.XMLSchema) -> None:
    """The schema is strict where the old output failed (so the test above can fail)."""
    assert not junit_schema.is_valid('<testsuites tests="1" failures="0" errors="0" skipped="1"/>')
    assert junit_schema.is_valid('<testsuites tests="0" failures="0" errors="0"/>')


def test_sarif_has_no_automation_id_unless_a_category_is_given(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(cli, ["scan", "--demo", "--out", str(tmp_path / "a"), "--format", "sarif", "--quiet"])
    assert plain.exit_code == 0, plain.output
    run = json.loads((tmp_path / "a" / "vdcaudit.sarif").read_text())["runs"][0]
    assert "automationDetails" not in run  # upload-sarif's `category` applies
    named = runner.invoke(cli, ["scan", "--demo", "--out", str(tmp_path / "b"), "--format", "sarif", "--quiet",
                                "--sarif-category", "templates"])
    assert named.exit_code == 0, named.output
    run = json.loads((tmp_path / "b" / "vdcaudit.sarif").read_text())["runs"][0]
    assert run["automationDetails"] == {"id": "templates/"}
    assert runner.invoke(cli, ["scan", "--demo", "--sarif-category", " "]).exit_code == 2


def too_many(base: ScanResult, alerts: int) -> ScanResult:
    """`alerts` non-PASS findings: copies of the base result's, each on its own resource."""
    open_ones = [f for f in base.findings if f.status is not Status.PASS]
    findings = [dataclasses.replace(open_ones[i % len(open_ones)], resource_id=f"/subscriptions/x/r/{i}")
                for i in range(alerts)]
    return dataclasses.replace(base, findings=findings)


def test_sarif_keeps_the_most_severe_25000_results_and_says_how_many_were_left_out(
        waived_result: ScanResult, sarif_validator: jsonschema.Validator) -> None:
    result = too_many(waived_result, MAX_RESULTS + 321)
    document = json.loads(RENDERERS["sarif"].render(result))
    run = document["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert run["properties"]["omittedResults"]["count"] == 321
    assert "25000" in run["properties"]["omittedResults"]["reason"]
    kept = {r["partialFingerprints"]["vdcauditFingerprint/v1"] for r in run["results"]}
    left_out = [f for f in result.findings if f.fingerprint not in kept]
    assert len(left_out) == 321
    # what was left out is never more severe than the least severe kept result
    worst_left = min((f.waiver is not None, {"FAIL": 0, "UNKNOWN": 1, "ERROR": 1, "WARN": 2}[f.status.value],
                      f.severity.rank) for f in left_out)
    kept_findings = [f for f in result.findings if f.fingerprint in kept]
    best_kept_last = max((f.waiver is not None, {"FAIL": 0, "UNKNOWN": 1, "ERROR": 1, "WARN": 2}[f.status.value],
                          f.severity.rank) for f in kept_findings)
    assert worst_left >= best_kept_last
    open_fails = [f for f in result.findings if f.status is Status.FAIL and f.waiver is None]
    assert 0 < len(open_fails) < MAX_RESULTS and all(f.fingerprint in kept for f in open_fails)
    head = {**document, "runs": [{**run, "results": run["results"][:50]}]}  # the schema check of 25,000 is slow
    assert not list(sarif_validator.iter_errors(head))


def test_sarif_at_the_limit_leaves_nothing_out(waived_result: ScanResult, monkeypatch: pytest.MonkeyPatch) -> None:
    from vdcaudit.reports import sarif_report

    monkeypatch.setattr(sarif_report, "MAX_RESULTS", 150)  # the boundary, without 25,000 findings
    run = json.loads(RENDERERS["sarif"].render(too_many(waived_result, 150)))["runs"][0]
    assert len(run["results"]) == 150 and "properties" not in run
    run = json.loads(RENDERERS["sarif"].render(too_many(waived_result, 151)))["runs"][0]
    assert len(run["results"]) == 150 and run["properties"]["omittedResults"]["count"] == 1


def test_quiet_still_prints_the_gate_line_when_the_gate_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path), "--format", "json", "--quiet",
                                      "--fail-on", "high"])
    assert result.exit_code == 1
    assert result.output.startswith("gate failed: ") and result.output.count("\n") == 1
    passed = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path), "--format", "json", "--quiet",
                                      "--fail-on", "critical"])
    assert passed.exit_code == 0 and passed.output == ""


def test_the_terminal_says_how_many_sarif_results_were_left_out(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo with the limit lowered to 100 (the same code path as 25,000, without 25,000 findings)."""
    from vdcaudit.commands import command_options
    from vdcaudit.reports import sarif_report

    monkeypatch.setattr(sarif_report, "MAX_RESULTS", 100)
    monkeypatch.setattr(command_options, "MAX_RESULTS", 100)
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path), "--format", "sarif,json"])
    assert result.exit_code == 0, result.output
    alerts = sum(1 for f in json.loads((tmp_path / "vdcaudit-findings.json").read_text())["findings"]
                 if f["status"] != "PASS")
    run = json.loads((tmp_path / "vdcaudit.sarif").read_text())["runs"][0]
    assert len(run["results"]) == 100 and run["properties"]["omittedResults"]["count"] == alerts - 100
    assert f"sarif: {alerts - 100} least severe result(s) left out: GitHub accepts at most 100 per run" in result.output
