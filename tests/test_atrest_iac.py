"""The at-rest and key-management kinds (issue 13) before deployment: the ARM template and the
Terraform plan of spoke 5 (fixtures/iac/atrest), scanned with the IaC fixtures' configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iac"


def _scan(inventory: Inventory) -> dict[tuple[str, str], str]:
    result = scan(inventory, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml")))
    return {(f.rule_id, f.resource_name): f.status.value for f in result.findings}


@pytest.fixture(scope="module")
def template() -> tuple[Inventory, dict[tuple[str, str], str]]:
    inventory = Inventory()
    load_template(FIXTURES / "atrest" / "main.json", inventory, None)
    return inventory, _scan(inventory)


@pytest.fixture(scope="module")
def plan() -> tuple[Inventory, dict[tuple[str, str], str]]:
    inventory = Inventory()
    load_plan(FIXTURES / "atrest" / "plan.json", inventory, subscription_id="sub-ci")
    return inventory, _scan(inventory)


@pytest.mark.parametrize(("rule", "name", "status"), [
    ("VDC-COS-010", "vdc-prod-spoke5-cosmos-orders", "PASS"),
    ("VDC-COS-010", "vdc-prod-spoke5-cosmos-catalog", "FAIL"),
    ("VDC-MY-010", "vdc-prod-spoke5-mysql-crm", "FAIL"),           # no dataEncryption: SystemManaged
    ("VDC-EH-011", "vdc-prod-spoke5-evhns-telemetry", "FAIL"),     # parameter default false
    ("VDC-AKS-001", "vdc-prod-spoke5-aks", "UNKNOWN"),             # a pool's flag is a parameter without default
    ("VDC-KV-008", "db-password", "UNKNOWN"),                      # exp from utcNow(): known at deployment
    ("VDC-KV-008", "partner-api-key", "FAIL"),                     # no attributes: never expires
    ("VDC-SQLMI-003", "sales", "PASS"),                            # nested transparentDataEncryption child
    ("VDC-MHSM-001", "vdc-prod-spoke5-mhsm", "FAIL"),
    ("VDC-ST-007", "vdcprodspoke5stexports", "PASS"),
])
def test_template_verdicts(template, rule: str, name: str, status: str) -> None:
    assert template[1][(rule, name)] == status


@pytest.mark.parametrize(("rule", "name", "status"), [
    ("VDC-EH-010", "evhns-spoke5-telemetry", "PASS"),       # key from azurerm_eventhub_namespace_customer_managed_key
    ("VDC-EH-011", "evhns-spoke5-telemetry", "PASS"),
    ("VDC-BV-001", "bvault-spoke5", "PASS"),                 # ..._backup_vault_customer_managed_key
    ("VDC-BV-002", "bvault-spoke5", "UNKNOWN"),              # azurerm cannot express it
    ("VDC-ADX-003", "adxspoke5", "PASS"),                    # azurerm_kusto_cluster_customer_managed_key
    ("VDC-AKS-001", "aks-spoke5", "FAIL"),                   # the attached node pool has no host encryption
    ("VDC-AKS-002", "aks-spoke5", "FAIL"),
    ("VDC-AKS-003", "aks-spoke5", "PASS"),
    ("VDC-COS-010", "cosmos-spoke5-catalog", "FAIL"),
    ("VDC-KV-008", "db-password", "PASS"),
    ("VDC-KV-008", "partner-api-key", "FAIL"),
    ("VDC-SQLMI-003", "sales", "UNKNOWN"),                   # azurerm does not manage MI database TDE
    ("VDC-DBW-003", "dbw-spoke5", "FAIL"),
    ("VDC-ST-006", "stspoke5exports", "PASS"),
])
def test_plan_verdicts(plan, rule: str, name: str, status: str) -> None:
    assert plan[1][(rule, name)] == status


@pytest.mark.parametrize("source", ["template", "plan"])
def test_secret_values_are_never_kept(source: str, template, plan) -> None:
    inventory = (template if source == "template" else plan)[0]
    secrets = inventory.of_type("Microsoft.KeyVault/vaults/secrets")
    assert len(secrets) == 2
    text = json.dumps([dict(s) for s in secrets], default=str)
    # a literal value in the template, a value in the plan: neither is kept
    assert "literal-value-written-in-the-template" not in text and "sensitive value" not in text
    assert all("value" not in {k.lower() for k in s["properties"]} for s in secrets)
