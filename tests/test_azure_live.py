"""Live Azure collection end to end: the real azure-mgmt-* clients against the local ARM
emulator (HTTPS on 127.0.0.1, fixture tenant = the demo VDC), nothing in the SDK mocked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vdcaudit.cli import cli
from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors.azure.clients import RateGate
from vdcaudit.collectors.azure.clouds import StaticTokenCredential
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.model import ScanContext
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"
HUB = "11111111-1111-4111-8111-111111111111"
SPOKE1 = "22222222-2222-4222-8222-222222222222"
SPOKE2 = "33333333-3333-4333-8333-333333333333"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def emulator():
    # Small pages so that every list and the Resource Graph query page more than once
    arm = ArmEmulator([DEMO / "azure"], page_size=3)
    others = [s for s in arm.subscriptions if s not in (SPOKE1, SPOKE2)]
    arm.management_groups = {"mg-vdc": ["mg-spokes", *others], "mg-spokes": [SPOKE1, SPOKE2]}
    with arm:
        yield arm


def live(arm: ArmEmulator, **params: Any) -> Inventory:
    inventory = Inventory()
    base = {"arm_endpoint": arm.url, "ca_bundle": arm.ca_path, "credential": "static-token", "quiet": True,
            "retry_backoff": 0.01, "graph_page_size": 7, "request_timeout": 5}
    if not any(k in params for k in ("subscription", "management_group")):
        base["all_subscriptions"] = True
    azure_source.collect({**base, **params}, inventory)
    return inventory


def verdicts(inventory: Inventory, rules) -> dict[str, str]:
    result = scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))
    return {f.fingerprint: f.status.value for f in result.findings}


def findings(inventory: Inventory, rules):
    return scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml"))).findings


@pytest.fixture(scope="module")
def snapshot_verdicts(rules) -> dict[str, str]:
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    return verdicts(inventory, rules)


def only_reads(arm: ArmEmulator) -> bool:
    return all(e.method == "GET" or (e.method == "POST" and e.path.lower() == "/providers/microsoft.resourcegraph/resources")
               for e in arm.log)


def test_live_scan_equals_snapshot_scan(emulator, rules, snapshot_verdicts):
    inventory = live(emulator)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert inventory.coverage == []
    # Resource Graph paged (7 rows a page) and the per-resource child calls were made
    assert emulator.log.count(r"resourcegraph", "POST") >= 6
    assert emulator.log.count(r"/transparentDataEncryption$") == 4
    assert only_reads(emulator)


def test_no_graph_equals_graph_path(emulator, rules, snapshot_verdicts):
    inventory = live(emulator, no_graph=True)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert emulator.log.count(r"resourcegraph") == 0
    assert any("$skiptoken" in e.path or e for e in emulator.log)  # lists were read
    assert emulator.log.count(r"/providers/Microsoft.Storage/storageAccounts$") == 2  # 2 subscriptions hold one
    assert only_reads(emulator) and emulator.log.methods() == {"GET"}


def test_management_group_and_explicit_subscriptions(emulator, rules, snapshot_verdicts):
    spokes = live(emulator, management_group="mg-spokes")
    assert {r["subscriptionId"] for r in spokes} == {SPOKE1, SPOKE2}
    everything = live(emulator, management_group="mg-vdc")
    assert verdicts(everything, rules) == snapshot_verdicts
    one = live(emulator, subscription=(SPOKE2,))
    assert {r["subscriptionId"] for r in one} == {SPOKE2}


def test_forbidden_subscription_gives_unknown_and_coverage(emulator, rules):
    emulator.add_fault(Fault.forbidden(f"/subscriptions/{SPOKE2}"))
    inventory = live(emulator, subscription=(HUB, SPOKE2))
    assert [(c.scope, c.resource_type, c.reason) for c in inventory.coverage] == [(SPOKE2, None, "403 Forbidden")]
    result = findings(inventory, rules)
    # one UNKNOWN per rule for the whole subscription, no verdict on anything in it
    spoke2 = [f for f in result if f.resource_id == SPOKE2]
    assert len(spoke2) == len(rules) and all(f.status is Status.UNKNOWN and "403 Forbidden" in f.message for f in spoke2)
    assert not any(SPOKE2 in f.resource_id and f.resource_id != SPOKE2 for f in result)
    assert any(f.status is Status.PASS and f.subscription == HUB for f in result)


@pytest.mark.parametrize("fault", [
    Fault.throttle(retry_after=0.05, times=2, path="resourcegraph"),
    Fault.error(503, times=2, path=r"/transparentDataEncryption$"),
    Fault.error(500, times=1, path=r"^/subscriptions$"),
    Fault.drop(times=2, path=r"/roleAssignments$"),
    Fault.latency(0.02),
], ids=["429-retry-after", "503", "500", "dropped-connection", "latency"])
def test_transient_faults_are_survived(emulator, rules, snapshot_verdicts, fault):
    emulator.add_fault(fault)
    inventory = live(emulator)
    assert fault.fired >= 1
    assert inventory.coverage == []
    assert verdicts(inventory, rules) == snapshot_verdicts


def test_persistent_child_failure_is_unknown_never_pass(emulator, rules):
    emulator.add_fault(Fault.error(500, times=None, path=r"/databases/payments/transparentDataEncryption$"))
    inventory = live(emulator)
    [record] = inventory.coverage
    assert (record.scope, record.resource_type) == (SPOKE1, "Microsoft.Sql/servers/databases/transparentDataEncryption")
    assert record.reason == "500 server error, retries exhausted" and "payments" in record.detail
    [payments] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SQL-001" and f.resource_name == "payments"]
    assert payments.status is Status.UNKNOWN


def test_timeout_on_role_assignments_makes_rbac_vault_unknown(emulator, rules):
    emulator.add_fault(Fault.stall(2.0, times=None, path=r"/roleAssignments$"))
    inventory = live(emulator, request_timeout=0.3)
    assert {c.resource_type for c in inventory.coverage} == {"Microsoft.Authorization/roleAssignments"}
    assert HUB in {c.scope for c in inventory.coverage}
    assert all(c.reason.startswith("timeout after 0.3s") for c in inventory.coverage)
    [vault] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-KV-003" and f.resource_name == "kv-hub-rbac"]
    assert vault.status is Status.UNKNOWN and "could not be read" in vault.message


def test_forbidden_type_without_graph_gives_unknown_for_that_type(emulator, rules):
    emulator.add_fault(Fault.forbidden(f"/subscriptions/{SPOKE2}/providers/Microsoft.ServiceBus/namespaces"))
    inventory = live(emulator, no_graph=True)
    assert [(c.scope, c.resource_type) for c in inventory.coverage] == [(SPOKE2, "Microsoft.ServiceBus/namespaces")]
    # nothing half-read kept (the generic list has no properties), the other subscriptions read
    assert not [r for r in inventory.of_type("Microsoft.ServiceBus/namespaces") if r["subscriptionId"] == SPOKE2]
    assert inventory.of_type("Microsoft.ServiceBus/namespaces")
    [unknown] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SB-001" and f.resource_id == SPOKE2]
    assert unknown.status is Status.UNKNOWN and "403 Forbidden" in unknown.message


def test_resource_graph_down_falls_back_to_sdk(emulator, rules, snapshot_verdicts):
    emulator.add_fault(Fault.error(503, times=None, path="resourcegraph"))
    inventory = live(emulator)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert "sdk fallback" in inventory.sources[-1]["method"]


def test_truncated_resource_graph_result_is_read_through_the_sdk(emulator, rules, snapshot_verdicts):
    emulator.graph_truncate_at = 2
    inventory = live(emulator)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert "sdk fallback" in inventory.sources[-1]["method"]


def test_rate_limit_headers_slow_the_collector_down(rules, snapshot_verdicts):
    with ArmEmulator([DEMO / "azure"], page_size=3, ratelimit_reads=5) as arm:
        gate = RateGate(low_water=3, pause=0.01)
        inventory = live(arm, no_graph=True, rate_gate=gate)
        assert gate.waits > 0
        assert verdicts(inventory, rules) == snapshot_verdicts


def test_static_token_only_for_loopback():
    with pytest.raises(InputError, match="loopback"):
        azure_source.build({"all_subscriptions": True, "arm_endpoint": "https://management.azure.com",
                            "credential": "static-token"})
    with pytest.raises(InputError, match="https"):
        azure_source.build({"all_subscriptions": True, "arm_endpoint": "http://127.0.0.1:1"})


def test_cli_scan_and_snapshot_round_trip(emulator, tmp_path, snapshot_verdicts):
    runner = CliRunner()
    target = ["--all-subscriptions", "--arm-endpoint", emulator.url, "--ca-bundle", emulator.ca_path,
              "--credential", "static-token"]
    scanned = runner.invoke(cli, ["scan", *target, "--out", str(tmp_path / "live"), "--format", "json",
                                  "--config", str(DEMO / "vdcaudit.yaml"), "--quiet"])
    assert scanned.exit_code == 0, scanned.output
    live_findings = json.loads((tmp_path / "live" / "vdcaudit-findings.json").read_text())["findings"]
    saved = runner.invoke(cli, ["snapshot", *target, "--out", str(tmp_path / "evidence.json")])
    assert saved.exit_code == 0, saved.output
    document = json.loads((tmp_path / "evidence.json").read_text())
    assert not any("x_vdcaudit" in r for r in document["value"])
    assert len(document["value"]) == len(emulator.resources())  # children (TDE, role assignments) included
    rescanned = runner.invoke(cli, ["scan", "--snapshot", str(tmp_path / "evidence.json"), "--out",
                                    str(tmp_path / "offline"), "--format", "json",
                                    "--config", str(DEMO / "vdcaudit.yaml"), "--quiet"])
    assert rescanned.exit_code == 0, rescanned.output
    offline = json.loads((tmp_path / "offline" / "vdcaudit-findings.json").read_text())["findings"]
    assert {f["fingerprint"]: f["status"] for f in offline} == {f["fingerprint"]: f["status"] for f in live_findings}
    assert {f["fingerprint"]: f["status"] for f in offline} == snapshot_verdicts


def test_cli_rejects_two_scopes_and_static_token_remote():
    runner = CliRunner()
    both = runner.invoke(cli, ["scan", "--all-subscriptions", "--management-group", "mg", "--credential",
                               "static-token", "--arm-endpoint", "https://127.0.0.1:9"])
    assert both.exit_code == 2 and "choose one of" in both.output
    remote = runner.invoke(cli, ["snapshot", "--all-subscriptions", "--credential", "static-token", "--out", "x.json"])
    assert remote.exit_code == 2 and "loopback" in remote.output


def test_emulator_command_prints_a_scan_command_that_works(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "vdcaudit", "emulator", "--page-size", "5"],
                               stdout=subprocess.PIPE, text=True)
    try:
        command, ca_path = None, None
        for line in process.stdout:
            if line.startswith("CA certificate"):
                ca_path = Path(line.rsplit(": ", 1)[1].strip())
            if line.strip().startswith("vdcaudit scan"):
                command = line.split()
                break
        assert command and re.search(r"https://127\.0\.0\.1:\d+", " ".join(command))
        result = CliRunner().invoke(cli, [*command[1:], "--out", str(tmp_path), "--format", "json", "--quiet"])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / "vdcaudit-findings.json").read_text())["summary"]["resources"] == len(ArmEmulator([DEMO / "azure"]).resources())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert ca_path is not None and not ca_path.parent.exists()  # SIGTERM stops it cleanly: no CA or key left


def test_snapshot_keeps_coverage_gaps_for_the_offline_rescan(emulator, tmp_path, rules):
    """What could not be read when the evidence was collected stays UNKNOWN when it is re-scanned."""
    emulator.add_fault(Fault.forbidden(f"/subscriptions/{SPOKE2}"))
    runner = CliRunner()
    saved = runner.invoke(cli, ["snapshot", "--subscription", HUB, "--subscription", SPOKE2, "--arm-endpoint",
                                emulator.url, "--ca-bundle", emulator.ca_path, "--credential", "static-token",
                                "--out", str(tmp_path / "evidence.json"), "--quiet"])
    assert saved.exit_code == 0, saved.output
    rescanned = runner.invoke(cli, ["scan", "--snapshot", str(tmp_path / "evidence.json"), "--out",
                                    str(tmp_path / "offline"), "--format", "json", "--quiet"])
    assert rescanned.exit_code == 0, rescanned.output
    document = json.loads((tmp_path / "offline" / "vdcaudit-findings.json").read_text())
    assert [(c["scope"], c["reason"]) for c in document["coverage"]] == [(SPOKE2, "403 Forbidden")]
    gaps = [f for f in document["findings"] if f["resource_id"] == SPOKE2]
    assert len(gaps) == len(rules) and {f["status"] for f in gaps} == {"UNKNOWN"}


@pytest.mark.parametrize(("cloud", "scope"), [
    (None, "https://management.azure.com/.default"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net/.default"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn/.default"),
])
def test_cloud_sets_the_token_scope_the_sdk_asks_for(emulator, monkeypatch, cloud, scope):
    """--cloud moves the token audience with it (here the endpoint is the emulator's)."""
    asked: list[tuple[str, ...]] = []
    original = StaticTokenCredential.get_token

    def recording(self, *scopes, **kwargs):
        asked.append(scopes)
        return original(self, *scopes, **kwargs)

    monkeypatch.setattr(StaticTokenCredential, "get_token", recording)
    live(emulator, subscription=(HUB,), **({"cloud": cloud} if cloud else {}))
    assert asked and {s for scopes in asked for s in scopes} == {scope}


@pytest.mark.parametrize(("cloud", "endpoint"), [
    ("AzurePublicCloud", "https://management.azure.com"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn"),
])
def test_cloud_chooses_the_arm_endpoint(cloud, endpoint):
    collector = azure_source.build({"cloud": cloud, "subscription": ("s1",)})  # builds only, sends nothing
    try:
        assert collector.clients.connection.endpoint == endpoint
    finally:
        collector.clients.close()


def test_resource_graph_reads_only_what_rules_read_and_counts_the_rest(emulator, rules):
    """Types no rule or check reads (the demo's local network gateways) are counted by one
    summarize, never paged through; the report's not-assessed list and resource count stay those
    of the snapshot scan."""
    inventory = live(emulator)
    assert not inventory.of_type("Microsoft.Network/localNetworkGateways")
    assert sum(n for (_, kind), n in inventory.uncollected.items() if kind.lower() == "microsoft.network/localnetworkgateways") == 4
    offline = Inventory()
    load_snapshot(DEMO / "azure", offline)
    config = ScanContext(config=load_config(DEMO / "vdcaudit.yaml"))
    live_summary = scan(inventory, rules, config).summary
    offline_summary = scan(offline, rules, config).summary
    assert {k.lower(): n for k, n in live_summary["not_assessed"]["by_type"].items()} == \
        {k.lower(): n for k, n in offline_summary["not_assessed"]["by_type"].items()}
    assert live_summary["resources"] == offline_summary["resources"]
