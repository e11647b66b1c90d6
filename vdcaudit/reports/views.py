"""Groupings of a scan's findings for the human-readable reports (HTML, Markdown): gaps by category
and rule, by subscription and resource group, by framework control, and per rule.

Counts here are tallies of finding statuses as the engine decided them. Everywhere in the reports a
waived finding is counted once, under "waived", and not under its status: the open gaps and the
accepted risk are shown apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, STATUS_ORDER, Finding, Status
from vdcaudit.reports.common import GAP_STATUSES
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult
from vdcaudit.summary import COLUMNS, UNSCOPED, column_of, new_counts, score_of
# Server-rendered finding cards per rule in the gap view: the rest are one click away in the
# findings explorer (and in the JSON/CSV), so a 100,000-finding report stays a usable page.
CARDS_PER_RULE = 25
RESOURCE_GROUPS_PER_SUBSCRIPTION = 100
WAIVERS_LISTED = 200
SOURCES_LISTED = 5  # source locations listed under one heading of the scope; more: see Inputs
POLICY_LISTED = 10  # changed verdicts named per setting; all are in the JSON (scan.policy)
WORST_PER_RULE = 3  # resources named per rule in the printed gap table
SCORE_BARS = 30  # subscriptions charted; the table below the chart lists them all
# Subscriptions the HTML renders on the server (and prints); the script pages through the rest, so
# an estate of thousands of subscriptions does not put a DOM of hundreds of thousands of cells in
# the browser.
SUBSCRIPTIONS_PER_PAGE = 50
FRAMEWORK_LABELS = {"mcsb": "Microsoft cloud security benchmark", "cis": "CIS Microsoft Azure Foundations",
                    "nist-800-53": "NIST SP 800-53"}


@dataclass
class RuleGaps:
    rule: Rule
    counts: dict[str, int]
    cards: list[Finding]  # the first CARDS_PER_RULE gaps (open first, then waived)
    gaps: int  # all gaps of this rule, open and waived

    @property
    def more(self) -> int:
        return self.gaps - len(self.cards)

    @property
    def worst(self) -> list[Finding]:
        """The open gaps that weigh most (FAIL before UNKNOWN, most severe, then by name)."""
        return [f for f in self.cards if f.waiver is None][:WORST_PER_RULE]


@dataclass
class ResourceGroupRow:
    name: str
    counts: dict[str, int]


@dataclass
class SubscriptionRow:
    subscription: str
    counts: dict[str, int]
    score: float | None
    groups: list[ResourceGroupRow]
    more_groups: int


@dataclass
class ControlRow:
    framework: str
    control: str
    rules: list[str]
    counts: dict[str, int]

    @property
    def state(self) -> str:
        if self.counts["FAIL"]:
            return "failing"
        if self.counts["UNKNOWN"] or self.counts["ERROR"]:
            return "not assessable"
        if sum(self.counts.values()) == 0:
            return "not tested"
        return "met"


@dataclass
class ReportView:
    matrix: list[dict[str, Any]]  # one row per category: column -> {total, by severity}
    totals: dict[str, int]  # the matrix's columns summed over the categories
    overall_score: float | None
    rule_counts: dict[str, dict[str, int]]
    gaps_by_category: dict[str, list[RuleGaps]]
    subscriptions: list[SubscriptionRow]
    controls: dict[str, list[ControlRow]]
    waived: list[Finding]
    waived_total: int

    @property
    def category_bars(self) -> list[tuple[str, dict[str, int]]]:
        return [(row["category"], {c: row["cells"][c]["total"] for c in COLUMNS}) for row in self.matrix]

    @property
    def score_bars(self) -> list[tuple[str, float | None]]:
        return [("on-premises / none" if row.subscription == UNSCOPED else row.subscription, row.score)
                for row in self.subscriptions[:SCORE_BARS]]

    @property
    def rules_with_gaps(self) -> set[str]:
        return {g.rule.id for rules in self.gaps_by_category.values() for g in rules}


@dataclass
class WaiverRow:
    state: str  # active, expired, stale
    entry: dict[str, Any]  # a waiver as vdcaudit.waivers reports it (rule, resource, owner, ...)

    def field(self, name: str) -> str:
        """A waiver field as printed: "—" where the waiver file does not give it."""
        value = self.entry.get(name)
        return str(value) if value not in (None, "") else "—"


WAIVER_STATES = {"applied": "active", "expired": "expired", "stale": "stale"}


def waiver_rows(waivers: dict[str, Any] | None) -> list[WaiverRow]:
    """Every waiver of the scan's waiver file: active (applied to findings), expired, stale."""
    if not waivers:
        return []
    return [WaiverRow(state, entry) for key, state in WAIVER_STATES.items() for entry in waivers.get(key, [])]


