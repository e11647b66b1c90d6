"""The report's "Since the last scan" section and the history site in headless Chromium: no console
errors, no request beyond the file itself (the CSP forbids them), links that land on findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.chromium_browser import browser, needs_chromium  # noqa: F401 (browser: a fixture)
from vdcaudit.commands.cli import cli

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def history_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history-browser")
    target = str(folder / "h.db")
    for day, flag in (("day1", "--demo"), ("day2", "--demo-next")):
        result = CliRunner().invoke(cli, ["scan", flag, "--out", str(folder / day), "--history", target, "--quiet"])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["history", "site", "--history", target, "--out", str(folder / "site")])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def page_opener(history_files: Path, browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_(relative: str, ready: str = "body") -> tuple[Any, list[str], list[str]]:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        # navigation between the site's own files only: nothing from the network
        page.on("request", lambda r: not r.url.startswith(history_files.as_uri()) and requests.append(r.url))
        page.goto((history_files / relative).as_uri())
        page.wait_for_selector(ready, timeout=15_000)
        return page, problems, requests

    yield open_
    for context in contexts:
        context.close()


def test_report_section_links_into_the_findings(page_opener: Any) -> None:
    page, problems, requests = page_opener("day2/vdcaudit-report.html", "html[data-ready='1']")
    section = page.locator("#section-history")
    assert section.locator("h2").inner_text() == "Since the last scan"
    # right after the executive summary: the next section heading after the summary's is this one
    headings = page.eval_on_selector_all("main h2", "hs => hs.map(h => h.id || h.closest('[id]').id)")
    assert headings[headings.index("summary") + 1] == "since-last-scan", headings
    assert section.locator("svg").is_visible()
    assert section.locator("svg polyline.trend-score").count() == 1
    link = section.locator("#changes-regressed a").first
    assert link.inner_text() == "sb-spoke2-orders"
    link.click()
    fingerprint = link.get_attribute("href").removeprefix("#finding-")
    target = page.locator(f"[id='finding-{fingerprint}']")
    assert target.is_visible() and target.evaluate("el => el.matches(':target') || el.classList.contains('target')")
    assert problems == [] and requests == []


def test_site_index_and_scan_pages_open_offline(page_opener: Any) -> None:
    page, problems, requests = page_opener("site/index.html")
    assert page.locator("table.history-scans tbody tr").count() == 2
    assert page.locator("svg circle").count() >= 8  # 2 scans x (3 categories + score)
    page.locator("a[href='scan-2.html']").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Scan #2"
    assert page.locator("#changes-new tbody tr").count() == 5
    page.locator("#changes-regressed a").first.click()  # into the scan's own report
    page.wait_for_selector("html[data-ready='1']")
    assert page.url.split("#")[0].endswith("scan-2-report.html")
    fingerprint = page.url.split("#finding-")[1]
    assert page.locator(f"[id='finding-{fingerprint}']").is_visible()
    assert problems == [] and requests == []
