"""Sources of inventory. Every source fills the same Inventory (ARM-shaped resources + coverage
records), so every rule runs on every source.

A source contributes its options to `vdcaudit scan` and collects when they are given. Adding a
source means adding one module and one entry in SOURCES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from vdcaudit.collectors import azure as azure_source
from vdcaudit.collectors import arm_template, terraform
from vdcaudit.collectors import sdn as sdn_source
from vdcaudit.collectors.snapshot import load_snapshot, snapshot_files
from vdcaudit.inventory import Inventory
from vdcaudit.resources import data_path


@dataclass
class Source:
    name: str
    options: list[click.Option]
    wanted: Callable[[dict[str, Any]], bool]
    collect: Callable[[dict[str, Any], Inventory], None]
    selectors: tuple[str, ...]  # the flags that choose this source (the rest only tune it)


def _collect_snapshots(params: dict[str, Any], inventory: Inventory) -> None:
    for path in params["snapshot"]:
        load_snapshot(Path(path), inventory)


# The demo's exports describe the VDC on these days (judged with the platform floors of the day;
# `--as-of` shows a later day: docs/platform-floors.md).
DEMO_DAY, DEMO_NEXT_DAY = "2024-06-03T06:00:00+00:00", "2024-06-04T06:00:00+00:00"


def _collect_demo(params: dict[str, Any], inventory: Inventory) -> None:
    if params.get("demo_next"):
        # The same VDC a day later: fixtures/demo-next holds the files that changed (to try --history)
        changed = sorted(snapshot_files(data_path("demo-next") / "azure"))
        names = {file.name for file in changed}
        for file in [f for f in sorted(snapshot_files(data_path("demo") / "azure")) if f.name not in names] + changed:
            load_snapshot(file, inventory, collected=DEMO_NEXT_DAY)
    else:
        load_snapshot(data_path("demo") / "azure", inventory, collected=DEMO_DAY)
    sdn_source.load_fabric_snapshot(data_path("demo") / "sdn", inventory)  # the on-premises SDN beside it


SOURCES: list[Source] = [
    Source(
        name="demo",
        options=[click.Option(["--demo"], is_flag=True,
                              help="Audit the bundled demo Virtual Datacenter (no account needed)."),
                 click.Option(["--demo-next"], is_flag=True,
                              help="The demo a day later (a few resources changed): scan it after --demo with "
                                   "--history to see what changed.")],
        wanted=lambda p: bool(p.get("demo") or p.get("demo_next")),
        collect=_collect_demo,
        selectors=("--demo", "--demo-next"),
    ),
    Source(
        name="snapshot",
        options=[click.Option(["--snapshot"], multiple=True, metavar="PATH",
                              type=click.Path(path_type=str),
                              help="Offline export: a JSON file or a folder of them (az resource list, "
                                   "az graph query, or an ARM list response). Repeatable.")],
        wanted=lambda p: bool(p.get("snapshot")),
        collect=_collect_snapshots,
        selectors=("--snapshot",),
    ),
    Source(name=arm_template.SOURCE, options=arm_template.OPTIONS, wanted=arm_template.wanted,
           collect=arm_template.collect, selectors=("--template",)),
    Source(name=terraform.SOURCE, options=terraform.OPTIONS, wanted=lambda p: bool(p.get("terraform_plan")),
           collect=terraform.collect, selectors=("--terraform-plan",)),
    Source(name="sdn", options=sdn_source.SCAN_OPTIONS, wanted=sdn_source.wanted, collect=sdn_source.collect,
           selectors=("--sdn-snapshot", "--nc")),
    Source(name="azure", options=azure_source.OPTIONS, wanted=azure_source.wanted, collect=azure_source.collect,
           selectors=("--subscription", "--all-subscriptions", "--management-group")),
]


def all_options() -> list[click.Option]:
    return [option for source in SOURCES for option in source.options]


def selectors() -> list[str]:
    return [flag for source in SOURCES for flag in source.selectors]
