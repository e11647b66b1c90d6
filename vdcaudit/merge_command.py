"""`vdcaudit merge SHARD.json... --out DIR`: one report and one gate decision from several shards'
findings files (see vdcaudit.merge)."""

from __future__ import annotations

from pathlib import Path

import click

from vdcaudit.command_options import finish, gate_input_options, output_options, pack_options
from vdcaudit.config import load_config
from vdcaudit.gate import add_gate_inputs
from vdcaudit.gcpause import collector_paused
from vdcaudit.merge import merge as merge_shards
from vdcaudit.model import ScanContext
from vdcaudit.rulepack import load_rules


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@pack_options
@output_options
@gate_input_options
def merge(shards: tuple[Path, ...], rule_dirs: tuple[Path, ...], config_path: Path | None, formats: list[str], out_dir: Path,
          fail_on: str | None, fail_on_error: bool, allow_empty: bool, baseline_path: Path | None,
          waivers_path: Path | None, quiet: bool) -> None:
    """Merge several scans' vdcaudit-findings.json (shards) into one report and one gate decision."""
    context = ScanContext(config=load_config(config_path))
    add_gate_inputs(context, waivers_path, baseline_path)
    with collector_paused():  # as in scan: many long-lived objects, no cycles
        result = merge_shards(list(shards), load_rules(list(rule_dirs)), context)
        if not quiet and result.merge and result.merge["duplicates"]["resources"]:
            duplicates = result.merge["duplicates"]
            click.echo(f"merge: {duplicates['resources']} resource(s) found in more than one shard, counted once "
                       f"({result.merge['conflicts']} with differing verdicts: the worse kept)", err=True)
        finish(result, formats, out_dir, fail_on, quiet, fail_on_error=fail_on_error, allow_empty=allow_empty)
