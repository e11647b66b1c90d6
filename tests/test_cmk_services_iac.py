"""Customer-managed keys of the health, analytics and platform services before deployment: the ARM
template and the Terraform plan of fixtures/iac/cmkservices, scanned with the IaC fixtures'
configuration."""

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
def template() -> dict[tuple[str, str], str]:
    inventory = Inventory()
    load_template(FIXTURES / "cmkservices" / "main.json", inventory, None)
    return _scan(inventory)


@pytest.fixture(scope="module")
def plan() -> tuple[Inventory, dict[tuple[str, str], str]]:
    inventory = Inventory()
    load_plan(FIXTURES / "cmkservices" / "plan.json", inventory, subscription_id="sub-ci")
    return inventory, _scan(inventory)


@pytest.mark.parametrize(("rule", "name", "status"), [
    ("VDC-FHIR-001", "vdc-prod-spoke5-fhir-claims", "PASS"),
    ("VDC-HDS-001", "records", "PASS"),                             # nested child of the workspace
    ("VDC-HDS-002", "imaging", "FAIL"),                             # no encryption block: Microsoft-managed keys
    ("VDC-LT-001", "vdc-prod-spoke5-lt-checkout", "PASS"),
    ("VDC-ACI-001", "vdc-prod-spoke5-ci-tools", "FAIL"),
    ("VDC-ESAN-001", "vg-sql", "PASS"),
    ("VDC-ESAN-001", "vg-scratch", "FAIL"),                         # no encryption: platform-managed keys
    ("VDC-FLR-001", "vdc-prod-spoke5-frs-whiteboard", "FAIL"),
    ("VDC-HBOT-001", "vdc-prod-spoke5-hbot-triage", "PASS"),
    ("VDC-ADU-001", "vdc-prod-spoke5-adu-fleet", "FAIL"),
    ("VDC-SRCH-001", "vdc-prod-spoke5-srch-docs", "PASS"),          # if() over a parameter's default
    ("VDC-SRCH-002", "vdc-prod-spoke5-srch-docs", "UNKNOWN"),       # compliance is known only once deployed
    ("VDC-HPC-001", "vdc-prod-spoke5-hpc-render", "PASS"),
    ("VDC-ASA-001", "vdc-prod-spoke5-asa-telemetry", "PASS"),
    ("VDC-ASA-001", "vdc-prod-spoke5-asa-alerts", "FAIL"),          # no contentStoragePolicy: the system account
])
def test_template_verdicts(template, rule: str, name: str, status: str) -> None:
    assert template[(rule, name)] == status


@pytest.mark.parametrize(("rule", "name", "status"), [
    ("VDC-FHIR-001", "fhir-spoke5-claims", "PASS"),
    ("VDC-FHIR-001", "fhir-spoke5-legacy", "FAIL"),
    ("VDC-HDS-001", "records", "PASS"),                             # workspace id known after apply, by reference
    ("VDC-HDS-002", "imaging", "FAIL"),
    ("VDC-LT-001", "lt-spoke5-checkout", "PASS"),
    ("VDC-ACI-001", "ci-spoke5-tools", "FAIL"),
    ("VDC-ESAN-001", "vg-sql", "PASS"),
    ("VDC-ESAN-001", "vg-scratch", "FAIL"),
    ("VDC-FLR-001", "frs-spoke5-whiteboard", "PASS"),
    ("VDC-HBOT-001", "hbot-spoke5-triage", "UNKNOWN"),              # azurerm cannot express the key
    ("VDC-ADU-001", "adu-spoke5-fleet", "UNKNOWN"),                 # azurerm cannot express the key
    ("VDC-SRCH-001", "srch-spoke5-docs", "PASS"),
    ("VDC-SRCH-001", "srch-spoke5-catalog", "FAIL"),
    ("VDC-HPC-001", "hpc-spoke5-render", "PASS"),
    ("VDC-HPC-001", "hpc-spoke5-scratch", "FAIL"),
    ("VDC-ASA-001", "asa-spoke5-telemetry", "PASS"),
    ("VDC-ASA-001", "asa-spoke5-alerts", "FAIL"),
])
def test_plan_verdicts(plan, rule: str, name: str, status: str) -> None:
    assert plan[1][(rule, name)] == status


def test_planned_children_are_linked_to_their_planned_parents_and_no_storage_key_is_kept(plan) -> None:
    inventory, _ = plan
    # the parents' ids are known only after apply: the children hang under the planned parents
    [records] = inventory.of_type("Microsoft.HealthcareApis/workspaces/fhirservices")
    assert records["id"] == "terraform:azurerm_healthcare_workspace.main/fhirservices/records"
    groups = inventory.of_type("Microsoft.ElasticSan/elasticSans/volumegroups")
    assert sorted(g["id"] for g in groups) == ["terraform:azurerm_elastic_san.main/volumegroups/vg-scratch",
                                              "terraform:azurerm_elastic_san.main/volumegroups/vg-sql"]
    jobs = json.dumps([dict(j) for j in inventory.of_type("Microsoft.StreamAnalytics/streamingjobs")], default=str)
    assert "accountKey" not in jobs and "account_key" not in jobs
