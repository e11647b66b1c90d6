"""Output formats. Each renderer turns a ScanResult into the bytes of one file; the CLI renders
all requested formats first and writes them only when every one succeeded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vdcaudit.reports.csv_report import render_csv
from vdcaudit.reports.html_report import render_html
from vdcaudit.reports.json_report import render_json
from vdcaudit.reports.junit_report import render_junit
from vdcaudit.reports.markdown_report import render_markdown
from vdcaudit.reports.sarif_report import render_sarif
from vdcaudit.scan import ScanResult


@dataclass(frozen=True)
class Renderer:
    filename: str
    render: Callable[[ScanResult], bytes]


RENDERERS: dict[str, Renderer] = {
    "json": Renderer("vdcaudit-findings.json", render_json),
    "html": Renderer("vdcaudit-report.html", render_html),
    "sarif": Renderer("vdcaudit.sarif", render_sarif),
    "junit": Renderer("vdcaudit-junit.xml", render_junit),
    "csv": Renderer("vdcaudit-findings.csv", render_csv),
    "md": Renderer("vdcaudit-summary.md", render_markdown),
}
