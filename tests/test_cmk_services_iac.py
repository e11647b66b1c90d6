"""Customer-managed keys of the health, analytics and platform services before deployment: the ARM
template and the Terraform plan of fixtures/iac/cmkservices, scanned with the IaC fixtures'
configuration."""

from __future__ import annotations

import functools
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


@functools.cache
def _scanned(source: str) -> tuple[Inventory, dict[tuple[str, str], str]]:
    inventory = Inventory()
    if source == "template":
        load_template(FIXTURES / "cmkservices" / "main.json", inventory, None)
    else:
        load_plan(FIXTURES / "cmkservices" / "plan.json", inventory, subscription_id="sub-ci")
    result = scan(inventory, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml")))
    return inventory, {(f.rule_id, f.resource_name): f.status.value for f in result.findings}


# rule -> (template verdicts, plan verdicts) by resource name
EXPECTED: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "VDC-ACI-001": ({"vdc-prod-spoke5-ci-tools": "FAIL"}, {"ci-spoke5-tools": "FAIL"}),
    # azurerm cannot express the Device Update and Health Bot keys: UNKNOWN from plans
    "VDC-ADU-001": ({"vdc-prod-spoke5-adu-fleet": "FAIL"}, {"adu-spoke5-fleet": "UNKNOWN"}),
    "VDC-HBOT-001": ({"vdc-prod-spoke5-hbot-triage": "PASS"}, {"hbot-spoke5-triage": "UNKNOWN"}),
    # a job without contentStoragePolicy uses the system account
    "VDC-ASA-001": ({"vdc-prod-spoke5-asa-telemetry": "PASS", "vdc-prod-spoke5-asa-alerts": "FAIL"},
                    {"asa-spoke5-telemetry": "PASS", "asa-spoke5-alerts": "FAIL"}),
    # a volume group without encryption uses platform-managed keys
    "VDC-ESAN-001": ({"vg-sql": "PASS", "vg-scratch": "FAIL"}, {"vg-sql": "PASS", "vg-scratch": "FAIL"}),
    "VDC-FHIR-001": ({"vdc-prod-spoke5-fhir-claims": "PASS"}, {"fhir-spoke5-claims": "PASS", "fhir-spoke5-legacy": "FAIL"}),
    "VDC-FLR-001": ({"vdc-prod-spoke5-frs-whiteboard": "FAIL"}, {"frs-spoke5-whiteboard": "PASS"}),
    # children of a workspace: nested in the template, by reference to the planned workspace in the plan
    "VDC-HDS-001": ({"records": "PASS"}, {"records": "PASS"}),
    "VDC-HDS-002": ({"imaging": "FAIL"}, {"imaging": "FAIL"}),
    "VDC-HPC-001": ({"vdc-prod-spoke5-hpc-render": "PASS"}, {"hpc-spoke5-render": "PASS", "hpc-spoke5-scratch": "FAIL"}),
    "VDC-LT-001": ({"vdc-prod-spoke5-lt-checkout": "PASS"}, {"lt-spoke5-checkout": "PASS"}),
    # the template's enforcement is an if() over a parameter's default; its compliance status is
    # known only once deployed
    "VDC-SRCH-001": ({"vdc-prod-spoke5-srch-docs": "PASS"}, {"srch-spoke5-docs": "PASS", "srch-spoke5-catalog": "FAIL"}),
    "VDC-SRCH-002": ({"vdc-prod-spoke5-srch-docs": "UNKNOWN"}, {}),
}
CASES = [(source, rule, name, status) for rule, sides in EXPECTED.items()
         for source, verdicts in zip(("template", "plan"), sides) for name, status in verdicts.items()]


@pytest.mark.parametrize(("source", "rule", "name", "status"), CASES)
def test_verdicts(source: str, rule: str, name: str, status: str) -> None:
    assert _scanned(source)[1][(rule, name)] == status


def test_planned_children_are_linked_to_their_planned_parents_and_no_storage_key_is_kept() -> None:
    inventory, _ = _scanned("plan")
    # the parents' ids are known only after apply: the children hang under the planned parents
    [records] = inventory.of_type("Microsoft.HealthcareApis/workspaces/fhirservices")
    assert records["id"] == "terraform:azurerm_healthcare_workspace.main/fhirservices/records"
    groups = inventory.of_type("Microsoft.ElasticSan/elasticSans/volumegroups")
    assert sorted(g["id"] for g in groups) == ["terraform:azurerm_elastic_san.main/volumegroups/vg-scratch",
                                              "terraform:azurerm_elastic_san.main/volumegroups/vg-sql"]
    jobs = json.dumps([dict(j) for j in inventory.of_type("Microsoft.StreamAnalytics/streamingjobs")], default=str)
    assert "accountKey" not in jobs and "account_key" not in jobs
