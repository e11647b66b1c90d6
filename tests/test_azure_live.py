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

from vdcaudit.commands.cli import cli
from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors.azure.clouds import StaticTokenCredential
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan
from tests.findings_json import findings_in
from tests import evidence_day

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"
HUB = "11111111-1111-4111-8111-111111111111"
SPOKE1 = "22222222-2222-4222-8222-222222222222"
SPOKE2 = "33333333-3333-4333-8333-333333333333"
SPOKE5 = "55555555-5555-4555-8555-555555555555"


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
            "retry_backoff": 0.01, "graph_page_size": 7, "request_timeout": 5, "keyvault_data_plane": True}
    if not any(k in params for k in ("subscription", "management_group")):
        base["all_subscriptions"] = True
    azure_source.collect({**base, **params}, inventory)
    return inventory


def verdicts(inventory: Inventory, rules) -> dict[str, str]:
    result = scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))
    return {f.fingerprint: f.status.value for f in result.findings}


def findings(inventory: Inventory, rules):
    return scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml"), options=evidence_day.OPTIONS)).findings


@pytest.fixture(scope="module")
def snapshot_verdicts(rules) -> dict[str, str]:
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    expected = verdicts(inventory, rules)
    # every live == snapshot comparison below would also hold between two empty results
    assert len(expected) > 100 and {"PASS", "FAIL", "UNKNOWN"} <= set(expected.values())
    return expected


def only_reads(arm: ArmEmulator) -> bool:
    return all(e.method == "GET" or (e.method == "POST" and e.path.lower() == "/providers/microsoft.resourcegraph/resources")
               for e in arm.log)


def test_live_scan_equals_snapshot_scan(emulator, rules, snapshot_verdicts):
    inventory = live(emulator)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert inventory.coverage == []
    # Resource Graph paged (7 rows a page) and the per-resource child calls were made
    assert emulator.log.count(r"resourcegraph", "POST") >= 6
    assert emulator.log.count(r"/servers/.+/transparentDataEncryption$") == 4
    assert emulator.log.count(r"/managedInstances/.+/transparentDataEncryption$") == 2  # generic child reads
    assert emulator.log.count(r"/vaults/[^/]+/secrets$") == 4  # one per vault: metadata only
    assert only_reads(emulator)


def test_no_graph_equals_graph_path(emulator, rules, snapshot_verdicts):
    inventory = live(emulator, no_graph=True)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert emulator.log.count(r"resourcegraph") == 0
    # the SDK lists followed the emulator's nextLink (3 items a page): later pages were asked for
    paged = [e for e in emulator.log.entries() if "$skiptoken" in {k.lower() for k in e.query}]
    assert paged and all(e.method == "GET" and e.status == 200 for e in paged)
    assert {e.path for e in paged} >= {"/subscriptions", f"/subscriptions/{HUB}/resources"}
    assert emulator.log.count(r"/providers/Microsoft.Storage/storageAccounts$") == 3  # 3 subscriptions hold one
    assert only_reads(emulator) and emulator.log.methods() == {"GET"}


# Kinds with no typed SDK listing: without Resource Graph each is read whole by id through the
# generic client (azure-mgmt-resource), with the api-version of its provider.
GENERIC_KINDS = sorted({"Microsoft.DocumentDB/databaseAccounts", "Microsoft.DBforPostgreSQL/flexibleServers",
                        "Microsoft.DBforMySQL/flexibleServers", "Microsoft.EventHub/namespaces",
                        "Microsoft.ContainerRegistry/registries", "Microsoft.RecoveryServices/vaults",
                        "Microsoft.DataProtection/backupVaults", "Microsoft.Kusto/clusters",
                        "Microsoft.Synapse/workspaces", "Microsoft.Databricks/workspaces",
                        "Microsoft.DataFactory/factories", "Microsoft.CognitiveServices/accounts",
                        "Microsoft.MachineLearningServices/workspaces",
                        "Microsoft.AppConfiguration/configurationStores", "Microsoft.Automation/automationAccounts",
                        "Microsoft.Batch/batchAccounts", "Microsoft.ContainerService/managedClusters",
                        "Microsoft.KeyVault/managedHSMs", "Microsoft.Sql/managedInstances/databases",
                        "Microsoft.Synapse/workspaces/sqlPools", "Microsoft.HDInsight/clusters",
                        "Microsoft.ServiceFabric/clusters", "Microsoft.AAD/domainServices",
                        # customer-managed keys of the remaining data services
                        "Microsoft.HealthcareApis/services", "Microsoft.HealthcareApis/workspaces/fhirservices",
                        "Microsoft.HealthcareApis/workspaces/dicomservices", "Microsoft.LoadTestService/loadTests",
                        "Microsoft.ContainerInstance/containerGroups", "Microsoft.FluidRelay/fluidRelayServers",
                        "Microsoft.HealthBot/healthBots", "Microsoft.DeviceUpdate/accounts",
                        "Microsoft.Search/searchServices", "Microsoft.StorageCache/caches",
                        "Microsoft.StreamAnalytics/streamingjobs"})
