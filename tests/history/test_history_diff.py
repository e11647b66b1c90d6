"""Diff semantics, class by class, on records and on two findings files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.history.history_data import finding, scan
from vdcaudit.history.diff import classify, diff
from vdcaudit.history.records import read_findings_file


@pytest.mark.parametrize("before, after, expected", [
    (None, ("FAIL", False), "new"),
    (("UNKNOWN", False), ("FAIL", False), "new"),
    (("ERROR", False), ("FAIL", False), "new"),
    (("PASS", False), ("FAIL", False), "regressed"),
    (("WARN", False), ("FAIL", False), "regressed"),
    (("FAIL", False), ("FAIL", False), "still_failing"),
    (("FAIL", False), ("PASS", False), "fixed"),
    (("FAIL", True), ("WARN", False), "fixed"),
    (("PASS", False), ("UNKNOWN", False), "lost_coverage"),
    (("FAIL", False), ("ERROR", False), "lost_coverage"),
    (("FAIL", False), ("FAIL", True), "waived"),
    (None, ("FAIL", True), "waived"),
    (("FAIL", True), ("FAIL", False), "unwaived"),
    (("FAIL", True), ("FAIL", True), None),
    (("FAIL", False), None, "gone"),
    (("PASS", False), None, None),
    (("PASS", False), ("PASS", False), None),
    (("UNKNOWN", False), ("UNKNOWN", False), None),
    (None, ("UNKNOWN", False), None),
    # WARN is judged, and not a failure: WARN <-> PASS is no change; WARN -> UNKNOWN hides a verdict
    (("WARN", False), ("PASS", False), None),
    (("PASS", False), ("WARN", False), None),
    (("WARN", False), ("WARN", False), None),
    (("WARN", False), ("UNKNOWN", False), "lost_coverage"),
    (("WARN", False), ("ERROR", False), "lost_coverage"),
    (("WARN", False), None, None),
    (("UNKNOWN", False), ("WARN", False), None),
])
def test_each_class(before: tuple[str, bool] | None, after: tuple[str, bool] | None, expected: str | None) -> None:
    old = finding("a", before[0], before[1]) if before else None
    new = finding("a", after[0], after[1]) if after else None
    assert classify(old, new) == expected


def test_diff_sorts_findings_into_classes_and_flags_a_changed_rule_pack() -> None:
    before = scan(0, finding("kept", "FAIL"), finding("fixed", "FAIL"), finding("worse", "PASS"),
                  finding("blind", "PASS"), finding("removed", "FAIL"))
    after = scan(1, finding("kept", "FAIL"), finding("fixed", "PASS"), finding("worse", "FAIL"),
                 finding("blind", "UNKNOWN"), finding("fresh", "FAIL", severity="critical"),
                 rulepack="3 rules, sha256:bbb",
                 coverage=[{"source": "azure", "scope": "sub-1", "reason": "403 Forbidden", "resource_type": None}])
    result = diff(before, after)
    names = {kind: [c.finding.resource_name for c in changes] for kind, changes in result.changes.items()}
    assert names == {"new": ["fresh"], "regressed": ["worse"], "unwaived": [], "lost_coverage": ["blind"],
                     "fixed": ["fixed"], "waived": [], "still_failing": ["kept"], "gone": ["removed"],
                     "new_rule": [], "rule_changed": []}
    assert result.rulepack_changed
    assert [gap["scope"] for gap in result.new_coverage_gaps] == ["sub-1"]
    assert result.alerting == 4  # new + regressed + lost coverage + the new coverage gap


def test_a_renamed_title_or_reworded_message_is_not_new() -> None:
    before = scan(0, finding("a", "FAIL", message="old words"))
    renamed = finding("a", "FAIL", message="new words")
    renamed.title = "A different title"
    result = diff(before, scan(1, renamed))
    assert result.count("new") == 0 and result.count("still_failing") == 1


def _findings_file(path: Path, items: list[tuple[str, str, str]], compact: bool, rulepack: str = "x") -> Path:
    """items: (rule id, resource id, status). compact: findings carry only rule_id; rules listed once."""
    rules = [{"id": "VDC-ST-002", "title": "TLS 1.2", "severity": "high", "category": "in-transit"}]
    findings = []
    for rule_id, resource_id, status in items:
        entry = {"rule_id": rule_id, "resource_id": resource_id, "status": status, "message": "m"}
        if not compact:
            entry.update(title="TLS 1.2", severity="high", category="in-transit")
        findings.append(entry)
    document = {"schema_version": "1.0", "scan": {"started": "2026-03-01T02:00:00+00:00", "rulepack": rulepack,
                                                  "sources": [{"kind": "snapshot"}]},
                "rules": {r["id"]: r for r in rules} if compact else rules, "findings": findings}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("compact", [False, True])
def test_findings_file_reader_takes_both_shapes(tmp_path: Path, compact: bool) -> None:
    path = _findings_file(tmp_path / "f.json", [("VDC-ST-002", "/subscriptions/S/x/ST1", "FAIL")], compact)
    record = read_findings_file(path)
    (only,) = record.findings
    assert (only.severity, only.category, only.title) == ("high", "in-transit", "TLS 1.2")
    assert only.fingerprint == __import__("vdcaudit.model", fromlist=["fingerprint"]).fingerprint(
        "vdc-st-002", "/SUBSCRIPTIONS/s/X/st1")  # case-insensitive, recomputed


def test_diff_of_two_findings_files_on_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vdcaudit.commands.cli import cli

    a = _findings_file(tmp_path / "a.json", [("VDC-ST-002", "/r/1", "FAIL"), ("VDC-ST-002", "/r/2", "PASS")], False)
    b = _findings_file(tmp_path / "b.json", [("VDC-ST-002", "/r/1", "PASS"), ("VDC-ST-002", "/r/2", "FAIL")], True,
                       rulepack="y")
    run = CliRunner().invoke(cli, ["history", "diff", str(a), str(b), "--json"])
    assert run.exit_code == 0, run.output
    view = json.loads(run.output)
    assert view["counts"]["fixed"] == 1 and view["counts"]["regressed"] == 1
    assert view["rulepack_changed"] == {"before": "x", "after": "y"}


def test_a_file_that_is_not_findings_is_one_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vdcaudit.commands.cli import cli

    bad = tmp_path / "bad.json"
    bad.write_text('{"value": []}', encoding="utf-8")
    good = _findings_file(tmp_path / "a.json", [], False)
    run = CliRunner().invoke(cli, ["history", "diff", str(good), str(bad)])
    assert run.exit_code == 2
    assert "bad.json: not a vdcaudit findings file" in run.output


def _versioned(record, version: str):  # the scan's one rule (VDC-T-001) at a version
    record.rules["VDC-T-001"]["version"] = version
    return record


def test_a_fail_of_a_rule_the_earlier_scan_did_not_run_is_a_new_rule_not_a_new_fail() -> None:
    before = scan(0, finding("old", "PASS"))
    before.rules = {"VDC-T-000": {"title": "Another rule", "severity": "high", "category": "at-rest", "version": "1"}}
    after = _versioned(scan(1, finding("fresh", "FAIL"), finding("old", "FAIL")), "1")
    result = diff(before, after)
    assert [c.finding.resource_name for c in result.changes["new_rule"]] == ["fresh"]
    assert result.count("new") == 0
    # "old" was judged PASS before by the same fingerprint, so the rule is not new to it: regressed stays
    assert [c.finding.resource_name for c in result.changes["regressed"]] == ["old"]
    assert result.alerting == 1  # a new rule's FAIL is not news about the estate; the regression is


def test_verdicts_that_moved_with_a_changed_rule_version_are_rule_changed() -> None:
    before = _versioned(scan(0, finding("worse", "PASS"), finding("better", "FAIL"), finding("kept", "FAIL"),
                             finding("blind", "PASS")), "1")
    after = _versioned(scan(1, finding("worse", "FAIL"), finding("better", "PASS"), finding("kept", "FAIL"),
                            finding("blind", "UNKNOWN"), finding("fresh", "FAIL")), "2")
    result = diff(before, after)
    assert sorted(c.finding.resource_name for c in result.changes["rule_changed"]) == ["better", "blind", "fresh", "worse"]
    assert [c.finding.resource_name for c in result.changes["still_failing"]] == ["kept"]
    assert result.count("new") == result.count("regressed") == result.count("fixed") == 0
    assert result.alerting == 0


def test_same_rule_version_or_scans_without_versions_classify_as_before() -> None:
    same = diff(_versioned(scan(0, finding("a", "PASS")), "3"), _versioned(scan(1, finding("a", "FAIL")), "3"))
    assert same.count("regressed") == 1 and same.count("rule_changed") == 0
    # a scan recorded before rules had versions: nothing to compare, the estate classes apply
    legacy = diff(scan(0, finding("a", "PASS")), _versioned(scan(1, finding("a", "FAIL")), "2"))
    assert legacy.count("regressed") == 1 and legacy.count("rule_changed") == 0
