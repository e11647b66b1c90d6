"""`vdcaudit merge SHARD.json... --out DIR`: one report and one gate decision from several shards'
findings files (see vdcaudit.merge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from vdcaudit.bundle.shards import shard_files
from vdcaudit.bundle.writer import evidence_bundle
from vdcaudit.commands.command_options import evidence_options, finish, gate_input_options, output_options, pack_options
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.gate import add_gate_inputs
from vdcaudit.gcpause import collector_paused
from vdcaudit.merge import merge as merge_shards
from vdcaudit.rulepack import load_rules
from vdcaudit.untrusted import safe_text

CONFLICTS_PRINTED = 20  # on the terminal; the JSON lists up to vdcaudit.merge.DUPLICATES_LISTED


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@pack_options
@output_options
@gate_input_options
@evidence_options
@click.option("--require-signed", is_flag=True,
              help="Accept only shard evidence bundles signed by the --trust key (implied by --trust).")
@click.option("--trust", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="PUBKEY.pem",
              help="Public key shard bundles must be signed with.")
def merge(shards: tuple[Path, ...], rule_dirs: tuple[Path, ...], config_path: Path | None, formats: list[str], out_dir: Path,
          fail_on: str | None, fail_on_error: bool, allow_empty: bool, baseline_path: Path | None,
          waivers_path: Path | None, quiet: bool, evidence_path: Path | None, sign_key: Path | None,
          require_signed: bool, trust: Path | None) -> None:
    """Merge several scans' vdcaudit-findings.json (shards) into one report and one gate decision.
    A shard may be an evidence bundle (folder or .zip): its hashes and signature are checked first."""
    if require_signed and trust is None:
        raise click.UsageError("--require-signed needs --trust PUBKEY.pem (the key shards must be signed with)")
    context = ScanContext(config=load_config(config_path))
    rules = load_rules(list(rule_dirs))
    add_gate_inputs(context, waivers_path, baseline_path, rules)
    with evidence_bundle(evidence_path, sign_key, "merge") as bundle, \
            shard_files(list(shards), trust, require_signed or trust is not None) as files, \
            collector_paused():  # as in scan: many long-lived objects, no cycles
        if bundle is not None:
            bundle.record_shards(list(shards))
            bundle.record_settings(context.config, waivers_path, baseline_path, rule_dirs, context.now)
        result = merge_shards(files, rules, context)
        if not quiet and result.merge:
            print_merge_notes(result.merge)
        finish(result, formats, out_dir, fail_on, quiet, fail_on_error=fail_on_error, allow_empty=allow_empty,
               evidence=bundle)


def print_merge_notes(block: dict[str, Any]) -> None:
    """What the merge decided again or could not take as given, on stderr next to the gate verdict."""
    duplicates = block["duplicates"]
    if duplicates["resources"]:
        click.echo(f"merge: {duplicates['resources']} resource(s) found in more than one shard, counted once "
                   f"({block['conflicts']} with differing verdicts: the worse kept)", err=True)
    for conflict in block["conflicting_verdicts"][:CONFLICTS_PRINTED]:
        statuses = ", ".join(f"{status} in {safe_text(shard)}" for shard, status in conflict["statuses"].items())
        click.echo(f"merge: conflict: {safe_text(conflict['rule_id'])} on {safe_text(conflict['resource_id'])}: {statuses}; "
                   f"{conflict['kept']} kept", err=True)
    if block["conflicts"] > CONFLICTS_PRINTED:
        click.echo(f"merge: {block['conflicts'] - CONFLICTS_PRINTED} more conflict(s) in the JSON's merge block", err=True)
    for kind, option in (("waivers", "--waivers"), ("baseline", "--baseline")):
        carried = block["ignored"][kind]
        if carried:
            click.echo(f"merge: {kind} carried inside {len(carried)} shard(s) ignored ({', '.join(safe_text(shard) for shard in carried)}): "
                       f"merge decides them again from its own {option}", err=True)