# Child kinds read per parent through the generic client on both paths (not in Resource Graph)
GENERIC_CHILD_KINDS = ["Microsoft.KeyVault/vaults/secrets", "Microsoft.ElasticSan/elasticSans/volumegroups"]


def _by_kind(found, kinds) -> dict[str, dict[str, str]]:
    wanted = {k.lower() for k in kinds}
    result: dict[str, dict[str, str]] = {}
    for finding in found:
        if finding.resource_type.lower() in wanted:
            result.setdefault(finding.resource_type.lower(), {})[finding.fingerprint] = finding.status.value
    return result


@pytest.mark.parametrize("no_graph", [False, True], ids=["graph", "no-graph"])
def test_every_generic_kind_equals_the_snapshot(emulator, rules, no_graph):
    snapshot = Inventory()
    load_snapshot(DEMO / "azure", snapshot)
    expected = _by_kind(findings(snapshot, rules), [*GENERIC_KINDS, *GENERIC_CHILD_KINDS])
    got = _by_kind(findings(live(emulator, no_graph=no_graph), rules), [*GENERIC_KINDS, *GENERIC_CHILD_KINDS])
    assert set(expected) == {k.lower() for k in [*GENERIC_KINDS, *GENERIC_CHILD_KINDS]}
    for kind, verdicts_ in expected.items():
        assert got.get(kind) == verdicts_, kind
    if no_graph:
        for kind in GENERIC_KINDS:  # read by id, one GET per resource
            assert emulator.log.count(rf"/providers/{re.escape(kind.split('/')[0])}/.+") > 0, kind
    # volume groups: one list per SAN, on both paths
    assert emulator.log.count(r"/elasticSans/esan-spoke5/volumegroups$") == 1
    assert only_reads(emulator)


# The Key Vault rules that judge keys and secrets (read per vault) and the vault's network settings
# against the Azure Policy thresholds: judged on one evidence day, live and snapshot agree, both ways.
KEY_VAULT_THRESHOLD_RULES = {f"VDC-KV-0{n}" for n in range(12, 22)}


@pytest.mark.parametrize("no_graph", [False, True], ids=["graph", "no-graph"])
def test_key_vault_key_secret_and_network_rules_live_equal_snapshot(emulator, rules, no_graph):
    def judged(inventory: Inventory) -> dict[tuple[str, str], str]:
        return {(f.rule_id, f.resource_id.lower()): f.status.value for f in findings(inventory, rules)
                if f.rule_id in KEY_VAULT_THRESHOLD_RULES}

    snapshot = Inventory()
    load_snapshot(DEMO / "azure", snapshot)
    expected = judged(snapshot)
    for rule_id in sorted(KEY_VAULT_THRESHOLD_RULES):
        statuses = {status for (judged_rule, _), status in expected.items() if judged_rule == rule_id}
        assert {"PASS", "FAIL"} <= statuses, rule_id
    assert judged(live(emulator, no_graph=no_graph)) == expected
    assert only_reads(emulator)


def test_generic_read_asks_the_provider_for_an_api_version_it_does_not_know(emulator, rules, snapshot_verdicts,
                                                                            monkeypatch):
    from vdcaudit.collectors.azure import generic
    monkeypatch.delitem(generic.API_VERSIONS, "microsoft.kusto/clusters")
    inventory = live(emulator, no_graph=True)
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert emulator.log.count(r"^/subscriptions/[^/]+/providers/Microsoft\.Kusto$") == 1
    assert [e for e in emulator.log if "/clusters/adxspoke5" in e.path][0].api_version == "2024-01-01"


