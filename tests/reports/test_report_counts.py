"""Every output and the terminal count the same way (vdcaudit.summary): a waived finding is
counted once, as waived, never also under its status. One test per format, each reading the
numbers back from what the format wrote and comparing them with a count made here from the
findings themselves."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from xml.etree import ElementTree as ET

import pytest

from vdcaudit.console import print_summary
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult

STATUSES = ("PASS", "FAIL", "WARN", "UNKNOWN", "ERROR")
COLUMNS = (*STATUSES, "waived")


def render(result: ScanResult, name: str) -> bytes:
    return RENDERERS[name].render(result)


def from_findings(result: ScanResult) -> Counter[str]:
    counts: Counter[str] = Counter({column: 0 for column in COLUMNS})
    for finding in result.findings:
        counts["waived" if finding.waiver is not None else finding.status.value] += 1
    return counts


def gaps_only(counts: Counter[str]) -> Counter[str]:
    """What JUnit and SARIF can tell: open FAILs, open UNKNOWN/ERROR, waived."""
    return Counter(fail=counts["FAIL"], undecided=counts["UNKNOWN"] + counts["ERROR"], waived=counts["waived"])


def terminal(result: ScanResult, capsys: pytest.CaptureFixture[str]) -> Counter[str]:
    print_summary(result, [])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "category" in line and "PASS" in line)
    total = next(line for line in out.splitlines() if line.strip("│┃ ").startswith("total"))
    names = [c.strip() for c in re.split(r"[│┃]", header) if c.strip()]
    cells = [c.strip() for c in re.split(r"[│┃]", total)][1:-1]
    row = dict(zip(names, cells))
    return Counter({column: int(row[column]) for column in COLUMNS})


def json_by_status(result: ScanResult) -> Counter[str]:
    summary = json.loads(render(result, "json"))["summary"]
    assert sum(summary["by_status"].values()) + summary["waived"] == summary["findings"]
    return Counter({**summary["by_status"], "waived": summary["waived"]})


def json_matrix(result: ScanResult) -> Counter[str]:
    summary = json.loads(render(result, "json"))["summary"]
    counts: Counter[str] = Counter({column: 0 for column in COLUMNS})
    for statuses in summary["matrix"].values():
        for status, severities in statuses.items():
            counts[status] += sum(severities.values())
    for statuses in summary["waived_matrix"].values():
        counts["waived"] += sum(sum(severities.values()) for severities in statuses.values())
    return counts


def html(result: ScanResult) -> Counter[str]:
    page = render(result, "html").decode("utf-8")
    body = page.split('id="summary-matrix"', 1)[1].split("</tbody>", 1)[0]
    counts: Counter[str] = Counter({column: 0 for column in COLUMNS})
    for column, value in re.findall(r'data-status="([A-Za-z]+)" data-count="(\d+)"', body):
        counts[column] += int(value)
    return counts


def markdown(result: ScanResult) -> Counter[str]:
    text = render(result, "md").decode("utf-8")
    matrix = text.split("### Encryption matrix", 1)[1].split("\n\n", 2)[1]
    lines = matrix.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    counts: Counter[str] = Counter({column: 0 for column in COLUMNS})
    for line in lines[2:]:
        row = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        for column in COLUMNS:
            counts[column] += int(row[column].replace(",", ""))
    return counts


def csv_rows(result: ScanResult) -> Counter[str]:
    rows = list(csv.DictReader(io.StringIO(render(result, "csv").decode("utf-8-sig"), newline="")))
    return Counter({column: 0 for column in COLUMNS}) + Counter(
        "waived" if row["waived"] == "yes" else row["status"] for row in rows)


def junit(result: ScanResult) -> Counter[str]:
    root = ET.fromstring(render(result, "junit"))
    skipped = [case.find("skipped") for case in root.iter("testcase") if case.find("skipped") is not None]
    errors = [case.find("error") for case in root.iter("testcase") if case.find("error") is not None]
    assert len(errors) == int(root.get("errors", "0"))
    return Counter(fail=int(root.get("failures", "0")),
                   undecided=sum(not s.get("message", "").startswith("waived") for s in skipped) + len(errors),
                   waived=sum(s.get("message", "").startswith("waived") for s in skipped))


def sarif(result: ScanResult) -> Counter[str]:
    results = json.loads(render(result, "sarif"))["runs"][0]["results"]
    open_results = [r for r in results if "suppressions" not in r]
    return Counter(fail=sum(r["kind"] == "fail" for r in open_results),
                   undecided=sum(r["kind"] == "open" for r in open_results),
                   waived=sum("suppressions" in r for r in results))


FULL: dict[str, Callable[[ScanResult], Counter[str]]] = {
    "json-by_status": json_by_status, "json-matrix": json_matrix, "html": html, "md": markdown, "csv": csv_rows}
GAPS: dict[str, Callable[[ScanResult], Counter[str]]] = {"junit": junit, "sarif": sarif}


@pytest.mark.parametrize("which", ["demo_result", "waived_result"])
@pytest.mark.parametrize("name", list(FULL))
def test_format_counts_each_finding_once(name: str, which: str, request: pytest.FixtureRequest) -> None:
    result: ScanResult = request.getfixturevalue(which)
    expected = from_findings(result)
    assert FULL[name](result) == expected
    if which == "waived_result":  # the case that used to differ: waived FAILs counted twice
        assert expected["waived"] > 0 and expected["FAIL"] > 0


@pytest.mark.parametrize("which", ["demo_result", "waived_result"])
@pytest.mark.parametrize("name", list(GAPS))
def test_gap_formats_count_each_finding_once(name: str, which: str, request: pytest.FixtureRequest) -> None:
    result: ScanResult = request.getfixturevalue(which)
    assert GAPS[name](result) == gaps_only(from_findings(result))


@pytest.mark.parametrize("which", ["demo_result", "waived_result"])
def test_terminal_table_counts_each_finding_once(which: str, request: pytest.FixtureRequest,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    result: ScanResult = request.getfixturevalue(which)
    assert terminal(result, capsys) == from_findings(result)


def test_terminal_says_when_findings_could_not_be_judged(waived_result: ScanResult,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    errors = sum(f.status.value == "ERROR" and f.waiver is None for f in waived_result.findings)
    assert errors
    print_summary(waived_result, [])
    assert f"{errors} finding(s) could not be judged (ERROR)" in capsys.readouterr().out
