"""Each machine format is valid, and every format tells the same numbers from the one ScanResult."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner

from tests.reports.report_data import HOSTILE, synthetic_result
from vdcaudit.commands.cli import cli
from vdcaudit.model import Status
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.csv_report import COLUMNS as CSV_COLUMNS
from vdcaudit.reports.markdown_report import MAX_CHARS
from vdcaudit.resources import schema_path
from vdcaudit.scan import ScanResult

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def findings_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path("vdcaudit-findings.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def render(result: ScanResult, name: str) -> bytes:
    return RENDERERS[name].render(result)


def _errors(validator: jsonschema.Validator, document: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)][:5]


@pytest.mark.parametrize("which", ["demo_result", "waived_result", "hostile_result"])
def test_json_output_matches_its_published_schema(which: str, request: pytest.FixtureRequest,
                                                  findings_validator: jsonschema.Validator) -> None:
    document = json.loads(render(request.getfixturevalue(which), "json"))
    assert not _errors(findings_validator, document)


def test_findings_schema_rejects_a_renamed_field(demo_result: ScanResult,
                                                  findings_validator: jsonschema.Validator) -> None:
    document = json.loads(render(demo_result, "json"))
    document["findings"][0]["ruleId"] = document["findings"][0].pop("rule_id")
    assert _errors(findings_validator, document)


@pytest.mark.parametrize("which", ["demo_result", "waived_result", "hostile_result"])
def test_sarif_is_valid_against_the_official_2_1_0_schema(which: str, request: pytest.FixtureRequest,
                                                           sarif_validator: jsonschema.Validator) -> None:
    document = json.loads(render(request.getfixturevalue(which), "sarif"))
    assert document["version"] == "2.1.0"
    assert not _errors(sarif_validator, document)


def test_sarif_rules_results_fingerprints_and_locations(waived_result: ScanResult) -> None:
    run = json.loads(render(waived_result, "sarif"))["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == [r.id for r in waived_result.rules]
    for descriptor in descriptors:
        assert 0.0 <= float(descriptor["properties"]["security-severity"]) <= 10.0
        assert "security" in descriptor["properties"]["tags"]
        assert "Remediation" in descriptor["help"]["text"] and descriptor["help"]["markdown"]
    critical_or_high = {r.id for r in waived_result.rules if r.severity.value in ("critical", "high")}
    for descriptor in descriptors:
        assert (float(descriptor["properties"]["security-severity"]) >= 7.0) == (descriptor["id"] in critical_or_high)

    by_fingerprint = {f.fingerprint: f for f in waived_result.findings}
    results = run["results"]
    assert len(results) == sum(1 for f in waived_result.findings if f.status is not Status.PASS)
    for result in results:
        finding = by_fingerprint[result["partialFingerprints"]["vdcauditFingerprint/v1"]]
        assert result["ruleId"] == finding.rule_id
        assert descriptors[result["ruleIndex"]]["id"] == finding.rule_id
        location = result["locations"][0]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == finding.resource_id
        if finding.location:
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"] == "templates/main.json"
            assert physical["region"]["startLine"] == finding.location["line"]
        else:
            assert "physicalLocation" not in location
        assert result["kind"] == {"FAIL": "fail", "UNKNOWN": "open", "ERROR": "open", "WARN": "review"}[finding.status.value]
        if result["kind"] != "fail":
            assert result["level"] == "none"  # SARIF 3.27.9: only kind "fail" carries a level
        assert ("suppressions" in result) == (finding.waiver is not None)


def test_junit_has_one_case_per_rule_and_resource(waived_result: ScanResult) -> None:
    root = ET.fromstring(render(waived_result, "junit"))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(waived_result.findings) == int(root.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    open_fail = [f for f in waived_result.findings if f.status is Status.FAIL and f.waiver is None]
    open_error = [f for f in waived_result.findings if f.status is Status.ERROR and f.waiver is None]
    not_decided = [f for f in waived_result.findings
                   if (f.status is Status.UNKNOWN and f.waiver is None) or (f.waiver and f.status is not Status.PASS)]
    assert len(failures) == len(open_fail) == int(root.get("failures"))
    assert open_error and len(errors) == len(open_error) == int(root.get("errors"))  # the gate fails on them
    assert len(skipped) == len(not_decided) == sum(int(suite.get("skipped")) for suite in root.findall("testsuite"))
    assert all(c.find("skipped").get("message") for c in skipped)  # the reason is given
    assert sorted(c.find("error").get("message") for c in errors) == sorted(f.message for f in open_error)
    assert all(c.find("error").get("message") for c in errors)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error"))


def test_junit_stays_well_formed_with_hostile_names(hostile_result: ScanResult) -> None:
    root = ET.fromstring(render(hostile_result, "junit"))  # control characters would not parse
    names = " ".join(c.get("name") for c in root.iter("testcase"))
    assert "<script>window.__xss='name'</script>" in names  # escaped in the file, intact when read


def test_csv_is_one_row_per_finding_and_formula_safe(hostile_result: ScanResult) -> None:
    data = render(hostile_result, "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(hostile_result.findings)
    assert list(rows[0]) == CSV_COLUMNS
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert any(row["message"] == "'" + HOSTILE[4] for row in rows)  # kept, but inert


def test_markdown_stays_under_the_comment_limit_for_a_huge_scan() -> None:
    result = synthetic_result(20_000)
    text = render(result, "md").decode("utf-8")
    assert len(text) <= MAX_CHARS
    open_gaps = sum(1 for f in result.findings if f.status in (Status.FAIL, Status.UNKNOWN, Status.ERROR) and not f.waiver)
    listed = text.count("\n- **")
    more = int(text.split("- … and ")[-1].split(" more open gaps")[0].replace(",", ""))
    assert listed + more == open_gaps


def test_markdown_escapes_hostile_text(hostile_result: ScanResult) -> None:
    text = render(hostile_result, "md").decode("utf-8")
    assert "<script" not in text and "<img" not in text
    table_rows = [line for line in text.splitlines() if line.startswith("| ")]
    widths = {line.replace("\\|", "").count("|") for line in table_rows if "category" in line or "at-rest" in line}
    assert len(widths) == 1  # no cell broke the matrix table


def test_cli_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["scan", "--demo", "--quiet", "--out", str(out),
                                   "--format", "html,json,sarif,junit,csv,md"])
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in out.iterdir()) == sorted([".vdcaudit-manifest.json",
                                                            *(r.filename for r in RENDERERS.values())])


def test_cli_rejects_an_unknown_format_in_one_line(tmp_path: Path) -> None:
    run = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path), "--format", "html,pdf"])
    assert run.exit_code == 2
    assert "unknown format pdf" in run.output
    assert not list(tmp_path.iterdir())