def test_forbidden_generic_read_gives_unknown_for_that_kind(emulator, rules):
    emulator.add_fault(Fault.forbidden(f"/subscriptions/{SPOKE5}/resourceGroups/rg-spoke5-data/providers/Microsoft.Kusto"))
    inventory = live(emulator, no_graph=True)
    assert [(c.scope, c.resource_type) for c in inventory.coverage] == [(SPOKE5, "Microsoft.Kusto/clusters")]
    adx = [f for f in findings(inventory, rules) if f.rule_id.startswith("VDC-ADX-")]
    assert adx and all(f.status is Status.UNKNOWN and "403 Forbidden" in f.message for f in adx)


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
    # The stalled reads never answer (until the emulator stops); every other read has the whole
    # timeout, far above its usual milliseconds, so a loaded machine times out nothing else. No
    # retries: each stalled read costs one timeout.
    emulator.add_fault(Fault.stall(3600, times=None, path=r"/roleAssignments$"))
    inventory = live(emulator, request_timeout=3, request_retries=0)
    assert {c.resource_type for c in inventory.coverage} == {"Microsoft.Authorization/roleAssignments"}
    assert HUB in {c.scope for c in inventory.coverage}
    assert all(c.reason.startswith("timeout after 3s") for c in inventory.coverage)
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


def test_static_token_only_for_loopback():
    with pytest.raises(InputError, match="loopback"):
        azure_source.build({"all_subscriptions": True, "arm_endpoint": "https://management.azure.com",
                            "credential": "static-token"})
    with pytest.raises(InputError, match="https"):
        azure_source.build({"all_subscriptions": True, "arm_endpoint": "http://127.0.0.1:1"})


def test_cli_scan_and_snapshot_round_trip(emulator, tmp_path, snapshot_verdicts):
    runner = CliRunner()
    target = ["--all-subscriptions", "--arm-endpoint", emulator.url, "--ca-bundle", emulator.ca_path,
              "--credential", "static-token", "--keyvault-data-plane"]
    scanned = runner.invoke(cli, ["scan", *target, "--out", str(tmp_path / "live"), "--format", "json",
                                  "--config", str(DEMO / "vdcaudit.yaml"), "--quiet"])
    assert scanned.exit_code == 0, scanned.output
    live_findings = findings_in(tmp_path / "live")
    saved = runner.invoke(cli, ["snapshot", *target, "--out", str(tmp_path / "evidence.json")])
    assert saved.exit_code == 0, saved.output
    document = json.loads((tmp_path / "evidence.json").read_text())
    # the annotations kept: the API version a generic ARM GET read the resource with, and the vaults
    # whose certificates were read through the data plane
    kept = [r["x_vdcaudit"] for r in document["value"] if "x_vdcaudit" in r]
    assert kept and all(set(annotation) in ({"apiVersion"}, {"dataPlane"}) for annotation in kept)
    assert sum("dataPlane" in annotation for annotation in kept) == 4  # every demo vault
    certificates = sum(len(vault) for vault in emulator.keyvault.vaults.values())
    # children (TDE, role assignments, data-plane certificates) included
    assert len(document["value"]) == len(emulator.resources()) + certificates == len(emulator.resources()) + 5
    rescanned = runner.invoke(cli, ["scan", "--snapshot", str(tmp_path / "evidence.json"), "--out",
                                    str(tmp_path / "offline"), "--format", "json",
                                    "--config", str(DEMO / "vdcaudit.yaml"), "--quiet"])
    assert rescanned.exit_code == 0, rescanned.output
    offline = findings_in(tmp_path / "offline")
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
    gaps = [f for f in findings_in(tmp_path / "offline") if f["resource_id"] == SPOKE2]
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
    live(emulator, subscription=(HUB,), keyvault_data_plane=False, **({"cloud": cloud} if cloud else {}))
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


# --- issue 13, in transit: every new kind, live (graph and --no-graph) against the demo snapshot ---

