"""A large inventory's rules are judged on both cores (half in a forked worker): the findings must
be exactly one process's, in the same order, and a worker that fails must change nothing."""

from __future__ import annotations

import os
from typing import Any

import pytest

from vdcaudit import engine
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.reports import RENDERERS
from vdcaudit.resources import data_path
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult, scan

DEMO = data_path("demo")


def _scan(monkeypatch: pytest.MonkeyPatch, parallel_from: int) -> ScanResult:
    monkeypatch.setattr(engine, "PARALLEL_FROM_RESOURCES", parallel_from)
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    return scan(inventory, load_rules(), ScanContext(config=load_config(DEMO / "vdcaudit.yaml")))


def _findings(result: ScanResult) -> bytes:
    """The findings JSON without the scan's own times."""
    return RENDERERS["json"].render(result).split(b'"rulepack"', 1)[1]


@pytest.fixture(scope="module")
def one_process() -> bytes:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _findings(_scan(monkeypatch, 10**9))


def test_both_cores_give_exactly_one_process_findings(one_process: bytes, monkeypatch: pytest.MonkeyPatch,
                                                      forked_workers: list[str]) -> None:
    assert _findings(_scan(monkeypatch, 0)) == one_process
    assert forked_workers == ["the worker judging rules"]


def test_the_split_balances_the_resources_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = Inventory()
    load_snapshot(DEMO / "azure", inventory)
    rules = load_rules()
    here, there = engine._split(rules, inventory)
    assert sorted(here + there) == list(range(len(rules)))
    load = [sum(1 + sum(len(inventory.of_type(t)) for t in rules[i].resource_types) for i in side) for side in (here, there)]
    assert abs(load[0] - load[1]) <= max(load) * 0.1


def test_a_worker_that_dies_changes_no_verdict(one_process: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine._judge
    parent = os.getpid()

    def dies_in_the_worker(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(9)
        return real(*args)
    monkeypatch.setattr(engine, "_judge", dies_in_the_worker)
    assert _findings(_scan(monkeypatch, 0)) == one_process


def test_a_worker_that_raises_changes_no_verdict(one_process: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine._judge
    parent = os.getpid()

    def raises_in_the_worker(*args: Any) -> Any:
        if os.getpid() != parent:
            raise MemoryError("the worker ran out of memory")
        return real(*args)
    monkeypatch.setattr(engine, "_judge", raises_in_the_worker)
    assert _findings(_scan(monkeypatch, 0)) == one_process
