"""CPU per ARM GET through each HTTP stack the live collector could use (issue 15: the collector's
own CPU per 10,000 resources is almost all per-request cost over ~5,050 child GETs):

- vdcaudit's own clients (azure-core's sync pipeline over requests, its hooks and session);
- azure-core's sync pipeline as the generated azure-mgmt-* clients build it, 8 threads and 1;
- azure-core's async pipeline over aiohttp (the full policy list, and only retry + token);
- bare aiohttp and bare requests, for the floor.

    pip install 'vdcaudit[bench]'      # aiohttp, for the async variants
    python benchmarks/http_stack.py [-n 3000] [--runs 3] [--only aiohttp]

The local ARM emulator serves from a forked process (as live_collector.py's collector_cpu does);
each variant runs in a fresh spawned process and only that process's CPU (time.process_time) is
counted: 20 warm-up GETs, then N GETs of one storage account by id. Variants are interleaved
across runs so that load on a shared machine spreads over all of them; min and median per variant.
Note: a CA *path* given to AioHttpTransport as connection_verify builds an SSL context per request
(a TLS handshake per GET, ~7x the CPU): the async variants put the context on the connector.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import ssl
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # spawned children inherit it through PYTHONPATH
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                          os.environ.get("PYTHONPATH")]))

SUB = "00000000-0000-4000-8000-000000000000"
RID = f"/subscriptions/{SUB}/resourceGroups/rg-0/providers/Microsoft.Storage/storageAccounts/x"
API = "2023-05-01"
RESOURCE = {"id": RID, "name": "x", "type": "Microsoft.Storage/storageAccounts", "location": "westeurope",
            "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True,
                           "allowBlobPublicAccess": False, "encryption": {"keySource": "Microsoft.Storage"}}}
SCOPE = "https://management.azure.com/.default"


def _serve(ready, stop):
    from vdcaudit.emulator.arm import ArmEmulator
    with ArmEmulator(resources=[RESOURCE], page_size=100) as arm:
        ready.put((arm.url, arm.ca_path))
        stop.wait()


# ---------------------------------------------------------------- sync azure-core

def _sync_policies(credential):
    from azure.core.pipeline import policies as p
    from azure.mgmt.core.policies import (ARMAutoResourceProviderRegistrationPolicy, ARMChallengeAuthenticationPolicy,
                                          ARMHttpLoggingPolicy)
    # the policy list azure-mgmt-* generated clients build (ResourceManagementClient et al.)
    return [p.RequestIdPolicy(), p.HeadersPolicy(), p.UserAgentPolicy(sdk_moniker="probe/1.0"), p.ProxyPolicy(),
            p.ContentDecodePolicy(), ARMAutoResourceProviderRegistrationPolicy(), p.RedirectPolicy(),
            p.RetryPolicy(retry_total=4, retry_backoff_factor=0.8),
            ARMChallengeAuthenticationPolicy(credential, SCOPE), p.CustomHookPolicy(),
            p.NetworkTraceLoggingPolicy(), p.DistributedTracingPolicy(), ARMHttpLoggingPolicy()]


def _sync_client(url, ca):
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.core import ARMPipelineClient
    from requests.adapters import HTTPAdapter
    from vdcaudit.collectors.azure.clouds import StaticTokenCredential
    session = requests.Session()
    session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=18))
    transport = RequestsTransport(session=session, session_owner=False, connection_verify=ca)
    return ARMPipelineClient(base_url=url, policies=_sync_policies(StaticTokenCredential()), transport=transport)


def run_sync_pipeline(url, ca, n, threads):
    from azure.core.rest import HttpRequest
    client = _sync_client(url, ca)

    def one(_):
        r = client.send_request(HttpRequest("GET", client.format_url(RID), params={"api-version": API}), stream=True)
        r.read()
        r.raise_for_status()
        return json.loads(r.content)["name"]

    return _threaded(one, n, threads)


def run_vdcaudit(url, ca, n, threads):
    """vdcaudit's own path: Clients (ArmSession, hooks, policies) + generic.get_resource."""
    from vdcaudit.collectors.azure import generic
    from vdcaudit.collectors.azure.clients import Clients, Connection
    from vdcaudit.collectors.azure.clouds import StaticTokenCredential
    clients = Clients(Connection(endpoint=url, credential=StaticTokenCredential(), scope=SCOPE, ca_bundle=ca,
                                 concurrency=threads))
    return _threaded(lambda _: generic.get_resource(clients, SUB, RID, API)["name"], n, threads)


