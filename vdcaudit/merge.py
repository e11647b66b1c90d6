"""`vdcaudit merge`: several scans' findings files (shards: one per management group or subscription
set, run as parallel jobs) combined into one result, as if one scan had covered the whole estate.

- Every shard must have been judged by the same rule pack as the one loaded now (the rule-pack
  digest in `scan.rulepack`): a report must not mix verdicts of different rule texts.
- A resource judged by several shards (overlapping scopes) is counted once. Its findings are
  duplicates by fingerprint; when the shards disagree on a verdict the worse one is kept (FAIL
  before UNKNOWN, ERROR, WARN, PASS), so an overlap can never turn a FAIL into a PASS. Duplicates
  and disagreements are listed in the result's `merge` block.
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
from vdcaudit.errors import InputError
from vdcaudit.findings_file import FindingsFile, read_findings_file
from vdcaudit.model import STATUS_ORDER, CoverageRecord, Finding, ScanContext, Status, Waiver
from vdcaudit.reports.common import rulepack_version
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult
from vdcaudit.summary import UNSCOPED, summarize
from vdcaudit.waivers import apply_waivers

DUPLICATES_LISTED = 100  # in the merge block; the counts cover them all


def _finding(record: dict[str, Any], rule: Rule, shard: Path, index: int) -> Finding:
    try:
        waiver = record.get("waiver")
        return Finding(
            rule_id=rule.id, title=rule.title, resource_id=record["resource_id"],
            resource_name=str(record.get("resource_name") or ""), resource_type=str(record.get("resource_type") or ""),
            status=Status(record["status"]), severity=rule.severity, category=rule.category,
            message=str(record.get("message") or ""), evidence=dict(record.get("evidence") or {}),
            source=str(record.get("source") or ""), subscription=record.get("subscription"),
            resource_group=record.get("resource_group"), location=record.get("location"),
            waiver=Waiver(**waiver) if waiver else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"findings[{index}] is malformed: {type(exc).__name__}: {exc}", shard) from None


def _datetime(value: Any, shard: Path) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"scan.started/finished is not a date-time: {value!r}", shard) from None


def _combine_waivers(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The shards' `waivers` blocks as one: applied counts summed per waiver; a waiver is stale
    only when no shard applied it."""
    if not blocks:
        return None
    applied: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for item in block.get("applied", []):
            key = repr(sorted((k, v) for k, v in item.items() if k != "findings"))
            if key in applied:
                applied[key]["findings"] += item.get("findings", 0)
            else:
                applied[key] = dict(item)
    applied_keys = set(applied)
    expired: dict[str, dict[str, Any]] = {}
    stale: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for item in block.get("expired", []):
            expired.setdefault(repr(sorted(item.items())), item)
        for item in block.get("stale", []):
            key = repr(sorted(item.items()))
            if key not in applied_keys:
                stale.setdefault(key, item)
    return {"applied": list(applied.values()), "expired": list(expired.values()), "stale": list(stale.values())}


def _combine_baselines(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not blocks:
        return None
    return {"file": ", ".join(dict.fromkeys(str(b.get("file", "")) for b in blocks)),
            "known_failures": sum(int(b.get("known_failures", 0)) for b in blocks),
            "new": [item for b in blocks for item in b.get("new", [])],
            "fixed": [item for b in blocks for item in b.get("fixed", [])]}


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
    for path in paths:
        shard = read_findings_file(path)
        used = (shard.document.get("scan") or {}).get("rulepack")
        if used != pack:
            raise InputError(f"judged by rule pack {used!r}, not the loaded {pack!r}: merge shards scanned "
                             "with the same vdcaudit version and --rules", path)
        shards.append(shard)

    kept: dict[str, tuple[Finding, int]] = {}  # fingerprint -> (finding, shard index)
    duplicates = 0
    conflicts: list[dict[str, Any]] = []
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
                conflicts.append({"fingerprint": finding.fingerprint, "rule_id": finding.rule_id,
                                  "resource_id": finding.resource_id,
                                  "statuses": {str(shards[first].path): previous.status.value,
                                               str(shard.path): finding.status.value},
                                  "kept": worse.status.value})
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
            sections.setdefault(name, data)  # a per-source overview is whole in the shard that scanned the source

    findings = sorted((finding for finding, _ in kept.values()), key=lambda f: (f.rule_id, f.resource_id.lower()))
    scans = [shard.document.get("scan") or {} for shard in shards]
    merge_block = {
        "shards": [{"file": str(shard.path), "findings": len(shard.findings),
                    "resources": (shard.document.get("summary") or {}).get("resources")} for shard in shards],
        "duplicates": {"resources": len(repeated), "findings": duplicates,
                       "resource_ids": sorted(repeated)[:DUPLICATES_LISTED]},
        "conflicting_verdicts": conflicts[:DUPLICATES_LISTED], "conflicts": len(conflicts),
        "overlapping_subscriptions": overlapping,
    }
    waivers = _combine_waivers([s.document["waivers"] for s in shards if isinstance(s.document.get("waivers"), dict)])
    baseline = _combine_baselines([s.document["baseline"] for s in shards if isinstance(s.document.get("baseline"), dict)])
    if context is not None and context.waivers is not None:
        waivers = apply_waivers(findings, context.waivers, context.now.date())
    if context is not None and context.baseline is not None:
        baseline = compare(findings, context.baseline)
    summary = summarize(findings, not_assessed, resources)
    return ScanResult(
        started=min(_datetime(scan.get("started"), s.path) for scan, s in zip(scans, shards)),
        finished=max(_datetime(scan.get("finished"), s.path) for scan, s in zip(scans, shards)),
        sources=[source for scan in scans for source in scan.get("sources") or []],
        rules=rules, findings=findings, coverage=list(coverage.values()), summary=summary, sections=sections,
        waivers=waivers, baseline=baseline, merge=merge_block,
    )
