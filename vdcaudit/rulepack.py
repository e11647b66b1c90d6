"""Load rule files (YAML), validate them against the shipped JSON Schema, compile their JMESPath.

A rule that is invalid in any way is rejected here, at load, with its file and line, so evaluation
never meets a broken expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from vdcaudit import jmes
from vdcaudit.errors import InputError
from vdcaudit.floors import Floor, table as floor_table
from vdcaudit.io.jsonfile import read_text
from vdcaudit.model import Category, Severity, Status
from vdcaudit.resources import data_path, schema_validator
from vdcaudit.services import service_of
from vdcaudit.io.yamlfile import load_yaml

AZURE_SOURCES = ("azure", "snapshot", "template", "terraform")


@dataclass
class ConditionalDefault:
    """Documented defaults that hold only where `when` (JMESPath on the resource as printed) is truthy."""
    when_text: str
    because: str
    values: dict[str, Any]
    when: ParsedResult


@dataclass
class Rule:
    id: str
    version: int  # raised when what the rule judges changes (history tells a changed rule from a new FAIL)
    title: str
    severity: Severity
    category: Category
    resource_type: str
    rationale: str
    remediation: dict[str, str]
    references: dict[str, Any]
    sources: tuple[str, ...]
    file: str
    evidence: list[str] = field(default_factory=list)
    absent_default: dict[str, Any] = field(default_factory=dict)
    # path -> [(first API version it applies from, or "" for every older one; value)], newest first
    absent_default_by_api_version: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    # "created": only a template's declared apiVersion picks the default; "response": the version the
    # resource was read with (x_vdcaudit.apiVersion) counts too
    absent_default_api_basis: str = "created"
    # defaults that hold only for some resources, in the rule's order: the first that holds applies
    absent_default_when: list[ConditionalDefault] = field(default_factory=list)
    also_applies_to: tuple[str, ...] = ()  # further types judged by the rule (web app slots, say)
    fail_status: Status = Status.FAIL  # WARN for postures worth a note, not a defect
    fail_message: str | None = None
    where_text: str | None = None  # the rule's own condition; `where` also holds its selectors'
    selectors: tuple[str, ...] = ()  # named shared conditions (rules/_selectors.yaml)
    condition_text: str | None = None  # what `where` evaluates: the selectors' conditions and where_text
    assert_text: str | None = None
    check: str | None = None  # name of a Python check, for rules that span resources
    reads: tuple[str, ...] = ()  # other resource types the check reads
    service: str = ""  # e.g. "cosmos-db" (vdcaudit/services.py)
    required_by: str | None = None  # the vdcaudit.yaml policy that decides whether the rule applies
    # a row of the platform floor table (vdcaudit.floors) and the configured value it bounds
    platform_floor: Floor | None = None
    floor_value: ParsedResult | None = None
    floor_value_text: str | None = None
    where: ParsedResult | None = None
    assertion: ParsedResult | None = None
    requirements: list[jmes.Requirement] = field(default_factory=list)
    where_paths: list[str] = field(default_factory=list)  # what `where` reads, to tell "unknowable" apart
    assert_paths: list[str] = field(default_factory=list)  # what `assert` reads (whatever `requires` says)
    evidence_expressions: dict[str, ParsedResult] = field(default_factory=dict)

    @property
    def resource_types(self) -> tuple[str, ...]:
        """Every type the rule judges: its own and those it also applies to."""
        return (self.resource_type, *self.also_applies_to)

    @cached_property
    def messages(self) -> dict[str, str]:
        """The message of a JMESPath rule's verdict, by status, when nothing more is to be said (no
        default filled in): listed once under the rule in the findings file, so findings that say
        just this leave it out."""
        return {Status.PASS.value: f"Compliant: {self.title}",
                self.fail_status.value: self.fail_message or f"Not compliant: {self.title}"}

    def frameworks(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.references.items()
                if isinstance(v, list) and k not in ("docs", "azure-policy")}

    @property
    def azure_policies(self) -> list[dict[str, str]]:
        """The Azure Policy built-in definitions the rule answers: {id, title, differs?}."""
        return list(self.references.get("azure-policy") or [])

    def metadata(self) -> dict[str, Any]:
        """What reports show about the rule (no compiled objects)."""
        return {
            "id": self.id, "version": self.version, "title": self.title, "severity": self.severity.value,
            "category": self.category.value, "resource_type": self.resource_type, "service": self.service,
            "rationale": self.rationale, "remediation": self.remediation,
            "references": self.references, "sources": list(self.sources),
            "kind": "check" if self.check else "jmespath",
            **({"selectors": list(self.selectors)} if self.selectors else {}),
            **({"where": self.where_text} if self.where_text else {}),
            **({"assert": self.assert_text} if self.assert_text else {}),
            **({"check": self.check} if self.check else {}),
            **({"reads": list(self.reads)} if self.reads else {}),
            **({"required_by": self.required_by} if self.required_by else {}),
            **({"absent_default": self.absent_default} if self.absent_default else {}),
            **({"absent_default_by_api_version": {
                path: [{"since": since or None, "value": value} for since, value in entries]
                for path, entries in self.absent_default_by_api_version.items()}}
               if self.absent_default_by_api_version else {}),
            **({"absent_default_api_basis": self.absent_default_api_basis}
               if self.absent_default_api_basis != "created" else {}),
            **({"absent_default_when": [{"when": c.when_text, "because": c.because, "values": c.values}
                                        for c in self.absent_default_when]}
               if self.absent_default_when else {}),
            **({"also_applies_to": list(self.also_applies_to)} if self.also_applies_to else {}),
            **({"platform_floor": {"id": self.platform_floor.id, "value": self.floor_value_text,
                                   "floor": self.platform_floor.floor, "since": self.platform_floor.since.isoformat(),
                                   "source": self.platform_floor.source}} if self.platform_floor else {}),
            **({"fail_status": self.fail_status.value} if self.fail_status is not Status.FAIL else {}),
            "messages": dict(self.messages),
        }


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of each top-level key, for error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


class _KeyLines:
    """_key_lines, parsed only when an error message needs a line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: dict[str, int] | None = None

    def get(self, key: str, default: int | None = None) -> int | None:
        if self._lines is None:
            self._lines = _key_lines(self.text)
        return self._lines.get(key, default)