TRANSIT_PREFIXES = ("VDC-COS-", "VDC-PG-", "VDC-MY-", "VDC-EH-", "VDC-EG-", "VDC-IOT-", "VDC-RE-", "VDC-AFD-",
                    "VDC-CDN-", "VDC-APIM-", "VDC-ACA-", "VDC-ASE-", "VDC-ST-008", "VDC-ST-009", "VDC-ANF-", "VDC-VWAN-",
                    "VDC-SYN-", "VDC-HDI-", "VDC-SF-", "VDC-BOT-")
# Child collections Resource Graph does not hold, read per parent on their ARM REST paths (the
# demo's own resources of these kinds, by name)
TRANSIT_CHILD_READS = {
    r"/flexibleServers/(psql|mysql)-spoke3-(app|legacy)/configurations$": 4,
    r"/storageAccounts/(stspoke1app|stspoke1diaglogs|stspoke2datalake)/fileServices/default$": 3,  # StorageV2
    r"/profiles/afd-spoke3/afdEndpoints/ep-spoke3-web/routes$": 1,
    r"/profiles/afd-spoke3/customDomains$": 1,
    r"/profiles/cdn-spoke3/customDomains$": 0,  # a classic CDN profile has no Front Door domains
    r"/redisEnterprise/redisent-spoke3(-legacy)?/databases$": 2,
    r"/workspaces/synw-spoke5(-reports)?/dedicatedSQLminimalTlsSettings$": 2,
}


@pytest.fixture(scope="module")
def transit_ids(rules) -> set[str]:
    return {r.id for r in rules if r.category.value == "in-transit" and r.id.startswith(TRANSIT_PREFIXES)}


def _transit(found, ids: set[str]) -> dict[tuple[str, str], str]:
    return {(f.rule_id, f.resource_id.lower()): f.status.value for f in found if f.rule_id in ids}


@pytest.fixture(scope="module")
def snapshot_transit(rules, transit_ids) -> dict[tuple[str, str], str]:
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    return _transit(findings(inventory, rules), transit_ids)


def test_snapshot_judges_every_transit_rule_both_ways(transit_ids, snapshot_transit):
    assert len(transit_ids) == 37
    for rule_id in transit_ids:
        statuses = {status for (rid, _), status in snapshot_transit.items() if rid == rule_id}
        assert {"PASS", "FAIL"} <= statuses, (rule_id, statuses)


@pytest.mark.parametrize("no_graph", [False, True], ids=["resource-graph", "no-graph"])
def test_transit_kinds_live_equal_snapshot(emulator, rules, transit_ids, snapshot_transit, no_graph):
    inventory = live(emulator, no_graph=no_graph)
    assert _transit(findings(inventory, rules), transit_ids) == snapshot_transit
    assert inventory.coverage == []
    for path, expected in TRANSIT_CHILD_READS.items():
        assert emulator.log.count(path, "GET") == expected, path
    assert only_reads(emulator)


def forbidden_child(emulator, path: str):
    """A live scan whose reads of one child collection are all refused (403): (inventory, its one gap)."""
    emulator.add_fault(Fault.error(403, times=None, path=path))
    inventory = live(emulator)
    [record] = inventory.coverage
    assert record.reason == "403 Forbidden"
    return inventory, record


def test_forbidden_server_parameters_make_tls_rules_unknown_never_pass(emulator, rules):
    inventory, record = forbidden_child(emulator, r"/flexibleServers/psql-spoke3-app/configurations$")
    assert record.resource_type == "Microsoft.DBforPostgreSQL/flexibleServers/configurations"
    assert "psql-spoke3-app" in record.detail
    found = {f.rule_id: f.status for f in findings(inventory, rules)
             if f.resource_name == "psql-spoke3-app" and f.category.value == "in-transit"}
    assert found == {"VDC-PG-001": Status.UNKNOWN, "VDC-PG-002": Status.UNKNOWN}


