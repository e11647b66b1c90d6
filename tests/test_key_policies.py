"""vdcaudit.yaml's key policies (cmk_required, hsm_required), the service a rule belongs to, and
`rules list` grouped by service."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from vdcaudit.rulepack import load_rules
from vdcaudit.services import service_of

RULES = {rule.id: rule for rule in load_rules()}


@pytest.mark.parametrize(("resource_type", "service"), [
    ("Microsoft.DocumentDB/databaseAccounts", "cosmos-db"),
    ("microsoft.sql/managedinstances/databases", "sql-managed-instance"),  # ARG spelling
    ("Microsoft.Sql/servers/databases", "sql"),
    ("Microsoft.KeyVault/vaults/secrets", "key-vault"),
    ("Microsoft.KeyVault/managedHSMs", "managed-hsm"),
    ("Microsoft.Contoso/widgets", "contoso"),  # a namespace the table does not name
])
def test_service_of(resource_type: str, service: str) -> None:
    assert service_of(resource_type) == service


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vdcaudit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_policy_defaults_and_overrides(tmp_path: Path) -> None:
    builtin = load_config(None).policies
    assert builtin["cmk_required"].required("cosmos-db") == (True, "cmk_required (built-in default): true")
    assert builtin["hsm_required"].required("key-vault")[0] is False
    relaxed = load_config(_config(tmp_path, "cmk_required:\n  default: false\n  services: {cosmos-db: true}\n"))
    assert relaxed.policies["cmk_required"].required("cosmos-db") == (True, "cmk_required.services.cosmos-db: true")
    assert relaxed.policies["cmk_required"].required("batch") == (False, "cmk_required.default: false")
    assert load_config(_config(tmp_path, "hsm_required: true\n")).policies["hsm_required"].required("key-vault")[0]


def _scan_one(rule_id: str, resource: dict, config_text: str, tmp_path: Path):
    rule = RULES[rule_id]
    inventory = Inventory()
    inventory.add({"id": f"/subscriptions/s/resourceGroups/rg/providers/{rule.resource_type}/x",
                   "type": rule.resource_type, "name": "x", **resource}, "snapshot")
    context = ScanContext(config=load_config(_config(tmp_path, config_text)))
    return run([rule], inventory, context).findings


def test_relaxed_policy_passes_with_the_reason_and_keeps_evidence(tmp_path: Path) -> None:
    [finding] = _scan_one("VDC-EH-010", {"sku": {"name": "Premium"}, "properties": {}},
                          "cmk_required: {services: {event-hubs: false}}\n", tmp_path)
    assert finding.status is Status.PASS
    assert "cmk_required is false for event-hubs" in finding.message
    assert "properties.encryption.keySource" in finding.evidence  # what the service uses is still shown
    # the rule's `where` still decides where it applies: no finding for a Standard namespace
    assert _scan_one("VDC-EH-010", {"sku": {"name": "Standard"}, "properties": {}},
                     "cmk_required: false\n", tmp_path) == []


def test_relaxed_policy_does_not_hide_an_ambiguous_resource(tmp_path: Path) -> None:
    [finding] = _scan_one("VDC-BAT-001", {"properties": {"encryption": {"keySource": "a"},
                                                         "Encryption": {"keySource": "b"}}},
                          "cmk_required: false\n", tmp_path)
    assert finding.status is Status.ERROR


@pytest.mark.parametrize(("text", "message"), [
    ("cmk_required:\n  services: {cosmosdb: false}\n", "cmk_required.services: unknown service cosmosdb"),
    ("cmk_required: yes please\n", "cmk_required"),
    ("hsm_required: {default: maybe}\n", "hsm_required"),
])
def test_bad_policy_is_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = _config(tmp_path, text)
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output and str(path) in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_rules_list_groups_by_service() -> None:
    listed = CliRunner().invoke(cli, ["rules", "list"])
    assert listed.exit_code == 0
    assert f"{len(RULES)} rules in" in listed.output
    assert "Azure Cosmos DB (cosmos-db)" in listed.output and "Key Vault (key-vault)" in listed.output
    only = CliRunner().invoke(cli, ["rules", "list", "--service", "aks"])
    assert only.exit_code == 0
    assert {"VDC-AKS-001", "VDC-AKS-002", "VDC-AKS-003"} <= set(only.output.split())
    assert "VDC-ST-002" not in only.output
    wrong = CliRunner().invoke(cli, ["rules", "list", "--service", "cosmos"])
    assert wrong.exit_code == 2 and "unknown service cosmos" in wrong.output
