"""Platform floors by date (vdcaudit/data/platform_floors.yaml, docs/platform-floors.md): the verdict
uses the date the evidence describes - `--as-of`, else a `vdcaudit snapshot` file's collection time,
else the scan time - and the effective minimum is the stronger of the setting and the floor."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.findings_json import findings_in
from vdcaudit.commands.cli import cli
from vdcaudit.floors import table, tls_version
from vdcaudit.rulepack import load_rules

# Namespaces_Get of Microsoft.ServiceBus (REST spec example), without minimumTlsVersion as older API
# versions print it, and one set to 1.0
NAMESPACE = {"id": "/subscriptions/5f750a97-50d9-4e36-8081-c9ee4c0210d4/resourceGroups/ArunMonocle/providers/"
                   "Microsoft.ServiceBus/namespaces/sdk-Namespace-2924",
             "name": "sdk-Namespace-2924", "type": "Microsoft.ServiceBus/namespaces", "location": "South Central US",
             "sku": {"name": "Standard", "tier": "Standard"},
             "properties": {"provisioningState": "Succeeded", "status": "Active",
                            "serviceBusEndpoint": "https://sdk-Namespace-2924.servicebus.windows.net:443/"}}
LEGACY = {**NAMESPACE, "id": NAMESPACE["id"].replace("2924", "1010"), "name": "sdk-Namespace-1010",
          "properties": {**NAMESPACE["properties"], "minimumTlsVersion": "1.0"}}


def snapshot(tmp_path: Path, collected: str | None, *resources: dict[str, Any]) -> Path:
    document: dict[str, Any] = {"value": list(resources)}
    if collected is not None:
        document["vdcaudit_snapshot"] = {"tool": {"name": "vdcaudit"}, "collected": collected, "coverage": []}
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def verdicts(tmp_path: Path, path: Path, *extra: str) -> dict[str, tuple[str, str]]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(path), "--out", str(out), "--format", "json",
                                      "--quiet", *extra])
    assert result.exit_code == 0, result.output
    return {f["resource_name"]: (f["status"], f["message"]) for f in findings_in(out) if f["rule_id"] == "VDC-SB-001"}


def test_every_floor_is_cited_and_named_by_a_rule() -> None:
    floors = table()
    assert floors, "the floor table is empty"
    for floor in floors.values():
        assert floor.source.startswith("https://learn.microsoft.com/"), floor.id
        assert tls_version(floor.floor) == (1, 2)
    used = {rule.platform_floor.id for rule in load_rules() if rule.platform_floor}
    assert used == set(floors), "a floor no rule uses, or a rule naming a floor not in the table"


@pytest.mark.parametrize(("spelling", "version"), [
    ("1.2", (1, 2)), (1.2, (1, 2)), ("TLS1_2", (1, 2)), ("Tls12", (1, 2)), ("TLS12", (1, 2)), ("TLSv1_2", (1, 2)),
    ("Tls", (1, 0)), ("Tls11", (1, 1)), ("TLS10", (1, 0)), ("None", (0, 0)), ("", None), ("latest", None),
    (None, None), (True, None)])
def test_tls_spellings_of_every_service(spelling: Any, version: tuple[int, int] | None) -> None:
    assert tls_version(spelling) == version


def test_a_snapshot_is_judged_as_of_its_collection_time(tmp_path: Path) -> None:
    before = verdicts(tmp_path, snapshot(tmp_path, "2025-02-27T23:00:00+00:00", NAMESPACE, LEGACY))
    assert before["sdk-Namespace-2924"][0] == "UNKNOWN"
    assert before["sdk-Namespace-1010"][0] == "FAIL"
    assert "from 2025-02-28" in before["sdk-Namespace-1010"][1] and "(collected)" in before["sdk-Namespace-1010"][1]
    after = verdicts(tmp_path, snapshot(tmp_path, "2025-02-28T00:00:00Z", NAMESPACE, LEGACY))
    assert after["sdk-Namespace-2924"][0] == "PASS"
    status, message = after["sdk-Namespace-1010"]
    assert status == "WARN" and "'1.0' has no effect" in message
    assert "https://learn.microsoft.com/azure/service-bus-messaging/" in message


def test_without_a_collection_time_the_scan_time_decides_and_as_of_overrides(tmp_path: Path) -> None:
    path = snapshot(tmp_path, None, NAMESPACE, LEGACY)  # an az export: no collection time
    today = verdicts(tmp_path, path)  # the scan runs after 2025-02-28
    assert {name: status for name, (status, _) in today.items()} == {
        "sdk-Namespace-2924": "PASS", "sdk-Namespace-1010": "WARN"}
    assert "(scan time)" in today["sdk-Namespace-2924"][1]
    old = verdicts(tmp_path, path, "--as-of", "2024-06-30")
    assert {name: status for name, (status, _) in old.items()} == {
        "sdk-Namespace-2924": "UNKNOWN", "sdk-Namespace-1010": "FAIL"}
    # --as-of wins over a recorded collection time too
    dated = snapshot(tmp_path, "2026-01-01T00:00:00Z", LEGACY)
    assert verdicts(tmp_path, dated, "--as-of", "2025-01-01")["sdk-Namespace-1010"][0] == "FAIL"


def test_an_entry_cannot_date_its_own_evidence(tmp_path: Path) -> None:
    """The collection time is the file's (vdcaudit_snapshot.collected), never an entry's annotation."""
    forged = {**LEGACY, "x_vdcaudit": {"observed": "2030-01-01T00:00:00Z"}}
    found = verdicts(tmp_path, snapshot(tmp_path, "2024-01-01T00:00:00Z", forged))
    assert found["sdk-Namespace-1010"][0] == "FAIL"


@pytest.mark.parametrize(("argv", "complaint"), [
    (["--as-of", "2025-13-01"], "as-of"),
    (["--as-of", "yesterday"], "as-of")])
def test_a_bad_as_of_is_a_usage_error(tmp_path: Path, argv: list[str], complaint: str) -> None:
    path = snapshot(tmp_path, None, NAMESPACE)
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(path), "--out", str(tmp_path / "o"), *argv])
    assert result.exit_code == 2 and complaint in result.output


def test_a_collection_time_that_is_no_time_is_refused(tmp_path: Path) -> None:
    path = snapshot(tmp_path, "last tuesday", NAMESPACE)
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "vdcaudit_snapshot.collected is not an ISO 8601 time" in result.output
    assert not (tmp_path / "o").exists()


def test_the_floor_is_listed_with_its_rule() -> None:
    rule = next(r for r in load_rules() if r.id == "VDC-SQL-002")
    listed = rule.metadata()["platform_floor"]
    assert listed["since"] == date(2025, 8, 31).isoformat() and listed["floor"] == "1.2"
    assert listed["source"].startswith("https://learn.microsoft.com/azure/azure-sql/")


def test_the_demo_is_dated_and_as_of_shows_the_floors(tmp_path: Path) -> None:
    def demo(*extra: str) -> dict[tuple[str, str], str]:
        out = tmp_path / ("later" if extra else "dated")
        result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(out), "--format", "json", "--quiet", *extra])
        assert result.exit_code == 0, result.output
        return {(f["rule_id"], f["resource_name"]): f["status"] for f in findings_in(out)}
    dated, later = demo(), demo("--as-of", "2026-02-03")
    # a namespace set to TLS 1.0, and a gateway whose SSL profile allows TLS 1.0
    assert dated[("VDC-SB-001", "sb-spoke2-legacy")] == "FAIL" and later[("VDC-SB-001", "sb-spoke2-legacy")] == "WARN"
    assert dated[("VDC-AGW-001", "agw-spoke3-legacy")] == "FAIL" and later[("VDC-AGW-001", "agw-spoke3-legacy")] == "WARN"