def test_generic_child_collection_follows_next_link_and_reads_only():
    from vdcaudit.collectors.azure import generic
    with ArmEmulator([DEMO / "azure"], page_size=1) as arm:
        collector = azure_source.build({"arm_endpoint": arm.url, "ca_bundle": arm.ca_path, "credential": "static-token",
                                        "quiet": True, "request_timeout": 5, "all_subscriptions": True})
        try:
            vault = (f"/subscriptions/{SPOKE2}/resourceGroups/rg-spoke2-data/providers/Microsoft.KeyVault/vaults/"
                     "kv-spoke2-data")
            secrets = generic.list_collection(collector.clients, SPOKE2, f"{vault}/secrets", "2023-07-01")
        finally:
            collector.clients.close()
        assert sorted(s["name"] for s in secrets) == ["partner-api-key", "sftp-partner-password", "sql-admin-password"]
        assert all("value" not in s["properties"] for s in secrets)
        assert arm.log.count(r"/secrets$") == 3  # three pages of one
        assert only_reads(arm)


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


# --- every response is read within limits (size, JSON depth): past them, a coverage gap -----------

PAYMENTS_TDE = r"/databases/payments/transparentDataEncryption$"


def changed_only_under(inventory: Inventory, rules, marker: str) -> list[str]:
    """The rule ids whose findings differ from the snapshot scan's. Every difference concerns
    `marker` (the resource whose data could not be read): a snapshot finding there is gone or
    changed, and what the live scan says instead is UNKNOWN naming it — never a PASS, and no
    other resource's verdict moves."""
    expected = Inventory()
    load_snapshot(DEMO / "azure", expected)
    before = {f.fingerprint: f for f in findings(expected, rules)}
    after = {f.fingerprint: f for f in findings(inventory, rules)}
    lost = [f for fp, f in before.items() if fp not in after or after[fp].status is not f.status]
    instead = [f for fp, f in after.items() if fp not in before or before[fp].status is not f.status]
    assert lost and all(marker in f.resource_id.lower() for f in lost), lost
    assert instead and all(f.status is Status.UNKNOWN and marker in (f.resource_id + f.message).lower()
                           for f in instead), instead
    return sorted({f.rule_id for f in lost})


def test_child_answer_larger_than_the_cap_is_a_coverage_gap_not_read_nor_retried(emulator, rules):
    from vdcaudit.collectors.azure.clients import MAX_RESPONSE_BYTES

    emulator.add_fault(Fault.answer(b"{" + b" " * MAX_RESPONSE_BYTES + b"}", times=None, path=PAYMENTS_TDE))
    inventory = live(emulator)
    [record] = inventory.coverage
    assert (record.scope, record.resource_type) == (SPOKE1, "Microsoft.Sql/servers/databases/transparentDataEncryption")
    assert record.reason == f"response larger than 64 MiB ({MAX_RESPONSE_BYTES + 2:,} bytes)"
    assert emulator.log.count(PAYMENTS_TDE) == 1  # refused once, not asked again by the retry policy
    assert "VDC-SQL-001" in changed_only_under(inventory, rules, "/databases/payments")


def test_answer_without_a_length_is_counted_while_read(emulator, rules):
    fileservice = r"/storageAccounts/stspoke1app/fileServices/default$"
    emulator.add_fault(Fault.answer(b'{"properties": {}, "x": "' + b"a" * 70_000 + b'"}', times=None, path=fileservice,
                                    declared=False))
    inventory = live(emulator, max_response_bytes=64 * 1024)
    [record] = inventory.coverage
    assert (record.scope, record.resource_type, record.reason) == (
        SPOKE1, "Microsoft.Storage/storageAccounts/fileServices", "response larger than 64 KiB")
    assert changed_only_under(inventory, rules, "/storageaccounts/stspoke1app") == ["VDC-ST-008", "VDC-ST-009"]


def test_answer_nested_too_deep_is_a_coverage_gap(emulator, rules):
    deep = b'{"value": ' + b"[" * 250 + b"]" * 250 + b"}"
    emulator.add_fault(Fault.answer(deep, times=None, path=PAYMENTS_TDE))
    inventory = live(emulator)
    [record] = inventory.coverage
    assert record.reason == "response is JSON nested deeper than 200 levels" and "payments" in record.detail
    assert "VDC-SQL-001" in changed_only_under(inventory, rules, "/databases/payments")


