"""The scale benchmark (issue 15): one synthetic estate, every phase of a scan timed, min and median
of N runs, for the code this script sits in.

    python benchmarks/scale.py --resources 100000            # phases + end to end, 3 runs each
    python benchmarks/scale.py --resources 100000 --browser  # + the HTML report opened in Chromium
    python benchmarks/scale.py --resources 1000000 --runs 1 --skip-phases

Phases run in a fresh process per run (so one run's memory never helps or hurts the next):
read snapshot + build inventory, engine.run, summary, each format's writer (to a file). End to end
runs the real command line (`python -m vdcaudit scan --snapshot DIR`) once with `--format json` and
once with all six formats, and reads each run's peak RSS from the kernel (wait4's ru_maxrss).
The machine may be shared: the load average at start is printed beside the numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from estate import generate  # noqa: E402

FORMATS = ["json", "html", "sarif", "junit", "csv", "md"]
CHROMIUM = "/usr/bin/chromium"


def phases(snapshot: Path, out: Path) -> dict[str, float]:
    """One run of every in-process phase; seconds per phase. Runs in a child process."""
    import vdcaudit.scan as scan_module
    from vdcaudit.collectors.snapshot import load_snapshot
    from vdcaudit.config import load_config
    from vdcaudit.context import ScanContext
    from vdcaudit.inventory import Inventory
    from vdcaudit.commands.output import write_reports
    from vdcaudit.resources import data_path
    from vdcaudit.rulepack import load_rules

    timings: dict[str, float] = {}

    def timed(name: str, fn):  # wrap a function scan.scan calls, to time it inside the real scan
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    try:  # the command line pauses the cyclic garbage collector while it scans: so do the phases
        import vdcaudit.gcpause  # noqa: F401
        gc.disable()
    except ImportError:  # code from before it did
        pass
    scan_module.run = timed("engine.run", scan_module.run)
    scan_module.summarize = timed("summary", scan_module.summarize)
    rules = load_rules()
    started = time.perf_counter()
    inventory = Inventory()
    load_snapshot(snapshot, inventory)
    timings["read snapshot + build inventory"] = time.perf_counter() - started
    result = scan_module.scan(inventory, rules, ScanContext(config=load_config(data_path("demo") / "vdcaudit.yaml")))
    for name in FORMATS:
        started = time.perf_counter()
        written = write_reports(result, [name], out)
        timings[f"render {name}"] = time.perf_counter() - started
        timings[f"size {name} (MB)"] = sum(p.stat().st_size for p in written.paths) / 1e6
    timings["findings"] = len(result.findings)
    return timings


def end_to_end(snapshot: Path, out: Path, formats: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one real command-line scan."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "vdcaudit", "scan", "--snapshot", str(snapshot), "--out", str(out),
               "--format", ",".join(formats), "--quiet"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"scan failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024


def browser_load(html: Path) -> tuple[float, float, int]:
    """(seconds from navigation start to the load event, to the findings explorer's first page
    (the script sets <html data-ready="1">), DOM elements) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(html.resolve().as_uri(), wait_until="load", timeout=300_000)
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
        page.wait_for_selector("html[data-ready='1']", timeout=300_000)
        ready = page.evaluate("performance.now()") / 1000
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        browser.close()
    return loaded, ready, nodes


def _records(document):
    return document if isinstance(document, list) else next(iter(document.values()))


def row(name: str, values: list[float], unit: str = "s") -> str:
    if not values:
        return f"| {name} | – | – |"
    fmt = (lambda v: f"{v:,.1f} {unit}") if unit == "MB" else (lambda v: f"{v:.2f} {unit}")
    return f"| {name} | {fmt(min(values))} | {fmt(statistics.median(values))} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--estate", type=Path, help="snapshot folder to reuse (default: generated in a temp folder)")
    parser.add_argument("--skip-phases", action="store_true", help="only the end-to-end runs")
    parser.add_argument("--browser", action="store_true", help="also open the HTML report in Chromium")
    parser.add_argument("--phase-run", nargs=2, metavar=("SNAPSHOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase_run:  # the child process of one phase run
        print(json.dumps(phases(Path(args.phase_run[0]), Path(args.phase_run[1]))))
        return 0

    work = Path(tempfile.mkdtemp(prefix="vdcaudit-bench-"))
    estate = args.estate or work / "estate"
    if not (estate.is_dir() and any(estate.glob("*.json"))):
        generate(args.resources, estate)
    count = sum(len(_records(json.loads(p.read_text()))) for p in estate.glob("*.json"))
    load = os.getloadavg()
    print(f"estate: {estate} ({count:,} records); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores; {args.runs} run(s)", flush=True)

    runs: list[dict[str, float]] = []
    for _ in range(0 if args.skip_phases else args.runs):
        output = subprocess.run([sys.executable, __file__, "--phase-run", str(estate), str(work / "phases")],
                                check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    e2e: dict[str, list[tuple[float, float]]] = {"json": [], "all": []}
    for _ in range(args.runs):
        e2e["json"].append(end_to_end(estate, work / "e2e-json", ["json"]))
        e2e["all"].append(end_to_end(estate, work / "e2e-all", FORMATS))

    findings = f"{runs[0]['findings']:,} findings" if runs else "phases skipped"  # --skip-phases: no in-process scan
    print(f"\n| phase ({count:,} records, {findings}) | min | median |")
    print("|---|---|---|")
    if runs:
        for name in ["read snapshot + build inventory", "engine.run", "summary", *(f"render {f}" for f in FORMATS)]:
            print(row(name, [r[name] for r in runs if name in r]))
        for name in FORMATS:
            print(row(f"size {name}", [r[f"size {name} (MB)"] for r in runs], "MB"))
    print(row("end to end, --format json", [w for w, _ in e2e["json"]]))
    print(row("peak RSS, --format json", [m for _, m in e2e["json"]], "MB"))
    print(row("end to end, all six formats", [w for w, _ in e2e["all"]]))
    print(row("peak RSS, all six formats", [m for _, m in e2e["all"]], "MB"))
    if args.browser:
        html = work / "e2e-all" / "vdcaudit-report.html"
        loads = [browser_load(html) for _ in range(args.runs)]
        print(row("HTML report load event in Chromium", [s for s, _, _ in loads]))
        print(row("HTML findings explorer ready", [r for _, r, _ in loads]))
        print(f"| DOM elements after load | {loads[0][2]:,} | |")
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; outputs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