def run_requests(url, ca, n, threads):
    import requests
    from requests.adapters import HTTPAdapter
    session = requests.Session()
    session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=18))
    session.verify = ca
    full = url + RID

    def one(_):
        r = session.get(full, params={"api-version": API}, headers={"Authorization": "Bearer t"}, verify=ca)
        r.raise_for_status()
        return r.json()["name"]

    return _threaded(one, n, threads)


def _threaded(one, n, threads):
    for i in range(20):  # warm-up: connections, imports, token
        one(i)
    cpu, wall = time.process_time(), time.perf_counter()
    if threads == 1:
        for i in range(n):
            one(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(one, range(n)):
                pass
    return time.process_time() - cpu, time.perf_counter() - wall


# ---------------------------------------------------------------- async

class _AsyncToken:
    async def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        return AccessToken("vdcaudit-emulator-token", int(time.time()) + 3600)

    async def close(self):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *a):
        pass


def _async_client(url, ca, verify_path=False, minimal=False):
    import aiohttp
    from azure.core.pipeline import policies as p
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.mgmt.core import AsyncARMPipelineClient
    from azure.mgmt.core.policies import (AsyncARMAutoResourceProviderRegistrationPolicy,
                                          AsyncARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy)
    policies = [p.RequestIdPolicy(), p.HeadersPolicy(), p.UserAgentPolicy(sdk_moniker="probe/1.0"), p.ProxyPolicy(),
                p.ContentDecodePolicy(), AsyncARMAutoResourceProviderRegistrationPolicy(), p.AsyncRedirectPolicy(),
                p.AsyncRetryPolicy(retry_total=4, retry_backoff_factor=0.8),
                AsyncARMChallengeAuthenticationPolicy(_AsyncToken(), SCOPE), p.CustomHookPolicy(),
                p.NetworkTraceLoggingPolicy(), p.DistributedTracingPolicy(), ARMHttpLoggingPolicy()]
    if minimal:  # the floor: retry + bearer token only
        policies = [p.AsyncRetryPolicy(retry_total=4, retry_backoff_factor=0.8),
                    AsyncARMChallengeAuthenticationPolicy(_AsyncToken(), SCOPE)]
    ctx = ssl.create_default_context(cafile=ca)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=32), trust_env=False)
    # connection_verify=<CA path> makes AioHttpTransport build a new SSLContext per request (and
    # aiohttp then pools per context: a fresh TLS handshake per request); True uses the connector's.
    transport = AioHttpTransport(session=session, session_owner=False, connection_verify=ca if verify_path else True)
    return AsyncARMPipelineClient(base_url=url, policies=policies, transport=transport), session


