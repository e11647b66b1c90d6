"""A Terraform plan that states a value in `after` and also marks it in `after_unknown`: the stated
value is judged (a plan cannot make a FAIL an UNKNOWN, which plans do not gate on, by calling a value
it states unknown), and the contradiction is recorded as a plan defect naming the address and path.
The plans are written by hand in the shape `terraform show -json` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in

ADDRESS = "azurerm_storage_account.logs"


def _plan(after: dict[str, Any], after_unknown: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": [{
        "address": ADDRESS, "mode": "managed", "type": "azurerm_storage_account", "name": "logs",
        "provider_name": "registry.terraform.io/hashicorp/azurerm",
        "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": after_unknown}}],
        "configuration": {"root_module": {}}}


ACCOUNT = {"name": "stlogs", "resource_group_name": "rg-logs", "location": "westeurope", "account_kind": "StorageV2",
           "account_replication_type": "LRS", "min_tls_version": "TLS1_0", "https_traffic_only_enabled": True}


def _scan(tmp_path: Path, plan: dict[str, Any]) -> tuple[Any, dict[str, str], dict[str, Any]]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    out = tmp_path / "out"
    # as of a day before Azure Storage's TLS floor, so the plan's own min_tls_version decides
    result = CliRunner().invoke(cli, ["scan", "--terraform-plan", str(path), "--format", "json", "--out", str(out),
                                      "--fail-on", "high", "--as-of", "2024-06-01"])
    statuses = {f["rule_id"]: f["status"] for f in findings_in(out) if f["resource_name"] == "stlogs"}
    return result, statuses, json.loads((out / "vdcaudit-findings.json").read_text())


def test_a_stated_value_marked_unknown_is_judged_and_the_defect_recorded(tmp_path: Path) -> None:
    result, statuses, document = _scan(tmp_path, _plan(ACCOUNT, {"id": True, "min_tls_version": True}))
    assert statuses["VDC-ST-002"] == "FAIL"  # TLS1_0 as stated, not UNKNOWN
    assert result.exit_code == 1 and "gate failed" in result.output
    defects = [c for c in document["coverage"] if c["reason"].startswith("plan defect")]
    assert len(defects) == 1
    assert f"{ADDRESS} states min_tls_version in 'after' and marks it unknown" in defects[0]["reason"]
    assert defects[0]["resource_type"] == "azurerm_storage_account" and defects[0]["scope"].endswith("plan.json:5")


def test_a_whole_block_marked_unknown_does_not_hide_what_it_states(tmp_path: Path) -> None:
    """after_unknown marks a parent (`true` for the whole object) above stated values."""
    after = {**ACCOUNT, "min_tls_version": "TLS1_2", "share_properties": [{"smb": [{"versions": ["SMB2.1"]}]}]}
    _, statuses, document = _scan(tmp_path, _plan(after, {"id": True, "share_properties": True}))
    assert statuses["VDC-ST-002"] == "PASS"
    assert any("share_properties" in c["reason"] for c in document["coverage"])


def test_unknown_without_a_value_stays_unknown_and_is_no_defect(tmp_path: Path) -> None:
    """Terraform prints a value known only after apply as null in `after`: that is not a defect."""
    _, statuses, document = _scan(tmp_path, _plan({**ACCOUNT, "min_tls_version": None},
                                                  {"id": True, "min_tls_version": True}))
    assert statuses["VDC-ST-002"] == "UNKNOWN"
    assert not [c for c in document["coverage"] if c["reason"].startswith("plan defect")]
