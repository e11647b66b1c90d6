"""The report states its own scope and policy: what vdcaudit.yaml changed (counted by judging
again with the defaults), the waivers by state, coverage wording that is true, every input with its
SHA-256 under a relative path, the full rule-pack hash, who it is for and the sign-off block."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from vdcaudit.provenance import scan_inputs, shown_path
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.common import unassessed_causes
from vdcaudit.reports.views import waiver_rows
from vdcaudit.resources import data_path
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult, scan

DEMO = data_path("demo")


def demo_scan(config_text: str | None, tmp_path: Path) -> ScanResult:
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    config = None
    if config_text is not None:
        path = tmp_path / "vdcaudit.yaml"
        path.write_text(config_text, encoding="utf-8")
        config = load_config(path)
    return scan(inventory, load_rules(), ScanContext(config=config) if config else ScanContext())


def html_of(result: ScanResult) -> str:
    return RENDERERS["html"].render(result).decode("utf-8")


def test_defaults_change_nothing_and_the_report_says_so(tmp_path: Path) -> None:
    result = demo_scan(None, tmp_path)
    assert result.policy == []
    assert "Every verdict-deciding setting is at its built-in default" in html_of(result)


def test_cmk_not_required_counts_exactly_the_verdicts_it_changed(tmp_path: Path) -> None:
    """The count is checked against two independent scans: one with the defaults, one with the
    setting; every (rule, resource) whose status differs must be listed, and nothing else."""
    defaults = {f.fingerprint: f.status for f in demo_scan(None, tmp_path).findings}
    text = "cmk_required:\n  services:\n    storage: false\n    cosmos-db: false\n"
    result = demo_scan(text, tmp_path)
    differ = {(f.rule_id, f.resource_id) for f in result.findings if defaults[f.fingerprint] is not f.status}
    effects = {e.setting: e for e in result.policy}
    assert set(effects) == {"cmk_required.services.cosmos-db", "cmk_required.services.storage"}
    listed = {(c["rule"], c["resource"]) for e in effects.values() for c in e.changed}
    assert listed == differ and len(differ) > 3
    assert all(c["before"] == "FAIL" and c["after"] == "PASS" for e in effects.values() for c in e.changed)
    storage = effects["cmk_required.services.storage"]
    assert storage.value == "false" and storage.default == "true"
    assert storage.transitions == {"FAIL → PASS": len(storage.changed)}
    html = html_of(result)
    assert 'data-setting="cmk_required.services.storage"' in html
    assert f"{len(storage.changed)} FAIL → PASS" in html
    # the JSON carries the whole list
    scan_head = json.loads(RENDERERS["json"].render(result))["scan"]
    assert {p["setting"]: p["verdicts_changed"] for p in scan_head["policy"]} == {
        name: len(e.changed) for name, e in effects.items()}


def test_demo_policy_names_each_setting_and_a_stricter_setting_counts_too(demo_result: ScanResult) -> None:
    effects = {e.setting: e for e in demo_result.policy or []}
    assert effects["cmk_required.services.automation"].transitions == {"FAIL → PASS": 1}
    assert effects["hsm_required.default"].transitions == {"PASS → FAIL": 1}  # stricter than the default
    owners = effects["key_owners"]
    assert owners.value == "1 declared" and {c["rule"] for c in owners.changed} == {"VDC-KV-003"}
    assert all(c["before"] == "UNKNOWN" for c in owners.changed)
    # cmk_required.default: true is declared but equal to the built-in default: not a change
    assert "cmk_required.default" not in effects


def test_coverage_is_complete_only_without_gaps_and_unknowns(demo_result: ScanResult) -> None:
    unknown = sum(1 for f in demo_result.findings if f.status in (Status.UNKNOWN, Status.ERROR))
    assert unknown > 0 and not demo_result.coverage
    html = html_of(demo_result)
    assert "Coverage is complete" not in html
    assert f"Coverage is not complete:</strong> {unknown} of {len(demo_result.findings)} findings could not be assessed" in html
    causes = unassessed_causes(demo_result)
    assert sum(c.findings for c in causes) == unknown
    assert {c.cause for c in causes} >= {"a value the rule needs is absent from the source data"}
    judged = dataclasses.replace(demo_result, findings=[f for f in demo_result.findings
                                                        if f.status not in (Status.UNKNOWN, Status.ERROR)])
    assert "<strong>Coverage is complete:</strong>" in html_of(judged)


def test_inputs_are_hashed_under_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scans").mkdir()
    snapshot = tmp_path / "scans" / "estate.json"
    snapshot.write_text("[]", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    entries = scan_inputs([{"kind": "snapshot", "location": str(snapshot)}, {"kind": "azure", "location": "https://x"}],
                          None, None, None)
    assert entries == [{"role": "snapshot", "path": "scans/estate.json",
                        "sha256": hashlib.sha256(b"[]").hexdigest(), "bytes": 2}]
    assert shown_path(str(DEMO / "vdcaudit.yaml"), cwd=tmp_path) == "<vdcaudit>/demo/vdcaudit.yaml"
    assert shown_path(str(tmp_path.parent / "other.json"), cwd=tmp_path) == "../other.json"


def test_waiver_fields_absent_from_the_file_print_as_a_dash() -> None:
    rows = waiver_rows({"applied": [{"rule": "VDC-ST-001", "owner": "alice", "approver": "bob", "created": "2026-01-02",
                                     "expires": "2027-01-01", "findings": 2}],
                        "expired": [{"rule": "VDC-ST-002", "owner": "carol", "expires": "2026-01-01"}], "stale": []})
    assert [(r.state, r.field("approver"), r.field("created")) for r in rows] == [
        ("active", "bob", "2026-01-02"), ("expired", "—", "—")]


def test_cli_report_section_title_and_sign_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "audit.yaml"
    config.write_text((DEMO / "vdcaudit.yaml").read_text(encoding="utf-8") + (
        "report:\n  title: Contoso encryption audit\n  organisation: Contoso Ltd\n  engagement: FY27 ISO 27001 surveillance\n"
        "  prepared_by: A. Auditor\n  reviewed_by: R. Reviewer\n"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(config), "--out", "out", "--quiet",
                                      "--format", "html", "--title", "Q4 encryption review"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "vdcaudit-report.html").read_text(encoding="utf-8")
    assert "<h1>Q4 encryption review</h1>" in html  # --title over report: title
    assert "Contoso Ltd · FY27 ISO 27001 surveillance" in html
    assert re.search(r"<th>Prepared by</th><td>A\. Auditor</td>", html)
    assert re.search(r"<th>Reviewed by</th><td>R\. Reviewer</td>", html)
    # the full rule-pack hash, and the config among the inputs with its hash, under its relative path
    assert re.search(r'id="rulepack">\d+ rules, sha256:[0-9a-f]{64}</dd>', html)
    digest = hashlib.sha256(config.read_bytes()).hexdigest()
    assert re.search(rf'<td>config</td><td class="mono break">audit\.yaml</td>.*{digest}', html)
    # no absolute path of this machine anywhere in the report
    assert str(tmp_path) not in html and str(Path.home()) + "/" not in html
    assert str(DEMO.resolve()) not in html


def test_unknown_report_key_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "vdcaudit.yaml"
    config.write_text("report:\n  organization: Contoso\n", encoding="utf-8")  # the key is `organisation`
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "report" in result.output and "organization" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