def test_oversized_typed_list_is_a_gap_for_that_subscription_and_type_only(emulator, rules):
    emulator.add_fault(Fault.answer(b'{"value": [], "x": "' + b"a" * 70_000 + b'"}', times=None,
                                    path=f"/subscriptions/{SPOKE2}/providers/Microsoft.ServiceBus/namespaces"))
    inventory = live(emulator, no_graph=True, max_response_bytes=64 * 1024)
    assert [(c.scope, c.resource_type, c.reason) for c in inventory.coverage] == [
        (SPOKE2, "Microsoft.ServiceBus/namespaces", "response larger than 64 KiB (70,022 bytes)")]
    assert not [r for r in inventory.of_type("Microsoft.ServiceBus/namespaces") if r["subscriptionId"] == SPOKE2]
    assert inventory.of_type("Microsoft.ServiceBus/namespaces")
    [unknown] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SB-001" and f.resource_id == SPOKE2]
    assert unknown.status is Status.UNKNOWN and "response larger than 64 KiB" in unknown.message


def test_oversized_resource_graph_page_falls_back_to_the_sdk(emulator, rules, snapshot_verdicts):
    emulator.add_fault(Fault.answer(b'{"data": [], "x": "' + b"a" * 70_000 + b'"}', times=None, path="resourcegraph"))
    inventory = live(emulator, max_response_bytes=64 * 1024)
    assert inventory.coverage == []
    assert verdicts(inventory, rules) == snapshot_verdicts
    assert "sdk fallback" in inventory.sources[-1]["method"]


def test_unregistered_resource_provider_is_a_coverage_gap_not_a_registration(emulator, rules):
    # azure-mgmt-core would answer this 409 by registering the provider (a POST): the read-only
    # guard would refuse it as a bug and stop the scan; it is a coverage gap instead
    emulator.add_fault(Fault.error(
        409, times=None, path=f"/subscriptions/{SPOKE2}/providers/Microsoft.ServiceBus/namespaces",
        code="MissingSubscriptionRegistration",
        message=f"The subscription '{SPOKE2}' is not registered to use namespace 'Microsoft.ServiceBus'. "
                "See https://aka.ms/rps-not-found for how to register subscriptions."))
    inventory = live(emulator, no_graph=True)
    assert [(c.scope, c.resource_type, c.reason) for c in inventory.coverage] == [
        (SPOKE2, "Microsoft.ServiceBus/namespaces", "409 MissingSubscriptionRegistration (resource provider not registered)")]
    assert emulator.log.methods() == {"GET"}
    [unknown] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SB-001" and f.resource_id == SPOKE2]
    assert unknown.status is Status.UNKNOWN


def test_environment_is_read_once_and_still_honoured(emulator, rules, snapshot_verdicts, monkeypatch):
    # The session resolves proxies and the CA bundle variables at start instead of per request:
    # REQUESTS_CA_BUNDLE still verifies the endpoint, HTTPS_PROXY is used, NO_PROXY bypasses it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    inventory = live(emulator, ca_bundle=None)
    assert inventory.coverage == [] and verdicts(inventory, rules) == snapshot_verdicts
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(InputError, match="cannot list subscriptions: connection failed"):
        live(emulator, ca_bundle=None)


@pytest.mark.parametrize("how", [{}, {"management_group": "mg-vdc"}, {"subscription": (HUB, SPOKE5)}])
def test_live_scope_explains_the_inventory_count_and_names_the_subscriptions(emulator, rules, how):
    """The live source reads resources three ways; the scope states each, and their sum is the
    inventory's count (138 listed + 34 children + 6 counted only = 178 for the demo tenant)."""
    from vdcaudit.reports import RENDERERS

    inventory = live(emulator, **how)
    source = inventory.sources[0]
    result = scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))
    assert source["resources"] + source["children"] + source["counted_only"] == result.summary["resources"]
    assert source["children"] > 0
    read = set(result.summary["by_subscription"]) - {"(none)"}
    # display names as the emulator's subscription and management-group APIs give them
    assert source["subscription_names"] == {sub: f"subscription {sub[:8]}" for sub in read}
    html = RENDERERS["html"].render(result).decode("utf-8")
    assert f"subscription {HUB[:8]} <span class=\"mono small\">{HUB}</span>" in html
    assert (f"{source['resources']} listed + {source['children']:,} child resources read from their parents"
            in html) and f"= {result.summary['resources']:,} resources<" in html


