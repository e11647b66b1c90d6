"""`vdcaudit verify BUNDLE [--trust PUBKEY.pem]`: exit 0 only when every hash and the signature
check out and the bundled inputs, judged again, give the bundled findings; otherwise one line per
difference and exit 1."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vdcaudit import __version__
from vdcaudit.bundle.reader import open_bundle
from vdcaudit.bundle.verify import verify as verify_bundle
from vdcaudit.errors import EXIT_GATE_FAILED


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--trust", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="PUBKEY.pem",
              help="Public key the manifest must be signed with (Ed25519, ECDSA or RSA PEM).")
@click.option("--require-signed", is_flag=True, help="Fail an unsigned bundle (implied by --trust).")
def verify(bundle: Path, trust: Path | None, require_signed: bool) -> None:
    """Check an evidence bundle (folder or .zip): hashes, signature, and the same findings when
    the bundled inputs are judged again with the bundled rules and settings."""
    with open_bundle(bundle) as opened:
        verdict = verify_bundle(opened, trust, require_signed)
        manifest = opened.manifest
    made_by = (manifest.get("tool") or {}).get("version")
    if made_by != __version__:  # the Python checks are code: another version may judge differently
        verdict.notes.append(f"the bundle was made by vdcaudit {made_by}; this is {__version__}")
    for note in verdict.notes:
        click.echo(f"note: {note}", err=True)
    for problem in verdict.problems:
        click.echo(f"differs: {problem}")
    if verdict.problems:
        click.echo(f"{bundle}: NOT verified: {len(verdict.problems)} problem(s)", err=True)
        sys.exit(EXIT_GATE_FAILED)
    tool = manifest.get("tool") or {}
    click.echo(f"{bundle}: verified: {len(manifest['files'])} file(s) match {'manifest.json'}; "
               f"{verdict.findings} finding(s) re-judged, all the same (scan by vdcaudit {tool.get('version')}, "
               f"started {manifest.get('started')})")