def growth_warnings(rule: Rule) -> list[str]:
    """For `rules validate`: the rule's expressions that can grow their data (vdcaudit.jmes)."""
    expressions = {"where": rule.where, "assert": rule.assertion,
                   **{f"evidence {key}": value for key, value in rule.evidence_expressions.items()},
                   **{f"absent_default_when[{i}]": c.when for i, c in enumerate(rule.absent_default_when)}}
    return [f"{key}: {warning}" for key, expression in expressions.items() if expression is not None
            for warning in jmes.growth_warnings(expression)]


def load_rule_file(path: Path) -> Rule:
    text = read_text(path)
    data = load_yaml(text, path)
    lines = _KeyLines(text)
    if not isinstance(data, dict):
        raise InputError("a rule file must be a YAML mapping", path, 1)
    errors = sorted(schema_validator("rule.schema.json").iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        top = str(error.absolute_path[0]) if error.absolute_path else None
        where = ".".join(str(p) for p in error.absolute_path) or "rule"
        raise InputError(f"{where}: {_schema_message(error)}", path, lines.get(top or "", 1))

    def compile_at(key: str, text_: str) -> ParsedResult:
        try:
            return jmes.compile_expression(text_)
        except JMESPathError as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"invalid JMESPath in '{key}': {first}", path, lines.get(key)) from None

    rule = Rule(
        id=data["id"], version=data["version"], title=data["title"], severity=Severity(data["severity"]),
        category=Category(data["category"]), resource_type=data["resource_type"],
        rationale=data["rationale"].strip(), remediation=data["remediation"],
        references=data["references"],
        sources=tuple(data.get("sources") or (("sdn",) if data["resource_type"].lower().startswith("microsoft.sdn/") else AZURE_SOURCES)),
        file=str(path), evidence=list(data.get("evidence", [])),
        absent_default=dict(data.get("absent_default", {})), fail_message=data.get("fail_message"),
        where_text=data.get("where"), selectors=tuple(data.get("selectors", ())),
        assert_text=data.get("assert"), check=data.get("check"),
        reads=tuple(data.get("reads", ())),
        also_applies_to=tuple(data.get("also_applies_to", ())),
        fail_status=Status(data.get("fail_status", "FAIL")),
        absent_default_by_api_version={
            path: sorted(((entry["since"] or "", entry["value"]) for entry in entries), reverse=True)
            for path, entries in (data.get("absent_default_by_api_version") or {}).items()},
        service=data.get("service") or service_of(data["resource_type"]), required_by=data.get("required_by"),
        absent_default_api_basis=data.get("absent_default_api_basis", "created"),
    )
    clash = set(rule.absent_default) & set(rule.absent_default_by_api_version)
    if clash:
        raise InputError(f"{', '.join(sorted(clash))} has both absent_default and absent_default_by_api_version",
                         path, lines.get("absent_default_by_api_version"))
    for default_path, entries in rule.absent_default_by_api_version.items():
        if sum(1 for since, _ in entries if not since) > 1 or len({since for since, _ in entries}) < len(entries):
            raise InputError(f"absent_default_by_api_version.{default_path}: each API version may appear once",
                             path, lines.get("absent_default_by_api_version"))
    rule.absent_default_when = [
        ConditionalDefault(entry["when"], entry["because"].strip(), dict(entry["values"]),
                           compile_at("absent_default_when", entry["when"]))
        for entry in data.get("absent_default_when") or []]
    # A path may have both a by-version default (the API version decides, where the data says it)
    # and case-by-case ones (for data without a version); never also a plain default.
    clash = set(rule.absent_default) & {p for c in rule.absent_default_when for p in c.values}
    if clash:
        raise InputError(f"{', '.join(sorted(clash))} has a default both in absent_default_when and absent_default",
                         path, lines.get("absent_default_when"))
    if "platform_floor" in data:
        wanted = data["platform_floor"]
        floor = floor_table().get(wanted["id"])
        if floor is None:
            raise InputError(f"platform_floor: no floor {wanted['id']} in the platform floor table",
                             path, lines.get("platform_floor"))
        outside = [t for t in rule.resource_types if t.lower() not in {a.lower() for a in floor.applies_to}]
        if outside:
            raise InputError(f"platform_floor: {floor.id} does not apply to {', '.join(outside)}",
                             path, lines.get("platform_floor"))
        if rule.assert_text and not wanted.get("value"):
            raise InputError("platform_floor: an assert rule names the configured value (`value:`)",
                             path, lines.get("platform_floor"))
        rule.platform_floor, rule.floor_value_text = floor, wanted.get("value")
        if rule.floor_value_text:
            rule.floor_value = compile_at("platform_floor", rule.floor_value_text)
    conditions = [selector_condition(name, path, lines.get("selectors")) for name in rule.selectors]
    conditions += [rule.where_text] if rule.where_text else []
    if conditions:
        rule.condition_text = " && ".join(f"({condition})" for condition in conditions) \
            if len(conditions) > 1 else conditions[0]
        rule.where = compile_at("selectors" if rule.selectors else "where", rule.condition_text)
        rule.where_paths = [p for req in jmes.required_paths(rule.where) for p in req.alternatives]
    if rule.assert_text:
        rule.assertion = compile_at("assert", rule.assert_text)
        rule.assert_paths = [p for req in jmes.required_paths(rule.assertion) for p in req.alternatives]
        if "requires" in data:
            rule.requirements = [jmes.Requirement((p,)) for p in data["requires"]]
            for p in data["requires"]:
                compile_at("requires", p)
        else:
            rule.requirements = jmes.required_paths(rule.assertion)
    for item in rule.evidence:
        rule.evidence_expressions[item] = compile_at("evidence", item)
    if rule.check:
        from vdcaudit.checks import CHECKS  # imported here: checks import this module

        if rule.check not in CHECKS:
            raise InputError(f"check '{rule.check}' is not a registered Python check", path, lines.get("check"))
    if path.stem != rule.id:
        raise InputError(f"file name must be the rule id ({rule.id}.yaml)", path, lines.get("id"))
    return rule


