"""The gate's exemption for template and plan coverage gaps: a value a template or plan cannot know
before deployment (a name from reference(), a name known only after apply) gives UNKNOWN, which does
not fail --fail-on; the same UNKNOWN from a read that failed (a live or snapshot source) does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.gate import gate_failures
from vdcaudit.model import CoverageRecord, Severity
from vdcaudit.merge import merge
from vdcaudit.rulepack import load_rules

# How many accounts a copy loop deploys is known only after another deployment ran (reference()):
# the resources cannot be described at all, so their type is a coverage gap of the template. (A name
# known only at deployment is not one: the resource is judged under its symbolic name.)
STORAGE = {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "location": "westeurope",
           "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "properties": {"minimumTlsVersion": "TLS1_2"},
           "name": "[concat('stlogs', copyIndex())]",
           "copy": {"name": "accounts",
                    "count": "[reference(resourceId('Microsoft.Resources/deployments', 'naming'), '2022-09-01').outputs.count.value]"}}
TEMPLATE = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": [STORAGE]}
PLAN = {"format_version": "1.2", "terraform_version": "1.9.5", "configuration": {"root_module": {}}, "resource_changes": [{
    "address": "azurerm_storage_account.logs", "mode": "managed", "type": "azurerm_storage_account", "name": "logs",
    "change": {"actions": ["create"], "before": None,
               "after": {"name": None, "resource_group_name": "rg", "location": "westeurope", "min_tls_version": "TLS1_2"},
               "after_unknown": {"id": True, "name": True}}}]}


def _scan(tmp_path: Path, option: str, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document, indent=1))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", option, str(path), "--format", "json", "--out", str(out), "--fail-on", "low"])
    return result.exit_code, json.loads((out / "vdcaudit-findings.json").read_text())


def _high_unknowns(document: dict[str, Any]) -> int:
    return sum(matrix["high"] for matrix in (document["summary"]["matrix"][c]["UNKNOWN"]
                                             for c in ("at-rest", "in-transit", "key-management")))


def test_a_template_gap_does_not_fail_the_gate(tmp_path: Path) -> None:
    code, document = _scan(tmp_path, "--template", TEMPLATE)
    assert [c["source"] for c in document["coverage"]] == ["template"]
    assert _high_unknowns(document) and document["summary"]["by_status"]["FAIL"] == 0
    assert code == 0


def test_a_plan_gap_does_not_fail_the_gate(tmp_path: Path) -> None:
    code, document = _scan(tmp_path, "--terraform-plan", PLAN)
    assert [c["source"] for c in document["coverage"]] == ["terraform"]
    assert _high_unknowns(document) and document["summary"]["by_status"]["FAIL"] == 0
    assert code == 0


def test_the_same_gap_from_a_failed_read_fails_the_gate(tmp_path: Path) -> None:
    """The template's findings file, its gap relabelled as a snapshot read that failed: now it gates."""
    _, document = _scan(tmp_path, "--template", TEMPLATE)
    path = tmp_path / "out" / "vdcaudit-findings.json"
    result = merge([path], load_rules())
    assert not gate_failures(result, Severity.LOW)
    result.coverage = [CoverageRecord(source="snapshot", scope=c.scope, reason="403 Forbidden",
                                      resource_type=c.resource_type) for c in result.coverage]
    assert gate_failures(result, Severity.LOW)
