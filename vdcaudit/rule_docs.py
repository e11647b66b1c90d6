"""docs/rules.md, generated from the rule files: one table per category, then a section per rule.

The output depends only on the rules (no dates, no paths), so a test can regenerate it and compare
with the committed file to catch a rule change that was not followed by `vdcaudit rules docs`.
"""

from __future__ import annotations

from pathlib import Path

import click

from vdcaudit.io.atomic import write_atomically
from vdcaudit.config import POLICY_DEFAULTS
from vdcaudit.model import CATEGORY_ORDER
from vdcaudit.rulepack import Rule, load_rules, selectors
from vdcaudit.services import display_name

FRAMEWORKS = (("mcsb", "MCSB"), ("cis", "CIS Azure"), ("nist-800-53", "NIST SP 800-53"))
REMEDIATION_LABELS = (("portal", "Portal"), ("az", "Azure CLI"), ("powershell", "PowerShell"), ("bicep", "Bicep / ARM"))


def flat(text: object) -> str:
    """One line: folded YAML and multi-line JMESPath become single spaces (a value YAML read as
    another type, a case named `on` say, as its text)."""
    return " ".join(str(text).split())


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return flat(text).replace("|", "\\|")


def _code(text: str) -> str:
    """An inline code span that survives backticks in the text (JMESPath literals use them)."""
    text = flat(text)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _anchor(rule: Rule) -> str:
    return rule.id.lower()


def _controls(rule: Rule, key: str) -> str:
    return ", ".join(rule.frameworks().get(key, [])) or "–"


def default_lines(rule: Rule) -> list[str]:
    """The documented Azure defaults the rule gives absent values, one Markdown bullet each (the
    rule reference and the rule pages both print them this way)."""
    lines = [f"- Documented Azure default when `{path}` is absent: {_code(str(value))}"
             for path, value in rule.absent_default.items()]
    for path, entries in rule.absent_default_by_api_version.items():
        versions = "; ".join(f"{_code(str(value))} from API version {since}" if since else f"{_code(str(value))} before"
                             for since, value in entries)
        which = ("that created the resource" if rule.absent_default_api_basis == "created"
                 else "the resource was read or declared with")
        lines.append(f"- Documented Azure default when `{path}` is absent, by the API version {which}: "
                     f"{versions} (no apiVersion in the data: UNKNOWN)")
    for case in rule.absent_default_when:
        values = ", ".join(f"`{path}` {_code(str(value))}" for path, value in case.values.items())
        lines.append(f"- Documented Azure default when absent, where {_code(case.when_text)} ({flat(case.because)}): {values}")
    if rule.absent_default_when:
        lines.append("- Where none of those conditions holds, an absent value has no documented default: UNKNOWN")
    return lines


def requirement_text(rule: Rule) -> str:
    """For a rule with `required_by`: where it applies as a requirement (both documents say it so)."""
    default = "required" if POLICY_DEFAULTS[str(rule.required_by)] else "not required"
    return (f"Applies as a requirement only where `{rule.required_by}` in vdcaudit.yaml is true for "
            f"`{rule.service}` (default: {default}); elsewhere its resources PASS, saying so")


def remediation_lines(rule: Rule) -> list[str]:
    """The remediation's ways (portal, az, PowerShell, Bicep), one Markdown bullet each."""
    return [f"- {label}: {flat(rule.remediation[key]) if key == 'portal' else _code(rule.remediation[key])}"
            for key, label in REMEDIATION_LABELS if rule.remediation.get(key)]


def _summary_table(rules: list[Rule]) -> list[str]:
    lines = ["| id | severity | resource type | title | MCSB | NIST SP 800-53 |", "|---|---|---|---|---|---|"]
    for rule in rules:
        lines.append(f"| [{rule.id}](#{_anchor(rule)}) | {rule.severity.value} | `{rule.resource_type}` | "
                     f"{cell(rule.title)} | {_controls(rule, 'mcsb')} | {_controls(rule, 'nist-800-53')} |")
    return lines


