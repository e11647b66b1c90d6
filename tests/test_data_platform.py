"""The data-platform types behind Azure Policy's Synapse, HDInsight, storage encryption scope, Batch
pool, Service Fabric, Domain Services, Cosmos DB key and disk encryption set definitions: read live
through the real SDK clients against the ARM emulator (child data per parent, failures as coverage
gaps), and their thresholds read from vdcaudit.yaml."""

from __future__ import annotations

import json
from pathlib import Path
import ssl
import urllib.request
from typing import Any

import pytest
from click.testing import CliRunner

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.commands.cli import cli
from vdcaudit.context import ScanContext
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan
from tests import evidence_day
from tests.findings_json import findings_in
from tests.test_azure_live import DEMO, HUB, SPOKE5, findings, live, only_reads, rules  # noqa: F401

# Child collections read per parent on their ARM REST paths (the demo's resources, by name)
CHILD_READS = {
    r"/workspaces/synw-spoke5/sqlPools/dwspoke5/transparentDataEncryption$": 1,
    r"/workspaces/synw-spoke5-reports/sqlPools/dwreports/transparentDataEncryption$": 1,
    r"/workspaces/[^/]+/dedicatedSQLminimalTlsSettings$": 2,
    r"/storageAccounts/stspoke5lake/encryptionScopes$": 1,
    r"/batchAccounts/batchspoke5/pools$": 1,
}


@pytest.mark.parametrize("no_graph", [False, True], ids=["resource-graph", "no-graph"])
def test_child_data_is_read_per_parent(rules, no_graph):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        inventory = live(arm, no_graph=no_graph)
        for path, expected in CHILD_READS.items():
            assert arm.log.count(path, "GET") == expected, path
        assert only_reads(arm)
    assert inventory.coverage == []
    verdicts = {(f.rule_id, f.resource_name): f.status for f in findings(inventory, rules)}
    assert verdicts[("VDC-SYN-002", "dwreports")] is Status.FAIL
    assert verdicts[("VDC-SYN-003", "synw-spoke5-reports")] is Status.FAIL
    assert verdicts[("VDC-ST-010", "scope-finance")] is Status.PASS
    assert verdicts[("VDC-BAT-002", "pool-render")] is Status.FAIL


def test_synapse_tde_keeps_status_at_every_api_version():
    """Unlike Azure SQL's TDE (`status` before 2021, `state` after), Synapse's says `status`."""
    with ArmEmulator([DEMO / "azure"]) as arm:
        path = (f"/subscriptions/{SPOKE5}/resourceGroups/rg-spoke5-data/providers/Microsoft.Synapse/workspaces/"
                "synw-spoke5/sqlPools/dwspoke5/transparentDataEncryption/current?api-version=2021-06-01")
        request = urllib.request.Request(arm.url + path, headers={"Authorization": "Bearer x"})
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=arm.ca_path)) as answer:
            assert json.loads(answer.read())["properties"] == {"status": "Enabled"}


def test_failed_pool_tde_read_is_unknown_never_pass(rules):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.error(500, times=None, path=r"/sqlPools/dwspoke5/transparentDataEncryption$"))
        inventory = live(arm)
    [gap] = inventory.coverage
    assert gap.resource_type == "Microsoft.Synapse/workspaces/sqlPools/transparentDataEncryption"
    [pool] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SYN-002" and f.resource_name == "dwspoke5"]
    assert pool.status is Status.UNKNOWN


def test_forbidden_pools_and_scopes_make_their_rules_unknown(rules):
    """A child collection that could not be read leaves no child to judge: the rules on that type
    report the gap for the subscription instead of a silent nothing."""
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.error(403, times=None, path=r"/batchAccounts/batchspoke5/pools$", code="AuthorizationFailed"))
        arm.add_fault(Fault.error(403, times=None, path=r"/stspoke5lake/encryptionScopes$", code="AuthorizationFailed"))
        inventory = live(arm)
    assert {c.resource_type for c in inventory.coverage} == {"Microsoft.Batch/batchAccounts/pools",
                                                             "Microsoft.Storage/storageAccounts/encryptionScopes"}
    result = findings(inventory, rules)
    for rule_id in ("VDC-BAT-002", "VDC-ST-010", "VDC-ST-011"):
        gaps = [f for f in result if f.rule_id == rule_id and f.resource_id == SPOKE5]
        assert gaps and all(f.status is Status.UNKNOWN for f in gaps), rule_id
        assert not [f for f in result if f.rule_id == rule_id and f.status is Status.PASS]


@pytest.mark.parametrize(("thresholds", "problem"), [
    ("thresholds: {cosmos_db: {max_key_age_days: 0}}", "thresholds.cosmos_db.max_key_age_days"),
    ("thresholds: {cosmos_db: {max_key_age: 30}}", "thresholds.cosmos_db"),
    ("thresholds: {disks: {allowed_disk_encryption_sets: des-hub-cmk}}", "thresholds.disks.allowed_disk_encryption_sets"),
])
def test_bad_threshold_is_one_line_and_exit_2(tmp_path: Path, thresholds: str, problem: str):
    config = tmp_path / "vdcaudit.yaml"
    config.write_text(thresholds + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(config), "--out", str(tmp_path / "out"),
                                      "--quiet"])
    assert result.exit_code == 2, result.output
    assert problem in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_threshold_settings_decide_the_verdicts(tmp_path: Path):
    config = tmp_path / "vdcaudit.yaml"
    # the demo's allowed set, spelt in other case: ARM ids compare case-insensitively
    des = f"/subscriptions/{HUB}/RESOURCEGROUPS/RG-HUB-SECURITY/providers/microsoft.compute/diskencryptionsets/DES-HUB-CMK"
    config.write_text(f"thresholds:\n  cosmos_db: {{max_key_age_days: 1000}}\n  disks:\n"
                      f"    allowed_disk_encryption_sets: ['{des}']\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(config), "--out", str(out), "--format", "json",
                                      "--quiet"])
    assert result.exit_code in (0, 1), result.output
    found = {(f["rule_id"], f["resource_name"]): f for f in findings_in(out)}
    events = found[("VDC-COS-003", "cosmos-spoke5-events")]  # FAIL with the policy's default of 60 days
    assert events["status"] == "PASS" and "thresholds.cosmos_db.max_key_age_days" in events["message"]
    assert found[("VDC-DSK-002", "vm-app-02_data01")]["status"] == "PASS"
    assert found[("VDC-DSK-002", "old-restore-disk")]["status"] == "FAIL"


