"""The HTML report: one self-contained file (inline CSS, no external requests), autoescaped."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from vdcaudit.model import CATEGORY_ORDER, SEVERITY_ORDER, Status
from vdcaudit.resources import data_path
from vdcaudit.scan import ScanResult


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(data_path("templates"))),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["evidence_value"] = _evidence_value
    return env


def _evidence_value(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def render_html(result: ScanResult) -> bytes:
    template = _environment().get_template("report.html.j2")
    html = template.render(
        result=result, summary=result.summary, rules={r.id: r for r in result.rules},
        categories=[c.value for c in CATEGORY_ORDER], severities=[s.value for s in SEVERITY_ORDER],
        statuses=[s.value for s in Status],
    )
    return html.encode("utf-8")
