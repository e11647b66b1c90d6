"""Live collector vs a naive sequential per-resource SDK walk, on a synthetic tenant served by the
local ARM emulator with injected latency on every request.

    python benchmarks/live_collector.py                 # 10,000 resources, 50 subscriptions, 20 ms
    python benchmarks/live_collector.py --naive-sample 0 # naive walk over the whole tenant (~5 min)

The naive walk (list each subscription's resources, then GET every resource by id and read its
child data, one request at a time) is timed on --naive-sample subscriptions and scaled to the
tenant (the walk is linear in resources, every subscription is alike); 0 walks them all.
Targets (issue 4): collector calls <= 1.2 x (pages needed + per-resource child calls), wall time
at least 8x better than the naive walk. Issue 15: the collector's own CPU (the emulator serves from
a separate process for that measurement) under 1 s per 10,000 resources; Resource Graph is asked
for the types the rules read only (one count query per batch, then pages of those types).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azure.mgmt.resource.resources import ResourceManagementClient  # noqa: E402

from vdcaudit.collectors import azure as azure_source  # noqa: E402
from vdcaudit.collectors.azure import catalog, generic  # noqa: E402
from vdcaudit.collectors.azure.clients import Clients, Connection  # noqa: E402
from vdcaudit.collectors.azure.clouds import StaticTokenCredential  # noqa: E402
from vdcaudit.emulator.arm import ArmEmulator  # noqa: E402
from vdcaudit.emulator.httpserver import Fault  # noqa: E402
from vdcaudit.inventory import Inventory, parse_scope  # noqa: E402

# Per subscription: 200 resources, of which 91 need child calls (TDE per database, encryption
# protector per server, keys per vault, file service settings per storage account) plus one
# role-assignment list per subscription.
MIX = [("Microsoft.Storage/storageAccounts", 60), ("Microsoft.Compute/disks", 40),
       ("Microsoft.Network/virtualNetworks", 30), ("Microsoft.Compute/virtualMachines", 20),
       ("Microsoft.Network/networkSecurityGroups", 20), ("Microsoft.KeyVault/vaults", 10),
       ("Microsoft.Sql/servers", 5)]
DATABASES_PER_SERVER = 3


def synthetic_tenant(subscriptions: int) -> list[dict[str, Any]]:
    resources = []
    for s in range(subscriptions):
        sub = f"{s:08d}-0000-4000-8000-000000000000"
        group = f"/subscriptions/{sub}/resourceGroups/rg-{s % 5}"
        for kind, count in MIX:
            for i in range(count):
                rid = f"{group}/providers/{kind}/{kind.rsplit('/', 1)[-1].lower()}-{s}-{i}"
                resources.append({"id": rid, "name": rid.rsplit("/", 1)[-1], "type": kind, "location": "westeurope",
                                  "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True}})
                if kind == "Microsoft.Sql/servers":
                    for d in range(DATABASES_PER_SERVER):
                        db = f"{rid}/databases/db{d}"
                        resources.append({"id": db, "name": f"db{d}", "type": "Microsoft.Sql/servers/databases",
                                          "location": "westeurope", "properties": {}})
                        resources.append({"id": f"{db}/transparentDataEncryption/current", "name": "current",
                                          "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                                          "properties": {"state": "Enabled"}})
                if kind == "Microsoft.Storage/storageAccounts":  # every account has its file service
                    resources.append({"id": f"{rid}/fileServices/default", "name": "default",
                                      "type": "Microsoft.Storage/storageAccounts/fileServices",
                                      "properties": {"protocolSettings": {"smb": {"versions": "SMB3.1.1"}}}})
    return resources


def _serve(resources: list[dict[str, Any]], ready: Any, stop: Any) -> None:
    with ArmEmulator(resources=resources, page_size=100) as arm:
        ready.put((arm.url, arm.ca_path))
        stop.wait()


def collector_cpu(resources: list[dict[str, Any]], concurrency: int) -> tuple[float, float, int]:
    """(CPU seconds of this process, wall seconds, resources) for one collection, the emulator
    serving from another process so that its CPU is not counted."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(resources, ready, stop), daemon=True)
    server.start()
    try:
        url, ca_path = ready.get(timeout=60)
        params = {"all_subscriptions": True, "arm_endpoint": url, "ca_bundle": ca_path,
                  "credential": "static-token", "quiet": True, "concurrency": concurrency}
        inventory = Inventory()
        cpu, wall = time.process_time(), time.perf_counter()
        azure_source.collect(params, inventory)
        return time.process_time() - cpu, time.perf_counter() - wall, len(inventory)
    finally:
        stop.set()
        server.join(timeout=10)


