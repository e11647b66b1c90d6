"""`vdcaudit merge`: several scans' findings files (shards: one per management group or subscription
set, run as parallel jobs) combined into one result, as if one scan had covered the whole estate.

A shard is input from another job, not a decision to adopt: it contributes resources, findings and
coverage; everything derived from them is decided again here.
- Each shard must match the published findings schema (vdcaudit-findings.schema.json) before
  anything of it is read, and must have been judged by the same rule pack as the one loaded now
  (the rule-pack digest in `scan.rulepack`): a report must not mix verdicts of different rule texts.
- Waivers and baselines are the merge's own (--waivers applied with today's date, --baseline):
  the `waivers` / `baseline` blocks and per-finding waivers a shard carries are ignored, and the
  `merge` block and the terminal say which shards carried them.
- A resource judged by several shards (overlapping scopes) is counted once. Its findings are
  duplicates by fingerprint; when the shards disagree on a verdict the worse one is kept (FAIL
  before UNKNOWN, ERROR, WARN, PASS), so an overlap can never turn a FAIL into a PASS, whatever
  the order of the shards. Duplicates and disagreements are listed in the result's `merge` block.
- Coverage gaps of every shard are kept (an unreadable scope stays UNKNOWN).
- Resource and not-assessed counts come from each shard's `scan.scopes` (per subscription): a
  subscription several shards scanned is counted once, and listed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from vdcaudit.baseline import compare
from vdcaudit.context import ScanContext
from vdcaudit.errors import InputError
from vdcaudit.findings_file import FindingsFile, read_findings_file
from vdcaudit.model import STATUS_ORDER, CoverageRecord, Finding, Status
from vdcaudit.reports.common import rulepack_version
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult
from vdcaudit.sections import SECTIONS
from vdcaudit.summary import UNSCOPED, summarize
from vdcaudit.timestamps import parse_datetime
from vdcaudit.waivers import apply_waivers

DUPLICATES_LISTED = 100  # in the merge block; the counts cover them all


def _finding(record: dict[str, Any], rule: Rule, shard: Path, index: int) -> Finding:
    try:
        return Finding(
            rule_id=rule.id, title=rule.title, resource_id=record["resource_id"],
            resource_name=str(record.get("resource_name") or ""), resource_type=str(record.get("resource_type") or ""),
            status=Status(record["status"]), severity=rule.severity, category=rule.category,
            message=str(record.get("message") or ""), evidence=dict(record.get("evidence") or {}),
            source=str(record.get("source") or ""), subscription=record.get("subscription"),
            resource_group=record.get("resource_group"), location=record.get("location"),
        )  # a shard's own waiver is not carried over: the merge's --waivers decide
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"findings[{index}] is malformed: {type(exc).__name__}: {exc}", shard) from None


def _datetime(value: Any, field: str, shard: Path) -> datetime:
    try:  # a time without a zone cannot be ordered against the other shards' times
        return parse_datetime(value, naive="refuse")
    except ValueError as exc:
        raise InputError(f"field scan.{field}: {value!r} {exc}", shard) from None


def _carried_decisions(shards: list[FindingsFile]) -> dict[str, list[str]]:
    """The shard files that carried waivers (a block, or waived findings) or a baseline block:
    decisions of another run, ignored here."""
    return {"waivers": [str(s.path) for s in shards
                        if "waivers" in s.document or any(f.get("waiver") for f in s.findings)],
            "baseline": [str(s.path) for s in shards if "baseline" in s.document]}


def _counts(shards: list[FindingsFile], repeated: dict[str, int]) -> tuple[int, dict[str, int], list[str]]:
    """(resources, not-assessed by type, subscriptions several shards scanned). A subscription is
    counted once, from the first shard that scanned it (`scan.scopes`); resources without one (SDN,
    templates) are each shard's own. Files without `scan.scopes` add their totals, less the
    resources their findings show were in another shard too."""
    resources = 0
    not_assessed: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for shard in shards:
        scopes = (shard.document.get("scan") or {}).get("scopes")
        summary = shard.document.get("summary") or {}
        if not isinstance(scopes, dict):
            resources += int(summary.get("resources", 0))
            not_assessed.update(summary.get("not_assessed", {}).get("by_type", {}))
            for sub in summary.get("by_subscription", {}):
                seen[sub] += sub != UNSCOPED
            continue
        for sub, scope in scopes.items():
            seen[sub] += sub != UNSCOPED
            if sub == UNSCOPED or seen[sub] == 1:
                resources += int(scope.get("resources", 0))
                not_assessed.update(scope.get("not_assessed", {}))
    if not all(isinstance((s.document.get("scan") or {}).get("scopes"), dict) for s in shards):
        resources -= sum(n - 1 for n in repeated.values())
    return resources, dict(sorted(not_assessed.items())), sorted(sub for sub, n in seen.items() if n > 1)


def merge(paths: list[Path], rules: list[Rule], context: ScanContext | None = None) -> ScanResult:
    """The shards as one result. `context.waivers` / `context.baseline` (from --waivers /
    --baseline) apply to the merged findings, as `vdcaudit scan` applies them."""
    if not paths:
        raise InputError("give at least one findings file (vdcaudit-findings.json of a shard)")
    by_id = {rule.id: rule for rule in rules}
    pack = rulepack_version(rules)
    shards: list[FindingsFile] = []
    times: list[tuple[datetime, datetime]] = []
    for path in paths:
        shard = read_findings_file(path, validate=True)
        scan = shard.document["scan"]
        if scan.get("rulepack") != pack:
            raise InputError(f"judged by rule pack {scan.get('rulepack')!r}, not the loaded {pack!r}: merge shards "
                             "scanned with the same vdcaudit version and --rules", path)
        times.append((_datetime(scan["started"], "started", path), _datetime(scan["finished"], "finished", path)))
        shards.append(shard)

    kept: dict[str, tuple[Finding, int]] = {}  # fingerprint -> (finding, shard index)
    duplicates = 0
    conflicting: dict[str, dict[str, Any]] = {}  # fingerprint -> the statuses the shards gave it
    resources_by_shard: list[set[str]] = []
    for number, shard in enumerate(shards):
        judged: set[str] = set()  # resource ids this shard has findings on
        for index, record in enumerate(shard.findings):
            rule = by_id.get(record["rule_id"])
            if rule is None:  # cannot happen with a matching rule-pack digest, unless the file was edited
                raise InputError(f"findings[{index}] names rule {record['rule_id']}, which the rule pack lacks", shard.path)
            finding = _finding(record, rule, shard.path, index)
            judged.add(finding.resource_id.lower())
            earlier = kept.get(finding.fingerprint)
            if earlier is None:
                kept[finding.fingerprint] = (finding, number)
                continue
            duplicates += 1
            previous, first = earlier
            if previous.status is not finding.status:
                worse = min(previous, finding, key=lambda f: STATUS_ORDER.index(f.status))
                kept[finding.fingerprint] = (worse, first if worse is previous else number)
                statuses = conflicting.setdefault(finding.fingerprint, {
                    "fingerprint": finding.fingerprint, "rule_id": finding.rule_id,
                    "resource_id": finding.resource_id, "statuses": {str(shards[first].path): previous.status.value}})
                statuses["statuses"][str(shard.path)] = finding.status.value
                statuses["kept"] = worse.status.value
        resources_by_shard.append(judged)

    seen: Counter[str] = Counter(rid for resources in resources_by_shard for rid in resources)
    repeated = {rid: n for rid, n in seen.items() if n > 1}
    resources, not_assessed, overlapping = _counts(shards, repeated)

    coverage: dict[tuple[Any, ...], CoverageRecord] = {}
    for shard in shards:
        for item in shard.document.get("coverage") or []:
            gap = CoverageRecord(source=str(item.get("source", "")), scope=str(item.get("scope", "")),
                                 reason=str(item.get("reason", "")), resource_type=item.get("resource_type"),
                                 detail=str(item.get("detail") or ""))
            coverage.setdefault((gap.source, gap.scope.lower(), gap.reason, gap.resource_type, gap.detail), gap)

    sections: dict[str, Any] = {}
    for shard in shards:
        for name, data in (shard.document.get("sections") or {}).items():
            # A per-source overview (SDN) is whole in the shard that scanned the source. Others are not
            # the shard's to give: "history" is that shard's own "since its last scan" view.
            if name in SECTIONS:
                sections.setdefault(name, data)

    findings = sorted((finding for finding, _ in kept.values()), key=lambda f: (f.rule_id, f.resource_id.lower()))
    scans = [shard.document.get("scan") or {} for shard in shards]
    conflicts = list(conflicting.values())
    merge_block = {
        "shards": [{"file": str(shard.path), "findings": len(shard.findings),
                    "resources": (shard.document.get("summary") or {}).get("resources")} for shard in shards],
        "duplicates": {"resources": len(repeated), "findings": duplicates,
                       "resource_ids": sorted(repeated)[:DUPLICATES_LISTED]},
        "conflicting_verdicts": conflicts[:DUPLICATES_LISTED], "conflicts": len(conflicts),
        "overlapping_subscriptions": overlapping,
        "ignored": _carried_decisions(shards),
    }
    context = context or ScanContext()
    waivers = apply_waivers(findings, context.waivers, context.now.date()) if context.waivers is not None else None
    baseline = compare(findings, context.baseline) if context.baseline is not None else None
    summary = summarize(findings, not_assessed, resources)
    return ScanResult(
        started=min(started for started, _ in times), finished=max(finished for _, finished in times),
        sources=[source for scan in scans for source in scan.get("sources") or []],
        rules=rules, findings=findings, coverage=list(coverage.values()), summary=summary, sections=sections,
        waivers=waivers, baseline=baseline, merge=merge_block,
    )
