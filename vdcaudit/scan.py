"""One scan: collect the inventory from the chosen sources, run the rules, keep the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from vdcaudit import __version__
from vdcaudit.baseline import compare
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.model import CoverageRecord, Finding, Status
from vdcaudit.policy_effects import SettingEffect, policy_effects
from vdcaudit.rulepack import Rule
from vdcaudit.sections import build_sections
from vdcaudit.summary import summarize
from vdcaudit.waivers import apply_waivers


@dataclass
class ScanResult:
    """Everything a report shows. Renderers only format it; none recomputes results."""

    started: datetime
    finished: datetime
    sources: list[dict[str, Any]]
    rules: list[Rule]
    findings: list[Finding]
    coverage: list[CoverageRecord]
    summary: dict[str, Any]
    # Per-source overviews for the reports (e.g. "sdn": encryption picture per virtual network),
    # built by the functions registered in vdcaudit.sections.
    sections: dict[str, Any] = field(default_factory=dict)
    tool: dict[str, str] = field(default_factory=lambda: {"name": "vdcaudit", "version": __version__})
    # CI gate: what the waivers did (applied/expired/stale) and the comparison with a baseline
    waivers: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    # `vdcaudit merge` only: the shards, duplicates across them, overlapping subscriptions
    merge: dict[str, Any] | None = None
    # subscription -> {resources, not_assessed by type}: lets `vdcaudit merge` count a subscription
    # that two shards scanned once
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # vdcaudit.yaml settings that differ from the built-in defaults and the verdicts each changed;
    # None where not known (a merged result: its shards' inventories are not at hand)
    policy: list[SettingEffect] | None = None
    # who the report is for and who signs it (`report:` in vdcaudit.yaml, --title) and the operator
    report: dict[str, str] = field(default_factory=dict)
    # every input file read, with its SHA-256 (vdcaudit.scan_inputs)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    # --sarif-category: the SARIF run's automationDetails.id (None: left out, so that GitHub's
    # upload-sarif `category` applies)
    sarif_category: str | None = None

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL and f.waiver is None]


def scan(inventory: Inventory, rules: list[Rule], context: ScanContext,
         started: datetime | None = None) -> ScanResult:
    started = started or datetime.now(timezone.utc)
    outcome = run(rules, inventory, context)
    findings = sorted(outcome.findings, key=lambda f: (f.rule_id, f.resource_id.lower()))
    waivers = apply_waivers(findings, context.waivers, context.now.date()) if context.waivers is not None else None
    baseline = compare(findings, context.baseline) if context.baseline is not None else None
    return ScanResult(
        started=started, finished=datetime.now(timezone.utc), sources=list(inventory.sources),
        rules=rules, findings=findings, coverage=list(inventory.coverage),
        summary=summarize(findings, outcome.not_assessed, len(inventory) + sum(inventory.uncollected.values())),
        sections=build_sections(inventory, findings), waivers=waivers, baseline=baseline, scopes=outcome.scopes,
        policy=policy_effects(rules, inventory, context, findings),
    )
