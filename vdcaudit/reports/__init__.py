"""Output formats. Each renderer turns a ScanResult into the bytes of one file; the CLI renders
all requested formats first and writes them only when every one succeeded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vdcaudit.reports.html_report import render_html
from vdcaudit.reports.json_report import render_json
from vdcaudit.scan import ScanResult


@dataclass(frozen=True)
class Renderer:
    filename: str
    render: Callable[[ScanResult], bytes]


RENDERERS: dict[str, Renderer] = {
    "json": Renderer("vdcaudit-findings.json", render_json),
    "html": Renderer("vdcaudit-report.html", render_html),
}
