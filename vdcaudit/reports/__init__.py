"""Output formats. Each writer streams a ScanResult into one binary file; the CLI stages every
requested format beside its target and renames them only when every one was written."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from vdcaudit.reports.csv_report import write_csv
from vdcaudit.reports.html_report import write_html
from vdcaudit.reports.json_report import write_json
from vdcaudit.reports.junit_report import write_junit
from vdcaudit.reports.markdown_report import write_markdown
from vdcaudit.reports.sarif_report import write_sarif
from vdcaudit.scan import ScanResult


@dataclass(frozen=True)
class Renderer:
    filename: str
    write: Callable[[ScanResult, BinaryIO], None]

    def render(self, result: ScanResult) -> bytes:
        """The whole file in memory: for tests and small scans; the CLI streams to disk."""
        buffer = io.BytesIO()
        self.write(result, buffer)
        return buffer.getvalue()


RENDERERS: dict[str, Renderer] = {
    "json": Renderer("vdcaudit-findings.json", write_json),
    "html": Renderer("vdcaudit-report.html", write_html),
    "sarif": Renderer("vdcaudit.sarif", write_sarif),
    "junit": Renderer("vdcaudit-junit.xml", write_junit),
    "csv": Renderer("vdcaudit-findings.csv", write_csv),
    "md": Renderer("vdcaudit-summary.md", write_markdown),
}
