"""A live scan under ARM's read limits: the synthetic 10,000-resource, 50-subscription tenant of
live_collector.py served by the ARM emulator with its token buckets (ARM's documented limits, and
five times tighter), collected by vdcaudit's live collector.

    python benchmarks/throttled_scan.py                    # both limits, Resource Graph path
    python benchmarks/throttled_scan.py --no-graph         # every resource through the SDK lists
    python benchmarks/throttled_scan.py --limits tight --subscriptions 10
    python benchmarks/throttled_scan.py --merge 10          # the same resources in 5 subscriptions

Measured: wall time against the floor the limits allow, reads given up (coverage gaps; the goal is
0), 429s answered, the collector's own CPU (the emulator serves from a forked process, so its CPU
is not counted; the two share this machine's cores).
Floor: the collector reads the inventory first (Resource Graph, whose quota window allows
`graph_quota` queries per `graph_window` seconds: (queries - quota) / quota x window), then the
child data; each subscription's reads beyond its bucket come back at the refill rate, subscriptions
in parallel: max over subscriptions of (reads - bucket) / refill. Floor = the two added. The
emulator's clock is the real one (no scaling).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_collector import synthetic_tenant  # noqa: E402
from vdcaudit.collectors import azure as azure_source  # noqa: E402
from vdcaudit.collectors.azure.throttle import GRAPH_SCOPE, TENANT_SCOPE, Pacer, scope_of  # noqa: E402
from vdcaudit.emulator.arm import ArmEmulator  # noqa: E402
from vdcaudit.emulator.throttling import PRESETS, Limits  # noqa: E402
from vdcaudit.inventory import Inventory  # noqa: E402


def _serve(resources: list[dict[str, Any]], limits: Limits, ready: Any, stop: Any, report: Any) -> None:
    with ArmEmulator(resources=resources, page_size=100, throttle=limits) as arm:
        ready.put((arm.url, arm.ca_path))
        stop.wait()
        counts: dict[str, int] = {}  # reads served (a 429 takes no token), by bucket
        for entry in arm.log:
            if entry.status != 429:
                counts[scope_of(entry.path)] = counts.get(scope_of(entry.path), 0) + 1
        report.put((counts, arm.limiter.throttled if arm.limiter else 0))


def floor_seconds(counts: dict[str, int], limits: Limits) -> tuple[float, float, float]:
    """(Resource Graph floor, slowest subscription's floor, their sum) for these request counts."""
    queries = counts.get(GRAPH_SCOPE, 0)
    graph = max(0, queries - limits.graph_quota) / limits.graph_quota * limits.graph_window
    subscriptions = [n for scope, n in counts.items() if scope not in (GRAPH_SCOPE, TENANT_SCOPE)]
    slowest = max((max(0, n - limits.bucket) / limits.refill for n in subscriptions), default=0.0)
    return graph, slowest, graph + slowest


def run(resources: list[dict[str, Any]], limits: Limits, no_graph: bool, budget: float) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    ready, stop, report = context.Queue(), context.Event(), context.Queue()
    server = context.Process(target=_serve, args=(resources, limits, ready, stop, report), daemon=True)
    server.start()
    try:
        url, ca_path = ready.get(timeout=120)
        pacer = Pacer()
        params = {"all_subscriptions": True, "arm_endpoint": url, "ca_bundle": ca_path, "credential": "static-token",
                  "quiet": True, "no_graph": no_graph, "throttle_budget": budget, "pacer": pacer}
        inventory = Inventory()
        cpu, wall = time.process_time(), time.perf_counter()
        azure_source.collect(params, inventory)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        stop.set()
    counts, throttled = report.get(timeout=120)
    server.join(timeout=30)
    graph, slowest, floor = floor_seconds(counts, limits)
    subscription_reads = [n for scope, n in counts.items() if scope not in (GRAPH_SCOPE, TENANT_SCOPE)]
    return {"wall": wall, "cpu": cpu, "floor": floor, "graph_floor": graph, "subscription_floor": slowest,
            "requests": sum(counts.values()) + throttled, "max_subscription_reads": max(subscription_reads, default=0),
            "graph_queries": counts.get(GRAPH_SCOPE, 0), "throttled": throttled, "gaps": len(inventory.coverage),
            "resources": len(inventory), "held": pacer.waits}


def merged(resources: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """The resources of every k consecutive synthetic subscriptions moved into the first of them."""
    if k <= 1:
        return resources
    moved = []
    for resource in resources:
        index = int(resource["id"].split("/")[2][:8])
        target = f"{index // k * k:08d}-0000-4000-8000-000000000000"
        moved.append({**resource, "id": resource["id"].replace(resource["id"].split("/")[2], target, 1)})
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=50)
    parser.add_argument("--limits", choices=["arm", "tight", "both"], default="both")
    parser.add_argument("--no-graph", action="store_true")
    parser.add_argument("--throttle-budget", type=float, default=azure_source.DEFAULT_BUDGET)
    parser.add_argument("--merge", type=int, default=1, metavar="K",
                        help="put the resources of K synthetic subscriptions into one (fewer, larger subscriptions)")
    args = parser.parse_args()
    resources = merged(synthetic_tenant(args.subscriptions), args.merge)
    counted = ArmEmulator(resources=resources)
    listed = sum(1 for r in counted.resources() if counted.listed(r))
    print(f"tenant: {listed} resources (+{len(resources) - listed} child records) in {len(counted.subscriptions)} "
          f"subscriptions; path: {'SDK lists' if args.no_graph else 'Resource Graph'}")
    print("| limits | requests | max reads / subscription | graph queries | floor s (graph + subscription) "
          "| wall s | wall / floor | 429s | reads given up | collector CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in (["arm", "tight"] if args.limits == "both" else [args.limits]):
        limits = PRESETS[name]
        r = run(resources, limits, args.no_graph, args.throttle_budget)
        ratio = f"{r['wall'] / r['floor']:.2f}" if r["floor"] > 0 else "n/a (floor 0)"
        label = (f"{name} ({limits.bucket} / {limits.refill:g} per s; graph {limits.graph_quota} per "
                 f"{limits.graph_window:g} s)")
        print(f"| {label} | {r['requests']} | {r['max_subscription_reads']} | {r['graph_queries']} | "
              f"{r['floor']:.1f} ({r['graph_floor']:.1f} + {r['subscription_floor']:.1f}) | {r['wall']:.1f} | {ratio} | "
              f"{r['throttled']} | {r['gaps']} | {r['cpu']:.1f} |")
        assert r["resources"] >= listed, r


if __name__ == "__main__":
    main()
