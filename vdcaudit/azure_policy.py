"""Azure Policy's built-in definitions on encryption and key management, and what vdcaudit makes
of each: answered by rules (their references.azure-policy), excluded from the model with a reason,
screened out of the scope with a reason, or not yet covered.

The catalog (policies/azure-policy-catalog.yaml, rebuilt by scripts/azure_policy_catalog.py from
the public Azure/azure-policy repository) holds the definitions and the decisions; the rule files
hold the mapping. The two are joined here, once, for `rules list --policy` and the docs table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import read_text
from vdcaudit.resources import data_path
from vdcaudit.rulepack import Rule
from vdcaudit.io.yamlfile import load_yaml

COVERED, EXCLUDED, SCREENED, NOT_YET = "covered", "excluded", "screened", "not yet covered"


@dataclass
class Definition:
    id: str
    title: str
    category: str
    status: str = NOT_YET
    reason: str = ""  # why it is excluded or screened
    rules: list[Rule] = field(default_factory=list)
    differs: dict[str, str] = field(default_factory=dict)  # rule id -> where the rule's verdict differs

    @property
    def in_scope(self) -> bool:
        return self.status != SCREENED


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    path = data_path("policies") / "azure-policy-catalog.yaml"
    document = load_yaml(read_text(path), path)
    if not isinstance(document, dict) or not isinstance(document.get("definitions"), list):
        raise InputError("the Azure Policy catalog has no 'definitions' list", path)
    return document


def catalog_source() -> dict[str, str]:
    """Which snapshot of Azure/azure-policy the catalog was made from."""
    return {k: str(v) for k, v in (_catalog().get("source") or {}).items()}


def definitions(rules: list[Rule]) -> list[Definition]:
    """Every catalogued definition with its status, joined with the rules that answer it. A rule
    that names a definition the catalog does not hold, or one the catalog excludes or screens out,
    is an error: the mapping and the decisions must agree."""
    found: dict[str, Definition] = {}
    for entry in _catalog()["definitions"]:
        definition = Definition(str(entry["id"]).lower(), str(entry.get("title", "")), str(entry.get("category", "")))
        for status, key in ((EXCLUDED, "excluded"), (SCREENED, "screened")):
            if key in entry:
                definition.status, definition.reason = status, str(entry[key])
        found[definition.id] = definition
    for rule in rules:
        for reference in rule.azure_policies:
            answered = found.get(reference["id"].lower())
            if answered is None:
                raise InputError(f"{rule.id} answers Azure Policy definition {reference['id']}, which the catalog "
                                 "does not list", rule.file)
            if answered.status in (EXCLUDED, SCREENED):
                raise InputError(f"{rule.id} answers Azure Policy definition {reference['id']}, which the catalog "
                                 f"marks {answered.status}", rule.file)
            answered.rules.append(rule)
            if reference.get("differs"):
                answered.differs[rule.id] = reference["differs"]
    for definition in found.values():
        if definition.rules:
            definition.status = COVERED
    return list(found.values())


def counts(found: list[Definition]) -> dict[str, int]:
    in_scope = [d for d in found if d.in_scope]
    return {"candidates": len(found), "screened": len(found) - len(in_scope), "in scope": len(in_scope),
            COVERED: sum(d.status == COVERED for d in in_scope), EXCLUDED: sum(d.status == EXCLUDED for d in in_scope),
            NOT_YET: sum(d.status == NOT_YET for d in in_scope)}
