"""Benchmark: run the whole rule pack over a large synthetic inventory.

The inventory is the demo VDC's Azure resources copied into N subscriptions (ids rewritten, so
children still link to their parents). Prints resources, findings, and the time to load the rules,
link the inventory and evaluate; the engine indexes by type, so time grows with resources, not
with rules x resources.

    python benchmarks/engine_scan.py [--copies 1000]
"""

from __future__ import annotations

import argparse
import copy
import time

from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory, strip_annotations
from vdcaudit.resources import data_path
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan


def synthetic(copies: int) -> Inventory:
    demo = Inventory()
    load_snapshot(data_path("demo") / "azure", demo)
    originals = [strip_annotations(r) for r in demo]
    inventory = Inventory()
    for n in range(copies):
        subscription = f"{n:08x}-0000-4000-8000-00000000be0c"
        for resource in originals:
            clone = copy.deepcopy(resource)
            old = clone["id"].split("/")[2]
            clone["id"] = clone["id"].replace(old, subscription, 1)
            clone["subscriptionId"] = subscription
            inventory.add(clone, "snapshot")
    return inventory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1000, help="copies of the demo VDC (default 1000)")
    args = parser.parse_args()
    started = time.perf_counter()
    inventory = synthetic(args.copies)
    built = time.perf_counter()
    rules = load_rules()
    loaded = time.perf_counter()
    result = scan(inventory, rules, ScanContext(config=load_config(data_path("demo") / "vdcaudit.yaml")))
    done = time.perf_counter()
    print(f"inventory: {len(inventory):,} resources in {args.copies:,} subscriptions (built in {built - started:.1f} s)")
    print(f"rules: {len(rules)} loaded and compiled in {loaded - built:.2f} s")
    print(f"scan: {len(result.findings):,} findings in {done - loaded:.2f} s "
          f"({len(inventory) / (done - loaded):,.0f} resources/s)")


if __name__ == "__main__":
    main()
