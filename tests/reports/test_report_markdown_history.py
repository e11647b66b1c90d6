"""The Markdown summary carries the "since the last scan" view, as the HTML report does: from the same
section data (vdcaudit/history/view.py), within the PR-comment size limit whatever the history holds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.history.diff import CHANGE_LABELS
from vdcaudit.reports.markdown_report import HISTORY_ROWS, MAX_CHARS, render_markdown_text
from vdcaudit.reports.markdown_report import _history_lines

from tests.reports.report_data import synthetic_result


def _scan(*args: str) -> None:
    result = CliRunner().invoke(cli, ["scan", *args, "--format", "md,json", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_markdown_shows_what_changed_since_the_last_scan(tmp_path: Path) -> None:
    target = str(tmp_path / "history.db")
    _scan("--demo", "--out", str(tmp_path / "day1"), "--history", target)
    first = (tmp_path / "day1" / "vdcaudit-summary.md").read_text(encoding="utf-8")
    assert "### Since the last scan" in first and "The first scan of this scope" in first
    _scan("--demo-next", "--out", str(tmp_path / "day2"), "--history", target)
    text = (tmp_path / "day2" / "vdcaudit-summary.md").read_text(encoding="utf-8")
    section = json.loads((tmp_path / "day2" / "vdcaudit-findings.json").read_text(encoding="utf-8"))["sections"]["history"]
    assert "Compared with scan #1 of" in text
    counts_row = "| " + " | ".join(f"{section['counts'][k]:,}" for k in CHANGE_LABELS) + " |"
    assert counts_row in text  # the same counts the HTML section shows
    assert "| regressed | medium | `VDC-SB-001` | sb-spoke2-orders | PASS | FAIL |" in text
    assert "| fixed | high | `VDC-ST-002` | stspoke2datalake | FAIL | PASS |" in text
    assert "| lost coverage | medium | `VDC-SB-001` | sb-spoke2-legacy | FAIL | UNKNOWN |" in text
    assert f"Open FAILs, longest open first ({HISTORY_ROWS} of {section['open_fails_total']:,})" in text
    assert "Score over the last 2 scans:" in text
    # placed before the rest of the summary, so a truncated PR comment still shows it
    assert text.index("### Since the last scan") < text.index("### Open gaps")


def test_a_huge_history_section_keeps_the_summary_under_the_comment_limit() -> None:
    result = synthetic_result(20_000)
    change = {"fingerprint": "f" * 32, "rule_id": "VDC-ST-002", "title": "t", "severity": "high",
              "category": "in-transit", "resource_name": "n" * 200 + "|<script>", "resource_id": "/x",
              "status": "FAIL", "waived": False, "message": "m", "before": "PASS", "after": "FAIL", "first_seen": None}
    section = {
        "history": "postgresql://vdcaudit@db/history", "scope": "mg-prod", "scan": 40,
        "before": {"id": 39, "label": None, "started": "2026-11-28T23:00:00+00:00", "rulepack": "a", "scope": "mg-prod"},
        "rulepack_changed": None, "counts": {k: 5_000 for k in CHANGE_LABELS}, "alerting": True,
        "changes": {k: [copy.deepcopy(change) for _ in range(100)] for k in CHANGE_LABELS if k != "still_failing"},
        "more": {k: 4_900 for k in CHANGE_LABELS if k != "still_failing"},
        "new_coverage_gaps": [{"scope": f"sub-{i}", "resource_type": None, "reason": "403"} for i in range(50)],
        "open_fails": [{**change, "first_seen": "2026-01-01T00:00:00+00:00", "open_days": 332.9}] * 20,
        "open_fails_total": 5_000, "mean_time_to_fix": {"days": 90, "by_severity": {"high": {"fixed": 3, "mean_days": 4.5}}},
        "trend": [{"id": i, "started": "2026-11-01", "score": 50.0 + i, "open_fail": {}, "failing": 1} for i in range(30)],
    }
    result.sections["history"] = section
    text = render_markdown_text(result)
    assert len(text) <= MAX_CHARS
    lines = _history_lines(section)
    assert sum(len(line) + 1 for line in lines) < MAX_CHARS // 2
    assert "<script" not in text and "… and 50 more" not in text and "- … and 40 more" in text
    listed = sum(1 for line in lines if line.startswith("| ") and "VDC-ST-002" in line and "days" not in line) \
        - sum(1 for line in lines if line.startswith("| 332.9"))
    more = int(next(line for line in lines if "more changes" in line).split("and ")[1].split(" more")[0].replace(",", ""))
    assert listed + more == 5_000 * (len(CHANGE_LABELS) - 1)  # every change is listed or counted
