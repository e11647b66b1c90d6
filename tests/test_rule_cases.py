"""Every rule against its pass / fail / unknown cases (tests/rule_cases/RULE_ID.yaml)."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from vdcaudit.config import Config, KeyOwner, parse_policies
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.ipsec import parse_allowed
from vdcaudit.inventory import Inventory
from vdcaudit.model import Severity
from vdcaudit.rulepack import load_rules

CASES_DIR = Path(__file__).parent / "rule_cases"
RULES = {rule.id: rule for rule in load_rules()}


def _case_files() -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(CASES_DIR.glob("*.yaml"))}


CASE_FILES = _case_files()
CASES = [pytest.param(rule_id, case, id=f"{rule_id}: {case['name']}")
         for rule_id, doc in CASE_FILES.items() for case in doc["cases"]]


def _complete(resource: dict[str, Any], rule_type: str, index: int) -> dict[str, Any]:
    resource = copy.deepcopy(resource)
    name = resource.get("name") or f"case{index}"
    resource.setdefault("type", rule_type)
    resource.setdefault("id", f"/subscriptions/sub-test/resourceGroups/rg-test/providers/{rule_type}/{name}")
    resource.setdefault("name", name)
    return resource


def _config(raw: dict[str, Any] | None) -> Config:
    if not raw:
        return Config()
    owners = raw.get("key_owners")
    return Config(key_owners=None if owners is None else [KeyOwner(o) for o in owners], raw=raw,
                  policies=parse_policies(raw), ipsec_allowed=parse_allowed((raw.get("ipsec") or {}).get("allowed")))


@pytest.mark.parametrize(("rule_id", "case"), CASES)
def test_rule_case(rule_id: str, case: dict[str, Any]) -> None:
    rule = RULES[rule_id]
    target = _complete(case["resource"], rule.resource_type, 0)
    # Rules valid only for other sources (SDN) see resources of their own source.
    source = "snapshot" if "snapshot" in rule.sources else rule.sources[0]
    inventory = Inventory()
    inventory.add(target, source)
    for index, other in enumerate(case.get("related", []), start=1):
        inventory.add(_complete(other, rule.resource_type, index), source)
    context = ScanContext(config=_config(case.get("config")), options=case.get("options", {}))
    if "now" in case:
        context.now = datetime.fromisoformat(str(case["now"]))
    about = case.get("finding_id", target["id"])
    findings = [f for f in run([rule], inventory, context).findings if f.resource_id == about]
    if case["expect"] == "NONE":
        assert findings == [], f"rule should not apply, got {findings}"
        return
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.status.value == case["expect"], finding.message
    if "message_contains" in case:
        assert case["message_contains"] in finding.message


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    missing = []
    for rule_id in RULES:
        expectations = {case["expect"] for case in CASE_FILES.get(rule_id, {}).get("cases", [])}
        if RULES[rule_id].severity is Severity.INFO and "WARN" in expectations:
            expectations.add("FAIL")  # informational rules report WARN, never FAIL
        if not {"PASS", "FAIL"} <= expectations:
            missing.append(f"{rule_id}: has {sorted(expectations) or 'no cases'}")
    assert not missing, "rules without both a PASS and a FAIL case:\n" + "\n".join(missing)


def test_case_files_name_real_rules() -> None:
    assert not set(CASE_FILES) - set(RULES)
    for rule_id, doc in CASE_FILES.items():
        assert doc["rule"] == rule_id
