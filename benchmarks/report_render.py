"""Benchmark: render every report format for a scan with N synthetic findings (default 100,000)
and open the HTML in Chromium.

Prints render time and size per format, and the HTML's time to interactive: from navigation
start until the findings explorer has parsed the data and drawn its first page (the script sets
<html data-ready="1">), plus the time a search over all findings takes.

    python benchmarks/report_render.py [--findings 100000] [--out reports/bench]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vdcaudit.model import Finding, Status, Waiver
from vdcaudit.reports import RENDERERS
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult
from vdcaudit.summary import summarize

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def synthetic(count: int) -> ScanResult:
    """A tenant of 200 subscriptions x 20 resource groups; outcomes roughly as in a real estate
    (mostly PASS, a third FAIL, some UNKNOWN), 1 in 20 failures waived."""
    rng = random.Random(1)
    rules = load_rules()
    outcomes = [Status.PASS] * 6 + [Status.FAIL] * 3 + [Status.UNKNOWN]
    findings = []
    for i in range(count):
        rule = rules[i % len(rules)]
        sub = f"{i % 200:08x}-0000-4000-8000-000000000000"
        rg = f"rg-app-{i % 20:02d}"
        name = f"{rule.resource_type.rsplit('/', 1)[-1].lower()}-{i:06d}"
        status = outcomes[rng.randrange(len(outcomes))]
        waiver = (Waiver(rule.id, name, "migration to CMK planned", "sec-team", "2027-06-30")
                  if status is Status.FAIL and i % 20 == 0 else None)
        findings.append(Finding(
            rule_id=rule.id, title=rule.title,
            resource_id=f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rule.resource_type}/{name}",
            resource_name=name, resource_type=rule.resource_type, status=status, severity=rule.severity,
            category=rule.category, message=f"{status.value}: {rule.title}",
            evidence={path: "TLS1_0" for path in rule.evidence[:2]}, source="azure",
            subscription=sub, resource_group=rg, waiver=waiver))
    findings.sort(key=lambda f: (f.rule_id, f.resource_id.lower()))
    started = datetime.now(timezone.utc)
    return ScanResult(started=started, finished=started + timedelta(minutes=3),
                      sources=[{"kind": "azure", "location": "synthetic", "resources": count}],
                      rules=rules, findings=findings, coverage=[],
                      summary=summarize(findings, {}, count))


def browser_timings(html: Path) -> tuple[float, float, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(html.resolve().as_uri(), timeout=120_000)  # --out is usually relative (reports/bench)
        page.wait_for_selector("html[data-ready='1']", timeout=120_000)
        interactive = page.evaluate("performance.now()")
        started = time.perf_counter()
        page.fill("#fx-search", "000042")
        page.wait_for_function("document.getElementById('fx-count').textContent.indexOf('of 100000') < 0")
        search = (time.perf_counter() - started) * 1000
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        browser.close()
    return interactive, search, nodes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = synthetic(args.findings)
    print(f"synthetic scan: {args.findings:,} findings built in {time.perf_counter() - started:.1f} s")
    for name, renderer in RENDERERS.items():
        started = time.perf_counter()
        content = renderer.render(result)
        elapsed = time.perf_counter() - started
        (args.out / renderer.filename).write_bytes(content)
        print(f"{name:6} render {elapsed:6.2f} s  size {len(content) / 1e6:8.2f} MB  {renderer.filename}")
    html = args.out / RENDERERS["html"].filename
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} missing: no browser timings")
        return 0
    interactive, search, nodes = browser_timings(html)
    print(f"html   time to interactive {interactive / 1000:.2f} s (navigation start to first page of the explorer)")
    print(f"html   search over all findings {search:.0f} ms; DOM elements {nodes:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
