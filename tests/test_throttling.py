"""Throttled live scans slow down and lose nothing; what outlasts the throttle budget is a coverage
gap naming the read. The real azure-mgmt-* clients against the ARM emulator, whose token buckets
and Resource Graph quota answer 429 as ARM does (tests use small buckets that refill fast)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors.azure.throttle import Pacer, scope_of
from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.emulator.throttling import PRESETS, Limits
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status
from tests.test_azure_live import DEMO, HUB, SPOKE1, findings, snapshot_verdicts, rules, verdicts  # noqa: F401

# A bucket of 6 reads refilled 30 a second, a Resource Graph window of 4 queries a second: every
# subscription of the demo needs more reads than its bucket holds
SMALL = Limits(bucket=6, refill=30.0, graph_quota=4, graph_window=1.0)


def live(arm: ArmEmulator, pacer: Pacer | None = None, **params: Any) -> Inventory:
    inventory = Inventory()
    base = {"arm_endpoint": arm.url, "ca_bundle": arm.ca_path, "credential": "static-token", "quiet": True,
            "retry_backoff": 0.01, "graph_page_size": 7, "request_timeout": 5, "all_subscriptions": True,
            "keyvault_data_plane": True}
    if pacer is not None:
        base["pacer"] = pacer
    azure_source.collect({**base, **params}, inventory)
    return inventory


def test_first_20_requests_throttled_scan_completes_without_gap(rules, snapshot_verdicts):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        fault = arm.add_fault(Fault.throttle(retry_after=0.1, times=20))
        inventory = live(arm)
        assert fault.fired == 20
        # the subscription list was the first request: it was throttled, and the scan went on
        assert arm.log.entries()[0].path == "/subscriptions" and arm.log.entries()[0].status == 429
        assert inventory.coverage == []
        assert verdicts(inventory, rules) == snapshot_verdicts


@pytest.mark.parametrize("graph", [True, False], ids=["resource-graph", "sdk-lists"])
def test_tight_buckets_slow_the_scan_down_and_lose_nothing(rules, snapshot_verdicts, graph):
    pacer = Pacer()
    with ArmEmulator([DEMO / "azure"], page_size=3, throttle=SMALL) as arm:
        inventory = live(arm, pacer, no_graph=not graph, throttle_budget=60)
        per_subscription: dict[str, int] = {}
        for entry in arm.log:
            per_subscription[scope_of(entry.path)] = per_subscription.get(scope_of(entry.path), 0) + 1
    assert max(per_subscription.values()) > SMALL.bucket  # the limits were reached, not just near
    assert pacer.waits > 0  # the collector held requests back
    assert inventory.coverage == []
    assert verdicts(inventory, rules) == snapshot_verdicts


def test_throttle_past_the_budget_is_a_gap_naming_the_read(rules):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.throttle(retry_after=0.2, times=None, path=r"/databases/payments/transparentDataEncryption$"))
        inventory = live(arm, throttle_budget=0.5)
    [record] = inventory.coverage
    assert (record.scope, record.resource_type) == (SPOKE1, "Microsoft.Sql/servers/databases/transparentDataEncryption")
    assert record.reason.startswith("throttled (429): GET /subscriptions/") and "/databases/payments/transparentDataEncryption" in record.reason
    assert "given up after waiting 0.4 s (throttle budget 0.5 s)" in record.reason
    [payments] = [f for f in findings(inventory, rules) if f.rule_id == "VDC-SQL-001" and f.resource_name == "payments"]
    assert payments.status is Status.UNKNOWN


def test_throttled_subscription_list_past_the_budget_names_the_read():
    with ArmEmulator([DEMO / "azure"]) as arm:
        arm.add_fault(Fault.throttle(retry_after=0.2, times=None, path=r"^/subscriptions$"))
        with pytest.raises(InputError, match=r"cannot list subscriptions: throttled \(429\): GET /subscriptions given up after waiting 0\.4 s"):
            live(arm, throttle_budget=0.5)


def test_no_retry_after_backs_off_with_jitter_within_the_budget(rules, snapshot_verdicts):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        fault = arm.add_fault(Fault.error(429, times=6, path=r"/providers/Microsoft.KeyVault/vaults/.+/keys$",
                                          code="TooManyRequests"))
        inventory = live(arm)
        assert fault.fired == 6 and inventory.coverage == []
        assert verdicts(inventory, rules) == snapshot_verdicts


# -- the emulator's limits, as a plain HTTPS client sees them --------------------------------------

def test_emulator_subscription_bucket_answers_429_with_retry_after():
    with ArmEmulator([DEMO / "azure"], throttle=Limits(bucket=2, refill=0.01, graph_quota=2, graph_window=60)) as arm:
        url = f"{arm.url}/subscriptions/{HUB}?api-version=2022-12-01"
        answers = [requests.get(url, verify=arm.ca_path, timeout=5) for _ in range(3)]
        other = requests.get(f"{arm.url}/subscriptions/{SPOKE1}?api-version=2022-12-01", verify=arm.ca_path, timeout=5)
        tenant = requests.get(f"{arm.url}/subscriptions?api-version=2022-12-01", verify=arm.ca_path, timeout=5)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ms-ratelimit-remaining-subscription-reads"] for a in answers] == ["1", "0", "0"]
    assert int(answers[2].headers["Retry-After"]) >= 60  # one token at 0.01 a second: 100 s, whole seconds
    assert answers[2].json()["error"]["code"] == "TooManyRequests"
    # one subscription's empty bucket throttles no other; tenant reads have their own bucket
    assert other.status_code == 200 and other.headers["x-ms-ratelimit-remaining-subscription-reads"] == "1"
    assert tenant.status_code == 200 and tenant.headers["x-ms-ratelimit-remaining-tenant-reads"] == "1"


def test_emulator_resource_graph_quota_window():
    with ArmEmulator([DEMO / "azure"], throttle=Limits(bucket=9, refill=1, graph_quota=2, graph_window=30)) as arm:
        url = f"{arm.url}/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"
        answers = [requests.post(url, json={"query": "Resources", "subscriptions": [HUB]}, verify=arm.ca_path, timeout=5)
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ms-user-quota-remaining"] for a in answers] == ["1", "0", "0"]
    # hh:mm:ss to the end of the 30 s window that began with the first query
    resets = [re.fullmatch(r"00:00:(\d\d)", a.headers["x-ms-user-quota-resets-after"]) for a in answers]
    assert all(r and 0 < int(r.group(1)) <= 30 for r in resets)
    assert 0 < int(answers[2].headers["Retry-After"]) <= 30


def test_presets_are_arms_documented_limits_and_five_times_tighter():
    assert PRESETS["arm"] == Limits(250, 25.0, 15, 5.0)
    assert PRESETS["tight"] == Limits(50, 5.0, 3, 5.0)


def test_scope_of_a_request():
    assert scope_of(f"https://h/subscriptions/{HUB.upper()}/resourceGroups?api-version=1") == HUB
    assert scope_of("https://h/subscriptions?api-version=1") == "tenant"
    assert scope_of(f"https://h/subscriptions/{HUB}") == HUB  # it passes the subscription id
    assert scope_of("https://h/providers/Microsoft.ResourceGraph/resources?api-version=1") == "resource-graph"


# -- the command line --------------------------------------------------------------------------------

def test_throttle_budget_option_of_scan(tmp_path):
    with ArmEmulator([DEMO / "azure"], page_size=3) as arm:
        arm.add_fault(Fault.throttle(retry_after=0.2, times=None, path=r"/databases/payments/transparentDataEncryption$"))
        result = CliRunner().invoke(cli, ["scan", "--all-subscriptions", "--arm-endpoint", arm.url, "--ca-bundle",
                                          arm.ca_path, "--credential", "static-token", "--throttle-budget", "0.5",
                                          "--out", str(tmp_path), "--format", "json", "--quiet"])
    assert result.exit_code in (0, 1), result.output  # 1: the gate fails on the demo's findings
    [gap] = json.loads((tmp_path / "vdcaudit-findings.json").read_text())["coverage"]
    assert gap["scope"] == SPOKE1 and "(throttle budget 0.5 s)" in gap["reason"] and "payments" in gap["reason"]


def test_emulator_command_rehearses_a_throttled_scan():
    process = subprocess.Popen([sys.executable, "-m", "vdcaudit", "emulator", "--throttle", "tight",
                                "--throttle-first", "2", "--retry-after", "3"], stdout=subprocess.PIPE, text=True)
    try:
        url = ca_path = None
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("CA certificate"):
                ca_path = line.rsplit(": ", 1)[1].strip()
            if line.strip().startswith("vdcaudit scan"):
                url = line.split("--arm-endpoint ")[1].split()[0]
                break
        assert url and ca_path
        answers = [requests.get(f"{url}/subscriptions/{HUB}?api-version=2022-12-01", verify=ca_path, timeout=5)
                   for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    # the tight bucket: 50 reads (five times under ARM's 250), one taken
    assert answers[2].headers["x-ms-ratelimit-remaining-subscription-reads"] == "49"
