"""Schema 3.0 of vdcaudit-findings.json lists each resource once and findings point at it: the
reader must give back every field of every finding exactly as the scan made it, and refuse a
file whose references do not hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vdcaudit.errors import InputError
from vdcaudit.findings import scope_finding
from vdcaudit.findings_file import read_findings_file
from vdcaudit.model import Finding, Status
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult


def _flat(finding: Finding) -> dict[str, Any]:
    """Every contract field of a finding, flat, as schema 2.x printed it."""
    waiver = finding.waiver
    return {"rule_id": finding.rule_id, "resource_id": finding.resource_id, "resource_name": finding.resource_name,
            "resource_type": finding.resource_type, "status": finding.status.value, "message": finding.message,
            "evidence": finding.evidence, "source": finding.source, "subscription": finding.subscription,
            "resource_group": finding.resource_group, "location": finding.location, "fingerprint": finding.fingerprint,
            "waiver": None if waiver is None else {"rule": waiver.rule, "resource": waiver.resource,
                                                   "justification": waiver.justification, "owner": waiver.owner,
                                                   "expires": waiver.expires},
            "title": finding.title, "severity": finding.severity.value, "category": finding.category.value}


def _written(result: ScanResult, tmp_path: Path) -> Path:
    path = tmp_path / "vdcaudit-findings.json"
    path.write_bytes(RENDERERS["json"].render(result))
    return path


@pytest.mark.parametrize("which", ["demo_result", "waived_result", "hostile_result"])
def test_every_field_of_every_finding_comes_back(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    result: ScanResult = request.getfixturevalue(which)
    findings = read_findings_file(_written(result, tmp_path)).findings
    assert findings == json.loads(json.dumps([_flat(f) for f in result.findings], default=str))


def test_each_resource_is_listed_once(demo_result: ScanResult, tmp_path: Path) -> None:
    document = json.loads(_written(demo_result, tmp_path).read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in document["resources"]]
    assert len(ids) == len(set(ids)) == len({f.resource_id for f in demo_result.findings})
    # nothing of the resource or rule repeated, no null waiver; the rule's own message only on the rule
    assert all(set(f) - {"message"} == {"rule_id", "resource", "status", "evidence", "fingerprint"}
               for f in document["findings"])
    rules = {rule["id"]: rule for rule in document["rules"]}
    assert all(f.get("message", "") != rules[f["rule_id"]]["messages"].get(f["status"]) for f in document["findings"])
    assert sum("message" not in f for f in document["findings"]) > len(document["findings"]) / 3


def test_findings_about_one_scope_with_different_types_keep_their_own(demo_result: ScanResult, tmp_path: Path) -> None:
    rules = [r for r in demo_result.rules if r.resource_type][:2]
    assert rules[0].resource_type != rules[1].resource_type
    scope = "/subscriptions/00000000-0000-4000-8000-000000000000"
    extra = [scope_finding(rule, scope, Status.UNKNOWN, "403 Forbidden", "azure") for rule in rules]
    result = ScanResult(**{**demo_result.__dict__, "findings": [*demo_result.findings, *extra]})
    read = read_findings_file(_written(result, tmp_path)).findings[-2:]
    assert [f["resource_type"] for f in read] == [r.resource_type for r in rules]
    assert {f["resource_id"] for f in read} == {scope}


def _document(tmp_path: Path, demo_result: ScanResult) -> dict[str, Any]:
    return json.loads(_written(demo_result, tmp_path).read_text(encoding="utf-8"))


@pytest.mark.parametrize("reference", [-1, 10**6, "0", None, True])
def test_a_reference_to_no_resource_is_refused(reference: Any, demo_result: ScanResult, tmp_path: Path) -> None:
    document = _document(tmp_path, demo_result)
    document["findings"][3]["resource"] = reference
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match=r"findings\[3\] names no entry of 'resources'"):
        read_findings_file(tmp_path / "bad.json")


def test_a_missing_message_the_rule_cannot_give_is_refused(demo_result: ScanResult, tmp_path: Path) -> None:
    document = _document(tmp_path, demo_result)
    index = next(i for i, f in enumerate(document["findings"]) if "message" in f and f["status"] == "UNKNOWN")
    del document["findings"][index]["message"]
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match=rf"findings\[{index}\] has no message"):
        read_findings_file(tmp_path / "bad.json")


def test_a_newer_major_version_is_refused_not_misread(demo_result: ScanResult, tmp_path: Path) -> None:
    document = _document(tmp_path, demo_result)
    document["schema_version"] = "4.0"
    (tmp_path / "new.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match="schema version 4.0 is newer"):
        read_findings_file(tmp_path / "new.json")


def test_a_schema_2_file_still_reads(demo_result: ScanResult, tmp_path: Path) -> None:
    """2.x printed each finding's resource fields (and a null waiver) on the finding itself."""
    document = _document(tmp_path, demo_result)
    flat = read_findings_file(_written(demo_result, tmp_path)).findings
    document["schema_version"] = "2.0"
    del document["resources"]
    document["findings"] = [{k: v for k, v in f.items() if k not in ("title", "severity", "category")} for f in flat]
    (tmp_path / "v2.json").write_text(json.dumps(document), encoding="utf-8")
    assert read_findings_file(tmp_path / "v2.json").findings == flat