def _rule_section(rule: Rule) -> list[str]:
    lines = [f"### {rule.id}", "", f"**{rule.title}**", "",
             f"- Version: {rule.version}",
             f"- Severity: {rule.severity.value}; category: {rule.category.value}",
             f"- Service: {display_name(rule.service)} (`{rule.service}`)",
             f"- Resource type: `{rule.resource_type}`; sources: {', '.join(rule.sources)}"]
    if rule.also_applies_to:
        lines.append(f"- Also applies to: {', '.join(f'`{t}`' for t in rule.also_applies_to)}")
    if rule.fail_status.value != "FAIL":
        lines.append(f"- A resource that does not comply is reported as {rule.fail_status.value}, not FAIL")
    if rule.required_by:
        lines.append(f"- {requirement_text(rule)}")
    if rule.check:
        lines.append(f"- Evaluated by the Python check `{rule.check}`")
    if rule.reads:
        lines.append(f"- Also reads: {', '.join(f'`{t}`' for t in rule.reads)}")
    for name in rule.selectors:
        selector = selectors()[name]
        lines.append(f"- Applies to: {flat(selector['description'])} (selector `{name}`: {_code(selector['where'])})")
    if rule.where_text:
        lines.append(f"- Applies where: {_code(rule.where_text)}")
    if rule.assert_text:
        lines.append(f"- Passes when: {_code(rule.assert_text)}")
    lines += default_lines(rule)
    if rule.platform_floor:
        floor = rule.platform_floor
        lines.append(f"- Platform floor `{floor.id}`: Azure enforces TLS {floor.floor} on {floor.service} from "
                     f"{floor.since.isoformat()} (<{floor.source}>); for evidence from that day on, an unset "
                     f"value PASSes and a lower one has no effect (WARN) — see docs/platform-floors.md")
    lines.append(f"- Baseline requirement: {rule.references.get('baseline', '–')}")
    for key, label in FRAMEWORKS:
        if rule.frameworks().get(key):
            lines.append(f"- {label}: {_controls(rule, key)}")
    for policy in rule.azure_policies:
        differs = f" — differs: {flat(policy['differs'])}" if policy.get("differs") else ""
        lines.append(f"- Azure Policy: {flat(policy['title'])} (`{policy['id']}`){differs}")
    lines += ["", flat(rule.rationale), "", f"Remediation: {flat(rule.remediation['summary'])}", ""]
    lines += remediation_lines(rule)
    for link in rule.references.get("docs", []):
        lines.append(f"- See: <{link}>")
    return lines + [""]


def render(rules: list[Rule]) -> str:
    lines = ["# vdcaudit rule pack", "",
             "<!-- Generated by `vdcaudit rules docs` from rules/*.yaml; do not edit by hand. -->", "",
             f"{len(rules)} rules. Statuses: PASS, FAIL, WARN, UNKNOWN (the data needed was absent or could "
             "not be read; never compliant), ERROR.", ""]
    for category in CATEGORY_ORDER:
        in_category = [r for r in rules if r.category is category]
        if in_category:
            lines += [f"## {category.value} ({len(in_category)} rules)", ""] + _summary_table(in_category) + [""]
    lines += ["## Rules", ""]
    for rule in rules:
        lines += _rule_section(rule)
    return "\n".join(lines).rstrip() + "\n"


@click.command("docs")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown file to write (default: standard output).")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra folder of rule files to document with the built-in pack.")
def rules_docs(out_path: Path | None, rule_dirs: tuple[Path, ...]) -> None:
    """Generate the rule reference (Markdown) from the rule files."""
    rules = load_rules(list(rule_dirs))
    if out_path is None:  # never a file the user did not name (the repository's docs/rules.md, say)
        click.echo(render(rules), nl=False)
        return
    write_atomically(out_path, render(rules).encode("utf-8"))
    click.echo(f"wrote {out_path} ({len(rules)} rules)")
