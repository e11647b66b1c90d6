"""`vdcaudit history ...`: list, show, diff, prune the scan history and build its static site."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from vdcaudit.console import console
from vdcaudit.errors import InputError
from vdcaudit.history.diff import CLASSES, diff
from vdcaudit.history.records import read_findings_file
from vdcaudit.history.recording import HISTORY_ENV, history_option
from vdcaudit.history.view import LISTED_CLASSES, diff_view, open_fails

if TYPE_CHECKING:  # the database layer loads when a history command runs, not with every scan
    from vdcaudit.history.store import History, ScanRow

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def _open(target: str | None) -> History:
    from vdcaudit.history.store import History

    if not target:
        raise click.UsageError(f"give --history DB_OR_URL (or set {HISTORY_ENV})")
    return History(target)


def _print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@click.group()
def history() -> None:
    """The scan history kept with --history: list, show, diff, prune, and a static site."""


def scan_row_json(row: ScanRow) -> dict[str, Any]:
    return {"id": row.id, "scope": row.scope, "started": row.started.isoformat(), "finished": row.finished.isoformat(),
            "tool_version": row.tool_version, "rulepack": row.rulepack, "score": row.score, "counts": row.counts}


@history.command("list")
@history_option
@click.option("--scope", help="Only scans of this scope.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Newest N scans.")
@_json_option
def list_scans(history: str | None, scope: str | None, limit: int, as_json: bool) -> None:
    """Recorded scans, newest first: time, scope, counts and score."""
    with _open(history) as store:
        rows = store.scans(scope=scope, limit=limit)
    if as_json:
        _print_json([scan_row_json(row) for row in rows])
        return
    table = Table(title=f"{len(rows)} scan(s) in {store.shown}")
    for column in ("scan", "started (UTC)", "scope", "findings", "FAIL", "UNKNOWN", "ERROR", "waived", "score", "rule pack"):
        table.add_column(column, justify="right" if column in ("scan", "findings", "FAIL", "UNKNOWN", "ERROR", "waived", "score") else "left")
    for row in rows:
        by_status = row.counts.get("by_status", {})
        table.add_row(str(row.id), _when(row.started), row.scope, str(row.counts.get("findings", 0)),
                      str(by_status.get("FAIL", 0)), str(by_status.get("UNKNOWN", 0)), str(by_status.get("ERROR", 0)),
                      str(row.counts.get("waived", 0)), "-" if row.score is None else f"{row.score}%", row.rulepack)
    console().print(table)


@history.command("show")
@history_option
@click.argument("scan", default="latest")
@_json_option
def show(history: str | None, scan: str, as_json: bool) -> None:
    """One scan (a number from `history list`, latest, or latest~N): counts, open FAILs with how long
    each has been open, and the findings it found fixed."""
    with _open(history) as store:
        scan_id = store.resolve(scan)
        record = store.load(scan_id)
        fixed = store.fixed_in(scan_id)
    counts = record.counts()
    oldest, total = open_fails(record, record.started)
    subjects = {f.fingerprint: f for f in record.findings}
    fixed_rows = [{"fingerprint": fp, "rule_id": subjects[fp].rule_id, "resource_id": subjects[fp].resource_id,
                   "first_seen": first.isoformat(), "fixed_at": at.isoformat()}
                  for fp, (first, at) in fixed.items() if fp in subjects]
    if as_json:
        _print_json({"id": scan_id, "scope": record.scope, "started": record.started.isoformat(),
                     "finished": record.finished.isoformat(), "rulepack": record.rulepack, "tool_version": record.tool_version,
                     "sources": record.sources, "coverage": record.coverage, "counts": counts,
                     "open_fails": oldest, "open_fails_total": total, "fixed": fixed_rows})
        return
    out = console()
    by_status = counts["by_status"]
    out.print(f"scan #{scan_id}  {_when(record.started)} UTC  scope {record.scope}  rule pack {record.rulepack}")
    out.print("  ".join(f"{status} {n}" for status, n in by_status.items()) + f"  waived {counts['waived']}  score "
              + ("-" if counts["score"] is None else f"{counts['score']}%"))
    if record.coverage:
        out.print(f"coverage gaps: {len(record.coverage)}")
    table = Table(title=f"open FAILs, longest open first ({len(oldest)} of {total})")
    for column in ("open (days)", "since", "severity", "rule", "resource"):
        table.add_column(column)
    for f in oldest:
        table.add_row(str(f["open_days"]), f["first_seen"][:10], f["severity"], f["rule_id"], f["resource_name"])
    out.print(table)
    if fixed_rows:
        out.print(f"fixed in this scan: {len(fixed_rows)}")


def _is_file(reference: str | None) -> bool:
    return reference is not None and (reference.lower().endswith(".json") or Path(reference).is_file())


@history.command("diff")
@history_option
@click.argument("earlier", required=False)
@click.argument("later", required=False)
@_json_option
def diff_command(history: str | None, earlier: str | None, later: str | None, as_json: bool) -> None:
    """What changed between two scans. Without arguments: the last two scans of the latest scan's
    scope; one scan: it and the scan before it in its scope; or two vdcaudit-findings.json files."""
    if _is_file(earlier) or _is_file(later):
        if not (earlier and later and _is_file(earlier) and _is_file(later)):
            raise click.UsageError("give two findings files (or two scans of the history)")
        before, after = read_findings_file(Path(earlier)), read_findings_file(Path(later))
    else:
        with _open(history) as store:
            if later is None:
                after_id = store.resolve(earlier or "latest")
                before_id = store.previous(after_id)
                if before_id is None:
                    raise InputError(f"scan #{after_id} is the first of its scope: nothing to compare with", store.shown)
            else:
                before_id, after_id = store.resolve(earlier or "latest"), store.resolve(later)
            before, after = store.load(before_id), store.load(after_id)
    view = diff_view(diff(before, after))
    if as_json:
        _print_json(view)
        return
    print_diff(view)


def print_diff(view: dict[str, Any]) -> None:
    out = console()
    out.print(f"{view['before']['label']} ({view['before']['started'][:16]}) → {view['after']['label']} "
              f"({view['after']['started'][:16]})")
    if view["before"]["scope"] != view["after"]["scope"]:
        out.print(f"[bold]note:[/bold] different scopes: {view['before']['scope']} / {view['after']['scope']}")
    if view["rulepack_changed"]:
        out.print(f"[bold]rule pack changed:[/bold] {view['rulepack_changed']['before']} → {view['rulepack_changed']['after']}")
    out.print("  ".join(f"{kind.replace('_', ' ')} {view['counts'][kind]}" for kind in CLASSES))
    for gap in view["new_coverage_gaps"]:
        out.print(f"new coverage gap: {gap.get('scope')} {gap.get('resource_type') or 'everything'}: {gap.get('reason')}")
    for kind in LISTED_CLASSES:
        changes = view["changes"][kind]
        if not changes:
            continue
        table = Table(title=f"{kind.replace('_', ' ')} ({view['counts'][kind]})")
        for column in ("severity", "rule", "resource", "before", "now"):
            table.add_column(column)
        for c in changes:
            table.add_row(c["severity"], c["rule_id"], c["resource_name"], c["before"] or "absent", c["after"] or "absent")
        out.print(table)
        if view["more"][kind]:
            out.print(f"and {view['more'][kind]} more (--json lists {kind} in full)")


_DURATION = re.compile(r"^\s*(\d+)\s*([dhw])\s*$", re.IGNORECASE)


def parse_age(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    match = _DURATION.match(value)
    if not match:
        raise click.BadParameter("give a number and a unit: 180d, 12w or 36h")
    number, unit = int(match.group(1)), match.group(2).lower()
    return {"d": timedelta(days=number), "h": timedelta(hours=number), "w": timedelta(weeks=number)}[unit]


@history.command("prune")
@history_option
@click.option("--keep", type=click.IntRange(min=1), help="Keep the newest N scans of each scope.")
@click.option("--older-than", callback=parse_age, metavar="AGE", help="Delete scans started more than AGE ago (180d, 12w, 36h).")
def prune(history: str | None, keep: int | None, older_than: timedelta | None) -> None:
    """Delete old scans (and the findings only they held)."""
    if keep is None and older_than is None:
        raise click.UsageError("give --keep N or --older-than AGE")
    with _open(history) as store:
        deleted = store.prune(keep=keep, older_than=older_than)
    click.echo(f"deleted {deleted} scan(s) from {store.shown}")


@history.command("site")
@history_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("site"), show_default=True)
@click.option("--scans", "limit", type=click.IntRange(min=1), default=365, show_default=True,
              help="Newest N scans to publish.")
def site(history: str | None, out_dir: Path, limit: int) -> None:
    """Write a static site: an index of scans with the trend per scope, and a page (plus the HTML
    report, when the scan wrote one) for each scan. Works offline from any static host."""
    from vdcaudit.history.site import build_site

    with _open(history) as store:
        written = build_site(store, out_dir, limit, now=datetime.now(timezone.utc))
    click.echo(f"wrote {written} page(s) to {out_dir}")
