"""`vdcaudit snapshot`: collect from live Azure and write the evidence as a snapshot file that
`vdcaudit scan --snapshot FILE` reads, so the same rules can be re-run on the same data later."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from vdcaudit import __version__
from vdcaudit.io.atomic import check_folder, check_replaceable, json_bytes, write_atomically
from vdcaudit.collectors import azure as azure_source
from vdcaudit.inventory import API_VERSION, DATA_PLANE, META, Inventory, strip_annotations


def snapshot_document(inventory: Inventory, started: datetime, source: str | None = None) -> dict[str, Any]:
    """An ARM list response (`value`) of every resource as it was read, child resources as their
    own entries, plus what was collected and what could not be read (ignored by the loader).
    `source`: only what that source read (an evidence bundle keeps a live scan's part this way)."""
    def wanted(kind: str | None) -> bool:
        return source is None or kind == source

    return {
        "vdcaudit_snapshot": {
            "tool": {"name": "vdcaudit", "version": __version__},
            "collected": started.isoformat(), "sources": [s for s in inventory.sources if wanted(s.get("kind"))],
            "coverage": [record.to_dict() for record in inventory.coverage if wanted(record.source)],
        },
        "value": [_as_read(resource) for resource in inventory if wanted(resource.get(META, {}).get("source"))],
    }


def _as_read(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the source printed it, plus the annotations the evidence needs later: the
    API version it was read with (x_vdcaudit.apiVersion), which decides defaults that changed with
    the API, and the child data read through a data plane (x_vdcaudit.dataPlane: a vault whose
    certificates were read, none or some). Everything else vdcaudit annotates is derived again when
    the file is read."""
    printed = strip_annotations(resource)
    kept = {key: resource.get(META, {}).get(key) for key in (API_VERSION, DATA_PLANE)}
    if any(kept.values()):
        printed[META] = {key: value for key, value in kept.items() if value}
    return printed


@click.command("snapshot")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON file to write (read back with: vdcaudit scan --snapshot FILE).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def snapshot(out_file: Path, quiet: bool, **params: Any) -> None:
    """Collect from live Azure and save the evidence for offline scans."""
    if not azure_source.wanted(params):
        raise click.UsageError("choose what to collect: --subscription, --all-subscriptions or --management-group")
    check_folder(out_file.parent)
    check_replaceable(out_file)  # before minutes of collection, not after
    started = datetime.now(timezone.utc)
    inventory = Inventory()
    azure_source.collect({**params, "quiet": quiet, "graph_all": True}, inventory)
    document = snapshot_document(inventory, started)
    write_atomically(out_file, json_bytes(document, indent=1))
    if not quiet:
        click.echo(f"wrote {out_file}: {len(document['value'])} resources"
                   + (f", {len(inventory.coverage)} coverage gap(s) (listed in the file)" if inventory.coverage else ""))


snapshot.params[:0] = azure_source.OPTIONS
