"""Reading a vdcaudit-findings.json back (baselines, `vdcaudit merge`, history): one reader for
every schema version, so no consumer has to know how a version stores what findings share.

Every finding comes back flat, in the 2.x field names: its rule's title, severity and category
(listed once under `rules` since 2.0) and its resource's id, name, type, subscription, resource
group, source and location (listed once under `resources` since 3.0, found by the finding's
`resource` index), its message where 3.x leaves out the rule's own (`rules[].messages`), and
`waiver` null where 3.x leaves it out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema

from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import read_json
from vdcaudit.resources import schema_path

RULE_FIELDS = ("title", "severity", "category")
# schema 3.x resource entry key -> the flat finding field it restores
RESOURCE_FIELDS = {"id": "resource_id", "name": "resource_name", "type": "resource_type",
                   "subscription": "subscription", "resource_group": "resource_group", "source": "source",
                   "location": "location"}
NEWEST_MAJOR = 3


@dataclass
class FindingsFile:
    path: Path
    document: dict[str, Any]  # the whole document, findings included as written
    findings: list[dict[str, Any]]  # each finding flat: its rule's and its resource's fields included
    rules: dict[str, dict[str, Any]]  # the file's rule metadata by lower-case rule id


def _rule_table(rules: Any) -> dict[str, dict[str, Any]]:
    """`rules` as a list of rule metadata (what vdcaudit writes) or an object keyed by rule id;
    rule ids match case-insensitively, as everywhere in vdcaudit."""
    if isinstance(rules, dict):
        return {str(k).lower(): v for k, v in rules.items() if isinstance(v, dict)}
    if isinstance(rules, list):
        return {str(r["id"]).lower(): r for r in rules if isinstance(r, dict) and r.get("id")}
    return {}


def _major(document: dict[str, Any], path: Path) -> int:
    version = str(document.get("schema_version") or "1.0")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise InputError(f"schema_version {version!r} is not a version number", path) from None
    if major > NEWEST_MAJOR:
        raise InputError(f"schema version {version} is newer than this vdcaudit reads (1.x to {NEWEST_MAJOR}.x): "
                         "read it with the vdcaudit version that wrote it, or a newer one", path)
    return major


def _resource_table(document: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    resources = document.get("resources")
    if not isinstance(resources, list):
        raise InputError("schema 3.x findings file without a 'resources' array", path)
    table = []
    for index, entry in enumerate(resources):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InputError(f"resources[{index}] is not a resource entry with an id", path)
        table.append({field: entry.get(key) for key, field in RESOURCE_FIELDS.items()})
    return table


SCHEMA = "vdcaudit-findings.schema.json"  # the published contract (vdcaudit/schemas)


@lru_cache(maxsize=1)
def _schema_check() -> Callable[[Any], Any]:
    """The published schema compiled to Python code (fastjsonschema): a shard of 100,000 findings is
    checked about 8x faster than by the jsonschema validator that checks the small files."""
    return fastjsonschema.compile(json.loads(schema_path(SCHEMA).read_text(encoding="utf-8")))


def check_schema(document: Any, path: Path) -> None:
    """The document matches the published findings schema, else one InputError naming the field.
    (The message never quotes the value: only the field's path, escaped, and what it must be.)"""
    try:
        _schema_check()(document)
    except fastjsonschema.JsonSchemaValueException as error:
        name = str(error.name)
        field = name[len("data"):].lstrip(".") or "(the document)"
        field = field if field.isprintable() else ascii(field)
        must = str(error.message).replace(name, "", 1).strip()
        if error.rule == "pattern" and isinstance(error.definition, dict) and "description" in error.definition:
            must = f"must be an {error.definition['description']}"  # not the regular expression
        raise InputError(f"does not match {SCHEMA}: field {field}: {must[:200]}", path) from None


def read_findings_file(path: Path, validate: bool = False) -> FindingsFile:
    """validate: check the document against the published schema before reading anything of it
    (vdcaudit merge: a shard is input from another job, not vdcaudit's own output)."""
    document = read_json(path)
    if validate:
        check_schema(document, path)
    findings = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(findings, list):
        raise InputError("not a vdcaudit findings file: expected the vdcaudit-findings.json of a scan "
                         "(an object with a 'findings' array)", path)
    resources = _resource_table(document, path) if _major(document, path) >= 3 else None
    rules = _rule_table(document.get("rules"))
    full = []
    for index, item in enumerate(findings):
        if not isinstance(item, dict) or not isinstance(item.get("rule_id"), str):
            raise InputError(f"findings[{index}] has no rule_id", path)
        if resources is not None:
            ref = item.get("resource")
            if not isinstance(ref, int) or isinstance(ref, bool) or not 0 <= ref < len(resources):
                raise InputError(f"findings[{index}] names no entry of 'resources' (resource: {ref!r})", path)
            item = {"waiver": None, **item, **resources[ref]}
            del item["resource"]
        elif not isinstance(item.get("resource_id"), str):
            raise InputError(f"findings[{index}] has no resource_id", path)
        rule = rules.get(item["rule_id"].lower())
        if rule is not None and any(not item.get(name) for name in RULE_FIELDS):  # absent or empty
            item = {**item, **{name: rule.get(name) for name in RULE_FIELDS if not item.get(name)}}
        if "message" not in item:  # 3.x: the rule's own message for the status
            message = ((rule or {}).get("messages") or {}).get(item.get("status"))
            if not isinstance(message, str):
                raise InputError(f"findings[{index}] has no message, and its rule lists none for "
                                 f"status {item.get('status')!r}", path)
            item["message"] = message
        full.append(item)
    return FindingsFile(path=path, document=document, findings=full, rules=rules)