def naive_walk(arm: ArmEmulator, subscriptions: list[str]) -> None:
    """What a script without Resource Graph, concurrency or a child table would do."""
    connection = Connection(endpoint=arm.url, credential=StaticTokenCredential(), scope="https://management.azure.com/.default",
                            ca_bundle=arm.ca_path, concurrency=1)
    clients = Clients(connection)
    try:
        for sub in subscriptions:
            client = clients.get(ResourceManagementClient, sub)
            for item in client.resources.list():
                client.resources.get_by_id(item.id, api_version="2023-01-01")
                for call in catalog.children_of(item.type, item.kind):
                    path = f"{item.id}/{call.segment}"
                    if call.single:
                        generic.get_resource(clients, sub, path, call.api_version)
                    else:
                        generic.list_collection(clients, sub, path, call.api_version or "")
            extra = catalog.SUBSCRIPTION_EXTRAS[0][1]
            generic.list_collection(clients, sub, f"/subscriptions/{sub}/providers/{extra.type}", extra.api_version or "")
    finally:
        clients.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=azure_source.DEFAULT_CONCURRENCY)
    parser.add_argument("--naive-sample", type=int, default=5, help="subscriptions the naive walk reads (0: all)")
    args = parser.parse_args()

    resources = synthetic_tenant(args.subscriptions)
    arm = ArmEmulator(resources=resources, page_size=100)
    listed = [r for r in arm.resources() if arm.listed(r)]
    with arm:
        arm.add_fault(Fault.latency(args.latency_ms / 1000))
        params = {"all_subscriptions": True, "arm_endpoint": arm.url, "ca_bundle": arm.ca_path,
                  "credential": "static-token", "quiet": True, "concurrency": args.concurrency}
        inventory = Inventory()
        started = time.perf_counter()
        azure_source.collect(params, inventory)
        collector_time = time.perf_counter() - started
        collector_calls = len(arm.log)
        assert not inventory.coverage, inventory.coverage

        parents = sum(len(catalog.children_of(r["type"])) for r in listed)
        with_vaults = len({parse_scope(r["id"])[0] for r in listed if r["type"] == "Microsoft.KeyVault/vaults"})
        child_calls = parents + with_vaults
        graph_types = azure_source._graph_types({})
        read = [r for r in listed if any(r["type"].lower() == t.lower() or r["type"].lower().startswith(t.lower() + "/")
                                         for t in graph_types or ())]
        # one count query, the pages of the types rules read, the subscription list
        pages = 1 + math.ceil(len(read) / 1000) + math.ceil(len(arm.subscriptions) / arm.page_size)
        needed = pages + child_calls

        arm.log.clear()
        sample = arm.subscriptions if args.naive_sample <= 0 else arm.subscriptions[:args.naive_sample]
        started = time.perf_counter()
        naive_walk(arm, sample)
        naive_sample_time = time.perf_counter() - started
        scale = len(arm.subscriptions) / len(sample)
        naive_time, naive_calls = naive_sample_time * scale, len(arm.log) * scale

    print(f"tenant: {len(listed)} resources (+{len(arm.resources()) - len(listed)} child records) in "
          f"{len(arm.subscriptions)} subscriptions, {args.latency_ms:g} ms latency per request")
    print(f"collector: {collector_calls} ARM calls, {collector_time:.2f} s "
          f"(pages needed {pages} + child calls {child_calls} = {needed}; "
          f"ratio {collector_calls / needed:.2f}, target <= 1.2)")
    note = "" if scale == 1 else f" (measured on {len(sample)} subscriptions, x{scale:g})"
    print(f"naive sequential walk: {naive_calls:.0f} ARM calls, {naive_time:.1f} s{note}")
    print(f"speed-up: {naive_time / collector_time:.1f}x (target >= 8x); inventory {len(inventory)} resources "
          f"({len(read)} of {len(listed)} listed resources are of types the rules read)")
    cpu, wall, count = collector_cpu(resources, args.concurrency)
    print(f"collector CPU (emulator in another process, no latency): {cpu:.2f} s for {count} resources, "
          f"{cpu * 10_000 / max(count, 1):.2f} s per 10,000 (target < 1 s); wall {wall:.2f} s")


if __name__ == "__main__":
    main()
