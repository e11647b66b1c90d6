"""Start-up of the command line: `vdcaudit --version`, and a live scan's first request to ARM after
the process starts (the demo tenant served by the local ARM emulator), min and median of N runs.

    python benchmarks/live_startup.py [--runs 5]

Goals (issue 15): --version under 0.3 s; first request within 1 s of start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vdcaudit.emulator.arm import ArmEmulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    version, first, whole = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vdcaudit", "--version"], env=env, check=True, capture_output=True)
        version.append(time.perf_counter() - started)
    with ArmEmulator([ROOT / "fixtures" / "demo" / "azure"]) as arm:
        for run in range(args.runs):
            arm.log.clear()
            command = [sys.executable, "-m", "vdcaudit", "scan", "--all-subscriptions", "--arm-endpoint", arm.url,
                       "--ca-bundle", arm.ca_path, "--credential", "static-token", "--format", "json", "--quiet",
                       "--out", f"/tmp/vdcaudit-startup-{os.getpid()}-{run}"]
            spawned = time.time()
            subprocess.run(command, env=env, check=False, capture_output=True)
            whole.append(time.time() - spawned)
            first.append(min(entry.at for entry in arm.log.entries()) - spawned)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f}; {args.runs} runs; min / median")
    print(f"vdcaudit --version: {min(version):.2f} s / {statistics.median(version):.2f} s (goal < 0.3 s)")
    print(f"live scan, start to first ARM request: {min(first):.2f} s / {statistics.median(first):.2f} s (goal < 1 s)")
    print(f"live scan of the demo tenant, whole: {min(whole):.2f} s / {statistics.median(whole):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
