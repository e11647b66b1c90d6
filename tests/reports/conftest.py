"""Fixtures for the report tests: the demo through the real pipeline, synthetic results."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.reports.report_data import synthetic_result

from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.resources import data_path
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult, scan


@pytest.fixture(scope="session")
def demo_result() -> ScanResult:
    inventory = Inventory()
    load_snapshot(data_path("demo") / "azure", inventory)
    config = load_config(data_path("demo") / "vdcaudit.yaml")
    return scan(inventory, load_rules(), ScanContext(config=config))


@pytest.fixture(scope="session")
def waived_result() -> ScanResult:
    return synthetic_result(400)


@pytest.fixture(scope="session")
def hostile_result() -> ScanResult:
    return synthetic_result(120, hostile=True)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path