def test_demo_judges_the_data_platform_both_ways(tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(out), "--format", "json", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    found = {(f["rule_id"], f["resource_name"]): f["status"] for f in findings_in(out)}
    assert found[("VDC-COS-003", "cosmos-spoke5-events")] == "FAIL"  # read-only keys never regenerated
    assert found[("VDC-COS-003", "cosmos-spoke5-orders")] == "UNKNOWN"  # keysMetadata not exported
    assert found[("VDC-ADDS-001", "aadds.contoso.com")] == "FAIL"
    for rule_id in ("VDC-SYN-002", "VDC-SYN-003", "VDC-HDI-001", "VDC-HDI-002", "VDC-HDI-003", "VDC-ST-010",
                    "VDC-ST-011", "VDC-BAT-002", "VDC-SF-001", "VDC-DBW-004", "VDC-DSK-002"):
        assert {"PASS", "FAIL"} <= {status for (rule, _), status in found.items() if rule == rule_id}, rule_id


PLAN = DEMO.parent / "iac" / "dataplatform.plan.json"


def _verdicts(inventory) -> dict[tuple[str, str], Any]:
    return {(f.rule_id, f.resource_name): f for f in
            scan(inventory, load_rules(), ScanContext(options=evidence_day.OPTIONS)).findings}


def test_terraform_plan_maps_the_data_platform():
    """azurerm resources as `terraform show -json` prints them, mapped to the ARM shape the rules read."""
    inventory = Inventory()
    load_plan(PLAN, inventory, subscription_id="sub-ci")
    found = _verdicts(inventory)
    expected = {("VDC-SYN-002", "dwvdc"): "PASS", ("VDC-SYN-002", "dwstaging"): "FAIL",  # TDE child from a bool
                ("VDC-HDI-001", "hdi-vdc-analytics"): "PASS", ("VDC-HDI-001", "hdi-vdc-events"): "FAIL",
                ("VDC-HDI-002", "hdi-vdc-analytics"): "PASS", ("VDC-HDI-002", "hdi-vdc-events"): "FAIL",
                ("VDC-HDI-003", "hdi-vdc-analytics"): "PASS", ("VDC-HDI-003", "hdi-vdc-events"): "FAIL",
                ("VDC-ST-010", "scope-finance"): "PASS", ("VDC-ST-010", "scope-staging"): "FAIL",
                ("VDC-ST-011", "scope-finance"): "PASS", ("VDC-ST-011", "scope-staging"): "FAIL",
                ("VDC-BAT-002", "pool-etl"): "PASS", ("VDC-BAT-002", "pool-render"): "FAIL",  # list of blocks
                ("VDC-SF-001", "sf-vdc-apps"): "PASS", ("VDC-SF-001", "sf-vdc-legacy"): "FAIL",  # map -> name/value
                ("VDC-ADDS-001", "aadds-vdc"): "PASS", ("VDC-DBW-004", "dbw-vdc-sandbox"): "FAIL"}
    assert {key: found[key].status.value for key in expected} == expected
    # the provider has no argument for the dedicated SQL minimal TLS version: UNKNOWN, saying so
    tls = found[("VDC-SYN-003", "synw-vdc-data")]
    assert tls.status is Status.UNKNOWN and "does not expose the dedicated SQL minimal TLS version" in tls.message
    # keysMetadata is read-only: the Cosmos DB key age rule never judges a plan
    assert not [key for key in found if key[0] == "VDC-COS-003"]


def test_arm_template_declares_children_as_people_write_them():
    """Child resources nested in their parent (encryption scopes, pools) and top-level children named
    `parent/child` (a pool's TDE, the workspace's TLS settings), as templates are written."""
    inventory = Inventory()
    load_template(DEMO.parent / "iac" / "dataplatform.template.json", inventory)
    found = {key: f.status.value for key, f in _verdicts(inventory).items()}
    expected = {("VDC-ST-010", "scope-finance"): "PASS", ("VDC-ST-010", "scope-staging"): "FAIL",
                ("VDC-ST-011", "scope-finance"): "PASS", ("VDC-ST-011", "scope-staging"): "FAIL",
                ("VDC-SYN-002", "dw1"): "PASS", ("VDC-SYN-003", "synw1"): "FAIL",
                ("VDC-HDI-003", "hdi1"): "PASS", ("VDC-HDI-002", "hdi1"): "FAIL", ("VDC-HDI-001", "hdi1"): "FAIL",
                ("VDC-BAT-002", "pool-etl"): "PASS", ("VDC-SF-001", "sf1"): "PASS",
                ("VDC-ADDS-001", "aadds.contoso.com"): "FAIL"}
    assert {key: found[key] for key in expected} == expected
