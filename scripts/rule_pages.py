"""docs/rules/<RULE_ID>.md: one page per rule for the documentation site, generated from the rule
file and its cases (tests/rule_cases), so a page can never show an example that does not give its
verdict.

    python scripts/rule_pages.py            # rewrite docs/rules/
    python scripts/rule_pages.py --check    # exit 1 when a page is out of date

Each page holds the rule's rationale, what passes and what fails, the documented Azure defaults it
relies on and the Microsoft pages the rule file cites, the Azure Policy definitions it answers, its
framework references and remediation, and, where a case of the rule is a single resource a template
can declare, a minimal ARM template and the same resource in Bicep that PASS and that FAIL. Each
ARM example is judged here, through the template source and the engine, before it is written: a
case whose template would not give the case's verdict is not shown (tests/test_rule_pages.py judges
every committed example again).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vdcaudit.azure_policy import definitions  # noqa: E402
from vdcaudit.collectors.arm_template import load_template  # noqa: E402
from vdcaudit.collectors.azure import generic  # noqa: E402
from vdcaudit.config import POLICY_DEFAULTS  # noqa: E402
from vdcaudit.context import ScanContext  # noqa: E402
from vdcaudit.engine import run  # noqa: E402
from vdcaudit.inventory import Inventory  # noqa: E402
from vdcaudit.rule_docs import cell, default_lines, flat, remediation_lines  # noqa: E402
from vdcaudit.rulepack import Rule, load_rules, selectors  # noqa: E402
from vdcaudit.services import display_name  # noqa: E402

CASES = REPO / "tests" / "rule_cases"
PAGES = REPO / "docs" / "rules"
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
# API versions for the examples, for types collectors/azure/generic.API_VERSIONS does not name:
# stable versions of each provider's REST reference (learn.microsoft.com/rest/api/<service>).
EXAMPLE_API_VERSIONS = {
    "microsoft.cache/redis": "2024-11-01",
    "microsoft.compute/diskencryptionsets": "2024-03-02",
    "microsoft.compute/disks": "2024-03-02",
    "microsoft.compute/snapshots": "2024-03-02",
    "microsoft.compute/images": "2024-07-01",
    "microsoft.compute/virtualmachines": "2024-07-01",
    "microsoft.compute/virtualmachinescalesets": "2024-07-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.network/applicationgateways": "2024-05-01",
    "microsoft.network/connections": "2024-05-01",
    "microsoft.network/virtualnetworkgateways": "2024-05-01",
    "microsoft.network/virtualnetworks": "2024-05-01",
    "microsoft.operationalinsights/clusters": "2022-10-01",
    "microsoft.servicebus/namespaces": "2024-01-01",
    "microsoft.sql/managedinstances": "2021-11-01",
    "microsoft.sql/servers": "2021-11-01",
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.storage/storageaccounts/fileservices": "2023-05-01",
    "microsoft.web/sites": "2024-04-01",
}
# Keys of a case resource that are ARM's output, not something a template declares.
_OUTPUT_KEYS = {"id", "type", "name", "location", "subscriptionId", "resourceGroup", "systemData", "etag"}
_URL = re.compile(r"https://learn\.microsoft\.com/[^\s)\"'>,]+")


def api_version(resource_type: str) -> str | None:
    key = resource_type.lower()
    return EXAMPLE_API_VERSIONS.get(key) or generic.API_VERSIONS.get(key)


def _name(case_resource: dict[str, Any], resource_type: str, index: int) -> str:
    """The template name of a case's resource: its id's names after the provider type (a child's
    name is "parent/child"), else its name, else one made up."""
    resource_id = str(case_resource.get("id") or "")
    segments = resource_type.split("/")[1:]
    parts = resource_id.split("/providers/", 1)[-1].split("/")[1:] if "/providers/" in resource_id else []
    names = parts[1::2][: len(segments)]
    if len(names) == len(segments) and all(names):
        return "/".join(names)
    leaf = str(case_resource.get("name") or f"example{index}")
    return "/".join(["parent"] * (len(segments) - 1) + [leaf.split("/")[-1]])


def template_of(rule: Rule, case: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A minimal template declaring the case's one resource, or None when the case cannot be one
    (it needs other resources, settings, child data or a clock)."""
    if any(key in case for key in ("related", "config", "finding_id")) or set(case.get("options") or {}) - {"as_of"}:
        return None
    resource = case["resource"]
    if "x_vdcaudit" in resource:
        return None
    resource_type = str(resource.get("type") or rule.resource_type)
    version = api_version(resource_type)
    if version is None:
        return None
    declared: dict[str, Any] = {"type": resource_type, "apiVersion": version,
                                "name": _name(resource, resource_type, index), "location": "westeurope"}
    declared.update({k: v for k, v in resource.items() if k not in _OUTPUT_KEYS})
    declared.setdefault("properties", {})
    return {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "resources": [declared]}


