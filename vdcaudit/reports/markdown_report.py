"""Markdown summary for a pull-request comment or a CI job summary.

GitHub rejects comments over 65,536 characters, so the document is built to stay under
MAX_CHARS whatever the scan size: the fixed parts are capped tables, and the list of open gaps is
cut (with a note saying how many were left out) once the budget is spent.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from vdcaudit.history.diff import CHANGE_LABELS
from vdcaudit.model import SEVERITY_ORDER, STATUS_ORDER, Finding
from vdcaudit.reports.evidence import visible
from vdcaudit.reports.common import is_open_gap, rulepack_version, scan_scope, unassessed_causes
from vdcaudit.reports.views import COLUMNS, build_view
from vdcaudit.scan import ScanResult

MAX_CHARS = 65_000
TABLE_ROWS = 20
RULE_ROWS = 100
# Markdown punctuation that could start formatting, a link or a table cell in the middle of a
# line (md() output never starts a line, so list and heading markers need no escape).
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: object) -> str:
    """Inline-safe text: no raw HTML, no formatting, no table breaks, one line."""
    value = visible(" ".join(str(text).split()))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _gap_line(finding: Finding) -> str:
    return (f"- **{finding.status.value}** {finding.severity.value} `{finding.rule_id}` "
            f"{md(finding.resource_name)} ({md(finding.resource_type)}): {md(finding.message)}")


# The "since the last scan" view (vdcaudit/history/view.py since_last_scan), as the HTML report's
# section shows it: the change classes in the same order and words (history.diff.CHANGE_LABELS).
HISTORY_ROWS = 10        # changes listed per class, open FAILs listed
HISTORY_CHARS = 16_000   # the section's share of MAX_CHARS; the rest is counted, not listed


def _history_lines(section: dict[str, Any]) -> list[str]:
    """The history section: counts per change class, the changes, the oldest open FAILs, mean time
    to fix and the score trend. Capped at HISTORY_CHARS whatever the history holds."""
    before = section.get("before")
    lines = ["### Since the last scan", "",
             f"Recorded as scan #{section['scan']} of scope {md(section['scope'])} in the scan history. "
             + (f"Compared with scan #{before['id']} of {md(str(before['started'])[:16].replace('T', ' '))} UTC."
                if before else "The first scan of this scope: nothing to compare with yet."), ""]
    if before:
        lines += _table(list(CHANGE_LABELS.values()), [[f"{section['counts'][k]:,}" for k in CHANGE_LABELS]])
        lines.append("")
        if section.get("rulepack_changed"):
            changed = section["rulepack_changed"]
            lines += [f"**The rule pack changed** between the scans ({md(changed['before'])} → {md(changed['after'])}): "
                      "some changes may come from the rules, not from the resources.", ""]
        gaps = section.get("new_coverage_gaps") or []
        if gaps:
            lines.append("New coverage gaps (could not be read this time):")
            lines += [f"- {md(g.get('scope'))} {md(g.get('resource_type') or 'everything')}: {md(g.get('reason'))}"
                      for g in gaps[:HISTORY_ROWS]]
            if len(gaps) > HISTORY_ROWS:
                lines.append(f"- … and {len(gaps) - HISTORY_ROWS:,} more")
            lines.append("")
        rows = [[CHANGE_LABELS[kind], change["severity"], f"`{md(change['rule_id'])}`", md(change["resource_name"]),
                 md(change["before"] or "absent"), md(change["after"] or "absent")]
                for kind in CHANGE_LABELS for change in section["changes"].get(kind, [])[:HISTORY_ROWS]]
        listed = _budgeted(_table(["change", "severity", "rule", "resource", "before", "now"], rows), HISTORY_CHARS // 2)
        if rows:
            lines += listed
            unlisted = sum(section["counts"][k] for k in CHANGE_LABELS if k != "still_failing") - (len(listed) - 2)
            if unlisted > 0:
                lines.append(f"\n… and {unlisted:,} more changes (`vdcaudit history diff` lists them all)")
            lines.append("")
    open_fails = section.get("open_fails") or []
    if open_fails:
        rows = [[f"{f['open_days']}", md(str(f["first_seen"])[:10]), f["severity"], f"`{md(f['rule_id'])}`",
                 md(f["resource_name"])] for f in open_fails[:HISTORY_ROWS]]
        lines += [f"Open FAILs, longest open first ({len(rows)} of {section['open_fails_total']:,}):", ""]
        lines += _budgeted(_table(["open for (days)", "since", "severity", "rule", "resource"], rows), HISTORY_CHARS // 4)
        lines.append("")
    mttf = section["mean_time_to_fix"]
    fixed = [[severity, f"{row['fixed']:,}", f"{row['mean_days']}"] for severity, row in mttf["by_severity"].items()]
    if fixed:
        lines += [f"Mean time to fix over the last {mttf['days']} days:", "",
                  *_table(["severity", "fixed", "mean days from first seen to fixed"], fixed)]
    else:
        lines.append(f"Mean time to fix over the last {mttf['days']} days: nothing fixed in the period.")
    trend = [p for p in section.get("trend") or [] if p.get("score") is not None]
    if len(trend) > 1:
        lines += ["", f"Score over the last {len(trend)} scans: " + " → ".join(f"{p['score']}%" for p in trend)]
    return lines + [""]


def _budgeted(table: list[str], budget: int) -> list[str]:
    """A table cut (header kept) where its text would pass `budget` characters."""
    kept, size = table[:2], sum(len(line) + 1 for line in table[:2])
    for line in table[2:]:
        size += len(line) + 1
        if size > budget:
            break
        kept.append(line)
    return kept


def render_markdown_text(result: ScanResult) -> str:
    view = build_view(result)
    scope = scan_scope(result)
    totals = view.totals
    score = "n/a" if view.overall_score is None else f"{view.overall_score}%"
    head = [
        f"## vdcaudit: {totals['FAIL']:,} open failures, {totals['UNKNOWN'] + totals['ERROR']:,} not assessable, "
        f"{totals['waived']:,} waived — score {score}",
        "",
        f"{result.tool['name']} {result.tool['version']} · {md(rulepack_version(result.rules))} · scanned "
        f"{result.started.strftime('%Y-%m-%d %H:%M UTC')} · {result.summary['resources']:,} resources, "
        f"{len(scope.subscriptions)} subscriptions, {result.summary['findings']:,} findings",
        "",
        "### Encryption matrix",
        "",
        *_table(["category", *COLUMNS],
                [[row["category"], *(f"{row['cells'][c]['total']:,}" for c in COLUMNS)] for row in view.matrix]),
        "",
    ]
    if result.policy:
        head += ["**Policy in force** (vdcaudit.yaml settings that differ from the defaults): "
                 + "; ".join(f"`{e.setting}: {e.value}` changed {len(e.changed):,} verdict(s)" for e in result.policy), ""]
    if result.sections.get("history"):
        head += _history_lines(result.sections["history"])
    causes = unassessed_causes(result)
    if causes:
        head += [f"**Not assessed:** {sum(c.findings for c in causes):,} findings are UNKNOWN or ERROR: "
                 + "; ".join(f"{c.findings:,} {md(c.cause)}" for c in causes), ""]
    if result.coverage:
        head += [f"**Coverage is incomplete:** {len(result.coverage):,} scope(s) could not be read; "
                 "rules on them report UNKNOWN.", ""]
        head += [f"- {md(r.source)} {md(r.scope)} {md(r.resource_type or 'all types')}: {md(r.reason)}"
                 for r in result.coverage[:TABLE_ROWS]]
        if len(result.coverage) > TABLE_ROWS:
            head.append(f"- … and {len(result.coverage) - TABLE_ROWS:,} more")
        head.append("")
    if view.subscriptions:
        worst = sorted(view.subscriptions, key=lambda s: (s.score is None, s.score if s.score is not None else 0))
        head += ["### Score per subscription", ""]
        head += _table(["subscription", "score", "FAIL", "UNKNOWN", "waived"],
                       [[md(s.subscription), "n/a" if s.score is None else f"{s.score}%", f"{s.counts['FAIL']:,}",
                         f"{s.counts['UNKNOWN']:,}", f"{s.counts['waived']:,}"] for s in worst[:TABLE_ROWS]])
        if len(worst) > TABLE_ROWS:
            head.append(f"\n… and {len(worst) - TABLE_ROWS:,} more subscriptions in the HTML report")
        head.append("")
    failing_rules = [(rule, view.rule_counts[rule.id]) for rule in result.rules
                     if rule.id in view.rule_counts and any(view.rule_counts[rule.id][c] for c in ("FAIL", "UNKNOWN", "ERROR"))]
    if failing_rules:
        failing_rules.sort(key=lambda rc: (rc[0].severity.rank, -rc[1]["FAIL"], rc[0].id))
        head += ["### Rules with gaps", ""]
        head += _table(["rule", "severity", "title", "FAIL", "UNKNOWN", "ERROR"],
                       [[f"`{rule.id}`", rule.severity.value, md(rule.title), f"{c['FAIL']:,}", f"{c['UNKNOWN']:,}",
                         f"{c['ERROR']:,}"] for rule, c in failing_rules[:RULE_ROWS]])
        if len(failing_rules) > RULE_ROWS:
            head.append(f"\n… and {len(failing_rules) - RULE_ROWS:,} more rules with gaps in the HTML report")
        head.append("")

    gaps = sorted((f for f in result.findings if is_open_gap(f)),
                  key=lambda f: (f.severity.rank, STATUS_ORDER.index(f.status), f.rule_id, f.resource_name.lower()))
    footer = ["", "_Full details: the HTML report; machine-readable: vdcaudit-findings.json, SARIF, JUnit, CSV._"]
    lines = head
    if gaps:
        lines += ["### Open gaps", ""]
    size = sum(len(line) + 1 for line in lines + footer)
    shown = 0
    reserve = 120  # room for the "… and N more" line
    for finding in gaps:
        line = _gap_line(finding)
        if size + len(line) + 1 + reserve > MAX_CHARS:
            break
        lines.append(line)
        size += len(line) + 1
        shown += 1
    if shown < len(gaps):
        lines.append(f"- … and {len(gaps) - shown:,} more open gaps (severity order: "
                     f"{', '.join(s.value for s in SEVERITY_ORDER)}) in the HTML report")
    return "\n".join(lines + footer) + "\n"


def write_markdown(result: ScanResult, stream: BinaryIO) -> None:
    stream.write(render_markdown_text(result).encode("utf-8"))
