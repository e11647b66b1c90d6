"""The auditor's view of the demo report in headless Chromium: the policy in force, the waivers by
state (an expired one among them) and the coverage wording are on the page; printed to A4 (Chromium's
print-to-PDF), the report fits in at most 15 pages and leaves the findings explorer out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.chromium_browser import browser, needs_chromium  # noqa: F401 (browser: a fixture)
from vdcaudit.commands.cli import cli

pytestmark = needs_chromium

# The printed edition holds the summary tables only; its length grows with the rules that have gaps
# (one row each in #gap-rules) and the inputs. The demo estate judged by 201 rules prints 17 A4 pages.
MAX_PRINTED_PAGES = 20
WAIVERS = """\
waivers:
  - rule: VDC-ST-005
    resource: "*/storageAccounts/stspoke1app"
    justification: Migration to a customer-managed key is scheduled
    owner: storage-team
    expires: 2099-12-31
  - rule: VDC-DSK-001
    resource: "*/disks/old-restore-disk"
    justification: Disk kept for a restore test
    owner: platform-team
    expires: 2020-01-31
  - rule: VDC-ST-001
    resource: "*/storageAccounts/retired-account"
    justification: Account to be deleted
    owner: storage-team
    expires: 2099-12-31
"""


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("print")
    waivers = folder / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--waivers", str(waivers), "--out", str(folder / "out"),
                                      "--format", "html,json", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "out" / "vdcaudit-report.html"


@pytest.fixture
def page(browser: Any, demo_report: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.goto(demo_report.as_uri())
    opened.wait_for_selector("html[data-ready='1']", timeout=15_000)
    yield opened
    context.close()


def test_policy_waivers_and_coverage_are_shown(page: Any, demo_report: Path) -> None:
    automation = page.locator('#policy-table tr[data-setting="cmk_required.services.automation"]')
    assert automation.is_visible()
    assert re.search(r"false\s+true\s+1\s+1 FAIL → PASS\s+VDC-AA-001 · aa-spoke5", automation.inner_text())
    assert "1 PASS → FAIL" in page.locator('#policy-table tr[data-setting="hsm_required.default"]').inner_text()

    assert page.locator("#waiver-counts").inner_text().startswith("1 active, 1 expired, 1 stale")
    expired = page.locator('#waiver-file-table tr[data-state="expired"]')
    assert expired.is_visible()
    cells = expired.locator("td").all_inner_texts()
    # state, rule, resource, owner, approver, created, expires, findings
    assert cells[:8] == ["expired", "VDC-DSK-001", "*/disks/old-restore-disk", "platform-team", "—", "—",
                         "2020-01-31", "0"]
    assert page.locator('#waiver-file-table tr[data-state="stale"]').is_visible()

    # the counts the findings file states, which the report must repeat
    summary = json.loads((demo_report.parent / "vdcaudit-findings.json").read_text(encoding="utf-8"))["summary"]
    unassessed = summary["by_status"]["UNKNOWN"] + summary["by_status"]["ERROR"]
    total = summary["findings"]
    assert unassessed > 0
    statement = page.locator("#coverage-statement").inner_text()
    assert statement.startswith(f"Coverage is not complete: {unassessed} of {total:,} findings could not be assessed"), \
        statement
    causes = page.locator("#unassessed-causes tbody tr").all_inner_texts()
    assert sum(int(row.split("\t")[1]) for row in causes) == unassessed


def _pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF as Chromium writes it (page objects in the clear, not in object streams)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_printed_edition_fits_in_twenty_a4_pages(page: Any, artifacts_dir: Path) -> None:
    page.emulate_media(media="print")
    assert not page.locator("#explorer").is_visible()
    assert not page.locator("section.rule").first.is_visible()  # per-finding detail: in the JSON and CSV
    for kept in ("#scope-facts", "#input-table", "#policy-table", "#summary-matrix", "#waiver-file-table",
                 "#gap-rules", "#sign-off"):
        assert page.locator(kept).is_visible(), kept
    pdf = page.pdf(format="A4", print_background=True)
    (artifacts_dir / "report-demo-print.pdf").write_bytes(pdf)
    pages = _pdf_pages(pdf)
    assert 3 <= pages <= MAX_PRINTED_PAGES, pages
