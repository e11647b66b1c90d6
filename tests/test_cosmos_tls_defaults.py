"""VDC-COS-001 on infrastructure code: an account that does not set minimalTlsVersion takes a default
Azure documents per API kind (MongoDB, Cassandra: TLS 1.2 only) and, for the other kinds, per account
age, which code cannot tell (it may create the account or update an older one): UNKNOWN, never PASS."""

from __future__ import annotations

import json
from pathlib import Path

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from tests import evidence_day

RULE = [rule for rule in load_rules() if rule.id == "VDC-COS-001"]


def _verdicts(inventory: Inventory) -> dict[str, tuple[str, str]]:
    return {f.resource_name: (f.status.value, f.message)
            for f in run(RULE, inventory, ScanContext(options=evidence_day.OPTIONS)).findings}


def _account(name: str, kind: str, capabilities: list[str]) -> dict:
    # as people write them: an API version older than 2022-11-15 cannot even state minimalTlsVersion
    return {"type": "Microsoft.DocumentDB/databaseAccounts", "apiVersion": "2021-10-15", "name": name,
            "location": "westeurope", "kind": kind,
            "properties": {"databaseAccountOfferType": "Standard",
                           "locations": [{"locationName": "westeurope", "failoverPriority": 0}],
                           "capabilities": [{"name": c} for c in capabilities]}}


def test_template_defaults_by_api_kind(tmp_path: Path) -> None:
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": [
                    _account("cosmos-mongo", "MongoDB", ["EnableMongo"]),
                    _account("cosmos-cassandra", "GlobalDocumentDB", ["EnableCassandra"]),
                    _account("cosmos-table", "GlobalDocumentDB", ["EnableTable"]),
                    _account("cosmos-nosql", "GlobalDocumentDB", [])]}
    path = tmp_path / "main.json"
    path.write_text(json.dumps(template, indent=2))
    inventory = Inventory()
    load_template(path, inventory)
    verdicts = _verdicts(inventory)
    assert verdicts["cosmos-mongo"][0] == "PASS"
    assert verdicts["cosmos-cassandra"][0] == "PASS"
    assert "accept only TLS 1.2" in verdicts["cosmos-cassandra"][1]
    for name in ("cosmos-table", "cosmos-nosql"):
        status, message = verdicts[name]
        assert status == "UNKNOWN" and "created before 2023-04-01" in message, (name, message)


def _change(name: str, after: dict) -> dict:
    return {"address": f"azurerm_cosmosdb_account.{name}", "mode": "managed", "type": "azurerm_cosmosdb_account",
            "name": name, "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {"id": True}}}


def test_plan_capabilities_decide_the_default(tmp_path: Path) -> None:
    """`terraform show -json` of an azurerm provider without minimal_tls_version (before 3.x added it):
    the capabilities blocks say the API kind."""
    base = {"resource_group_name": "rg-data", "location": "westeurope", "offer_type": "Standard",
            "kind": "GlobalDocumentDB"}
    plan = {"format_version": "1.2", "resource_changes": [
        _change("cassandra", {**base, "name": "cosmos-cassandra", "capabilities": [{"name": "EnableCassandra"}]}),
        _change("gremlin", {**base, "name": "cosmos-gremlin", "capabilities": [{"name": "EnableGremlin"}]}),
        _change("legacy", {**base, "name": "cosmos-legacy", "minimal_tls_version": "Tls11",
                           "capabilities": [{"name": "EnableCassandra"}]}),
    ], "configuration": {"root_module": {}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    inventory = Inventory()
    load_plan(path, inventory, subscription_id="sub-ci")
    verdicts = _verdicts(inventory)
    assert verdicts["cosmos-cassandra"][0] == "PASS"
    assert verdicts["cosmos-gremlin"][0] == "UNKNOWN"
    assert verdicts["cosmos-legacy"][0] == "FAIL"  # a value that is set is judged as set
