"""The CI gate of `vdcaudit scan`: which findings fail it, and what to tell the pipeline log.

A finding fails the gate when it is at or above the --fail-on severity, not waived, and either
- FAIL and (with --baseline) not already a known failure in the baseline, or
- ERROR (the data broke the rule or check, so the resource was not judged): it counts like a FAIL
  of its rule's severity unless --no-fail-on-error is given. A broken judgement must never let the
  gate pass; the baseline records only failures, so it does not excuse an ERROR.
- UNKNOWN because a read failed (a 403, a timeout, throttling past the retries: a coverage gap of a
  live or snapshot source): what could not be read was not judged, so it counts like ERROR. An
  UNKNOWN for a value a template or plan cannot know before deployment does not: it is the nature of
  the source, not something that broke.
"""

from __future__ import annotations

from pathlib import Path

import click

from vdcaudit.baseline import load_baseline
from vdcaudit.context import ScanContext
from vdcaudit.model import Finding, Severity, Status
from vdcaudit.scan import ScanResult
from vdcaudit.rulepack import Rule
from vdcaudit.untrusted import safe_text
from vdcaudit.waivers import check_waivers, load_waivers_file


def add_gate_inputs(context: ScanContext, waivers_path: Path | None, baseline_path: Path | None,
                    rules: list[Rule]) -> None:
    """--waivers replaces the config file's `waivers:`; --baseline adds the previous findings.
    Waivers are checked against the loaded rules, today's date and the config's `waivers.max_days`."""
    if waivers_path is not None:
        context.waivers = load_waivers_file(waivers_path)
    elif context.config.waivers is not None:
        context.waivers = context.config.waivers
    if context.waivers is not None:
        check_waivers(context.waivers, [rule.id for rule in rules], context.now.date(), context.config.waiver_max_days)
    if baseline_path is not None:
        context.baseline = load_baseline(baseline_path)


def gate_failures(result: ScanResult, threshold: Severity, count_errors: bool = True) -> list[Finding]:
    failing = [f for f in result.failing() if f.severity.at_least(threshold)]
    if result.baseline is not None:
        new = {item["fingerprint"] for item in result.baseline["new"]}
        failing = [f for f in failing if f.fingerprint in new]
    if count_errors:
        unread = unread_scopes(result)
        failing += [f for f in result.findings if f.waiver is None and f.severity.at_least(threshold)
                    and (f.status is Status.ERROR
                         or (f.status is Status.UNKNOWN and f.resource_id.lower() in unread))]
    return failing


# Coverage gaps of these sources are values unknown before deployment, not failed reads.
_UNKNOWABLE_BY_NATURE = {"template", "terraform"}


def unread_scopes(result: ScanResult) -> set[str]:
    """Scopes (lower-case) where a read failed; their UNKNOWN findings are the coverage gaps."""
    return {r.scope.lower() for r in result.coverage if r.source not in _UNKNOWABLE_BY_NATURE}


def gate_message(failures: list[Finding], threshold: str) -> str:
    """The one line the pipeline log shows when the gate fails."""
    errors = sum(1 for f in failures if f.status is Status.ERROR)
    unread = sum(1 for f in failures if f.status is Status.UNKNOWN)
    fails = len(failures) - errors - unread
    if not errors and not unread:
        return f"gate failed: {fails} FAIL finding(s) at or above {threshold}"
    parts = [f"{fails} FAIL", f"{errors} ERROR"] + ([f"{unread} UNKNOWN (a read failed)"] if unread else [])
    return (f"gate failed: {' and '.join(parts)} finding(s) at or above {threshold} "
            "(ERROR: the data could not be judged; --no-fail-on-error leaves those out of the gate)")


def print_gate_notes(result: ScanResult) -> None:
    """Waiver and baseline news, on stderr so it shows in CI logs next to the gate verdict."""
    if result.waivers is not None:
        applied = sum(item["findings"] for item in result.waivers["applied"])
        click.echo(f"waivers: {applied} finding(s) waived by {len(result.waivers['applied'])} waiver(s)", err=True)
        for kind in ("expired", "stale"):
            for item in result.waivers[kind]:
                why = "expired on " + item["expires"] if kind == "expired" else "matches no open finding"
                click.echo(safe_text(f"waiver {kind}: {item['location']}: {item['rule']} on {item['resource']} ({why})",
                                     limit=None), err=True)
    if result.baseline is not None:
        baseline = result.baseline
        click.echo(f"baseline {baseline['file']}: {len(baseline['new'])} new FAIL finding(s), "
                   f"{len(baseline['fixed'])} fixed", err=True)
        for item in baseline["fixed"]:
            click.echo(f"fixed: {safe_text(item['rule_id'])} on {safe_text(item['resource_id'])}", err=True)