def test_live_demo_tenant_counts(emulator, rules):
    inventory = live(emulator)
    source = inventory.sources[0]
    # spoke 5's CMK services add 24 resources read, 2 Elastic SAN volume groups read per SAN and
    # 1 Health Data Services workspace no rule reads (counted only); the data platform +10 listed
    # (Synapse workspace and pools, HDInsight, Service Fabric, Databricks, Cosmos DB, Domain Services),
    # +8 children (pool TDE, workspace TLS settings, encryption scopes, Batch pools)
    # 4 bots and alert rules listed; 13 API Management, Data Factory and Automation children and 2
    # activity-log exports (a diagnostic setting, a log profile) read per parent or subscription
    # and the demo's 5 Key Vault certificates read from the data plane
    assert (source["resources"], source["children"], source["counted_only"]) == (176, 78, 7)
    # what the scope line adds up: every resource listed or read as a child is in the inventory
    assert source["resources"] + source["children"] == sum(1 for _ in inventory)


# --- application-layer children, Bot Service, alert rules and activity-log exports ----------------

APP_RULES = ("VDC-APIM-004", "VDC-APIM-005", "VDC-APIM-006", "VDC-ADF-002", "VDC-AA-002", "VDC-BOT-001",
             "VDC-BOT-002", "VDC-MON-001", "VDC-MON-002", "VDC-LA-004")
APP_READS = {
    r"/service/apim-spoke3(-legacy)?/apis$": 2,
    r"/service/apim-spoke3(-legacy)?/backends$": 2,
    r"/service/apim-spoke3(-legacy)?/namedValues$": 2,
    r"/factories/adf-spoke5/linkedservices$": 2,  # four services, pages of three: nextLink followed
    r"/automationAccounts/aa-spoke5/variables$": 1,
    r"^/subscriptions/[^/]+/providers/Microsoft\.Insights/diagnosticSettings$": 5,  # every subscription
    r"^/subscriptions/[^/]+/providers/Microsoft\.Insights/logProfiles$": 5,
}


@pytest.mark.parametrize("no_graph", [False, True], ids=["resource-graph", "no-graph"])
def test_app_layer_kinds_live_equal_snapshot(emulator, rules, no_graph):
    snapshot = Inventory()
    load_snapshot(DEMO / "azure", snapshot)
    expected = {(f.rule_id, f.resource_id.lower()): f.status.value for f in findings(snapshot, rules)
                if f.rule_id in APP_RULES}
    assert {rule_id for rule_id, _ in expected} == set(APP_RULES)
    for rule_id in APP_RULES:  # the demo holds a compliant and a non-compliant resource for each
        assert {"PASS", "FAIL"} <= {s for (r, _), s in expected.items() if r == rule_id}, rule_id
    inventory = live(emulator, no_graph=no_graph)
    got = {(f.rule_id, f.resource_id.lower()): f.status.value for f in findings(inventory, rules)
           if f.rule_id in APP_RULES}
    assert got == expected
    assert inventory.coverage == []
    for path, count in APP_READS.items():
        assert emulator.log.count(path, "GET") == count, path
    # never a secret value: named values and variables lose `value`, linked services their secrets
    kept = json.dumps([r for r in inventory if "/namedvalues/" in r["id"].lower() or "/variables/" in r["id"].lower()
                       or "/linkedservices/" in r["id"].lower()], default=str)
    assert '"value"' not in kept.replace('"type": "SecureString"', "") and "not-a-real-sas-token" not in kept
    assert only_reads(emulator)


def test_forbidden_named_values_are_a_coverage_gap(emulator, rules):
    inventory, record = forbidden_child(emulator, r"/service/apim-spoke3-legacy/namedValues$")
    assert record.resource_type == "Microsoft.ApiManagement/service/namedValues" and "apim-spoke3-legacy" in record.detail
    found = {f.resource_name: f.status for f in findings(inventory, rules) if f.rule_id == "VDC-APIM-006"}
    # the other service's values are still judged; the unread ones make the rule UNKNOWN in their
    # subscription, never a silent pass
    assert found == {"orders-backend-key": Status.PASS, "44444444-4444-4444-8444-444444444444": Status.UNKNOWN}