# A presence test against null (`x != null`, `x == null`) takes "" for a value. For properties that
# hold strings - ids, URIs, names, versions, keys - an empty string names nothing (Azure Policy's
# built-in definitions test such values by length), so the test must be `length(x || '') > `0``.
_NULL_TEST = re.compile(r"([A-Za-z_@][\w.@\[\]\"]*)\s*(!=|==)\s*(`null`|null\b)")
_STRING_NAME = re.compile(r"(id|uri|url|name|version|key|identifier|thumbprint|secret|hostname)\"?$", re.IGNORECASE)


def lint(rule: Rule) -> list[str]:
    """Expressions that are valid but judge wrongly: null tests on string properties, which accept ""."""
    problems = []
    for key, text in (("where", rule.where_text), ("assert", rule.assert_text)):
        for match in _NULL_TEST.finditer(text or ""):
            path = match.group(1)
            if _STRING_NAME.search(path):
                problems.append(f"{key}: `{match.group(0)}` takes an empty string for a value; test "
                                f"`length({path} || '') {'>' if match.group(2) == '!=' else '=='} `0`` instead")
    return problems


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and not error.absolute_path:
        return "needs either 'assert' (JMESPath) or 'check' (a Python check), and not both"
    return error.message


SELECTORS_FILE = "_selectors.yaml"


