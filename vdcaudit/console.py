"""What vdcaudit prints on the terminal (rich tables)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Status
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult
from vdcaudit.summary import COLUMNS, WAIVED
from vdcaudit.services import display_name
from vdcaudit.untrusted import safe_text


def console() -> Console:
    # Wide enough for rule titles when printing to a pipe or a CI log (rich assumes 80 there)
    terminal = Console(highlight=False, soft_wrap=False)
    return terminal if terminal.is_terminal else Console(highlight=False, soft_wrap=False, width=160)


def shown(text: str) -> Text:
    """Text from input as a table cell: escaped (vdcaudit.untrusted) and never read as rich markup."""
    return Text(safe_text(text, limit=None))


def print_summary(result: ScanResult, written: list[Path]) -> None:
    """Counts by status x category x severity, then where the reports went."""
    out = console()
    table = Table(title=f"vdcaudit: {result.summary['resources']} resources, {len(result.findings)} findings")
    table.add_column("category")
    table.add_column("severity")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    # the summary's counts (vdcaudit.summary): a waived finding is counted once, as waived
    matrix, waived = result.summary["matrix"], result.summary["waived_matrix"]
    for category in CATEGORY_ORDER:
        for severity in SEVERITY_ORDER:
            counts = [matrix[category.value][s.value][severity.value] for s in Status]
            counts.append(sum(waived[category.value][s.value][severity.value] for s in Status))
            if any(counts):
                table.add_row(category.value, severity.value, *[str(c) if c else "·" for c in counts])
    totals = {**result.summary["by_status"], WAIVED: result.summary["waived"]}
    table.add_section()
    table.add_row("total", "", *[str(totals[column]) for column in COLUMNS])
    out.print(table)
    errors = totals[Status.ERROR.value]
    if errors:
        out.print(f"[bold]{errors} finding(s) could not be judged (ERROR)[/bold]: the data broke a rule or check; "
                  "see each finding's message")
    not_assessed = result.summary["not_assessed"]
    if not_assessed["resources"]:
        out.print(f"not assessed (no rule for the type): {not_assessed['resources']} resources in "
                      f"{len(not_assessed['by_type'])} types")
    if result.coverage:
        out.print(f"[bold]coverage gaps:[/bold] {len(result.coverage)} (see the report)")
    for path in written:
        out.print(f"wrote {path}")


def print_rules(rules: list[Rule], framework: str | None = None) -> None:
    """One table, a section per service (services in name order, rules by id inside each)."""
    services = sorted({rule.service for rule in rules}, key=lambda key: display_name(key).lower())
    table = Table(title=f"{len(rules)} rules in {len(services)} services")
    for column in ("service", "id", "severity", "category", "resource type", "title"):
        table.add_column(column)
    if framework:
        table.add_column(framework)
    for service in services:
        members = sorted((r for r in rules if r.service == service), key=lambda r: r.id)
        for index, rule in enumerate(members):
            label = f"{display_name(service)} ({service})" if index == 0 else ""
            row = [label, rule.id, rule.severity.value, rule.category.value, rule.resource_type, rule.title]
            if framework:
                row.append(", ".join(rule.frameworks().get(framework, [])))
            table.add_row(*(shown(cell) for cell in row))  # rule files are input (--rules)
        table.add_section()
    console().print(table)


def print_rule(rule: Rule) -> None:
    console().print(yaml.safe_dump({**rule.metadata(), "file": rule.file}, sort_keys=False, width=100),
                     markup=False)
