"""What every scanning command (`scan`, `sdn`) shares: the output and gate options, and the end of
a scan — write the reports, print the summary, apply the gate, exit with its code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from vdcaudit.bundle.writer import EvidenceBundle
from vdcaudit.console import print_summary
from vdcaudit.errors import EXIT_GATE_FAILED, EXIT_OK, EXIT_USAGE, InputError
from vdcaudit.gate import gate_failures, gate_message, print_gate_notes
from vdcaudit.history.recording import HistoryRequest, record_scan
from vdcaudit.model import Severity
from vdcaudit.commands.output import write_reports
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.sarif_report import MAX_RESULTS, omitted_results
from vdcaudit.scan import ScanResult
from vdcaudit.untrusted import safe_text


def _formats(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    names = [n.strip().lower() for item in value for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in RENDERERS]
    if unknown:
        raise click.BadParameter(f"unknown format {', '.join(unknown)} (choose from {', '.join(RENDERERS)})")
    if not names:  # e.g. --format "" or "," from an unset CI variable: the scan would write nothing
        raise click.BadParameter(f"no format given (choose from {', '.join(RENDERERS)})")
    return list(dict.fromkeys(names))


def _sarif_category(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Kept on the context for finish(): the category only labels the SARIF file."""
    if value is not None and (not value.strip("/ ") or any(ord(c) < 32 for c in value)):
        raise click.BadParameter("a category is a non-empty name without control characters")
    ctx.meta["sarif_category"] = value


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--format, --out, --fail-on, --no-fail-on-error (fail_on_error), --allow-empty and --quiet, as
    keyword arguments of the same names."""
    options = [
        click.option("--format", "formats", multiple=True, default=("json,html",), show_default=True,
                     callback=_formats, help=f"Comma-separated output formats: {', '.join(RENDERERS)}."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
                     show_default=True, help="Folder for the reports."),
        click.option("--fail-on", type=click.Choice([s.value for s in Severity if s is not Severity.INFO]),
                     help="Exit 1 when a FAIL or an ERROR (data that could not be judged) at or above this "
                          "severity exists (default: never)."),
        click.option("--no-fail-on-error", "fail_on_error", flag_value=False, default=True,
                     help="Leave ERROR findings out of the --fail-on gate (they still show in every report)."),
        click.option("--allow-empty", is_flag=True,
                     help="Accept a scan that judged nothing (no resource any rule assesses) instead of "
                          "failing with exit 2."),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (and the gate line when it fails)."),
        click.option("--sarif-category", metavar="NAME", expose_value=False, callback=_sarif_category,
                     help="SARIF runs[].automationDetails.id (e.g. templates, plans). Default: none, so GitHub "
                          "upload-sarif's `category` input applies."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def pack_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--rules and --config, as keyword arguments rule_dirs and config_path."""
    command = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="vdcaudit.yaml: key owners, waivers and other settings.")(command)
    return click.option("--rules", "rule_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
                        help="Extra folder of rule files (added to the built-in pack). Repeatable.")(command)


def gate_input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--baseline and --waivers, as keyword arguments baseline_path and waivers_path."""
    command = click.option("--waivers", "waivers_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="YAML file with a `waivers:` list (instead of the one in --config).")(command)
    return click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="vdcaudit-findings.json of an earlier scan: --fail-on counts only FAILs "
                             "not in it.")(command)


def evidence_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--evidence and --sign-key, as keyword arguments evidence_path and sign_key."""
    command = click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path), metavar="KEY.pem",
                           help="Sign the evidence bundle's manifest with this private key (Ed25519, ECDSA or RSA "
                                "PEM); checkable with plain OpenSSL (docs/evidence.md).")(command)
    return click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), metavar="PATH",
                        help="Also write an evidence bundle: a folder, or a .zip if PATH ends in .zip "
                             "(inputs, settings, rule pack, reports, manifest; check with vdcaudit verify).")(command)


def finish(result: ScanResult, formats: list[str], out_dir: Path, fail_on: str | None, quiet: bool,
           history: HistoryRequest | None = None, fail_on_error: bool = True, allow_empty: bool = False,
           evidence: EvidenceBundle | None = None) -> NoReturn:
    if not allow_empty:
        refuse_empty(result)
    context = click.get_current_context(silent=True)
    result.sarif_category = context.meta.get("sarif_category") if context else None
    # Recorded first (one transaction), so the reports carry the "since the last scan" section.
    # A history that cannot be reached or read (or is not a history) loses the scan nothing: the
    # reports are still written, then the one-line reason and exit 2.
    recording, unrecorded = None, None
    if history is not None and history.target:
        try:
            recording = record_scan(result, history)
        except InputError as exc:
            unrecorded = exc
    written = write_reports(result, formats, out_dir)
    bundled = evidence.commit(result, written.paths) if evidence is not None else None
    problems = recording.after_reports(written.paths) if recording else []
    if unrecorded is not None:
        problems.append(f"error: the scan was not recorded: {unrecorded.one_line()}")
    for problem in problems:  # a failed notification or history loses nothing: the reports are written
        click.echo(f"vdcaudit: {safe_text(problem, limit=None)}", err=True)
    if not quiet:
        print_summary(result, written.paths)
        for path in written.earlier:
            click.echo(f"stale: {path} is an earlier scan's report, kept (not asked for this time; "
                       "listed as stale in the folder's manifest)", err=True)
        for path in written.stale:
            click.echo(f"stale: {path} is not from this scan (vdcaudit did not write it there, or it changed since)",
                       err=True)
        print_gate_notes(result)
        if "sarif" in formats and omitted_results(result):
            click.echo(f"sarif: {omitted_results(result)} least severe result(s) left out: GitHub accepts at most "
                       f"{MAX_RESULTS} per run (every finding is in the JSON report)", err=True)
        if recording:
            click.echo(recording.summary() + (f"; {len(problems)} problem(s) after recording, see above" if problems else ""))
        if bundled:
            click.echo(bundled)
    if fail_on:
        gate = gate_failures(result, Severity(fail_on), count_errors=fail_on_error)
        if gate:  # printed even with --quiet: a CI log must say why the step failed
            click.echo(gate_message(gate, fail_on), err=True)
            sys.exit(EXIT_GATE_FAILED)  # the gate's verdict first: a failed notification cannot hide it
    sys.exit(EXIT_USAGE if problems else EXIT_OK)


def refuse_empty(result: ScanResult) -> None:
    """A scan that judged nothing is not a pass: a wrong path, an empty export or a scope the
    credentials cannot see would otherwise look like a clean bill of health."""
    resources, findings = result.summary["resources"], result.summary["findings"]
    if findings:
        return
    what = ("the inventory is empty: no resource was read" if not resources else
            f"none of the {resources} resource(s) read is of a type any rule assesses")
    raise InputError(f"nothing was judged: {what} (--allow-empty accepts an empty scope)")