@lru_cache(maxsize=1)
def selectors() -> dict[str, dict[str, str]]:
    """The named conditions rules share (rules/_selectors.yaml): name -> {description, where}."""
    path = data_path("rules") / SELECTORS_FILE
    document = load_yaml(read_text(path), path)
    valid = isinstance(document, dict) and all(
        isinstance(entry, dict) and isinstance(entry.get("where"), str) and isinstance(entry.get("description"), str)
        for entry in document.values())
    if not valid:
        raise InputError("every selector needs a 'description' and a 'where' (JMESPath)", path)
    return document


def selector_condition(name: str, rule_path: Path, line: int | None) -> str:
    known = selectors()
    if name not in known:
        raise InputError(f"unknown selector '{name}' (defined: {', '.join(sorted(known))})", rule_path, line)
    return known[name]["where"]


def rule_files(directory: Path) -> list[Path]:
    """Rule files: *.yaml / *.yml, except those whose name starts with "_" (shared definitions)."""
    return sorted(p for p in directory.rglob("*.y*ml") if p.suffix in (".yaml", ".yml") and not p.name.startswith("_"))


# Rule files parsed in this process, by (path, mtime, size): a scan reads the pack more than once
# (the live source asks which types the rules read), and parsing it takes most of a second.
_PARSED: dict[tuple[str, int, int], Rule] = {}


def _load_unchanged(path: Path) -> Rule:
    try:
        stat = path.stat()
    except OSError:
        return load_rule_file(path)  # let the reader report it
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        _PARSED[key] = load_rule_file(path)
    return _PARSED[key]


def load_rules(directories: list[Path] | None = None, include_builtin: bool = True) -> list[Rule]:
    """All rules from the built-in pack plus any extra directories; duplicate ids are an error."""
    dirs = ([data_path("rules")] if include_builtin else []) + list(directories or [])
    rules: dict[str, Rule] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise InputError("rule directory does not exist", directory)
        for path in rule_files(directory):
            rule = _load_unchanged(path)
            if rule.id in rules:
                raise InputError(f"duplicate rule id {rule.id} (also in {rules[rule.id].file})", path)
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)
