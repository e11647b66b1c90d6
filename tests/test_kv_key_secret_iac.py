"""Key Vault keys and secrets before deployment: an ARM template (attributes in Unix seconds, a secret's
value written in the file) and a Terraform plan (azurerm_key_vault_key / _secret, RFC 3339 dates),
judged by the threshold rules as of one evidence day. A secret's value is never kept or printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.config import Config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan

DAY = date(2026, 12, 7)
SECRET = "Pa55-written-in-the-template"
VAULT = "/subscriptions/sub-ci/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-ci"

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"vaultName": {"type": "string", "defaultValue": "kv-ci"}},
    "resources": [
        {"type": "Microsoft.KeyVault/vaults/keys", "apiVersion": "2023-07-01",
         "name": "[format('{0}/{1}', parameters('vaultName'), 'jwt-signing')]",
         "properties": {"kty": "EC-HSM", "curveName": "P-256K", "keyOps": ["sign", "verify"],
                        "attributes": {"enabled": True, "exp": 1893456000}}},  # 2030-01-01
        {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01",
         "name": "[format('{0}/{1}', parameters('vaultName'), 'smtp-password')]",
         "properties": {"value": SECRET, "contentType": "text/plain",
                        "attributes": {"enabled": True, "exp": 1799971200}}},  # 2027-01-15
        {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-07-01",
         "name": "[format('{0}/{1}', parameters('vaultName'), 'rotated-at-deploy')]",
         "properties": {"value": SECRET, "attributes": {"exp": "[dateTimeToEpoch(dateTimeAdd(utcNow(), 'P30D'))]"}}},
    ],
}


def _change(kind: str, name: str, after: dict[str, Any], sensitive: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"address": f"{kind}.{name}", "mode": "managed", "type": kind, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": ["create"], "before": None, "after": {"key_vault_id": VAULT, **after},
                       "after_unknown": {"id": True}, "before_sensitive": False, "after_sensitive": sensitive or {}}}


PLAN = {
    "format_version": "1.2", "terraform_version": "1.9.5",
    "resource_changes": [
        _change("azurerm_key_vault_key", "cmk", {"name": "storage-cmk", "key_type": "RSA-HSM", "key_size": 3072,
                                                 "key_opts": ["wrapKey", "unwrapKey"], "curve": None,
                                                 "not_before_date": None, "expiration_date": "2027-06-30T00:00:00Z"}),
        _change("azurerm_key_vault_key", "sign", {"name": "sign-ec", "key_type": "EC", "curve": "P-384", "key_size": None,
                                                  "key_opts": ["sign", "verify"], "not_before_date": None,
                                                  "expiration_date": "2026-12-20T00:00:00Z"}),
        _change("azurerm_key_vault_secret", "db", {"name": "db-password", "content_type": "text/plain",
                                                   "expiration_date": "2027-01-31T00:00:00Z", "not_before_date": None,
                                                   "value": "(sensitive value)"}, {"value": True}),
    ],
}

CONFIG = Config(raw={"thresholds": {"key_vault_keys": {"allowed_curve_names": ["P-256", "P-384", "P-521"]}}})


def _judged(inventory: Inventory) -> dict[tuple[str, str], tuple[str, str]]:
    found = scan(inventory, load_rules(), ScanContext(config=CONFIG, options={"as_of": DAY})).findings
    return {(f.rule_id, f.resource_name): (f.status.value, f.message) for f in found
            if f.rule_id.startswith("VDC-KV-0") and f.rule_id >= "VDC-KV-012"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inventory, dict[tuple[str, str], tuple[str, str]]]:
    path = Path(tmp_path_factory.mktemp("tpl")) / "keys.json"
    path.write_text(json.dumps(TEMPLATE), encoding="utf-8")
    inventory = Inventory()
    load_template(path, inventory, None)
    return inventory, _judged(inventory)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inventory, dict[tuple[str, str], tuple[str, str]]]:
    path = Path(tmp_path_factory.mktemp("plan")) / "plan.json"
    path.write_text(json.dumps(PLAN), encoding="utf-8")
    inventory = Inventory()
    load_plan(path, inventory, subscription_id="sub-ci")
    return inventory, _judged(inventory)


@pytest.mark.parametrize(("source", "rule", "name", "status", "says"), [
    ("template", "VDC-KV-012", "jwt-signing", "PASS", "EC-HSM"),
    ("template", "VDC-KV-013", "jwt-signing", "FAIL", "Curve P-256K is not allowed"),
    ("template", "VDC-KV-014", "jwt-signing", "PASS", "Expires 2030-01-01"),
    ("template", "VDC-KV-015", "jwt-signing", "FAIL", "valid 1121 days (deployed on 2026-12-07"),  # created when deployed
    ("template", "VDC-KV-017", "smtp-password", "PASS", "39 days after 2026-12-07"),
    ("template", "VDC-KV-018", "smtp-password", "PASS", "valid 39 days"),
    ("template", "VDC-KV-017", "rotated-at-deploy", "UNKNOWN", "cannot be resolved before deployment"),
    ("template", "VDC-KV-018", "rotated-at-deploy", "UNKNOWN", "cannot be resolved before deployment"),
    ("plan", "VDC-KV-012", "storage-cmk", "PASS", "RSA-HSM"),
    ("plan", "VDC-KV-013", "sign-ec", "PASS", "P-384"),
    ("plan", "VDC-KV-014", "sign-ec", "FAIL", "13 days after 2026-12-07"),
    ("plan", "VDC-KV-015", "storage-cmk", "PASS", "valid 205 days"),
    ("plan", "VDC-KV-017", "db-password", "PASS", "55 days after"),
    ("plan", "VDC-KV-018", "db-password", "PASS", "valid 55 days"),
])
def test_verdicts(template, plan, source: str, rule: str, name: str, status: str, says: str) -> None:
    verdict, message = (template if source == "template" else plan)[1][(rule, name)]
    assert verdict == status and says in message, message


@pytest.mark.parametrize("source", ["template", "plan"])
def test_ages_are_judged_on_deployed_objects_only(source: str, template, plan) -> None:
    judged = (template if source == "template" else plan)[1]
    assert not [key for key in judged if key[0] in ("VDC-KV-016", "VDC-KV-019")]


def test_the_secret_value_is_never_kept_nor_printed(template) -> None:
    inventory, judged = template
    assert SECRET not in json.dumps([dict(s) for s in inventory.of_type("Microsoft.KeyVault/vaults/secrets")],
                                    default=str)
    assert not [message for _, message in judged.values() if SECRET in message]
