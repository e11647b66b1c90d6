"""The HTML report in a real browser: the system Chromium driven by Playwright."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vdcaudit.reports import RENDERERS
from vdcaudit.reports.json_report import head
from tests.chromium_browser import browser, needs_chromium  # noqa: F401 (browser: a fixture)
from tests.reports.report_data import synthetic_result
from vdcaudit.scan import ScanResult

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory, demo_result: ScanResult, waived_result: ScanResult,
                 hostile_result: ScanResult, many_subscriptions: ScanResult) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("html")
    files = {}
    for name, result in (("demo", demo_result), ("waived", waived_result), ("hostile", hostile_result),
                         ("many", many_subscriptions)):
        files[name] = folder / f"{name}.html"
        files[name].write_bytes(RENDERERS["html"].render(result))
    return files


@pytest.fixture(scope="module")
def many_subscriptions() -> ScanResult:
    """More subscriptions than the HTML renders on one page, with hostile resource group names."""
    return synthetic_result(1300, hostile=True, subscriptions=130)


@dataclass
class Opened:
    page: Any
    problems: list[str] = field(default_factory=list)  # console errors/warnings, page errors, dialogs
    requests: list[str] = field(default_factory=list)  # anything but the report file itself


@pytest.fixture
def open_report(browser: Any, report_files: dict[str, Path]) -> Iterator[Any]:
    contexts = []

    def open_(name: str, fragment: str = "") -> Opened:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        url = report_files[name].as_uri()
        opened = Opened(page)
        page.on("console", lambda m: m.type in ("error", "warning") and opened.problems.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: opened.problems.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (opened.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("request", lambda r: r.url != url and opened.requests.append(r.url))
        page.goto(url + fragment)
        page.wait_for_selector("html[data-ready='1']", timeout=15_000)
        return opened

    yield open_
    for context in contexts:
        context.close()


def _rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#fx-table tbody tr.row",
        "rows => rows.map(r => ({status: r.dataset.status, fp: r.dataset.fp, text: r.innerText}))")


def _expected_matrix(result: ScanResult) -> dict[tuple[str, str], int]:
    """Category x column counted from the findings themselves (not from the summary the page
    renders): a waived finding counts once, under "waived"; the rest under their status."""
    expected = {(c, s): 0 for c in ("at-rest", "in-transit", "key-management")
                for s in ("PASS", "FAIL", "WARN", "UNKNOWN", "ERROR", "waived")}
    for finding in result.findings:
        column = "waived" if finding.waiver is not None else finding.status.value
        expected[(finding.category.value, column)] += 1
    return expected


def test_demo_report_loads_without_errors_or_requests(open_report: Any, artifacts_dir: Path) -> None:
    opened = open_report("demo")
    assert opened.problems == []
    assert opened.requests == []
    assert opened.page.locator("#fx-table tbody tr.row").count() > 0
    opened.page.screenshot(path=str(artifacts_dir / "report-demo-top.png"))
    opened.page.screenshot(path=str(artifacts_dir / "report-demo-full.png"), full_page=True)


@pytest.mark.parametrize(("name", "fixture"), [("demo", "demo_result"), ("waived", "waived_result")])
def test_matrix_numbers_equal_the_json_counts(name: str, fixture: str, open_report: Any,
                                              request: pytest.FixtureRequest) -> None:
    page = open_report(name).page
    shown = page.eval_on_selector_all(
        "#summary-matrix tbody td[data-status]",
        "cells => cells.map(c => [c.closest('tr').dataset.category, c.dataset.status, c.firstChild.textContent.trim()])")
    got = {(category, status): int(text.replace(",", "")) for category, status, text in shown}
    expected = _expected_matrix(request.getfixturevalue(fixture))
    assert got == expected
    assert sum(expected.values()) == len(request.getfixturevalue(fixture).findings)
    if name == "waived":
        assert any(n for (_, column), n in expected.items() if column == "waived")


def test_filters_change_the_visible_rows(open_report: Any, waived_result: ScanResult) -> None:
    page = open_report("waived").page
    assert page.locator("#fx-count").inner_text().endswith(f"of {len(waived_result.findings)} findings")
    page.select_option("#fx-status", "FAIL")
    fails = sum(1 for f in waived_result.findings if f.status.value == "FAIL" and not f.waiver)
    assert page.locator("#fx-count").inner_text().endswith(f"of {fails} findings")
    assert {r["status"] for r in _rows(page)} == {"FAIL"}
    page.select_option("#fx-severity", "medium")
    medium_fails = sum(1 for f in waived_result.findings
                       if f.status.value == "FAIL" and not f.waiver and f.severity.value == "medium")
    count = page.locator("#fx-count").inner_text()
    assert count.endswith(f"of {medium_fails} findings") if medium_fails else count == "no findings match"
    page.select_option("#fx-status", "waived")
    page.select_option("#fx-severity", "")
    assert {r["status"] for r in _rows(page)} == {"waived"}
    page.click("#fx-reset")
    assert len(_rows(page)) == 50
    page.click("#fx-next")
    assert page.locator("#fx-page").inner_text() == f"page 2 of {-(-len(waived_result.findings) // 50)}"


def test_search_finds_a_resource(open_report: Any, demo_result: ScanResult) -> None:
    page = open_report("demo").page
    # a resource whose name is not part of another's id (the search also finds a parent's children)
    ids = {f.resource_id.lower() for f in demo_result.findings}
    target = next(f for f in demo_result.findings if f.status.value == "PASS"
                  and not any(f.resource_name.lower() in i for i in ids - {f.resource_id.lower()}))
    page.fill("#fx-search", target.resource_name.upper())  # case-insensitive
    rows = _rows(page)
    assert rows and all(target.resource_name in r["text"] for r in rows)
    assert target.fingerprint in {r["fp"] for r in rows}
    page.fill("#fx-search", "no-such-resource-anywhere")
    assert _rows(page) == [] and page.locator("#fx-count").inner_text() == "no findings match"


def test_deep_links_open_the_finding(open_report: Any, demo_result: ScanResult) -> None:
    passed = next(f for f in demo_result.findings if f.status.value == "PASS")
    page = open_report("demo", f"#finding-{passed.fingerprint}").page
    row = page.locator(f"#finding-{passed.fingerprint}")
    assert row.is_visible() and "target" in row.get_attribute("class")
    assert passed.resource_id in page.locator("#fx-table tr.detail").inner_text()
    # A gap has a server-rendered card: the browser scrolls to it, :target highlights it.
    failed = next(f for f in demo_result.findings if f.status.value == "FAIL")
    page.evaluate(f"location.hash = '#finding-{failed.fingerprint}'")
    card = page.locator(f"article#finding-{failed.fingerprint}")
    assert card.is_visible() and card.evaluate("el => el.matches(':target')")
    assert page.locator(f"[id='finding-{failed.fingerprint}']").count() == 1


def test_hostile_names_and_tags_do_not_execute(open_report: Any, hostile_result: ScanResult) -> None:
    opened = open_report("hostile")
    page = opened.page
    page.fill("#fx-search", "<script>")
    page.locator("#fx-table tbody tr.row").first.click()  # open a detail: evidence and waiver text
    page.select_option("#fx-status", "waived")
    page.fill("#fx-search", "")
    page.locator("#fx-table tbody tr.row").first.click()
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert opened.problems == [] and opened.requests == []
    assert "<script>window.__xss='name'</script>" in page.locator("main").inner_text()
    assert page.locator("main img, main script, main [onerror], main [onmouseover]").count() == 0
    document = json.loads(gzip.decompress(base64.b64decode(page.locator("#vdc-data").text_content())))
    assert len(document["findings"]) == len(hostile_result.findings)


def test_subscription_table_is_paged_and_every_page_matches_the_summary(open_report: Any,
                                                                        many_subscriptions: ScanResult) -> None:
    opened = open_report("many")
    page = opened.page
    expected = many_subscriptions.summary["by_subscription"]
    seen: dict[str, str] = {}
    for number in range(3):  # 130 subscriptions, 50 a page
        rows = page.eval_on_selector_all(
            "#subscription-table tr.sub-row",
            "rows => rows.map(r => [r.dataset.subscription, r.cells[r.cells.length - 1].innerText])")
        assert len(rows) == (50 if number < 2 else 30)
        seen.update(dict(rows))
        if number < 2:
            page.click("[data-pager='subscription-table'] [data-step='1']")
    assert page.is_disabled("[data-pager='subscription-table'] [data-step='1']")
    assert set(seen) == set(expected)
    assert all(seen[s] == (f"{row['score']}%" if row["score"] is not None else "n/a") for s, row in expected.items())
    assert page.evaluate("window.__xss") is None
    assert not opened.problems and not opened.requests
