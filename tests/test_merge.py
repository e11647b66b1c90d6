"""`vdcaudit merge`: shards of the demo estate, scanned apart and merged, give the report and gate
decision of one scan of the whole estate; overlapping shards count a resource once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.inventory import parse_scope
from vdcaudit.resources import data_path
from tests.findings_json import findings_in
from tests.findings_json import findings_in

DEMO = data_path("demo")
HUB = "11111111-1111-4111-8111-111111111111"
SPOKE1 = "22222222-2222-4222-8222-222222222222"
SPOKE2 = "33333333-3333-4333-8333-333333333333"
SPOKE3 = "44444444-4444-4444-8444-444444444444"
SPOKE5 = "55555555-5555-4555-8555-555555555555"
# The spokes' customer-managed keys live in the hub's vault: a shard that judges them must hold the
# hub too (see README "Merging shards"), so the disjoint split is {hub, spoke 1, spoke 3} + {spoke 2}.
SHARDS = {"landing-zone-a": {HUB, SPOKE1, SPOKE3, SPOKE5}, "landing-zone-b": {SPOKE2}}


def _split(folder: Path, subscriptions: set[str]) -> Path:
    """The demo's Azure snapshot files, each cut down to the resources of these subscriptions."""
    folder.mkdir(parents=True)
    for path in sorted((DEMO / "azure").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        items = document if isinstance(document, list) else document.get("data") or document.get("value")
        kept = [r for r in items if parse_scope(r.get("id") or r.get("ResourceId"))[0] in subscriptions]
        (folder / path.name).write_text(json.dumps(kept), encoding="utf-8")
    return folder


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _scan(snapshot: Path, out: Path, *extra: str) -> Any:
    return _run("scan", "--snapshot", str(snapshot), "--config", str(DEMO / "vdcaudit.yaml"), "--out", str(out),
                "--format", "json", "--quiet", *extra)


def _read(path: Path) -> dict[str, Any]:
    """A findings file with its findings flat (each with its resource's fields), as the reader gives them."""
    return {**json.loads(path.read_text(encoding="utf-8")), "findings": findings_in(path)}


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What must be equal: the summary, coverage, rules and every finding (its file location aside:
    shard files have other paths than the whole snapshot's)."""
    findings = sorted(({k: v for k, v in f.items() if k != "location"} for f in document["findings"]),
                      key=lambda f: f["fingerprint"])
    return {"summary": document["summary"], "coverage": document["coverage"], "rules": document["rules"],
            "findings": findings}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("merge")
    assert _scan(DEMO / "azure", root / "whole", "--fail-on", "high").exit_code == 1
    files = {"whole": root / "whole" / "vdcaudit-findings.json"}
    for name, subscriptions in SHARDS.items():
        _scan(_split(root / "snap" / name, subscriptions), root / name)
        files[name] = root / name / "vdcaudit-findings.json"
    return files


def test_merged_shards_equal_one_scan_of_the_estate(scans: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    result = _run("merge", str(scans["landing-zone-a"]), str(scans["landing-zone-b"]), "--out", str(out),
                  "--format", "json,html,sarif,junit,csv,md", "--fail-on", "high", "--quiet")
    assert result.exit_code == 1  # the same gate decision as the whole scan: high FAILs exist
    merged = _read(out / "vdcaudit-findings.json")
    whole = _read(scans["whole"])
    assert _comparable(merged) == _comparable(whole)
    assert merged["merge"]["duplicates"] == {"resources": 0, "findings": 0, "resource_ids": []}
    assert len(merged["scan"]["sources"]) == sum(len(json.loads(scans[n].read_text())["scan"]["sources"]) for n in SHARDS)
    assert {p.name for p in out.iterdir()} >= {"vdcaudit-report.html", "vdcaudit.sarif", "vdcaudit-findings.csv"}


def test_overlapping_shards_count_each_resource_once(scans: dict[str, Path], tmp_path: Path) -> None:
    # landing zone b is also inside the whole scan: every one of its resources is in two shards
    result = _run("merge", str(scans["whole"]), str(scans["landing-zone-b"]), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    assert "found in more than one shard" in result.output
    merged = _read(tmp_path / "vdcaudit-findings.json")
    whole = _read(scans["whole"])
    shard = _read(scans["landing-zone-b"])
    assert _comparable(merged) == _comparable(whole)
    assert merged["merge"]["duplicates"]["findings"] == len(shard["findings"])
    assert merged["merge"]["duplicates"]["resources"] == len({f["resource_id"].lower() for f in shard["findings"]})
    assert merged["merge"]["overlapping_subscriptions"] == [SPOKE2]


def test_a_disagreeing_duplicate_keeps_the_worse_verdict(scans: dict[str, Path], tmp_path: Path) -> None:
    shard = json.loads(scans["landing-zone-b"].read_text(encoding="utf-8"))  # as written: edited in place
    passed = next(f for f in shard["findings"] if f["status"] == "PASS")
    passed["status"] = "FAIL"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(shard), encoding="utf-8")
    result = _run("merge", str(scans["landing-zone-b"]), str(edited), "--out", str(tmp_path / "out"), "--format", "json")
    assert result.exit_code == 0
    merged = _read(tmp_path / "out" / "vdcaudit-findings.json")
    kept = next(f for f in merged["findings"] if f["fingerprint"] == passed["fingerprint"])
    assert kept["status"] == "FAIL" and merged["merge"]["conflicts"] == 1


def test_per_subscription_shards_never_pass_what_they_cannot_see(scans: dict[str, Path], tmp_path: Path) -> None:
    """Split below the hub, a spoke's key vault is out of its shard: UNKNOWN, never PASS."""
    files = []
    for subscription in (HUB, SPOKE1, SPOKE2, SPOKE3, SPOKE5):
        _scan(_split(tmp_path / "snap" / subscription, {subscription}), tmp_path / subscription)
        files.append(str(tmp_path / subscription / "vdcaudit-findings.json"))
    assert _run("merge", *files, "--out", str(tmp_path / "merged"), "--format", "json").exit_code == 0
    merged = {f["fingerprint"]: f for f in findings_in(tmp_path / "merged")}
    whole = {f["fingerprint"]: f for f in findings_in(scans["whole"])}
    assert merged.keys() == whole.keys()
    changed = {k for k in whole if whole[k]["status"] != merged[k]["status"]}
    assert changed and all(merged[k]["status"] == "UNKNOWN" for k in changed)


def test_shards_of_another_rule_pack_are_refused(scans: dict[str, Path], tmp_path: Path) -> None:
    document = json.loads(scans["landing-zone-b"].read_text(encoding="utf-8"))
    document["scan"]["rulepack"] = "41 rules, sha256:000000000000"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(cli, ["merge", str(scans["landing-zone-a"]), str(other), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "rule pack" in result.output and str(other) in result.output
    assert not (tmp_path / "out").exists()
