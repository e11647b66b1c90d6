"""Key Vault certificates through the data plane (--keyvault-data-plane): the real
azure-keyvault-certificates client against the emulator's Key Vault endpoints over loopback,
nothing in the SDK mocked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors.azure.keyvault_data import Refused, data_plane_url, on_certificate_list
from vdcaudit.collectors.azure.keyvault_model import CERTIFICATE_TYPE
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.commands.cli import cli
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan
from tests.findings_json import findings_in

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
HUB = "11111111-1111-4111-8111-111111111111"
HUB_KEYS = f"/subscriptions/{HUB}/resourceGroups/rg-hub-security/providers/Microsoft.KeyVault/vaults/kv-hub-keys"
SPOKE2_DATA = ("/subscriptions/33333333-3333-4333-8333-333333333333/resourceGroups/rg-spoke2-data/providers/"
               "Microsoft.KeyVault/vaults/kv-spoke2-data")


@pytest.fixture(scope="module")
def rules():
    return [rule for rule in load_rules() if rule.id.startswith("VDC-KVC-")]


@pytest.fixture
def emulator():
    arm = ArmEmulator([DEMO / "azure"], page_size=2)  # two certificates a page: the lists page
    with arm:
        yield arm


def live(arm: ArmEmulator, **params: Any) -> Inventory:
    inventory = Inventory()
    azure_source.collect({"arm_endpoint": arm.url, "ca_bundle": arm.ca_path, "credential": "static-token",
                          "quiet": True, "retry_backoff": 0.01, "request_timeout": 5, "all_subscriptions": True,
                          "keyvault_data_plane": True, **params}, inventory)
    return inventory


def verdicts(inventory: Inventory, rules) -> dict[tuple[str, str], str]:
    result = scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))
    return {(f.rule_id, f.resource_id): f.status.value for f in result.findings}


def keyvault_requests(arm: ArmEmulator) -> list[Any]:
    return [entry for entry in arm.log if entry.path.startswith("/keyvault/")]


def test_live_certificates_equal_the_snapshot_and_are_read_with_get_only(emulator, rules):
    inventory = live(emulator)
    snapshot = Inventory()
    load_snapshot(DEMO / "azure", snapshot)
    expected = verdicts(snapshot, rules)
    assert verdicts(inventory, rules) == expected
    assert {"PASS", "FAIL"} <= set(expected.values())
    assert sum(1 for key in expected if "/certificates/" in key[1]) >= 5 * len(rules) - 5  # per certificate
    assert inventory.coverage == []
    requests = keyvault_requests(emulator)
    assert {entry.method for entry in requests} == {"GET"}
    # metadata only: the list, and each certificate (policy and attributes); never a secret or a key
    assert all(entry.path.rsplit("/", 2)[-2:][0] == "certificates" or entry.path.endswith("/certificates")
               for entry in requests)
    # Key Vault's challenge first: the first request carries no token and is answered 401; the SDK
    # keeps a challenge per host, and the emulator serves every vault on one host, so later vaults
    # may send the token at once
    assert requests[0].status == 401 and {e.status for e in requests} == {401, 200}
    for host in emulator.keyvault.vaults:
        assert 200 in {e.status for e in requests if e.path.startswith(f"/keyvault/{host}/")}
    # kv-spoke2-data's three certificates came in two pages (nextLink followed)
    assert sum(1 for e in requests if e.path == "/keyvault/kv-spoke2-data.vault.azure.net/certificates"
               and "$skiptoken" in e.query) == 1
    certificate = inventory.get(f"{HUB_KEYS}/certificates/appgw-listener")
    assert certificate is not None and certificate["type"] == CERTIFICATE_TYPE
    assert set(certificate["properties"]) == {"id", "x5t", "cer", "attributes", "policy", "tags"}


def test_forbidden_vault_is_a_coverage_gap_and_the_others_are_judged(emulator, rules):
    emulator.keyvault.forbid("kv-hub-keys")
    inventory = live(emulator)
    assert [(c.resource_type, c.reason, c.detail) for c in inventory.coverage] == [
        (CERTIFICATE_TYPE, "403 Forbidden", f"for {HUB_KEYS}")]
    found = verdicts(inventory, rules)
    assert {status for (_, resource), status in found.items() if resource == HUB_KEYS} == {"UNKNOWN"}
    assert not any(resource.startswith(HUB_KEYS + "/") for _, resource in found)
    assert {status for (_, resource), status in found.items() if resource.startswith(SPOKE2_DATA + "/")} >= {"PASS", "FAIL"}
    messages = [f.message for f in scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml"))).findings
                if f.resource_id == HUB_KEYS]
    assert messages and all("could not be read (403 Forbidden)" in m for m in messages)


def test_timeout_on_one_vault_leaves_the_others_read(emulator, rules):
    emulator.add_fault(Fault.stall(6, times=None, path="^/keyvault/kv-spoke2-data"))
    inventory = live(emulator, request_retries=0, request_timeout=3)
    assert [(c.reason.startswith("timeout"), c.detail) for c in inventory.coverage] == [(True, f"for {SPOKE2_DATA}")]
    assert inventory.get(f"{HUB_KEYS}/certificates/appgw-listener") is not None


def test_next_link_off_the_vault_is_refused(emulator, rules):
    page = {"value": [{"id": "https://kv-hub-keys.vault.azure.net/certificates/appgw-listener"}],
            "nextLink": "https://attacker.example/certificates?api-version=7.6&$skiptoken=1"}
    emulator.add_fault(Fault.answer(json.dumps(page).encode(), times=None, path="^/keyvault/kv-hub-keys[^/]*/certificates$"))
    inventory = live(emulator)
    assert [(c.detail, "leaves the vault's certificate list" in c.reason) for c in inventory.coverage] == [
        (f"for {HUB_KEYS}", True)]
    assert inventory.get(f"{HUB_KEYS}/certificates/appgw-listener") is None  # no partial list passes for whole


def test_tampered_vault_uri_gets_no_request_and_no_token(rules):
    vault = {"id": f"/subscriptions/{HUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-evil",
             "name": "kv-evil", "type": "Microsoft.KeyVault/vaults", "location": "westeurope",
             "properties": {"vaultUri": "https://kv-evil.vault.azure.net.attacker.example/", "tenantId": "t"},
             "x_vdcaudit": {"dataPlane": {"certificates": "7.6"}}}
    with ArmEmulator(resources=[vault]) as arm:
        inventory = live(arm)
        assert not keyvault_requests(arm)
    assert [("not https://<vault>.vault.azure.net/" in c.reason, c.detail) for c in inventory.coverage] == [
        (True, f"for {vault['id']}")]
    assert set(verdicts(inventory, rules).values()) == {"UNKNOWN"}


@pytest.mark.parametrize("uri", [
    "http://kv-a.vault.azure.net/", "https://kv-a.vault.azure.net:8443/", "https://user@kv-a.vault.azure.net/",
    "https://kv-a.vault.azure.net/certificates", "https://kv-a.vault.azure.net/?x=1", "https://kv-a.vault.azure.cn/",
    "https://a.b.vault.azure.net/", "https://127.0.0.1/", "https://vault.azure.net/", "", None, 42,
])
def test_vault_uris_off_the_cloud_suffix_are_refused(uri):
    with pytest.raises(Refused):
        data_plane_url(uri, "vault.azure.net", "https://management.azure.com")


def test_vault_uri_on_the_suffix_is_read_there_or_through_a_loopback_emulator():
    assert data_plane_url("https://KV-A.vault.azure.net/", "vault.azure.net", "https://management.azure.com") == \
        "https://kv-a.vault.azure.net"
    assert data_plane_url("https://kv-a.vault.azure.net:443", "vault.azure.net", "https://127.0.0.1:9443") == \
        "https://127.0.0.1:9443/keyvault/kv-a.vault.azure.net"
    with pytest.raises(Refused):  # the US Government suffix for a public-cloud scan
        data_plane_url("https://kv-a.vault.usgovcloudapi.net/", "vault.azure.net", "https://127.0.0.1:9443")


def test_without_the_flag_no_data_plane_request_and_every_vault_unknown(emulator, rules):
    inventory = live(emulator, keyvault_data_plane=False)
    assert not keyvault_requests(emulator)
    result = scan(inventory, rules, ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))
    assert result.findings and {f.status.value for f in result.findings} == {"UNKNOWN"}
    assert all("--keyvault-data-plane" in f.message for f in result.findings)
    assert len(result.findings) == 4 * len(rules)  # one per vault and rule


def test_snapshot_records_certificates_and_a_rescan_equals_the_live_scan(emulator, rules, tmp_path):
    emulator.keyvault.forbid("kv-spoke2-data")
    runner = CliRunner()
    saved = runner.invoke(cli, ["snapshot", "--all-subscriptions", "--arm-endpoint", emulator.url, "--ca-bundle",
                                emulator.ca_path, "--credential", "static-token", "--keyvault-data-plane",
                                "--out", str(tmp_path / "evidence.json"), "--quiet"])
    assert saved.exit_code == 0, saved.output
    document = json.loads((tmp_path / "evidence.json").read_text())
    certificates = [r for r in document["value"] if r["type"] == CERTIFICATE_TYPE]
    assert sorted(c["name"] for c in certificates) == ["api-mtls-client", "appgw-listener"]
    assert [c["detail"] for c in document["vdcaudit_snapshot"]["coverage"]] == [f"for {SPOKE2_DATA}"]
    offline = Inventory()
    load_snapshot(tmp_path / "evidence.json", offline)
    emulator.log.clear()
    assert verdicts(offline, rules) == verdicts(live(emulator), rules)


def test_thresholds_are_checked_when_the_config_is_read(tmp_path):
    config = tmp_path / "vdcaudit.yaml"
    config.write_text("thresholds:\n  key_vault_certificates:\n    min_rsa_key_size: 1000\n")
    with pytest.raises(InputError):
        load_config(config)
    config.write_text("thresholds:\n  key_vault_certificates:\n    ca_common_names: []\n")
    with pytest.raises(InputError):
        load_config(config)
    config.write_text("thresholds:\n  key_vault_certificates:\n    max_validity_months: 6\n    key_types: [RSA-HSM]\n")
    assert load_config(config).raw["thresholds"]["key_vault_certificates"]["max_validity_months"] == 6


def test_terraform_certificates_are_judged_from_their_policy(tmp_path):
    """azurerm_key_vault_certificate (terraform show -json): the certificate_policy blocks map to Key
    Vault's policy shape; what Key Vault decides at creation (the certificate, its expiry) is UNKNOWN."""
    vault = "/subscriptions/sub-ci/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-ci"

    def certificate(name: str, key: dict[str, Any], months: int, trigger: dict[str, Any]) -> dict[str, Any]:
        after = {"name": name, "key_vault_id": vault, "tags": {}, "certificate": [], "certificate_policy": [{
            "issuer_parameters": [{"name": "Self"}],
            "key_properties": [{"exportable": True, "reuse_key": False, **key}],
            "lifetime_action": [{"action": [{"action_type": "AutoRenew"}], "trigger": [trigger]}],
            "secret_properties": [{"content_type": "application/x-pkcs12"}],
            "x509_certificate_properties": [{"subject": f"CN={name}.contoso.com", "validity_in_months": months,
                                             "key_usage": ["digitalSignature", "keyEncipherment"],
                                             "extended_key_usage": ["1.3.6.1.5.5.7.3.1"],
                                             "subject_alternative_names": []}]}]}
        return {"address": f"azurerm_key_vault_certificate.{name}", "mode": "managed",
                "type": "azurerm_key_vault_certificate", "name": name,
                "provider_name": "registry.terraform.io/hashicorp/azurerm",
                "change": {"actions": ["create"], "before": None, "after": after,
                           "after_unknown": {"id": True, "certificate_data": True, "certificate_attribute": True}}}

    plan = {"format_version": "1.2", "configuration": {"root_module": {}}, "resource_changes": [
        certificate("web", {"key_type": "RSA", "key_size": 4096, "curve": None}, 12,
                    {"days_before_expiry": None, "lifetime_percentage": 80}),
        certificate("iot", {"key_type": "EC", "key_size": None, "curve": "P-256K"}, 36,
                    {"days_before_expiry": 5, "lifetime_percentage": None}),
    ]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    result = CliRunner().invoke(cli, ["scan", "--terraform-plan", str(path), "--config", str(DEMO / "vdcaudit.yaml"),
                                      "--out", str(tmp_path / "out"), "--format", "json", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    found = {(f["rule_id"], f["resource_name"]): f["status"] for f in findings_in(tmp_path / "out")
             if f["rule_id"].startswith("VDC-KVC-")}
    assert found == {
        ("VDC-KVC-001", "web"): "FAIL", ("VDC-KVC-001", "iot"): "FAIL",  # self-signed
        ("VDC-KVC-002", "web"): "UNKNOWN", ("VDC-KVC-002", "iot"): "UNKNOWN",  # no certificate before apply
        ("VDC-KVC-003", "web"): "PASS", ("VDC-KVC-003", "iot"): "FAIL",
        ("VDC-KVC-004", "web"): "PASS", ("VDC-KVC-004", "iot"): "FAIL",
        ("VDC-KVC-005", "web"): "UNKNOWN", ("VDC-KVC-005", "iot"): "UNKNOWN",  # expiry known after apply
        ("VDC-KVC-006", "web"): "PASS", ("VDC-KVC-006", "iot"): "FAIL",
        ("VDC-KVC-007", "iot"): "FAIL",
        ("VDC-KVC-008", "web"): "PASS",
    }


def test_key_vaults_own_next_links_with_an_explicit_port_are_followed():
    """Key Vault writes its nextLinks as https://<vault>.vault.azure.net:443/certificates?...: the same
    origin as the vault; another path or host is not."""
    base = "https://kv-a.vault.azure.net"
    assert on_certificate_list(f"{base}:443/certificates?api-version=7.6&$skiptoken=eyJOZXh0", base)
    assert not on_certificate_list(f"{base}/secrets?api-version=7.6", base)
    assert not on_certificate_list("https://kv-b.vault.azure.net/certificates?api-version=7.6", base)
    assert not on_certificate_list("http://kv-a.vault.azure.net/certificates", base)
