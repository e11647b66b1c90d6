"""Check an evidence bundle: every file against the manifest's SHA-256, the manifest's signature,
then judge the bundled inputs again with the bundled rules and settings and compare the findings
(fingerprint, status, waived or not) with the bundled findings file. Every problem is one line,
naming the file or the finding; none means the bundle holds what it claims."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from vdcaudit.io.atomic import file_digest
from vdcaudit.bundle import signing
from vdcaudit.bundle.layout import MANIFEST, MANIFEST_DIGEST
from vdcaudit.bundle.reader import OpenBundle
from vdcaudit.errors import InputError
from vdcaudit.timestamps import parse_datetime

BESIDE_MANIFEST = {MANIFEST, MANIFEST_DIGEST, signing.SIGNATURE, signing.SIGNER}
DIFFERENCES_LISTED = 200  # one line each; the count covers them all


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: int = 0


def inside(bundle: OpenBundle, name: Any) -> Path:
    """A path the manifest names, inside the bundle (never above it)."""
    parts = PurePosixPath(str(name)).parts
    if not isinstance(name, str) or not parts or name.startswith("/") or ".." in parts or "\\" in name:
        raise InputError(f"{MANIFEST} names a path outside the bundle: {name!r}", bundle.name)
    return bundle.folder.joinpath(*parts)


def check_files(bundle: OpenBundle) -> list[str]:
    problems = []
    recorded = bundle.folder / MANIFEST_DIGEST
    digest = recorded.read_text(encoding="utf-8", errors="replace").split(" ")[0] if recorded.is_file() else None
    if digest is None:
        problems.append(f"{MANIFEST_DIGEST}: missing (the manifest's own sha256)")
    elif file_digest(bundle.folder / MANIFEST) != digest:
        problems.append(f"{MANIFEST}: sha256 differs from {MANIFEST_DIGEST} (changed since the bundle was written)")
    listed = bundle.manifest["files"]
    for name, entry in sorted(listed.items()):
        path = inside(bundle, name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if path.is_symlink():  # a bundle holds copies; a link could point anywhere
            problems.append(f"{name}: is a symbolic link, not a file of the bundle")
        elif not path.is_file():
            problems.append(f"{name}: missing (listed in {MANIFEST})")
        elif file_digest(path) != expected:
            problems.append(f"{name}: sha256 differs from {MANIFEST} (changed since the bundle was written)")
    for path in sorted(p for p in bundle.folder.rglob("*") if p.is_file()):
        name = path.relative_to(bundle.folder).as_posix()
        if name not in listed and name not in BESIDE_MANIFEST:
            problems.append(f"{name}: not listed in {MANIFEST}")
    return problems


def check_signature(bundle: OpenBundle, trust: Path | None, required: bool) -> tuple[list[str], str]:
    """(problems, a note saying what the signature proves)."""
    signature_path = bundle.folder / signing.SIGNATURE
    if not signature_path.is_file():
        if trust is not None or required:
            return [f"{MANIFEST}: not signed ({signing.SIGNATURE} missing), but a signature is required"], ""
        return [], "unsigned: the hashes show the files match the manifest, not who wrote it"
    key_path = trust or bundle.folder / signing.SIGNER
    key = signing.load_public_key(key_path)
    content = (bundle.folder / MANIFEST).read_bytes()
    if not signing.is_valid(key, content, signature_path.read_bytes()):
        whose = f"the trusted key {trust}" if trust else f"the bundle's own {signing.SIGNER}"
        return [f"{MANIFEST}: signature does not verify with {whose}"], ""
    fingerprint = signing.key_fingerprint(key)
    if trust is None:
        return [], (f"signature valid for the bundle's own key (sha256 {fingerprint}); "
                    "give --trust PUBKEY.pem to check who signed")
    return [], f"signature valid: signed by the trusted key {trust} (sha256 {fingerprint})"


def _expected(bundle: OpenBundle, recipe: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """fingerprint -> (status as compared, "RULE resource-id") of the bundled findings."""
    from vdcaudit.findings_file import read_findings_file
    from vdcaudit.model import fingerprint

    document = read_findings_file(inside(bundle, recipe.get("findings")))
    return {fingerprint(str(f["rule_id"]), str(f["resource_id"])):
            (_label(str(f["status"]), bool(f.get("waiver"))), f"{f['rule_id']} {f['resource_id']}")
            for f in document.findings}


def _label(status: str, waived: bool) -> str:
    return f"{status} (waived)" if waived else status


def rejudge(bundle: OpenBundle) -> tuple[list[str], int]:
    """Judge the bundled inputs again; (one line per differing finding, findings compared)."""
    from vdcaudit.config import load_config
    from vdcaudit.context import ScanContext
    from vdcaudit.gate import add_gate_inputs
    from vdcaudit.reports.common import rulepack_digest
    from vdcaudit.rulepack import load_rules

    recipe = bundle.manifest.get("rejudge")
    if not isinstance(recipe, dict) or recipe.get("command") not in ("scan", "merge"):
        raise InputError(f"{MANIFEST}: no `rejudge` block saying how the scan was made", bundle.name)
    problems = []
    rules = load_rules([inside(bundle, folder) for folder in recipe.get("rules") or []], include_builtin=False)
    pack = (bundle.manifest.get("rulepack") or {}).get("sha256")
    if rulepack_digest(rules) != pack:
        problems.append(f"rules/: the bundled rule pack's sha256 {rulepack_digest(rules)} is not the manifest's {pack}")
    config_name = recipe.get("config")
    try:
        judged_at = parse_datetime(recipe.get("judged_at"), naive="keep")
    except ValueError:
        raise InputError(f"{MANIFEST}: rejudge.judged_at is not a date-time", bundle.name) from None
    context = ScanContext(config=load_config(inside(bundle, config_name) if config_name else None), now=judged_at,
                          options={"as_of": _as_of(bundle, recipe)})
    waivers, baseline = recipe.get("waivers"), recipe.get("baseline")
    add_gate_inputs(context, inside(bundle, waivers) if waivers else None, inside(bundle, baseline) if baseline else None,
                    rules)
    if recipe["command"] == "merge":
        from vdcaudit.bundle.shards import shard_files
        from vdcaudit.merge import merge

        with shard_files([inside(bundle, name) for name in recipe.get("shards") or []]) as shards:
            result = merge(shards, rules, context)
    else:
        result = _scan_again(bundle, recipe, rules, context)
    expected = _expected(bundle, recipe)
    actual = {f.fingerprint: (_label(f.status.value, f.waiver is not None), f"{f.rule_id} {f.resource_id}")
              for f in result.findings}
    differences = []
    for key in sorted(set(expected) | set(actual)):
        bundled, again = expected.get(key, ("absent", "")), actual.get(key, ("absent", ""))
        if bundled[0] != again[0]:
            differences.append(f"{recipe.get('findings')}: {again[1] or bundled[1]}: bundled {bundled[0]}, "
                               f"re-judged {again[0]}")
    problems += differences[:DIFFERENCES_LISTED]
    if len(differences) > DIFFERENCES_LISTED:
        problems.append(f"... and {len(differences) - DIFFERENCES_LISTED} more differing finding(s)")
    return problems, len(actual)


def _scan_again(bundle: OpenBundle, recipe: dict[str, Any], rules: list[Any], context: Any) -> Any:
    from vdcaudit.bundle.layout import LIVE_OPTIONS, PATH_OPTIONS
    from vdcaudit.collectors import SOURCES
    from vdcaudit.inventory import Inventory
    from vdcaudit.scan import scan

    # never a live read, whatever an (unsigned) manifest says: the bundle holds what was read
    options = {k: v for k, v in (recipe.get("options") or {}).items() if k not in LIVE_OPTIONS}
    for name in PATH_OPTIONS & set(options):
        value = options[name]
        options[name] = [str(inside(bundle, v)) for v in value] if isinstance(value, list) else \
            (str(inside(bundle, value)) if value else None)
    params = {**options, "quiet": True, "rule_dirs": (), "as_of": _as_of(bundle, recipe)}
    context.options = params
    inventory = Inventory()
    for source in SOURCES:
        if source.name not in ("azure", "demo") and source.wanted(params):  # live reads are in the snapshot
            source.collect(params, inventory)
    return scan(inventory, rules, context)


def _as_of(bundle: OpenBundle, recipe: dict[str, Any]) -> date | None:
    """The day the scan judged its evidence as of (--as-of, or the demo's own day); None: the
    evidence's own dates and the scan's clock decide, as they did."""
    value = recipe.get("as_of")
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{MANIFEST}: rejudge.as_of is not a date (YYYY-MM-DD)", bundle.name) from None


def verify(bundle: OpenBundle, trust: Path | None, required: bool = False) -> Verdict:
    verdict = Verdict()
    problems, note = check_signature(bundle, trust, required)
    verdict.problems += problems
    if note:
        verdict.notes.append(note)
    files = check_files(bundle)
    verdict.problems += files
    if files:  # judging files that are not what the manifest says would prove nothing
        verdict.notes.append("not re-judged: the files differ from the manifest")
        return verdict
    differences, verdict.findings = rejudge(bundle)
    verdict.problems += differences
    return verdict