def as_of(case: dict[str, Any]) -> date | None:
    """The day a case is judged on (its clock or its --as-of), for rules whose verdict depends on
    the date the evidence describes (platform floors); None: today."""
    if (case.get("options") or {}).get("as_of"):
        return date.fromisoformat(str(case["options"]["as_of"]))
    return datetime.fromisoformat(str(case["now"])).date() if case.get("now") else None


def judge(rule: Rule, template: dict[str, Any], day: date | None = None) -> str | None:
    """The verdict the rule gives the template's resource, through the template source, as
    `vdcaudit scan --template FILE [--as-of DAY]` would give it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "example.json"
        path.write_text(json.dumps(template), encoding="utf-8")
        inventory = Inventory()
        load_template(path, inventory)
        findings = run([rule], inventory, ScanContext(options={"as_of": day})).findings
    declared = template["resources"][0]
    name = declared["name"].split("/")[-1].lower()
    mine = [f for f in findings if f.rule_id == rule.id and f.resource_name.split("/")[-1].lower() == name]
    return mine[0].status.value if len(mine) == 1 else None


def examples(rule: Rule) -> dict[str, dict[str, Any]]:
    """The first case of each verdict (PASS, FAIL; WARN for informational rules) whose template
    gives that verdict."""
    path = CASES / f"{rule.id}.yaml"
    if "template" not in rule.sources or not path.is_file():
        return {}
    wanted = ("PASS", "FAIL", "WARN")
    chosen: dict[str, dict[str, Any]] = {}
    for index, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]):
        verdict = case["expect"]
        if verdict not in wanted or verdict in chosen:
            continue
        template = template_of(rule, case, index)
        if template is not None and judge(rule, template, as_of(case)) == verdict:
            chosen[verdict] = {"case": case["name"], "template": template, "as_of": as_of(case)}
    return chosen


def _bicep_value(value: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = [f"{pad}  {_bicep_key(k)}: {_bicep_value(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "\n".join(f"{pad}  {_bicep_value(v, indent + 1)}" for v in value) + f"\n{pad}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _bicep_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else _bicep_value(key, 0)


def bicep_of(template: dict[str, Any]) -> str:
    declared = dict(template["resources"][0])
    header = f"resource example '{declared.pop('type')}@{declared.pop('apiVersion')}' = "
    return header + _bicep_value(declared, 0)


def _sources(rule: Rule) -> list[str]:
    """The Microsoft Learn pages the rule file cites (its comments), in order, once each."""
    seen: dict[str, None] = {}
    for url in _URL.findall(Path(rule.file).read_text(encoding="utf-8")):
        seen.setdefault(url.rstrip(".:;"), None)
    return list(seen)


def render(rule: Rule, chosen: dict[str, dict[str, Any]], answered: list[Any]) -> str:
    lines = [f"# {rule.id}: {flat(rule.title)}", "",
             "<!-- Generated by `python scripts/rule_pages.py` from the rule file and its cases; do not edit. -->", "",
             "| | |", "|---|---|",
             f"| Severity | {rule.severity.value} |", f"| Category | {rule.category.value} |",
             f"| Service | {display_name(rule.service)} (`{rule.service}`) |",
             f"| Resource type | `{rule.resource_type}`{''.join(f', `{t}`' for t in rule.also_applies_to)} |",
             f"| Sources | {', '.join(rule.sources)} |", f"| Version | {rule.version} |", "",
             "## Why", "", flat(rule.rationale), "", "## What passes and what fails", ""]
    if rule.required_by:
        default = "required" if POLICY_DEFAULTS[rule.required_by] else "not required"
        lines += [f"Applies as a requirement only where `{rule.required_by}` in vdcaudit.yaml holds for `{rule.service}` "
                  f"(default: {default}); elsewhere its resources PASS and the finding says so.", ""]
    for name in rule.selectors:
        lines += [f"- Applies to: {flat(selectors()[name]['description'])} (selector `{name}`)"]
    if rule.where_text:
        lines += [f"- Applies where: `{flat(rule.where_text)}`"]
    if rule.assert_text:
        lines += [f"- Passes when: `{flat(rule.assert_text)}`"]
    if rule.check:
        lines += [f"- Judged by the Python check `{rule.check}`" +
                  (f", which also reads {', '.join(f'`{t}`' for t in rule.reads)}" if rule.reads else "")]
    lines += [f"- Otherwise: {rule.fail_status.value} — {flat(rule.fail_message or rule.title)}",
              "- Data the rule needs that is absent or unreadable: UNKNOWN, naming what is missing", ""]
    defaults = default_lines(rule)
    sources = _sources(rule)
    if defaults or sources:
        lines += ["## Documented defaults and sources", ""]
        lines += defaults + ([""] if defaults else [])
        lines += [f"- <{url}>" for url in sources] + ([""] if sources else [])
    lines += ["## Azure Policy", ""]
    if answered:
        for definition in answered:
            differs = definition.differs.get(rule.id)
            lines.append(f"- {definition.title} (`{definition.id}`)" + (f" — differs: {flat(differs)}" if differs else ""))
    else:
        lines.append("No built-in Azure Policy definition judges this control (see [the table](../azure-policy.md)).")
    lines += ["", "## References", "", f"- Baseline: {flat(rule.references.get('baseline', '–'))}"]
    lines += [f"- {name}: {', '.join(map(str, controls))}" for name, controls in rule.frameworks().items()]
    lines += [f"- <{link}>" for link in rule.references.get("docs", [])]
    lines += ["", "## Remediation", "", flat(rule.remediation["summary"]), ""]
    lines += remediation_lines(rule)
    lines += ["", "## Examples", ""]
    if not chosen:
        lines += ["No single-resource template example: " + (
            "the rule judges on-premises SDN data." if "template" not in rule.sources else
            "the rule needs other resources, settings or child data that a one-resource example cannot show; "
            "see its cases in `tests/rule_cases/" + rule.id + ".yaml`."), ""]
    for verdict, example in chosen.items():
        day = f" (judged as of {example['as_of']}: `--as-of {example['as_of']}`)" if example["as_of"] else ""
        lines += [f"### {verdict}: {flat(example['case'])}{day}", "", "ARM template:", "", "```json",
                  json.dumps(example["template"], indent=2), "```", "", "Bicep:", "", "```bicep",
                  bicep_of(example["template"]), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[str, str]:
    rules = load_rules()
    by_rule: dict[str, list[Any]] = {}
    for definition in definitions(rules):
        for rule in definition.rules:
            by_rule.setdefault(rule.id, []).append(definition)
    out = {f"{rule.id}.md": render(rule, examples(rule), by_rule.get(rule.id, [])) for rule in rules}
    out["index.md"] = index(rules)
    return out


def index(rules: list[Rule]) -> str:
    lines = ["# Rules", "", "<!-- Generated by `python scripts/rule_pages.py`; do not edit. -->", "",
             f"{len(rules)} rules, one page each. The one-page reference is [rules.md](../rules.md).", "",
             "| rule | severity | category | resource type | title |", "|---|---|---|---|---|"]
    lines += [f"| [{r.id}]({r.id}.md) | {r.severity.value} | {r.category.value} | `{r.resource_type}` | "
              f"{cell(r.title)} |" for r in rules]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Write docs/rules/<RULE_ID>.md for every rule.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a page differs")
    args = parser.parse_args()
    wanted = pages()
    present = {p.name for p in PAGES.glob("*.md")} if PAGES.is_dir() else set()
    stale = sorted(name for name, text in wanted.items()
                   if not (PAGES / name).is_file() or (PAGES / name).read_text(encoding="utf-8") != text)
    extra = sorted(present - set(wanted))
    if args.check:
        for name in stale + extra:
            print(f"out of date: docs/rules/{name}")
        return 1 if stale or extra else 0
    PAGES.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (PAGES / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (PAGES / name).unlink()
    print(f"{len(wanted)} pages in docs/rules ({len(stale)} written, {len(extra)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
