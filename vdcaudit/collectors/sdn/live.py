"""Collect the fabric from a live Network Controller: discovery, then each collection. A collection
that cannot be read becomes a coverage record (its rules report UNKNOWN with the reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vdcaudit.collectors.sdn.fabric import COLLECTIONS, SOURCE, add_collection, add_hosts, save_snapshot
from vdcaudit.collectors.sdn.hostcerts import is_host_file
from vdcaudit.collectors.sdn.ncclient import NOT_TLS, NcClient, NcReadError, NcSettings
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.model import CoverageRecord
from vdcaudit.untrusted import mask_credentials, safe_text

# Without these the controller is unusable as a whole: stop asking for further collections.
FATAL_PREFIXES = ("401", "TLS verification failed", "TLS handshake ended", "cannot connect", NOT_TLS)
# The discovery document is tiny: a controller that cannot send it within the deadline will not
# send the collections either, and asking each would multiply the wait.
FATAL_AT_DISCOVERY = (*FATAL_PREFIXES, "timeout")
UNREACHABLE = "cannot connect"


def collect_live(settings: NcSettings, inventory: Inventory, host_dir: Path | None = None,
                 save_to: Path | None = None) -> dict[str, Any]:
    """Read the controller into the inventory; optionally write the snapshot layout. Returns what
    was read, for the sources list."""
    if host_dir is not None and not host_dir.is_dir():
        raise InputError("no such folder (expected host certificate inventories)", host_dir)
    client = NcClient(settings)  # checks the URL and PEM files; settings.host needs a valid URL
    fabric = settings.host
    scope = f"sdn://{fabric}"
    bodies: dict[str, list[Any]] = {}
    shown = mask_credentials(settings.url)  # what reports and messages say: never a user name or token
    summary: dict[str, Any] = {"kind": SOURCE, "location": shown, "fabric": fabric}
    try:
        fatal: NcReadError | None = None
        try:
            discovery = client.discovery()
            summary["discovery"] = discovery
        except NcReadError as exc:
            if exc.reason.startswith(UNREACHABLE):
                # nothing answers at that address (a wrong URL or port, an unknown host): an input
                # error, not a controller whose collections are all unknown
                raise InputError(f"{exc.reason} to the Network Controller"
                                 + (f" ({safe_text(exc.detail)})" if exc.detail else ""), safe_text(shown)) from None
            if exc.reason.startswith(FATAL_AT_DISCOVERY):
                fatal = exc
            # otherwise (404 on an older controller, say) the collections may still answer
        for name, rtype in COLLECTIONS.items():
            if fatal is None:
                try:
                    bodies[name] = client.list(name)
                    continue
                except NcReadError as exc:
                    if exc.reason.startswith(FATAL_PREFIXES):
                        fatal = exc
                    failure = exc
            else:
                failure = fatal
            inventory.add_coverage(CoverageRecord(SOURCE, scope, failure.reason, rtype,
                                                  f"GET {shown.rstrip('/')}/networking/v1/{name}"
                                                  + (f": {failure.detail}" if failure.detail else "")))
    finally:
        client.close()
    for name, entries in bodies.items():
        add_collection(inventory, name, entries, fabric, {"url": f"{shown.rstrip('/')}/networking/v1/{name}"})
    summary["resources"] = sum(len(v) for v in bodies.values())
    summary["hosts"] = add_hosts(inventory, fabric, host_dir) if host_dir is not None else 0
    inventory.sources.append(summary)
    if save_to is not None:
        host_files = [p for p in sorted(host_dir.iterdir()) if is_host_file(p)] if host_dir else []
        save_snapshot(save_to, fabric, bodies, host_files)
    return summary
