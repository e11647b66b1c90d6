"""What `scan` and `sdn` do with --history: record the scan (one transaction), give the report its
"since the last scan" section, keep the HTML report for the site, and notify webhooks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vdcaudit.errors import InputError
from vdcaudit.history.notify import Webhook, parse_webhook, send, should_notify
from vdcaudit.history.records import record_of
from vdcaudit.scan import ScanResult

if TYPE_CHECKING:  # the database layer (SQLAlchemy, Alembic: a third of a second) loads only with --history
    from vdcaudit.history.store import History

HISTORY_ENV = "VDCAUDIT_HISTORY"
SECTION = "history"


def history_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--history", "history", envvar=HISTORY_ENV, metavar="DB_OR_URL",
                        help=f"Scan history: a SQLite file (created on first use) or postgresql://user@host/db "
                             f"(env {HISTORY_ENV}, so a password need not be on the command line).")(command)


def _webhooks(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Webhook]:
    try:
        return [parse_webhook(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dataclass
class HistoryRequest:
    target: str | None
    scope: str | None = None
    webhooks: list[Webhook] = field(default_factory=list)
    report_url: str | None = None

    def check(self) -> None:
        if (self.webhooks or self.scope or self.report_url) and not self.target:
            raise click.UsageError("--history-scope, --notify-webhook and --report-url need --history DB_OR_URL")


def recording_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--history, --history-scope, --notify-webhook, --report-url, as one `history` argument."""
    options = [
        click.option("--history-scope", metavar="NAME",
                     help="Which scans this one is compared with (default: the kinds of source and the tenants "
                          "scanned). Name it when several scopes share a history, e.g. per management group."),
        click.option("--notify-webhook", "notify_webhook", multiple=True, callback=_webhooks, metavar="URL",
                     help="After recording, POST to this webhook when something changed for the worse (new or "
                          "regressed FAIL, lost coverage). Prefix teams+ or slack+ for those formats. Repeatable."),
        click.option("--report-url", metavar="URL", help="Where the HTML report will be published: linked from notifications."),
    ]
    for option in reversed(options):
        command = option(command)
    command = history_option(command)

    @functools.wraps(command)
    def wrapped(*args: Any, history: str | None, history_scope: str | None, notify_webhook: list[Webhook],
                report_url: str | None, **kwargs: Any) -> Any:
        request = HistoryRequest(history, history_scope, notify_webhook, report_url)
        request.check()
        return command(*args, history=request, **kwargs)

    return wrapped


@dataclass
class Recording:
    history: History
    scan_id: int
    view: dict[str, Any]
    request: HistoryRequest

    def after_reports(self, written: list[Path]) -> list[str]:
        """Keep the HTML report for the site and notify; returns the problems (never raises for a
        notification: the scan is already recorded)."""
        problems: list[str] = []
        html = [path for path in written if path.suffix == ".html"]
        if html:
            try:
                self.history.attach_report(self.scan_id, html[0].read_bytes())
            except (InputError, OSError) as exc:  # the findings are recorded; only the site loses this page
                problems.append(f"the HTML report was not kept in the history: {exc}")
        if self.request.webhooks and should_notify(self.view):
            problems += send(self.request.webhooks, self.view, self.request.report_url)
        self.history.close()
        return problems

    def summary(self) -> str:
        counts = self.view["counts"]
        if not self.view["before"]:
            return f"history: recorded scan #{self.scan_id} in {self.history.shown} (first of scope {self.view['scope']})"
        return (f"history: recorded scan #{self.scan_id} in {self.history.shown}; since scan #{self.view['before']['id']}: "
                f"{counts['new']} new FAIL, {counts['regressed']} regressed, {counts['lost_coverage']} lost coverage, "
                f"{counts['fixed']} fixed")


def record_scan(result: ScanResult, request: HistoryRequest) -> Recording:
    from vdcaudit.history.store import History
    from vdcaudit.history.view import since_last_scan

    history = History(request.target or "")
    recorded = history.record(record_of(result, request.scope))
    view = since_last_scan(history, recorded.diff)
    result.sections[SECTION] = view
    return Recording(history, recorded.scan_id, view, request)
