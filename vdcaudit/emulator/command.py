"""`vdcaudit emulator`: run the local ARM emulator by hand and print the scan command that reaches it."""

from __future__ import annotations

import re
import signal
import sys
import threading
from pathlib import Path

import click

from vdcaudit.emulator.arm import ArmEmulator
from vdcaudit.emulator.httpserver import Fault
from vdcaudit.resources import data_path


@click.command("emulator")
@click.option("--fixture", "fixtures", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Snapshot file or folder that makes up the tenant (repeatable; default: the demo VDC).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="TCP port on 127.0.0.1 (0: any free port).")
@click.option("--page-size", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Items per page of ARM list responses (nextLink paging).")
@click.option("--latency", type=click.FloatRange(0, 10), default=0.0, show_default=True,
              help="Seconds added to every response.")
@click.option("--throttle", type=click.Choice(["arm", "tight", "off"]), default="arm", show_default=True,
              help="Read limits: arm = ARM's documented token buckets (250 reads, 25 more a second, per "
                   "subscription and for the tenant) and Resource Graph's 15 queries per 5 s; tight = five "
                   "times tighter; off = none.")
@click.option("--throttle-first", type=click.IntRange(0), default=0, show_default=True, metavar="N",
              help="Fault: answer the first N requests 429 with Retry-After.")
@click.option("--retry-after", type=click.FloatRange(0, 600), default=1.0, show_default=True, metavar="SECONDS",
              help="The Retry-After of --throttle-first's answers.")
@click.option("--fail-path", "fail_paths", multiple=True, metavar="REGEX",
              help="Fault: answer 404 NotFound to every request whose path matches (e.g. "
                   "'fileServices/default$', to rehearse a child ARM always serves going missing); repeatable.")
def emulator(fixtures: tuple[Path, ...], port: int, page_size: int, latency: float, throttle: str,
             throttle_first: int, retry_after: float, fail_paths: tuple[str, ...]) -> None:
    """Serve a fixture tenant on a local HTTPS ARM endpoint (Ctrl-C stops it)."""
    arm = ArmEmulator(list(fixtures) or [data_path("demo") / "azure"], page_size=page_size, port=port,
                      throttle=None if throttle == "off" else throttle)
    if latency:
        arm.add_fault(Fault.latency(latency))
    if throttle_first:
        arm.add_fault(Fault.throttle(retry_after=retry_after, times=throttle_first))
    for pattern in fail_paths:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise click.BadParameter(f"{pattern!r} is not a regular expression ({exc})", param_hint="--fail-path")
        arm.add_fault(Fault.error(404, times=None, path=pattern, code="NotFound"))
    with arm:
        # `kill` (CI teardown; a background job, whose Ctrl-C the shell ignores) stops it as Ctrl-C
        # does, leaving the with-block so that the throw-away CA and server key are deleted
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        click.echo(f"ARM emulator on {arm.url}: {len(arm.subscriptions)} subscriptions, "
                   f"{len(arm.resources())} resources, management group {next(iter(arm.management_groups))}")
        click.echo(f"Read limits: {throttle} (--throttle)")
        click.echo(f"CA certificate (deleted when the emulator stops): {arm.ca_path}")
        click.echo("Scan it with:")
        click.echo(f"  vdcaudit scan --all-subscriptions --arm-endpoint {arm.url} --ca-bundle {arm.ca_path} "
                   "--credential static-token", )
        click.echo("Ctrl-C stops it.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
