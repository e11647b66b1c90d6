"""Terraform plans as a source: the mapping table, unknown-after-apply values, references, not assessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vdcaudit.collectors.terraform import load_plan, mapping
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from tests import evidence_day
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan

PLAN = Path(__file__).resolve().parent.parent / "fixtures" / "iac" / "plan.json"
CONFIG = PLAN.parent / "vdcaudit.yaml"


@pytest.fixture(scope="module")
def result():
    inventory = Inventory()
    load_plan(PLAN, inventory, subscription_id="sub-ci")
    return inventory, scan(inventory, load_rules(), ScanContext(config=load_config(CONFIG), options=evidence_day.OPTIONS))


def _status(result, rule_id: str, name: str) -> str:
    return next(f for f in result[1].findings if f.rule_id == rule_id and f.resource_name == name).status.value


@pytest.mark.parametrize("rule_id, name, status", [
    ("VDC-ST-001", "stspoke1logs", "PASS"), ("VDC-ST-001", "stspoke1legacy", "FAIL"),  # both attribute spellings
    ("VDC-ST-002", "stspoke1logs", "PASS"), ("VDC-ST-002", "stspoke1legacy", "FAIL"),
    ("VDC-ST-003", "stspoke1logs", "PASS"), ("VDC-ST-003", "stspoke1legacy", "FAIL"),
    ("VDC-SQL-002", "sql-spoke1", "PASS"),
    ("VDC-SQL-001", "appdb", "PASS"), ("VDC-SQL-001", "reportdb", "FAIL"),  # TDE child from a bool
    ("VDC-DSK-001", "disk-app01-data01", "PASS"),   # DES id known after apply still means a customer key
    ("VDC-DSK-001", "disk-app01-scratch", "FAIL"),  # attached (data disk attachment) to a VM without host encryption
    ("VDC-KV-002", "kv-spoke1-prod", "FAIL"),
    ("VDC-KV-003", "kv-spoke1-prod", "PASS"),       # separate access policy resource appended: use rights only
    ("VDC-SB-001", "sb-spoke1-orders", "FAIL"),
    ("VDC-VPN-001", "cn-hub-onprem", "PASS"), ("VDC-VPN-002", "cn-hub-onprem", "PASS"),
    ("VDC-VPN-003", "cn-hub-onprem", "UNKNOWN"),     # connection_protocol known after apply: no default guessed
    ("VDC-ER-001", "erc-hub", "FAIL"),               # private peering resource folded into the circuit
    ("VDC-VGW-002", "vgw-hub", "PASS"),
    # resource types added to the rule pack later; parts refer to each other by name in Terraform
    ("VDC-AGW-001", "agw-hub", "PASS"), ("VDC-AGW-001", "agw-spoke1-legacy", "FAIL"),
    ("VDC-AGW-002", "agw-hub", "PASS"), ("VDC-AGW-002", "agw-spoke1-legacy", "FAIL"),
    ("VDC-AGW-003", "agw-hub", "PASS"),              # the HTTP listener only redirects (by name) to HTTPS
    ("VDC-AGW-003", "agw-spoke1-legacy", "FAIL"),
    ("VDC-AGW-004", "agw-hub", "PASS"), ("VDC-AGW-004", "agw-spoke1-legacy", "FAIL"),
    ("VDC-APP-001", "app-spoke1-api", "PASS"), ("VDC-APP-001", "app-spoke1-legacy", "FAIL"),
    ("VDC-APP-002", "app-spoke1-api", "PASS"), ("VDC-APP-002", "app-spoke1-legacy", "FAIL"),
    ("VDC-APP-003", "app-spoke1-api", "PASS"), ("VDC-APP-003", "app-spoke1-legacy", "FAIL"),
    ("VDC-RED-001", "redis-spoke1-sessions", "PASS"), ("VDC-RED-001", "redis-spoke1-legacy", "FAIL"),
    ("VDC-RED-002", "redis-spoke1-sessions", "PASS"), ("VDC-RED-002", "redis-spoke1-legacy", "FAIL"),
    ("VDC-IMG-001", "img-app01-golden", "PASS"),    # os_disk DES id known after apply, resolved by reference
    ("VDC-IMG-001", "img-app01-2023", "FAIL"),
    ("VDC-SNAP-001", "snap-app01-data01", "UNKNOWN"),  # azurerm_snapshot does not expose its encryption
    ("VDC-SQLMI-001", "sqlmi-spoke1", "PASS"), ("VDC-SQLMI-001", "sqlmi-spoke1-legacy", "FAIL"),
    ("VDC-SQLMI-002", "sqlmi-spoke1", "PASS"),       # TDE resource with a Key Vault key
    ("VDC-SQLMI-002", "sqlmi-spoke1-legacy", "UNKNOWN"),  # no TDE resource: the plan does not say
    ("VDC-CMK-004", "sqlmi-spoke1", "FAIL"),         # key in kv-spoke1-prod, no purge protection
    ("VDC-LA-001", "law-cluster-spoke1", "PASS"),    # customer-managed key resource attached
    ("VDC-LA-001", "law-cluster-spoke1-dr", "FAIL"),
    # not settable in azurerm; Azure turns it on only in regions that support it: no default guessed
    ("VDC-LA-002", "law-cluster-spoke1", "UNKNOWN"),
    ("VDC-CMK-006", "law-cluster-spoke1", "FAIL"),
    ("VDC-LA-003", "log-spoke1", "PASS"),            # linked service to the cluster
    ("VDC-LA-003", "log-spoke1-diag", "FAIL"),
    ("VDC-KV-007", "logs-cmk", "FAIL"), ("VDC-KV-007", "sqlmi-tde", "PASS"),
    ("VDC-CMK-002", "des-spoke1", "FAIL"),           # key id resolves to the key; its vault is checked
    ("VDC-VMSS-001", "vmss-batch", "PASS"),
])
def test_plan_findings(result, rule_id: str, name: str, status: str) -> None:
    assert _status(result, rule_id, name) == status


def test_references_resolve_ids_known_only_after_apply(result) -> None:
    inventory, _ = result
    db = next(r for r in inventory if r["name"] == "reportdb")
    assert db["id"] == ("/subscriptions/sub-ci/resourceGroups/rg-vdc-spoke1/providers/Microsoft.Sql/servers/sql-spoke1"
                        "/databases/reportdb")
    disk = next(r for r in inventory if r["name"] == "disk-app01-scratch")
    assert disk["managedBy"].endswith("/virtualMachines/vm-app01")


def test_unknown_after_apply_is_recorded_and_named(result) -> None:
    inventory, scanned = result
    connection = next(r for r in inventory if r["name"] == "cn-hub-onprem")
    assert "connectionProtocol" not in connection["properties"]
    assert "properties.connectionProtocol" in connection["x_vdcaudit"]["unresolved"]
    finding = next(f for f in scanned.findings if f.rule_id == "VDC-VPN-003")
    assert "connection_protocol is known only after apply" in finding.message


def test_unmapped_types_are_not_assessed_and_lines_point_at_the_change(result) -> None:
    _, scanned = result
    assert scanned.summary["not_assessed"]["by_type"] == {"azurerm_public_ip": 1, "azurerm_service_plan": 1}
    lines = PLAN.read_text().splitlines()
    for finding in scanned.findings:
        assert finding.location["file"] == str(PLAN)
        assert lines[finding.location["line"] - 1].strip() == "{"
        assert '"address"' in lines[finding.location["line"]]


def test_every_rule_resource_type_is_mapped_and_in_the_fixture(result) -> None:
    """Issue 7: every resource type of a rule that accepts plans is mapped and planned in the fixture."""
    inventory, _ = result
    rule_types = {rule.resource_type.lower() for rule in load_rules() if "terraform" in rule.sources}
    mapped = {entry["type"].lower() for entry in mapping().values() if "type" in entry}
    mapped |= {child["type"].lower() for entry in mapping().values() for child in entry.get("children", [])}
    planned = {r["type"].lower() for r in inventory}
    # plans of later rule groups: per-topic plans beside plan.json, and folders (atrest/, ...)
    for extra in sorted([*PLAN.parent.glob("*.plan.json"), *PLAN.parent.glob("*/plan.json")]):
        more = Inventory()
        load_plan(extra, more, subscription_id="sub-ci")
        planned |= {r["type"].lower() for r in more}
    assert rule_types - mapped == set()
    assert rule_types - planned == set()


def test_values_the_provider_never_exposes_are_unknown_with_the_reason(result) -> None:
    _, scanned = result
    finding = next(f for f in scanned.findings if f.rule_id == "VDC-SNAP-001")
    assert "azurerm_snapshot does not expose" in finding.message


def test_key_ids_and_block_values_known_after_apply(result) -> None:
    inventory, scanned = result
    cmk = next(f for f in scanned.findings if f.rule_id == "VDC-CMK-002")
    assert "kv-spoke1-prod" in cmk.message  # the vault of the key the DES names, not the key itself
    cluster = next(r for r in inventory if r["name"] == "law-cluster-spoke1")
    assert cluster["properties"]["keyVaultProperties"] == {
        "keyVaultUri": "/subscriptions/sub-ci/resourceGroups/rg-vdc-spoke1/providers/Microsoft.KeyVault/vaults/kv-spoke1-prod",
        "keyName": "logs-cmk"}
    dr = next(r for r in inventory if r["name"] == "law-cluster-spoke1-dr")
    assert dr["properties"]["keyVaultProperties"] == {}  # the const is copied, not shared
    gateway = next(r for r in inventory if r["type"] == "Microsoft.Network/virtualNetworkGateways")
    # a block element's value known only after apply is unresolved, never taken for null
    assert "properties.ipConfigurations" in gateway["x_vdcaudit"]["unresolved"]
    assert "ip_configuration[0].subnet_id" in gateway["x_vdcaudit"]["unresolved"]["properties.ipConfigurations"]["reason"]


def test_table_translates_values() -> None:
    entry = mapping()["azurerm_mssql_server"]["set"]["properties.minimalTlsVersion"]
    assert entry["values"]["Disabled"] == "None"


@pytest.mark.parametrize("document, message", [
    ({"resources": []}, "not a Terraform plan"),
    ('{"format_version": "1.2",\n "resource_changes": [}', "malformed JSON"),
])
def test_bad_plans_are_input_errors(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(InputError, match=message) as error:
        load_plan(path, Inventory())
    assert error.value.one_line().startswith(str(path))


# -- plans as `terraform show -json` prints them for azurerm 3.x (piped through jq) and 4.x (one line) --

@pytest.mark.parametrize("plan, expected", [
    ("plan-azurerm3.json", {
        # 3.x plans the 4.0 names as "known after apply" beside the old ones: the known alias decides
        ("VDC-RED-001", "redis-spoke2-sessions"): "PASS", ("VDC-RED-001", "redis-spoke2-legacy"): "FAIL",
        ("VDC-ST-001", "stspoke2logs"): "PASS", ("VDC-ST-003", "stspoke2logs"): "FAIL",
        ("VDC-RED-002", "redis-spoke2-legacy"): "FAIL", ("VDC-KV-002", "kv-spoke2-prod"): "FAIL",
        ("VDC-KV-004", "kv-spoke2-prod"): "PASS"}),
    ("plan-azurerm4.json", {
        ("VDC-RED-001", "redis-spoke3-sessions"): "PASS", ("VDC-RED-001", "redis-spoke3-legacy"): "FAIL",
        ("VDC-ST-001", "stspoke3logs"): "PASS", ("VDC-ST-003", "stspoke3logs"): "PASS",
        ("VDC-SQL-002", "sql-spoke3"): "FAIL"}),  # 4.x "Disabled" = no minimum
])
def test_plans_of_azurerm_3_and_4(plan: str, expected: dict) -> None:
    path = PLAN.parent / plan
    inventory = Inventory()
    load_plan(path, inventory)
    scanned = scan(inventory, load_rules(), ScanContext(config=load_config(CONFIG), options=evidence_day.OPTIONS))
    verdicts = {(f.rule_id, f.resource_name): f.status.value for f in scanned.findings}
    assert {key: verdicts.get(key) for key in expected} == expected
    assert all(f.location and f.location["file"] == str(path) and f.location["line"] for f in scanned.findings)


def test_a_known_alias_wins_over_one_known_after_apply() -> None:
    inventory = Inventory()
    load_plan(PLAN.parent / "plan-azurerm3.json", inventory)
    cache = next(r for r in inventory if r["name"] == "redis-spoke2-sessions")
    assert cache["properties"]["enableNonSslPort"] is False
    assert "properties.enableNonSslPort" not in cache["x_vdcaudit"].get("unresolved", {})


def test_coverage_gaps_of_a_plan_carry_file_and_line(tmp_path: Path) -> None:
    document = json.loads((PLAN.parent / "plan-azurerm4.json").read_text())
    change = next(c for c in document["resource_changes"] if c["type"] == "azurerm_redis_cache")
    change["change"]["after"].pop("name")
    change["change"]["after_unknown"]["name"] = True  # a name known only after apply: no id
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document, indent=1))
    inventory = Inventory()
    load_plan(path, inventory)
    scanned = scan(inventory, load_rules(), ScanContext(config=load_config(CONFIG), options=evidence_day.OPTIONS))
    gaps = [f for f in scanned.findings if f.rule_id == "VDC-RED-001" and f.status.value == "UNKNOWN"]
    assert gaps and all(g.location == {"file": str(path), "line": g.location["line"]} and g.location["line"] > 1
                        for g in gaps)

def _change(address: str, after: dict, unknown: dict | None = None) -> dict:
    kind, name = address.split(".")
    return {"address": address, "mode": "managed", "type": kind, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown or {"id": True}}}


def test_slots_scale_sets_and_disk_encryption_extensions_are_mapped(tmp_path: Path) -> None:
    """Issue 10: web app slots get the App Service rules, scale sets the encryption-at-host rule, and
    an AzureDiskEncryption extension (settings as JSON text) counts for the disks of its VM."""
    app = "/subscriptions/sub-ci/resourceGroups/rg/providers/Microsoft.Web/sites/app1"
    vm = "/subscriptions/sub-ci/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    plan = {"format_version": "1.2", "resource_changes": [
        _change("azurerm_linux_web_app_slot.staging", {
            "name": "staging", "app_service_id": app, "https_only": False,
            "site_config": [{"minimum_tls_version": "1.2", "ftps_state": "FtpsOnly"}]}),
        _change("azurerm_linux_virtual_machine_scale_set.batch", {
            "name": "vmss1", "resource_group_name": "rg", "encryption_at_host_enabled": False}),
        _change("azurerm_virtual_machine_extension.ade", {
            "name": "AzureDiskEncryption", "virtual_machine_id": vm, "publisher": "Microsoft.Azure.Security",
            "type": "AzureDiskEncryption", "type_handler_version": "2.2",
            "settings": json.dumps({"EncryptionOperation": "EnableEncryption", "VolumeType": "All"})}),
    ], "configuration": {"root_module": {}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    inventory = Inventory()
    load_plan(path, inventory, subscription_id="sub-ci")
    slot = inventory.get(app + "/slots/staging")
    assert slot is not None and slot["type"] == "Microsoft.Web/sites/slots"
    extension = inventory.get(vm + "/extensions/AzureDiskEncryption")
    assert extension is not None and extension["properties"]["publisher"] == "Microsoft.Azure.Security"
    findings = {(f.rule_id, f.resource_name): f.status.value
                for f in scan(inventory, load_rules(), ScanContext(options=evidence_day.OPTIONS)).findings}
    assert findings[("VDC-APP-001", "staging")] == "FAIL"
    assert findings[("VDC-APP-002", "staging")] == "PASS"
    assert findings[("VDC-APP-003", "staging")] == "PASS"
    assert findings[("VDC-VMSS-001", "vmss1")] == "FAIL"