async def _async_run(make, n, tasks):
    one, close = await make()
    for i in range(20):
        await one(i)
    queue = iter(range(n))

    async def worker():
        for i in queue:
            await one(i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    result = time.process_time() - cpu, time.perf_counter() - wall
    await close()
    return result


def run_async_pipeline(url, ca, n, tasks, verify_path=False, minimal=False):
    from azure.core.rest import HttpRequest

    async def make():
        client, session = _async_client(url, ca, verify_path, minimal)

        async def one(_):
            r = await client.send_request(HttpRequest("GET", client.format_url(RID), params={"api-version": API}), stream=True)
            await r.read()
            r.raise_for_status()
            return json.loads(r.content)["name"]

        async def close():
            await client.close()
            await session.close()
        return one, close

    return asyncio.run(_async_run(make, n, tasks))


def run_async_pipeline_capath(url, ca, n, tasks):
    return run_async_pipeline(url, ca, n, tasks, verify_path=True)


def run_async_pipeline_min(url, ca, n, tasks):
    return run_async_pipeline(url, ca, n, tasks, minimal=True)


def run_aiohttp(url, ca, n, tasks):
    import aiohttp
    full = url + RID

    async def make():
        ctx = ssl.create_default_context(cafile=ca)
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=32), trust_env=False)

        async def one(_):
            async with session.get(full, params={"api-version": API}, headers={"Authorization": "Bearer t"}) as r:
                r.raise_for_status()
                return json.loads(await r.read())["name"]
        return one, session.close

    return asyncio.run(_async_run(make, n, tasks))


VARIANTS = {
    "vdcaudit Clients+get_resource, 8 thr": (run_vdcaudit, 8),
    "(a) sync ARMPipelineClient+Requests, 8 thr": (run_sync_pipeline, 8),
    "(b) sync ARMPipelineClient+Requests, 1 thr": (run_sync_pipeline, 1),
    "(c) AsyncARMPipelineClient+AioHttp, 8 tasks": (run_async_pipeline, 8),
    "(c) AsyncARMPipelineClient+AioHttp, 16 tasks": (run_async_pipeline, 16),
    "(c) same, 16 tasks, connection_verify=CA path": (run_async_pipeline_capath, 16),
    "(c-min) async pipeline, retry+auth only, 16 tasks": (run_async_pipeline_min, 16),
    "(d) bare aiohttp, 16 tasks": (run_aiohttp, 16),
    "(e) bare requests.Session, 1 thr": (run_requests, 1),
    "(e) bare requests.Session, 8 thr": (run_requests, 8),
}


def _child(fn, url, ca, n, conc, out):
    out.put(fn(url, ca, n, conc))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("fork")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(ready, stop), daemon=True)
    server.start()
    url, ca = ready.get(timeout=60)
    print(f"server {url}; n={args.n}; load before: {os.getloadavg()}", flush=True)
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("aiohttp is not installed (pip install 'vdcaudit[bench]'): the async variants are skipped")
        for name in [n for n in VARIANTS if VARIANTS[n][0] in (run_async_pipeline, run_async_pipeline_capath,
                                                                run_async_pipeline_min, run_aiohttp)]:
            VARIANTS.pop(name)
    results = {name: [] for name in VARIANTS if args.only in name}
    try:
        for run in range(args.runs):  # interleave variants across runs to spread load noise
            for name in results:
                fn, conc = VARIANTS[name]
                # each measurement in a fresh (spawned) process: no warm state shared between variants
                out = multiprocessing.get_context("spawn").Queue()
                p = multiprocessing.get_context("spawn").Process(target=_child, args=(fn, url, ca, args.n, conc, out))
                p.start()
                cpu, wall = out.get(timeout=600)
                p.join()
                results[name].append((cpu, wall))
                print(f"run {run} {name}: cpu {cpu * 1000 / args.n:.3f} ms/req, wall {wall:.2f} s "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        stop.set()
        server.join(timeout=10)
    print(f"\nload after: {os.getloadavg()}")
    print(f"{'variant':48} {'cpu ms/req min':>14} {'median':>7} {'wall s med':>10} {'req/s':>6}")
    for name, rs in results.items():
        cpus = [c * 1000 / args.n for c, _ in rs]
        walls = [w for _, w in rs]
        print(f"{name:48} {min(cpus):14.3f} {statistics.median(cpus):7.3f} {statistics.median(walls):10.2f} "
              f"{args.n / statistics.median(walls):6.0f}")


if __name__ == "__main__":
    main()
