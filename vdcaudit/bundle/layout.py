"""What the writer and the reader of an evidence bundle agree on."""

from __future__ import annotations

from pathlib import Path

FORMAT = "vdcaudit-evidence/1"
MANIFEST = "manifest.json"
# the manifest's own sha256, in `sha256sum -c` format: catches a damaged manifest in an unsigned
# bundle (only a signature shows who wrote it)
MANIFEST_DIGEST = "manifest.json.sha256"
FINDINGS = "vdcaudit-findings.json"
# scan options that name input files or folders: copied into the bundle, re-judged from the copies
PATH_OPTIONS = frozenset({"snapshot", "template", "parameters", "terraform_plan", "sdn_snapshot"})
# options of a live read: the bundle keeps what was read (a snapshot) instead
LIVE_OPTIONS = frozenset({
    "subscription", "all_subscriptions", "management_group", "tenant", "cloud", "arm_endpoint", "ca_bundle",
    "credential", "concurrency", "request_timeout", "no_graph",
    "nc", "nc_auth", "nc_client_cert", "nc_client_key", "nc_ca_bundle", "nc_timeout", "sdn_hosts"})


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def is_bundle(path: Path) -> bool:
    return is_zip(path) or (path.is_dir() and (path / MANIFEST).is_file())
