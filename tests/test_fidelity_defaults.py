"""Documented defaults that depend on the API version, read from ARM templates as people write them:
the resource keeps its `apiVersion`, so the default of its era applies (issue 10)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules

RULES = {rule.id: rule for rule in load_rules()}


def template(*resources: dict) -> dict:
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": list(resources)}


def verdicts(tmp_path: Path, rule_id: str, document: dict, as_of: date | None = None) -> dict[str, str]:
    path = tmp_path / "main.json"
    path.write_text(json.dumps(document, indent=2))
    inventory = Inventory()
    load_template(path, inventory)
    context = ScanContext(options={"as_of": as_of})
    return {f.resource_name: f.status.value for f in run([RULES[rule_id]], inventory, context).findings}


def test_storage_secure_transfer_default_follows_the_template_api_version(tmp_path: Path) -> None:
    def account(name: str, api: str) -> dict:
        return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": api, "name": name,
                "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                "properties": {"minimumTlsVersion": "TLS1_2"}}
    assert verdicts(tmp_path, "VDC-ST-001", template(account("stnew", "2023-05-01"), account("stold", "2018-07-01"))) \
        == {"stnew": "PASS", "stold": "FAIL"}


def test_key_vault_permission_model_default_follows_the_template_api_version(tmp_path: Path) -> None:
    def vault(name: str, api: str) -> dict:
        return {"type": "Microsoft.KeyVault/vaults", "apiVersion": api, "name": name, "location": "westeurope",
                "properties": {"tenantId": "72f988bf-0000-4000-8000-0000000e4a70", "sku": {"family": "A", "name": "standard"}}}
    assert verdicts(tmp_path, "VDC-KV-004", template(vault("kvnew", "2026-02-01"), vault("kvold", "2023-07-01"))) \
        == {"kvnew": "PASS", "kvold": "FAIL"}


def test_application_gateway_without_a_policy_gets_its_era_default(tmp_path: Path) -> None:
    def gateway(name: str, api: str) -> dict:
        return {"type": "Microsoft.Network/applicationGateways", "apiVersion": api, "name": name,
                "location": "westeurope",
                "properties": {"httpListeners": [{"name": "https", "properties": {"protocol": "Https"}}]}}
    gateways = template(gateway("agwnew", "2023-09-01"), gateway("agwold", "2022-01-01"))
    assert verdicts(tmp_path, "VDC-AGW-001", gateways, as_of=date(2025, 8, 30)) == {"agwnew": "PASS", "agwold": "FAIL"}
    # From 31 August 2025 the platform floor holds every gateway to TLS 1.2: the old default has no effect
    assert verdicts(tmp_path, "VDC-AGW-001", gateways, as_of=date(2025, 8, 31)) == {"agwnew": "PASS", "agwold": "WARN"}


def test_key_vault_in_a_template_without_an_api_version_stays_unknown_and_says_why(tmp_path: Path) -> None:
    vault = {"type": "Microsoft.KeyVault/vaults", "name": "kvunsaid", "location": "westeurope",
             "properties": {"tenantId": "72f988bf-0000-4000-8000-0000000e4a70", "sku": {"family": "A", "name": "standard"}}}
    path = tmp_path / "main.json"
    path.write_text(json.dumps(template(vault), indent=2))
    inventory = Inventory()
    load_template(path, inventory)
    finding = run([RULES["VDC-KV-004"]], inventory).findings[0]
    assert finding.status.value == "UNKNOWN"
    assert "depends on the API version that created the resource" in finding.message
    assert "a deployed vault whose enableRbacAuthorization is null" in finding.message
