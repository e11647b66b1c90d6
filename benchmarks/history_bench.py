"""Benchmark: a year of daily scans in the history, on SQLite and on PostgreSQL.

Records N daily scans of M findings each (default 365 x 10,000: 3.65 million finding rows) through
the same `History.record` a scan uses (one transaction per scan, first_seen carried, fixes noted),
with a few percent of findings changing state every day; then times what a user runs:
`history list`, `history diff` of the last two scans and `history site` (every scan's page).

PostgreSQL runs on a throw-away cluster (initdb + pg_ctl in a temporary folder, removed after),
as in the tests; `--backends sqlite` skips it.

    PYTHONPATH=. python benchmarks/history_bench.py [--scans 365] [--findings 10000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.history.records import FindingRecord, ScanRecord
from vdcaudit.history.store import History
from vdcaudit.model import fingerprint

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "history"))

RULES = [(f"VDC-B-{n:03d}", sev, cat) for n, (sev, cat) in enumerate(
    [(s, c) for s in ("critical", "high", "medium", "low") for c in ("at-rest", "in-transit", "key-management")])]
START = datetime(2025, 1, 1, 2, 0, tzinfo=timezone.utc)


def year(scans: int, findings: int, seed: int = 14):
    """Daily scans: ~15 % FAIL, ~2 % UNKNOWN; every day ~3 % of findings change state."""
    rng = random.Random(seed)
    subjects = []
    for i in range(findings):
        rule_id, severity, category = RULES[i % len(RULES)]
        resource = f"/subscriptions/{i % 40:08x}-0000-4000-8000-000000000000/resourceGroups/rg-{i % 300}/providers/Microsoft.Storage/storageAccounts/st{i}"
        subjects.append((rule_id, resource, severity, category, fingerprint(rule_id, resource)))
    states = [rng.choices(["PASS", "FAIL", "UNKNOWN"], [83, 15, 2])[0] for _ in subjects]
    rules = {r: {"title": f"Benchmark rule {r}", "severity": s, "category": c} for r, s, c in RULES}
    for day in range(scans):
        for i in rng.sample(range(findings), k=findings * 3 // 100):
            states[i] = rng.choices(["PASS", "FAIL", "UNKNOWN"], [70, 25, 5])[0]
        started = START + timedelta(days=day)
        yield ScanRecord(
            started=started, finished=started + timedelta(minutes=7), scope="mg-prod", rulepack="12 rules, sha256:bench",
            tool_version="0.1.0", sources=[{"kind": "azure", "location": "mg-prod"}], coverage=[], rules=rules,
            findings=[FindingRecord(fingerprint=fp, rule_id=r, resource_id=res, status=states[i], severity=s, category=c,
                                    resource_name=res.rsplit("/", 1)[1], resource_type="Microsoft.Storage/storageAccounts",
                                    message="" if states[i] == "PASS" else f"{states[i]}: minimum TLS version")
                      for i, (r, res, s, c, fp) in enumerate(subjects)])


def report(label: str, wall: float, cpu: float, extra: str = "") -> None:
    """Wall time, and this process's CPU time (what the machine's other load does not inflate;
    a PostgreSQL server's own work is not in it)."""
    print(f"  {label:<28} {wall:8.2f} s wall {cpu:8.2f} s cpu{extra}", flush=True)


def timed(label: str, *args: str) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(cli, list(args))
    if result.exit_code != 0:
        raise SystemExit(f"{label} failed: {result.output}")
    report(label, time.perf_counter() - wall, time.process_time() - cpu)


def bench(target: str, shown: str, scans: int, findings: int, work: Path) -> None:
    print(f"{shown}: {scans} scans x {findings:,} findings")
    wall, cpu = time.perf_counter(), time.process_time()
    with History(target) as history:
        for n, record in enumerate(year(scans, findings)):
            history.record(record)
            if (n + 1) % 73 == 0:
                print(f"    recorded {n + 1} scans, {time.perf_counter() - wall:.0f} s", flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report("record (all scans)", wall, cpu, f"  ({wall / scans * 1000:.0f} ms wall per scan, synthetic data included)")
    timed("history list", "history", "list", "--history", target)
    timed("history diff (last two)", "history", "diff", "--history", target)
    timed(f"history site ({scans} pages)", "history", "site", "--history", target, "--out", str(work / "site"),
          "--scans", str(scans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=365)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vdcaudit-history-bench-") as folder:
        work = Path(folder)
        if "sqlite" in options.backends:
            database = work / "history.db"
            bench(str(database), "SQLite", options.scans, options.findings, work)
            print(f"  {'database size':<28} {database.stat().st_size / 1e6:8.1f} MB")
        if "postgresql" in options.backends:
            import pgcluster

            cluster = pgcluster.start()
            try:
                bench(cluster.create_database("bench"), "PostgreSQL (local throw-away cluster)", options.scans,
                      options.findings, work)
            finally:
                cluster.stop()


if __name__ == "__main__":
    main()
