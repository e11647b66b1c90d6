"""`vdcaudit merge` re-judges what shards carry: shards written by hand, the way someone who wants the
gate to pass would write them. A shard's waivers and baseline decide nothing; the worse verdict of a
disagreement wins in any shard order; a shard that does not match the published schema is refused
(exit 2, naming the shard and the field) before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from tests.shards import RULE, STORAGE, hand_written_shard as _shard
from tests.findings_json import findings_in

OLD_WAIVER = {"rule": "*", "resource": "*", "justification": "whatever", "owner": "someone", "expires": "2001-01-01"}


def _write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _merge(out: Path, *args: str | Path) -> Any:
    return CliRunner().invoke(cli, ["merge", *map(str, args), "--out", str(out), "--format", "json",
                                    "--fail-on", "high"])


def test_a_waiver_carried_inside_a_shard_waives_nothing(tmp_path: Path) -> None:
    shard = _shard(("stlogs", "FAIL"), waivers={"applied": [{**OLD_WAIVER, "findings": 1}], "expired": [], "stale": []})
    shard["findings"][0]["waiver"] = OLD_WAIVER  # expired years ago, and a blanket one
    result = _merge(tmp_path / "out", _write(tmp_path, "a.json", shard))
    assert result.exit_code == 1, result.output
    assert "waivers carried inside 1 shard(s) ignored" in result.output and "a.json" in result.output
    merged = json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text())
    assert "waivers" not in merged and merged["merge"]["ignored"]["waivers"] == [str(tmp_path / "a.json")]
    assert all("waiver" not in f for f in merged["findings"])


def test_a_baseline_block_in_one_shard_excuses_nothing(tmp_path: Path) -> None:
    excuse = {"file": "old.json", "known_failures": 1, "new": [], "fixed": []}
    a = _write(tmp_path, "a.json", _shard(("stlogs", "PASS"), baseline=excuse))
    b = _write(tmp_path, "b.json", _shard(("stdata", "FAIL")))
    result = _merge(tmp_path / "out", a, b)
    assert result.exit_code == 1, result.output
    assert "baseline carried inside 1 shard(s) ignored" in result.output


@pytest.mark.parametrize("order", [("waived", "open"), ("open", "waived")])
def test_a_finding_waived_in_one_shard_and_open_in_another_stays_open(tmp_path: Path, order: tuple[str, str]) -> None:
    waived = _shard(("stlogs", "FAIL"))
    waived["findings"][0]["waiver"] = {**OLD_WAIVER, "rule": RULE, "expires": "2099-12-31"}
    files = {"waived": _write(tmp_path, "waived.json", waived), "open": _write(tmp_path, "open.json", _shard(("stlogs", "FAIL")))}
    result = _merge(tmp_path / "out", *(files[name] for name in order))
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize("order", [("pass", "fail"), ("fail", "pass")])
def test_the_worse_verdict_wins_in_any_order_and_the_conflict_is_listed(tmp_path: Path, order: tuple[str, str]) -> None:
    files = {"pass": _write(tmp_path, "pass.json", _shard(("stlogs", "PASS"))),
             "fail": _write(tmp_path, "fail.json", _shard(("stlogs", "FAIL")))}
    result = _merge(tmp_path / "out", *(files[name] for name in order))
    assert result.exit_code == 1, result.output
    assert f"conflict: {RULE} on {STORAGE}stlogs: " in result.output and "FAIL kept" in result.output
    merged = json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text())
    assert merged["merge"]["conflicts"] == 1
    assert merged["merge"]["conflicting_verdicts"][0]["statuses"] == {str(files["pass"]): "PASS", str(files["fail"]): "FAIL"}
    assert [f["status"] for f in findings_in(tmp_path / "out")] == ["FAIL"]


def test_merge_waivers_apply_with_the_merge_date(tmp_path: Path) -> None:
    shard = _write(tmp_path, "a.json", _shard(("stlogs", "FAIL")))
    expired = tmp_path / "expired.yaml"
    expired.write_text(f"waivers:\n  - {{rule: {RULE}, resource: '*/stlogs', justification: j, owner: o, "
                       "expires: 2020-01-01}\n")
    result = _merge(tmp_path / "out", shard, "--waivers", expired)
    assert result.exit_code == 1 and "waiver expired" in result.output
    valid = tmp_path / "valid.yaml"
    valid.write_text(f"waivers:\n  - {{rule: {RULE}, resource: '*/stlogs', justification: j, owner: o, "
                     "approver: ciso, created: 2026-01-01, expires: 2099-01-01}\n")
    result = _merge(tmp_path / "out2", shard, "--waivers", valid)
    assert result.exit_code == 0, result.output
    waiver = json.loads((tmp_path / "out2" / "vdcaudit-findings.json").read_text())["findings"][0]["waiver"]
    assert (waiver["owner"], waiver["approver"], waiver["created"], waiver["expires"]) == ("o", "ciso", "2026-01-01", "2099-01-01")


def test_merge_baseline_is_the_merges_own(tmp_path: Path) -> None:
    shard = _write(tmp_path, "a.json", _shard(("stlogs", "FAIL")))
    known = _write(tmp_path, "known.json", _shard(("stlogs", "FAIL")))
    result = _merge(tmp_path / "out", shard, "--baseline", known)
    assert result.exit_code == 0, result.output


def _edit(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = document
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return document


@pytest.mark.parametrize("path, value, field", [
    ("scan.started", "2026-12-01T02:00:00", "scan.started"),                  # no time zone
    ("coverage", ["subscription 1 unreadable"], "coverage[0]"),                # an entry that is not an object
    ("summary.resources", "12", "summary.resources"),                          # a count that is not a number
    ("scan.scopes", {"sub": {"resources": "many", "not_assessed": {}}}, "scan.scopes.sub.resources"),
    ("findings.0.status", "PASSED", "findings[0].status"),
    ("findings.0.waiver", "yes", "findings[0].waiver"),
    ("findings.0.resource", "0", "findings[0].resource"),
    ("scan.rulepack", 140, "scan.rulepack"),
    ("resources.0.id", None, "resources[0].id"),
    ("waivers", [OLD_WAIVER], "waivers"),
    ("sections", {"sdn": {"virtual_networks": "all encrypted"}}, "sections.sdn"),  # the HTML report reads it
])
def test_a_shard_off_the_published_schema_is_refused(tmp_path: Path, path: str, value: Any, field: str) -> None:
    good = _write(tmp_path, "good.json", _shard(("stdata", "PASS")))
    bad = _write(tmp_path, "bad.json", _edit(_shard(("stlogs", "FAIL")), path, value))
    result = _merge(tmp_path / "out", good, bad)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and f"{bad}: " in line and "Traceback" not in line
    assert "vdcaudit-findings.schema.json" in line and f"field {field}" in line
    assert not (tmp_path / "out").exists()


def test_a_blanket_waiver_is_refused_at_merge_too(tmp_path: Path) -> None:
    blanket = tmp_path / "blanket.yaml"
    blanket.write_text("waivers:\n  - {rule: '*', resource: '*', justification: j, owner: o, expires: 2099-01-01}\n")
    result = _merge(tmp_path / "out", _write(tmp_path, "a.json", _shard(("stlogs", "FAIL"))), "--waivers", blanket)
    assert result.exit_code == 2 and "matches every rule and every resource" in result.output
    assert not (tmp_path / "out").exists()


def test_rfc3339_times_with_z_are_read(tmp_path: Path) -> None:
    shard = _shard(("stlogs", "PASS"))
    shard["scan"]["started"], shard["scan"]["finished"] = "2026-12-01T02:00:00Z", "2026-12-01T02:05:00.5Z"
    result = _merge(tmp_path / "out", _write(tmp_path, "a.json", shard))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text())["scan"]["started"] == "2026-12-01T02:00:00+00:00"


def test_a_shards_history_view_is_not_carried_into_the_merge(tmp_path: Path) -> None:
    """"history" is the shard's own "since its last scan" view: not the merge's to show."""
    shard = _shard(("stlogs", "FAIL"), sections={"history": {"since": "a scan where all was well"}, "other": {}})
    result = _merge(tmp_path / "out", _write(tmp_path, "a.json", shard))
    assert result.exit_code == 1, result.output
    assert json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text())["sections"] == {}
