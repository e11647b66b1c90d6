"""Application-layer rules (API Management, Data Factory, Automation, Bot Service, alert rules, the
activity log's export) on an ARM template and a Terraform plan, through the same rules as a live
scan; no secret value written in either reaches the inventory or a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.terraform import load_plan
from vdcaudit.commands.cli import cli
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iac" / "applayer"
SECRETS = ("not-a-real-partner-token", "not-a-real-sftp-password", "not-a-real-sas-token", "not-a-real-password",
           "bm90LWEtcmVhbC1rZXk=")


def _verdicts(inventory: Inventory) -> dict[tuple[str, str], str]:
    return {(f.rule_id, f.resource_name): f.status.value for f in scan(inventory, load_rules(), ScanContext()).findings}


def _loaded(loader, name: str) -> Inventory:
    inventory = Inventory()
    loader(FIXTURES / name, inventory)
    assert inventory.coverage == []
    return inventory


BOTH = [
    ("VDC-APIM-004", "orders-api", "PASS"), ("VDC-APIM-004", "partner-feed", "FAIL"),
    ("VDC-APIM-005", "orders-backend", "PASS"), ("VDC-APIM-005", "partner-backend", "FAIL"),
    ("VDC-APIM-006", "orders-backend-key", "PASS"), ("VDC-APIM-006", "partner-token", "FAIL"),
    ("VDC-ADF-002", "OrdersSqlDb", "PASS"),
    ("VDC-AA-002", "ReportingSqlPassword", "PASS"), ("VDC-AA-002", "ExportContainerSas", "FAIL"),
    ("VDC-BOT-001", "bot-spoke3-helpdesk", "PASS"), ("VDC-BOT-001", "bot-spoke3-legacy", "FAIL"),
    ("VDC-BOT-002", "bot-spoke3-helpdesk", "PASS"), ("VDC-BOT-002", "bot-spoke3-legacy", "FAIL"),
    ("VDC-MON-001", "alert-spoke3-portal-errors", "FAIL"),
]
TEMPLATE_ONLY = [("VDC-ADF-002", "PartnerSftp", "FAIL"), ("VDC-LA-004", "law-spoke3", "PASS"),
                 ("VDC-APIM-005", "orders-backend", "PASS")]  # no tls block: ARM's default validates
PLAN_ONLY = [("VDC-ADF-002", "ExportsBlob", "FAIL"), ("VDC-LA-004", "law-spoke3", "FAIL"),
             ("VDC-MON-001", "alert-spoke3-signin", "PASS"), ("VDC-MON-002", "activity-to-archive", "FAIL")]


@pytest.mark.parametrize(("rule_id", "name", "status"), BOTH + TEMPLATE_ONLY)
def test_template_verdicts(rule_id, name, status):
    assert _verdicts(_loaded(load_template, "main.json")).get((rule_id, name)) == status


@pytest.mark.parametrize(("rule_id", "name", "status"), BOTH + PLAN_ONLY)
def test_plan_verdicts(rule_id, name, status):
    assert _verdicts(_loaded(load_plan, "plan.json")).get((rule_id, name)) == status


@pytest.mark.parametrize(("option", "name"), [("--template", "main.json"), ("--terraform-plan", "plan.json")])
def test_no_secret_value_reaches_the_inventory_or_the_reports(tmp_path, option, name):
    inventory = _loaded(load_template if option == "--template" else load_plan, name)
    kept = json.dumps(list(inventory), default=str)
    assert not [s for s in SECRETS if s in kept]
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", option, str(FIXTURES / name), "--out", str(out), "--quiet",
                                      "--format", "json,html,sarif"])
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file())
    assert written and not [s for s in SECRETS if s in written]
