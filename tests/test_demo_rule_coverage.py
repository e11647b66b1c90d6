"""The demo VDC exercises the whole rule pack: every rule yields at least one finding, and every
category has failures (so the demo report shows each category)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in


@pytest.fixture(scope="module")
def demo_findings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(out), "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "vdcaudit-findings.json").read_text(encoding="utf-8"))
    return {**document, "findings": findings_in(out)}  # flat: each finding with its resource's fields


def test_every_rule_has_a_finding_on_the_demo(demo_findings: dict) -> None:
    seen = {f["rule_id"] for f in demo_findings["findings"]}
    # the demo is an export and an SDN fabric: rules only for infrastructure code have nothing to read
    exercisable = [rule for rule in demo_findings["rules"] if {"snapshot", "sdn"} & set(rule["sources"])]
    silent = sorted(rule["id"] for rule in exercisable if rule["id"] not in seen)
    assert not silent, f"rules the demo VDC never exercises: {silent}"


def test_every_category_has_failures_on_the_demo(demo_findings: dict) -> None:
    category = {rule["id"]: rule["category"] for rule in demo_findings["rules"]}  # listed once per rule
    fails = Counter(category[f["rule_id"]] for f in demo_findings["findings"] if f["status"] == "FAIL")
    for category in ("at-rest", "in-transit", "key-management"):
        assert fails[category] > 0, f"no FAIL in {category}"


def test_demo_evaluations_do_not_break(demo_findings: dict) -> None:
    errors = [f"{f['rule_id']} {f['resource_name']}: {f['message']}" for f in demo_findings["findings"]
              if f["status"] == "ERROR"]
    assert not errors


@pytest.mark.parametrize(("rule_id", "resource", "status"), [
    ("VDC-PEER-001", "vnet-spoke3", "FAIL"),          # encrypted VNet peered with an unencrypted hub
    ("VDC-AGW-003", "agw-spoke3-portal", "PASS"),     # HTTP listener that only redirects to HTTPS
    ("VDC-AGW-001", "agw-spoke3-legacy", "FAIL"),     # an SSL profile allows TLS 1.0
    ("VDC-APP-002", "app-spoke3-portal", "PASS"),     # value read from the child config/web
    ("VDC-CMK-002", "des-legacy-app", "FAIL"),        # key URL points at a vault without purge protection
    ("VDC-CMK-007", "rsv-spoke5", "FAIL"),            # backup CMK in kv-legacy-app (no purge protection)
    ("VDC-CMK-007", "cosmos-spoke5-orders", "PASS"),  # Cosmos DB keyVaultKeyUri in kv-hub-keys
    ("VDC-CMK-007", "aks-spoke5", "UNKNOWN"),         # its disk encryption set was not exported
    ("VDC-CMK-003", "sql-spoke1-app", "PASS"),        # protector printed flattened by az sql server tde-key show
    ("VDC-LA-003", "law-hub", "PASS"),
])
def test_demo_cross_resource_verdicts(demo_findings: dict, rule_id: str, resource: str, status: str) -> None:
    found = [f for f in demo_findings["findings"] if f["rule_id"] == rule_id and f["resource_name"] == resource]
    assert [f["status"] for f in found] == [status], found
