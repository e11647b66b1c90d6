"""The live Azure source: `vdcaudit scan --subscription ID | --all-subscriptions | --management-group MG`.

Reads through the official azure-mgmt-* clients and azure-identity only (DefaultAzureCredential:
environment, workload or managed identity, `az login`). Resource Graph is the fast path for the
inventory; `--no-graph` lists everything through the per-service SDK clients instead. Read-only:
GET requests, plus Resource Graph's query POST; keys, secrets and connection strings are never
listed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from vdcaudit.endpoints import check_certificates
from vdcaudit.errors import InputError, debug_enabled
from vdcaudit.inventory import Inventory

# azure-identity logs each failed credential of its chain as a warning; with no logging set up
# Python prints those to stderr, a dozen lines before vdcaudit's own one-line error. The reason
# is in that error; VDCAUDIT_DEBUG=1 lets the chain's details through.
if not debug_enabled():
    logging.getLogger("azure").addHandler(logging.NullHandler())

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT = 30.0
DEFAULT_BUDGET = 120.0  # seconds of 429 waits one read may spend before it is given up (throttle.py)

OPTIONS = [
    click.Option(["--subscription"], multiple=True, metavar="ID",
                 help="Live scan of this Azure subscription (repeatable)."),
    click.Option(["--all-subscriptions"], is_flag=True, help="Live scan of every subscription the identity can read."),
    click.Option(["--management-group"], metavar="MG", help="Live scan of every subscription under this management group."),
    click.Option(["--tenant"], metavar="TENANT_ID", help="Entra tenant to authenticate against."),
    click.Option(["--cloud"], type=click.Choice(["AzurePublicCloud", "AzureUSGovernment", "AzureChinaCloud"]),
                 default="AzurePublicCloud", show_default=True, help="Azure cloud (ARM endpoint and token scope)."),
    click.Option(["--arm-endpoint"], metavar="URL",
                 help="Another ARM endpoint (private, sovereign, or a local emulator); token scope stays the cloud's."),
    click.Option(["--ca-bundle"], type=click.Path(dir_okay=False, path_type=str),
                 help="PEM file of CA certificates to trust for the ARM endpoint."),
    click.Option(["--credential"], type=click.Choice(["default", "static-token"]), default="default",
                 show_default=True, help="static-token: a dummy token, only for a loopback --arm-endpoint (emulator)."),
    click.Option(["--concurrency"], type=click.IntRange(1, 64), default=DEFAULT_CONCURRENCY, show_default=True,
                 help="Parallel ARM requests."),
    click.Option(["--request-timeout", "request_timeout"], type=click.FloatRange(0.1, 600), default=DEFAULT_TIMEOUT,
                 show_default=True, help="Seconds per ARM request before it counts as timed out (then retried)."),
    click.Option(["--throttle-budget", "throttle_budget"], type=click.FloatRange(0, 3600), default=DEFAULT_BUDGET,
                 show_default=True, metavar="SECONDS",
                 help="Seconds one ARM read may spend waiting out 429 throttling (Retry-After) before it is "
                      "given up as a coverage gap."),
    click.Option(["--no-graph"], is_flag=True,
                 help="Read everything through the per-service SDK clients instead of Resource Graph."),
    click.Option(["--keyvault-data-plane"], is_flag=True,
                 help="Also read each Key Vault's certificates (attributes and policy; never keys, secrets or "
                      "private keys) through Key Vault's data plane: needs certificate get/list on each vault."),
]


def wanted(params: dict[str, Any]) -> bool:
    return bool(params.get("subscription") or params.get("all_subscriptions") or params.get("management_group"))


def _assessed_types(params: dict[str, Any]) -> set[str]:
    from vdcaudit.rulepack import load_rules

    return {rule.resource_type for rule in load_rules([Path(d) for d in params.get("rule_dirs") or ()])}


def _graph_types(params: dict[str, Any]) -> set[str] | None:
    """What Resource Graph is asked for: the types the loaded rules judge and their checks read,
    and the parents whose child data the catalog reads. None (everything) for `vdcaudit snapshot`,
    whose file must serve later scans with other rules."""
    if params.get("graph_all"):
        return None
    from vdcaudit.checks.cmk import VAULT_TYPES
    from vdcaudit.collectors.azure import catalog
    from vdcaudit.rulepack import load_rules

    rules = load_rules([Path(d) for d in params.get("rule_dirs") or ()])
    types = {t for rule in rules for t in (rule.resource_type, *rule.reads)}
    types |= {call.parent for call in (*catalog.LISTINGS, *catalog.CHILDREN) if call.parent}
    types |= {trigger for trigger, _ in catalog.SUBSCRIPTION_EXTRAS if trigger}
    types |= set(VAULT_TYPES)  # the CMK checks resolve key URIs in any vault or managed HSM
    return types


def build(params: dict[str, Any]) -> Any:
    """The collector for these options (after checking them). Optional keys that no CLI option
    sets (`retry_backoff`, `graph_page_size`, `pacer`, `max_response_bytes`) let tests and
    benchmarks tune it."""
    from vdcaudit.collectors.azure.clients import MAX_RESPONSE_BYTES, Clients, Connection
    from vdcaudit.collectors.azure.clouds import CLOUDS, check_endpoint, make_credential
    from vdcaudit.collectors.azure.collector import AzureCollector, Settings
    from vdcaudit.collectors.azure.principal import PrincipalRecorder

    chosen = [flag for flag, key in (("--subscription", "subscription"), ("--all-subscriptions", "all_subscriptions"),
                                     ("--management-group", "management_group")) if params.get(key)]
    if len(chosen) > 1:
        raise InputError(f"choose one of {', '.join(chosen)}")
    cloud = CLOUDS[params.get("cloud") or "AzurePublicCloud"]
    endpoint = check_endpoint(params.get("arm_endpoint") or cloud.arm_endpoint)
    ca_bundle = params.get("ca_bundle")
    if ca_bundle:
        check_certificates(ca_bundle, "--ca-bundle")
    # the recorder keeps the principal's claims for the evidence bundle's operator (never the token)
    credential = PrincipalRecorder(make_credential(params.get("credential") or "default", cloud, endpoint,
                                                   params.get("tenant")))
    connection = Connection(
        endpoint=endpoint, credential=credential, scope=cloud.scope, ca_bundle=ca_bundle,
        timeout=float(params.get("request_timeout") or DEFAULT_TIMEOUT),
        concurrency=int(params.get("concurrency") or DEFAULT_CONCURRENCY),
        backoff=float(params.get("retry_backoff", 0.8)), retries=int(params.get("request_retries", 4)),
        throttle_budget=float(params["throttle_budget"] if params.get("throttle_budget") is not None else DEFAULT_BUDGET),
        max_response_bytes=int(params.get("max_response_bytes") or MAX_RESPONSE_BYTES))
    settings = Settings(
        subscriptions=list(params.get("subscription") or ()), all_subscriptions=bool(params.get("all_subscriptions")),
        management_group=params.get("management_group"), use_graph=not params.get("no_graph"),
        graph_page_size=int(params.get("graph_page_size") or 1000),
        progress=not params.get("quiet"), assessed_types=_assessed_types(params), graph_types=_graph_types(params),
        keyvault_data_plane=bool(params.get("keyvault_data_plane")), keyvault_suffix=cloud.keyvault_suffix)
    return AzureCollector(Clients(connection, params.get("pacer")), settings)


def collect(params: dict[str, Any], inventory: Inventory) -> None:
    collector = build(params)
    try:
        collector.collect(inventory)
    finally:
        collector.clients.close()
