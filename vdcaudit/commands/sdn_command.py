"""`vdcaudit sdn`: audit only the on-premises SDN fabric (a snapshot folder or a live Network
Controller), optionally saving what the controller returned as a snapshot folder."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from vdcaudit.collectors import sdn as sdn_source
from vdcaudit.commands.command_options import finish, output_options
from vdcaudit.config import load_config
from vdcaudit.console import console
from vdcaudit.gcpause import collector_paused
from vdcaudit.context import ScanContext
from vdcaudit.history.recording import HistoryRequest, recording_options
from vdcaudit.commands.output import check_targets
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import ScanResult
from vdcaudit.provenance import report_facts, scan_inputs
from vdcaudit.scan import scan as run_scan


def _with_nc_options(command: click.Command) -> click.Command:
    command.params.extend([*sdn_source.nc_options(), sdn_source.cert_warn_option()])
    return command


@_with_nc_options
@click.command("sdn")
@click.option("--snapshot", "snapshot", type=click.Path(file_okay=False, path_type=str), metavar="DIR",
              help="SDN snapshot folder: virtualNetworks.json, credentials.json, servers.json, "
                   "accessControlLists.json, networkInterfaces.json, hosts/NAME.json.")
@click.option("--save-snapshot", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="With --nc: write what the controller returned (and the --hosts files) as a snapshot folder.")
@output_options
@recording_options
def sdn(snapshot: str | None, save_snapshot: Path | None, formats: list[str], out_dir: Path, fail_on: str | None,
        fail_on_error: bool, allow_empty: bool, quiet: bool, history: HistoryRequest, **params: Any) -> None:
    """Audit on-premises SDN virtual network encryption (Network Controller + host certificates)."""
    if bool(snapshot) == bool(params.get("nc")):
        raise click.UsageError("give either --snapshot DIR or --nc URL")
    if save_snapshot and not params.get("nc"):
        raise click.UsageError("--save-snapshot needs --nc (a snapshot is what a live controller returned)")
    check_targets(formats, out_dir)
    started = datetime.now(timezone.utc)
    rules = [rule for rule in load_rules() if "sdn" in rule.sources]
    options = {**params, "sdn_snapshot": (snapshot,) if snapshot else (), "quiet": quiet}
    with collector_paused():  # as in `scan`: a fabric is many long-lived objects and next to no cycles
        inventory = Inventory()
        sdn_source.collect(options, inventory, hosts_key="hosts", save_to=save_snapshot)
        result = run_scan(inventory, rules, ScanContext(config=load_config(None), options=options), started=started)
        result.report = report_facts({}, None)
        result.inputs = scan_inputs(result.sources, None, None, None)
        if not quiet:
            print_overview(result)
            if save_snapshot:
                click.echo(f"saved snapshot to {save_snapshot}")
        finish(result, formats, out_dir, fail_on, quiet, history, fail_on_error=fail_on_error,
               allow_empty=allow_empty)


def print_overview(result: ScanResult) -> None:
    """One row per subnet: encrypted or not, its credential, hosts and boundary verdict."""
    section = result.sections.get("sdn")
    if not section:
        return
    table = Table(title="SDN virtual network encryption")
    for column in ("virtual network", "subnet", "prefix", "encrypted", "credential", "hosts", "boundary"):
        table.add_column(column)
    for vnet in section["virtual_networks"]:
        credential = vnet["credential"]["ref"] or "none"
        if vnet["credential"]["problem"] and vnet["credential"]["ref"]:
            credential += " (invalid)"
        for subnet in vnet["subnets"]:
            boundary = subnet["boundary"]["status"] if subnet["boundary"] else "-"
            table.add_row(vnet["name"], subnet["name"], subnet["prefix"] or "?", "yes" if subnet["encrypted"] else "no",
                          credential, ", ".join(subnet["hosts"]) or "-", boundary or "not assessed")
    console().print(table)
