"""Reading a vdcaudit-findings.json back (baselines, `vdcaudit merge`, history): one reader for
every schema version, so no consumer has to know that schema 2.x lists a rule's title, severity
and category once under `rules` instead of on every finding (1.x)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError
from vdcaudit.jsonfile import read_json

RULE_FIELDS = ("title", "severity", "category")


@dataclass
class FindingsFile:
    path: Path
    document: dict[str, Any]  # the whole document, findings included as written
    findings: list[dict[str, Any]]  # each finding with its rule's title, severity and category
    rules: dict[str, dict[str, Any]]  # the file's rule metadata by lower-case rule id


def _rule_table(rules: Any) -> dict[str, dict[str, Any]]:
    """`rules` as a list of rule metadata (what vdcaudit writes) or an object keyed by rule id;
    rule ids match case-insensitively, as everywhere in vdcaudit."""
    if isinstance(rules, dict):
        return {str(k).lower(): v for k, v in rules.items() if isinstance(v, dict)}
    if isinstance(rules, list):
        return {str(r["id"]).lower(): r for r in rules if isinstance(r, dict) and r.get("id")}
    return {}


def read_findings_file(path: Path) -> FindingsFile:
    document = read_json(path)
    findings = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(findings, list):
        raise InputError("not a vdcaudit findings file: expected the vdcaudit-findings.json of a scan "
                         "(an object with a 'findings' array)", path)
    rules = _rule_table(document.get("rules"))
    full = []
    for index, item in enumerate(findings):
        if not isinstance(item, dict) or not isinstance(item.get("rule_id"), str) \
                or not isinstance(item.get("resource_id"), str):
            raise InputError(f"findings[{index}] has no rule_id/resource_id", path)
        rule = rules.get(item["rule_id"].lower())
        if rule is not None and any(not item.get(name) for name in RULE_FIELDS):  # absent or empty
            item = {**item, **{name: rule.get(name) for name in RULE_FIELDS if not item.get(name)}}
        full.append(item)
    return FindingsFile(path=path, document=document, findings=full, rules=rules)