def _matrix(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the encryption matrix from the summary (not from the findings): a status column
    counts the open findings of that status (summary.matrix); `waived` sums summary.waived_matrix."""
    rows = []
    for category in (c.value for c in CATEGORY_ORDER):
        row: dict[str, Any] = {"category": category, "cells": {}}
        waived_sev = {sev.value: 0 for sev in SEVERITY_ORDER}
        for status in (s.value for s in Status):
            by_sev = dict(summary["matrix"][category][status])
            for sev, n in summary["waived_matrix"][category][status].items():
                waived_sev[sev] += n
            row["cells"][status] = {"total": sum(by_sev.values()), "by_severity": by_sev}
        row["cells"]["waived"] = {"total": sum(waived_sev.values()), "by_severity": waived_sev}
        rows.append(row)
    return rows


def _gap_order(finding: Finding) -> tuple[int, int, int, str]:
    return (finding.waiver is not None, STATUS_ORDER.index(finding.status), finding.severity.rank,
            finding.resource_name.lower())


def build_view(result: ScanResult) -> ReportView:
    rule_counts: dict[str, dict[str, int]] = defaultdict(new_counts)
    gaps: dict[str, list[Finding]] = defaultdict(list)
    by_group: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(new_counts))
    waived: list[Finding] = []
    for f in result.findings:
        column = column_of(f)
        rule_counts[f.rule_id][column] += 1
        by_group[f.subscription or UNSCOPED][f.resource_group or UNSCOPED][column] += 1
        if f.status in GAP_STATUSES:
            gaps[f.rule_id].append(f)
        if f.waiver is not None:
            waived.append(f)

    gaps_by_category: dict[str, list[RuleGaps]] = {c.value: [] for c in CATEGORY_ORDER}
    for rule in sorted(result.rules, key=lambda r: (r.severity.rank, r.id)):
        rule_gaps = gaps.get(rule.id)
        if rule_gaps:
            cards = sorted(rule_gaps, key=_gap_order)[:CARDS_PER_RULE]
            gaps_by_category[rule.category.value].append(
                RuleGaps(rule, rule_counts[rule.id], cards, len(rule_gaps)))

    subscriptions = []
    for subscription, groups in sorted(by_group.items()):
        total = new_counts()
        for counts in groups.values():
            for column, n in counts.items():
                total[column] += n
        # The groups with the most open gaps first; the tail is summarised, not listed.
        ordered = sorted(groups.items(), key=lambda kv: (-(kv[1]["FAIL"] + kv[1]["UNKNOWN"] + kv[1]["ERROR"]), kv[0]))
        rows = [ResourceGroupRow(name, counts) for name, counts in ordered[:RESOURCE_GROUPS_PER_SUBSCRIPTION]]
        # The score is the summary's (computed once, the same number the JSON carries).
        sub_score = result.summary.get("by_subscription", {}).get(subscription, {}).get("score")
        subscriptions.append(SubscriptionRow(subscription, total, sub_score, rows,
                                             max(0, len(ordered) - RESOURCE_GROUPS_PER_SUBSCRIPTION)))

    matrix = _matrix(result.summary)
    totals = new_counts()
    for row in matrix:
        for column in COLUMNS:
            totals[column] += row["cells"][column]["total"]
    return ReportView(
        matrix=matrix, totals=totals,
        overall_score=score_of(totals), rule_counts=dict(rule_counts), gaps_by_category=gaps_by_category,
        subscriptions=subscriptions, controls=_controls(result.rules, rule_counts),
        waived=sorted(waived, key=_gap_order)[:WAIVERS_LISTED], waived_total=len(waived),
    )


def _controls(rules: list[Rule], rule_counts: dict[str, dict[str, int]]) -> dict[str, list[ControlRow]]:
    """Framework -> control -> the rules that reference it, with their findings summed."""
    table: dict[str, dict[str, ControlRow]] = defaultdict(dict)
    for rule in rules:
        for framework, controls in rule.frameworks().items():
            for control in controls:
                row = table[framework].setdefault(str(control), ControlRow(framework, str(control), [], new_counts()))
                row.rules.append(rule.id)
                for column, n in rule_counts.get(rule.id, new_counts()).items():
                    row.counts[column] += n
    known = [f for f in FRAMEWORK_LABELS if f in table] + sorted(f for f in table if f not in FRAMEWORK_LABELS)
    return {framework: sorted(table[framework].values(), key=lambda r: _control_key(r.control)) for framework in known}


def _control_key(control: str) -> tuple[Any, ...]:
    """Natural order: SC-8 before SC-13, 3.2 before 3.15."""
    parts: list[Any] = []
    token = ""
    for ch in control:
        if ch.isdigit():
            token += ch
            continue
        if token:
            parts.append((0, int(token)))
            token = ""
        parts.append((1, ch))
    if token:
        parts.append((0, int(token)))
    return tuple(parts)
