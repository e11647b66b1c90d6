"""On-premises Windows Server SDN: Network Controller resources plus Hyper-V host certificates.

`vdcaudit scan --sdn-snapshot DIR` / `--nc URL` and `vdcaudit sdn` both come through `collect`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from vdcaudit.collectors.sdn.fabric import load_fabric_snapshot
from vdcaudit.collectors.sdn.live import collect_live
from vdcaudit.collectors.sdn.ncclient import AUTH_MODES, NcSettings
from vdcaudit.inventory import Inventory

DEFAULT_CERT_WARN_DAYS = 30


def nc_options(prefix: str = "") -> list[click.Option]:
    """Options that reach a live controller (shared by `scan` and `sdn`)."""
    return [
        click.Option(["--nc"], metavar="URL", help="Network Controller REST endpoint, e.g. https://nc.contoso.local"),
        click.Option(["--nc-auth"], type=click.Choice(AUTH_MODES), default="none", show_default=True,
                     help="How to authenticate to the controller (Set-NetworkController -ClientAuthentication)."),
        click.Option(["--nc-client-cert"], metavar="PEM", type=click.Path(dir_okay=False, path_type=str),
                     help="Client certificate (PEM) for --nc-auth cert."),
        click.Option(["--nc-client-key"], metavar="PEM", type=click.Path(dir_okay=False, path_type=str),
                     help="Private key (PEM) of the client certificate, if not in --nc-client-cert."),
        click.Option(["--nc-ca-bundle"], metavar="PEM", type=click.Path(dir_okay=False, path_type=str),
                     help="CA certificates to verify the controller's TLS certificate (default: system store)."),
        click.Option(["--nc-timeout"], type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                     metavar="SECONDS", help="Timeout per controller request."),
        click.Option([f"--{prefix}hosts"], metavar="DIR", type=click.Path(file_okay=False, path_type=str),
                     help="Folder of host certificate inventories (NAME.json / NAME.pem) for --nc."),
    ]


def cert_warn_option() -> click.Option:
    return click.Option(["--cert-warn-days"], type=click.IntRange(min=0), default=DEFAULT_CERT_WARN_DAYS,
                        show_default=True, metavar="DAYS",
                        help="SDN encryption certificates expiring within DAYS give a WARN finding.")


# `vdcaudit scan` options. --cert-warn-days is read by the certificate checks through ScanContext.options.
SCAN_OPTIONS: list[click.Option] = [
    click.Option(["--sdn-snapshot"], multiple=True, metavar="DIR", type=click.Path(file_okay=False, path_type=str),
                 help="SDN snapshot folder (Network Controller responses + hosts/). Repeatable."),
    *nc_options("sdn-"),
    cert_warn_option(),
]


def wanted(params: dict[str, Any]) -> bool:
    return bool(params.get("sdn_snapshot") or params.get("nc"))


def settings_from(params: dict[str, Any]) -> NcSettings:
    return NcSettings(url=params["nc"], auth=params.get("nc_auth") or "none",
                      client_cert=params.get("nc_client_cert"), client_key=params.get("nc_client_key"),
                      ca_bundle=params.get("nc_ca_bundle"), timeout=float(params.get("nc_timeout") or 30.0))


def collect(params: dict[str, Any], inventory: Inventory, snapshot_key: str = "sdn_snapshot",
            hosts_key: str = "sdn_hosts", save_to: Path | None = None) -> None:
    for folder in params.get(snapshot_key) or ():
        load_fabric_snapshot(Path(folder), inventory)
    if params.get("nc"):
        hosts = params.get(hosts_key)
        collect_live(settings_from(params), inventory, Path(hosts) if hosts else None, save_to)
