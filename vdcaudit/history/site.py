"""`vdcaudit history site`: a static site of the history — an index of the scans with the trend of
each scope, and per scan a page (what changed since the scan before it, open FAILs by age, fixes)
plus the scan's own HTML report when it wrote one. No script, no network: the pages carry the same
Content-Security-Policy as the report and open from a file, an artifact or any static host."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from markupsafe import Markup

from vdcaudit.errors import InputError
from vdcaudit.history.diff import diff
from vdcaudit.history.records import ScanRecord
from vdcaudit.history.store import History, ScanRow
from vdcaudit.history.view import MTTF_DAYS, diff_view, open_fails, trend_point
from vdcaudit.reports.html_report import _environment, csp_hash
from vdcaudit.resources import data_path


def _page_csp(stylesheet: str) -> str:
    return (f"default-src 'none'; script-src 'none'; style-src {csp_hash(stylesheet)}; img-src data:; "
            "connect-src 'none'; font-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")


def report_name(scan_id: int) -> str:
    return f"scan-{scan_id}-report.html"


def page_name(scan_id: int) -> str:
    return f"scan-{scan_id}.html"


def build_site(store: History, out_dir: Path, limit: int, now: datetime) -> int:
    """Everything is written to a new folder first and moved into place at the end: a failure
    leaves the previous site as it was."""
    env = _environment()
    stylesheet = (data_path("templates") / "report.css").read_text(encoding="utf-8")
    rows = store.scans(limit=limit)
    by_scope: dict[str, list[ScanRow]] = {}
    for row in rows:
        by_scope.setdefault(row.scope, []).append(row)
    # The site is published: it names the scopes it shows, never where the history is kept (a
    # database URL names a host, a user and a database).
    common = {"stylesheet": Markup(stylesheet), "csp": _page_csp(stylesheet), "scope_names": list(by_scope)}
    out_dir = out_dir.resolve()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as exc:
        raise InputError(f"cannot write the site: {exc.strerror or exc}", out_dir) from None
    try:
        pages = 0
        scope_views = []
        for scope, scope_rows in by_scope.items():
            oldest_first = list(reversed(scope_rows))
            before: ScanRecord | None = None
            previous = store.previous(oldest_first[0].id)
            if previous is not None:
                before = store.load(previous)
            for row in oldest_first:
                after = store.load(row.id)
                report = store.report_html(row.id)
                if report is not None:
                    (staging / report_name(row.id)).write_bytes(report)
                    pages += 1
                page = env.get_template("history_scan.html.j2").render(
                    **common, scan=row, diff=diff_view(diff(before, after)) if before else None,
                    open=open_fails(after, after.started), fixed=len(store.fixed_in(row.id)),
                    report=report_name(row.id) if report is not None else None)
                (staging / page_name(row.id)).write_text(page, encoding="utf-8")
                pages += 1
                before = after
            scope_views.append({"scope": scope, "rows": scope_rows, "trend": [trend_point(r) for r in oldest_first],
                                "mttf": {"days": MTTF_DAYS, "by_severity": store.mean_time_to_fix(
                                    scope, now - timedelta(days=MTTF_DAYS))}})
        index = env.get_template("history_index.html.j2").render(
            **common, scopes=scope_views, generated=now, page_name=page_name, report_name=report_name)
        (staging / "index.html").write_text(index, encoding="utf-8")
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return pages + 1


def _swap(staging: Path, out_dir: Path) -> None:
    os.chmod(staging, 0o755)
    try:
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except OSError as exc:
        raise InputError(f"cannot write the site: {exc.strerror or exc}", out_dir) from None
