"""The vdcaudit command line.

Exit codes: 0 ok, 1 the --fail-on gate failed (a FAIL, or an ERROR unless --no-fail-on-error, at or
above the severity), 2 usage or input error (also: a scan that judged nothing, unless --allow-empty),
3 internal error.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from vdcaudit import __version__, azure_policy, policy_docs
from vdcaudit.io.atomic import write_atomically
from vdcaudit.azure_policy import Definition
from vdcaudit.collectors import SOURCES, all_options, selectors
from vdcaudit.bundle.command import verify as verify_command
from vdcaudit.bundle.writer import evidence_bundle
from vdcaudit.commands.command_options import evidence_options, finish, gate_input_options, output_options, pack_options
from vdcaudit.config import load_config
from vdcaudit.console import print_rule, print_rules
from vdcaudit.context import ScanContext
from vdcaudit.emulator.command import emulator as emulator_command
from vdcaudit.commands.output import check_targets
from vdcaudit.io.reads import ReadLog, recording
from vdcaudit.provenance import report_facts, scan_inputs
from vdcaudit.errors import EXIT_INTERNAL, EXIT_USAGE, InputError, debug_enabled
from vdcaudit.gate import add_gate_inputs
from vdcaudit.history.commands import history as history_command
from vdcaudit.history.recording import HistoryRequest, recording_options
from vdcaudit.gcpause import collector_paused
from vdcaudit.inventory import Inventory
from vdcaudit.commands.merge_command import merge as merge_command
from vdcaudit.resources import data_path
from vdcaudit.rule_docs import rules_docs
from vdcaudit.rulepack import Rule, growth_warnings, lint, load_rule_file, load_rules, rule_files
from vdcaudit.scan import scan as run_scan
from vdcaudit.commands.sdn_command import sdn as sdn_command
from vdcaudit.commands.snapshot_command import snapshot as snapshot_command
from vdcaudit.untrusted import safe_text


class UserError(click.ClickException):
    """One line on stderr, no traceback."""

    exit_code = EXIT_USAGE  # click declares exit_code a ClassVar: one code per class

    def show(self, file: Any = None) -> None:
        # messages quote input (ids, names, URLs): escaped and masked here, whatever raised them
        click.echo(f"vdcaudit: error: {safe_text(self.format_message(), limit=None)}", err=True)


class InternalError(UserError):
    """An unexpected exception, still reported in one line."""

    exit_code = EXIT_INTERNAL


class VdcGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["argv"] = list(args)  # the command line as given (an evidence bundle records it, masked)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            raise UserError(exc.one_line()) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if debug_enabled():
                raise  # the entry point prints the traceback and still exits 3
            raise InternalError(f"internal error: {type(exc).__name__}: {exc} "
                                "(set VDCAUDIT_DEBUG=1 for a traceback)") from None


@click.group(cls=VdcGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="vdcaudit")
def cli() -> None:
    """Audit an Azure Virtual Datacenter (and the on-premises SDN beside it) for encryption gaps:
    data in transit, data at rest and key management.

    \b
    Exit codes: 0 ok, 1 --fail-on gate failed (a FAIL or, unless --no-fail-on-error, an ERROR at or
    above the severity), 2 usage or input error (a scan that judged nothing, unless --allow-empty),
    3 internal error.
    """


def _with_source_options(command: Any) -> Any:
    for option in reversed(all_options()):
        command.params.insert(0, option)
    return command


@_with_source_options
@cli.command()
@pack_options
@output_options
@gate_input_options
@recording_options
@click.option("--title", help="The report's title (overrides `report: title` in the config).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Judge the evidence as of this day (YYYY-MM-DD): the platform floors Azure enforced then "
                   "(docs/platform-floors.md). Default: a snapshot's collection time, else now.")
@evidence_options
def scan(rule_dirs: tuple[Path, ...], config_path: Path | None, formats: list[str], out_dir: Path,
         fail_on: str | None, fail_on_error: bool, allow_empty: bool, baseline_path: Path | None,
         waivers_path: Path | None, quiet: bool, history: HistoryRequest, title: str | None, as_of: datetime | None,
         evidence_path: Path | None, sign_key: Path | None, **source_params: Any) -> None:
    """Scan one or more sources and write reports."""
    chosen = [source for source in SOURCES if source.wanted(source_params)]
    if not chosen:
        raise click.UsageError(f"choose what to scan: {', '.join(selectors())}")
    check_targets(formats, out_dir)
    started = datetime.now(timezone.utc)
    if (source_params.get("demo") or source_params.get("demo_next")) and config_path is None:
        config_path = data_path("demo") / "vdcaudit.yaml"  # the demo's declared key owners
    with evidence_bundle(evidence_path, sign_key, "scan") as bundle, \
            recording(bundle.reads if bundle is not None else ReadLog()) as reads, \
            collector_paused():  # millions of long-lived objects, next to no cycles: see gcpause
        if bundle is not None:
            bundle.refuse_unrecordable(source_params)
        config = load_config(config_path)
        rules = load_rules(list(rule_dirs))
        params = {**source_params, "quiet": quiet, "rule_dirs": rule_dirs}
        context = ScanContext(config=config, options={**params, "as_of": as_of.date() if as_of else None})
        add_gate_inputs(context, waivers_path, baseline_path, rules)  # a refused waiver stops before any read
        inventory = Inventory()
        for source in chosen:
            source.collect(params, inventory)
        if bundle is not None:
            bundle.record_sources(source_params)  # the bytes the scan read, not a second read
            if any(source.name == "azure" for source in chosen):
                bundle.record_live(inventory, started)
            bundle.record_settings(config, waivers_path, baseline_path, rule_dirs, context.now,
                                   as_of.date() if as_of else None)
        result = run_scan(inventory, rules, context, started=started)
        result.report = report_facts(config.report, title)
        result.inputs = scan_inputs(result.sources, config_path, waivers_path, baseline_path, reads)
        finish(result, formats, out_dir, fail_on, quiet, history, fail_on_error=fail_on_error,
               allow_empty=allow_empty, evidence=bundle)


@cli.group()
def rules() -> None:
    """List, describe and validate rules."""


@rules.command("list")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra folder of rule files.")
@click.option("--category", type=click.Choice(["at-rest", "in-transit", "key-management"]))
@click.option("--service", help="Only rules of this service (the keys the list groups by, e.g. cosmos-db).")
@click.option("--framework", help="Only rules mapped to this framework (mcsb, cis, nist-800-53); "
                                  "FRAMEWORK:CONTROL narrows to one control, e.g. nist-800-53:SC-28.")
@click.option("--policy", "policy_id", metavar="DEFINITION_ID",
              help="Only rules that answer this Azure Policy built-in definition (its id, a GUID); a definition "
                   "no rule answers is explained (excluded, out of scope, or not yet covered).")
def rules_list(rule_dirs: tuple[Path, ...], category: str | None, service: str | None,
               framework: str | None, policy_id: str | None) -> None:
    """List the loaded rules, grouped by service."""
    selected = load_rules(list(rule_dirs))
    if policy_id:
        definition = policy_definition(selected, policy_id)
        click.echo(f"{definition.id}: {definition.title} ({definition.status}"
                   f"{': ' + definition.reason if definition.reason else ''})")
        for rule_id, differs in definition.differs.items():
            click.echo(f"  {rule_id} differs: {differs}")
        selected = definition.rules
        if not selected:
            return
    if service:
        services = sorted({rule.service for rule in selected})
        if service.lower() not in services:
            raise click.BadParameter(f"unknown service {service} (choose from {', '.join(services)})",
                                     param_hint="'--service'")
        selected = [r for r in selected if r.service == service.lower()]
    known = sorted({name for rule in selected for name in rule.frameworks()})
    if framework and framework.partition(":")[0].lower() not in known:
        # a misspelt framework would otherwise list no rules, as if none were mapped to it
        raise click.BadParameter(f"unknown framework {framework.partition(':')[0]} (choose from {', '.join(known)})",
                                 param_hint="'--framework'")
    if category:
        selected = [r for r in selected if r.category.value == category]
    if framework:
        name, _, control = framework.partition(":")
        selected = [r for r in selected
                    if r.frameworks().get(name.lower()) and (not control or control.upper() in
                                                            [c.upper() for c in r.frameworks()[name.lower()]])]
    print_rules(selected, framework.partition(":")[0].lower() if framework else None)


def policy_definition(rules: list[Rule], policy_id: str) -> Definition:
    wanted = policy_id.strip().lower()
    for definition in azure_policy.definitions(rules):
        if definition.id == wanted:
            return definition
    raise UserError(f"{policy_id} is not an Azure Policy definition on encryption or key management that vdcaudit "
                    "catalogues (see: vdcaudit rules policies)")


@rules.command("policies")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown file to write (default: standard output).")
def rules_policies(out_path: Path | None) -> None:
    """The table 'Azure Policy definition -> vdcaudit rules, or why none' (Markdown)."""
    text = policy_docs.render(load_rules())
    if out_path is None:
        click.echo(text, nl=False)
        return
    write_atomically(out_path, text.encode("utf-8"))
    click.echo(f"wrote {out_path}")


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path))
def rules_show(rule_id: str, rule_dirs: tuple[Path, ...]) -> None:
    """Describe one rule."""
    match = [r for r in load_rules(list(rule_dirs)) if r.id.lower() == rule_id.lower()]
    if not match:
        raise UserError(f"no rule {rule_id} (see: vdcaudit rules list)")
    print_rule(match[0])


@rules.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
def rules_validate(directory: Path | None) -> None:
    """Validate rule files against the shipped JSON Schema (default: the built-in pack), and lint
    them: a presence test against null on a string property (an id, a URI, a name) takes "" for a
    value, so it is reported too."""
    folder = directory or data_path("rules")
    problems, valid = [], 0
    for path in rule_files(folder):
        try:
            rule = load_rule_file(path)
        except InputError as exc:
            problems.append(exc.one_line())
            continue
        found = lint(rule)
        problems.extend(f"{path}: {problem}" for problem in found)
        valid += not found
        for warning in growth_warnings(rule):  # valid, but bounded at run time: said now
            click.echo(f"warning: {safe_text(path, limit=None)}: {warning}", err=True)
    if not problems and not valid:  # a mistyped folder must not pass as a valid (empty) rule pack
        raise UserError(f"{folder}: no rule files (*.yaml, *.yml) in the folder")
    for problem in problems:
        click.echo(f"invalid: {safe_text(problem, limit=None)}", err=True)
    click.echo(f"{valid} valid, {len(problems)} invalid rule file(s) in {folder}")
    if problems:
        sys.exit(EXIT_USAGE)


# Commands that live in their own modules
cli.add_command(snapshot_command)
cli.add_command(emulator_command)
cli.add_command(sdn_command)
cli.add_command(history_command)
cli.add_command(merge_command)
cli.add_command(verify_command)
rules.add_command(rules_docs)


def main() -> None:
    cli(prog_name="vdcaudit")
