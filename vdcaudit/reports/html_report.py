"""The auditor's HTML report: one self-contained file.

- Jinja2 with autoescape on for everything; the only unescaped insertions are the stylesheet and
  script shipped with vdcaudit, the findings data (gzip'd JSON in base64) and the subscription
  rows (JSON escaped for a <script> block).
- A Content-Security-Policy meta tag allows nothing but that one stylesheet and that one script,
  by sha256 hash (no 'unsafe-inline'), and no network access of any kind (default-src 'none').
- Summaries and gap views are rendered on the server (readable without JavaScript and in print);
  the complete list of findings is embedded as JSON and shown a page at a time by the script.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any, BinaryIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vdcaudit.config import POLICY_DEFAULTS
from vdcaudit.history.diff import CHANGE_LABELS
from vdcaudit.io.jsonout import dumps, script_safe
from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, STATUS_ORDER, Finding, Status
from vdcaudit.provenance import shown_location
from vdcaudit.reports.common import rulepack_version, scan_scope, unassessed_causes
from vdcaudit.reports.evidence import evidence_value, visible
from vdcaudit.reports.views import (
    CARDS_PER_RULE, COLUMNS, FRAMEWORK_LABELS, POLICY_LISTED, SOURCES_LISTED, SUBSCRIPTIONS_PER_PAGE, ReportView, build_view, waiver_rows,
)
from vdcaudit.resources import data_path
from vdcaudit.scan import ScanResult

# Stands in for the findings data while the template renders; the data (tens of MB at 100,000
# findings) is written beside the template's output as bytes, never copied into a str.
_DATA_MARK = "<!--vdcaudit:explorer-data-->"  # a raw "<": no escaped inventory value can hold it


def script_json(value: Any) -> bytes:
    """JSON that can sit inside <script type="application/json"> whatever strings it holds."""
    return script_safe(dumps(value))


def packed_json(value: Any) -> bytes:
    """The value as gzip'd JSON in base64, for the findings data block: about a tenth of the bytes
    of the JSON (a 100,000-resource report opens in a fraction of the time) and, being base64,
    nothing in it can end or confuse the <script> element. report.js decompresses it with the
    browser's DecompressionStream. Level 1: most of the size gain for little of the time."""
    return base64.b64encode(gzip.compress(dumps(value), compresslevel=1, mtime=0))


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(data_path("templates"))),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    # Every value printed into the page: control characters from resource data made visible
    # (autoescape then escapes markup); the shipped stylesheet and script (Markup) pass as they are.
    env.finalize = lambda value: visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value
    env.filters["evidence_value"] = evidence_value
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["shown_location"] = shown_location
    env.globals["change_labels"] = CHANGE_LABELS  # the history tables' columns (vdcaudit.history.diff)
    return env


class _Strings:
    """Interns repeated strings (types, subscriptions, messages) so 100,000 findings stay compact."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str | None) -> int:
        if value is None:
            return -1
        if value not in self._index:
            self._index[value] = len(self.values)
            self.values.append(value)
        return self._index[value]


def _explorer_order(finding: Finding) -> tuple[Any, ...]:
    return (finding.waiver is not None, STATUS_ORDER.index(finding.status), finding.severity.rank,
            finding.rule_id, finding.resource_name.lower())


def _shown(location: dict[str, Any] | None) -> dict[str, Any] | None:
    """A finding's place in its template or plan, with the file relative to where the scan ran."""
    if not location:
        return None
    file = location.get("file")
    return {**location, "file": shown_location(file)} if isinstance(file, str) else location


def explorer_data(result: ScanResult) -> dict[str, Any]:
    """The findings for the script, one array per finding (layout mirrored in report.js)."""
    rule_index = {rule.id: i for i, rule in enumerate(result.rules)}
    strings = _Strings()
    rows = []
    for f in sorted(result.findings, key=_explorer_order):
        waiver = None
        if f.waiver is not None:
            waiver = {"owner": f.waiver.owner, "justification": f.waiver.justification, "expires": f.waiver.expires}
        rows.append([
            f.fingerprint, rule_index[f.rule_id], f.status.value, f.severity.value, f.category.value,
            f.resource_name, strings(f.resource_type), f.resource_id, strings(f.subscription),
            strings(f.resource_group), strings(f.message), f.evidence or None, waiver, strings(f.source),
            _shown(f.location),
        ])
    rules = [{"id": r.id, "title": r.title, "rationale": r.rationale, "remediation": r.remediation}
             for r in result.rules]
    return {"strings": strings.values, "rules": rules, "findings": rows}


def _subscription_rows(view: ReportView) -> Markup | None:
    """Every row of the subscription table for the script's pager (layout mirrored in report.js),
    or None when the server-rendered first page holds them all."""
    if len(view.subscriptions) <= SUBSCRIPTIONS_PER_PAGE:
        return None
    rows = [[row.subscription, [row.counts[c] for c in COLUMNS], row.score,
             [[group.name, [group.counts[c] for c in COLUMNS]] for group in row.groups], row.more_groups]
            for row in view.subscriptions]
    return Markup(script_json(rows).decode("utf-8"))


def write_html(result: ScanResult, stream: BinaryIO) -> None:
    env = _environment()
    templates = data_path("templates")
    stylesheet = (templates / "report.css").read_text(encoding="utf-8")
    script = (templates / "report.js").read_text(encoding="utf-8")
    csp = ("default-src 'none'; "
           f"script-src {csp_hash(script)}; style-src {csp_hash(stylesheet)}; img-src data:; "
           "connect-src 'none'; font-src 'none'; object-src 'none'; frame-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    section_templates = {name: f"_section_{name}.html.j2" for name in result.sections
                         if (templates / f"_section_{name}.html.j2").is_file()}
    view = build_view(result)
    html = env.get_template("report.html.j2").render(
        result=result, summary=result.summary, view=view, subscriptions_per_page=SUBSCRIPTIONS_PER_PAGE,
        subscription_rows=_subscription_rows(view), scope=scan_scope(result),
        rulepack=rulepack_version(result.rules), rules={r.id: r for r in result.rules},
        categories=[c.value for c in CATEGORY_ORDER], severities=[s.value for s in SEVERITY_ORDER],
        statuses=[s.value for s in Status], columns=COLUMNS, framework_labels=FRAMEWORK_LABELS,
        section_templates=section_templates, csp=csp, cards_per_rule=CARDS_PER_RULE,
        policy=result.policy, policy_listed=POLICY_LISTED, sources_listed=SOURCES_LISTED, policy_defaults=POLICY_DEFAULTS, waiver_rows=waiver_rows(result.waivers),
        causes=unassessed_causes(result), report=result.report, inputs=result.inputs,
        stylesheet=Markup(stylesheet), script=Markup(script),
        data=Markup(_DATA_MARK),
    )
    before, mark, after = html.partition(_DATA_MARK)
    if not mark:
        raise RuntimeError("report template lost the findings data placeholder")
    stream.write(before.encode("utf-8"))
    stream.write(packed_json(explorer_data(result)))
    stream.write(after.encode("utf-8"))
