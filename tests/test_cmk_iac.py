"""VDC-CMK-007 on a `terraform show -json` plan: azurerm names a key by its key id (a URL), or a list of
them for an Event Hubs namespace's customer_managed_key resource; the vault is found by the URL's
host (its name, as a planned vault's URI is known only after apply)."""

from __future__ import annotations

import json
from pathlib import Path

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules

RULE = [rule for rule in load_rules() if rule.id == "VDC-CMK-007"]
NS = "/subscriptions/sub-ci/resourceGroups/rg-data/providers/Microsoft.EventHub/namespaces/evhns-telemetry"


def _change(address: str, after: dict) -> dict:
    kind, name = address.split(".")
    return {"address": address, "mode": "managed", "type": kind, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {"id": True}}}


def _vault(name: str, purge_protection: bool) -> dict:
    return _change(f"azurerm_key_vault.{name.replace('-', '_')}", {
        "name": name, "resource_group_name": "rg-keys", "location": "westeurope", "sku_name": "premium",
        "tenant_id": "72f988bf-0000-4000-8000-00000000c0de", "purge_protection_enabled": purge_protection,
        "soft_delete_retention_days": 90})


def test_plan_key_references_reach_their_vaults(tmp_path: Path) -> None:
    plan = {"format_version": "1.2", "resource_changes": [
        _vault("kv-good", True), _vault("kv-bad", False),
        _change("azurerm_cosmosdb_account.orders", {
            "name": "cosmos-orders", "resource_group_name": "rg-data", "location": "westeurope",
            "kind": "GlobalDocumentDB", "offer_type": "Standard", "minimal_tls_version": "Tls12",
            "key_vault_key_id": "https://kv-good.vault.azure.net/keys/cosmos-cmk"}),
        _change("azurerm_eventhub_namespace.telemetry", {
            "name": "evhns-telemetry", "resource_group_name": "rg-data", "location": "westeurope",
            "sku": "Premium", "minimum_tls_version": "1.2"}),
        _change("azurerm_eventhub_namespace_customer_managed_key.telemetry", {
            "eventhub_namespace_id": NS, "infrastructure_encryption_enabled": True,
            "key_vault_key_ids": ["https://kv-bad.vault.azure.net/keys/evh-cmk/0a1b2c3d4e5f60718293a4b5c6d7e8f9"]}),
        _change("azurerm_databricks_workspace.analytics", {
            "name": "dbw-analytics", "resource_group_name": "rg-data", "location": "westeurope", "sku": "premium",
            "managed_services_cmk_key_vault_key_id": "https://kv-far.vault.azure.net/keys/dbw-cmk/0a1b2c3d"}),
    ], "configuration": {"root_module": {}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    inventory = Inventory()
    load_plan(path, inventory, subscription_id="sub-ci")
    verdicts = {f.resource_name: (f.status.value, f.message) for f in run(RULE, inventory).findings}
    assert verdicts["cosmos-orders"][0] == "PASS"
    assert verdicts["evhns-telemetry"] == ("FAIL", "the customer-managed key is in a vault without purge protection: kv-bad")
    assert verdicts["dbw-analytics"][0] == "UNKNOWN" and "kv-far.vault.azure.net" in verdicts["dbw-analytics"][1]


def test_a_template_key_reference_known_only_at_deployment_is_unknown(tmp_path: Path) -> None:
    """keyVaultKeyUri from reference(): the key may be anywhere, so neither PASS nor silence."""
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": [{
                    "type": "Microsoft.DocumentDB/databaseAccounts", "apiVersion": "2024-11-15",
                    "name": "cosmos-orders", "location": "westeurope", "kind": "GlobalDocumentDB",
                    "properties": {"databaseAccountOfferType": "Standard", "minimalTlsVersion": "Tls12",
                                   "keyVaultKeyUri": "[reference(resourceId('Microsoft.KeyVault/vaults/keys', "
                                                     "'kv-data', 'cosmos-cmk'), '2023-07-01').keyUri]",
                                   "locations": [{"locationName": "westeurope", "failoverPriority": 0}]}}]}
    path = tmp_path / "main.json"
    path.write_text(json.dumps(template, indent=2))
    inventory = Inventory()
    load_template(path, inventory)
    [finding] = run(RULE, inventory).findings
    assert finding.status.value == "UNKNOWN" and "keyVaultKeyUri" in finding.message, finding.message
