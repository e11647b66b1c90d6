"""Write an evidence bundle (`--evidence PATH` on `scan` and `merge`): a folder, or a .zip when
PATH ends in .zip, laid out as

    manifest.json          SHA-256 of every other file, tool version, full rule-pack digest,
                           command line (credentials masked), times, operator, organisation,
                           engagement, and how to re-judge (`rejudge`)
    manifest.json.sig      detached signature of manifest.json (--sign-key), signer.pub.pem beside it
    inputs/                every input as read (a live scan: the collected snapshot, in the format
                           `vdcaudit snapshot` writes)
    config/                vdcaudit.yaml, waivers, baseline
    rules/                 the rule pack: built-in rules and every --rules folder
    reports/               every report written (always the findings JSON, which verify compares)

Everything is staged in a temporary folder beside PATH; only a complete bundle is renamed into
place (an earlier bundle at PATH is replaced only then), so a failure leaves nothing half-way.
Inputs are copied from the bytes the scan read (vdcaudit.io.reads), so the bundle holds what
was scanned even when a file changes on disk during the scan.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import click

from vdcaudit import __version__
from vdcaudit.io.atomic import FileSet, check_replaceable, file_digest, json_bytes, reason
from vdcaudit.io.reads import ReadLog
from vdcaudit.bundle import signing
from vdcaudit.bundle.layout import FINDINGS, FORMAT, LIVE_OPTIONS, MANIFEST, MANIFEST_DIGEST, PATH_OPTIONS, is_zip
from vdcaudit.collectors import DEMO_DAY, DEMO_NEXT_DAY
from vdcaudit.config import Config
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.provenance import operator, shown_path
from vdcaudit.reports import RENDERERS
from vdcaudit.reports.common import rulepack_digest, rulepack_version
from vdcaudit.resources import data_path
from vdcaudit.scan import ScanResult


SPOOL = ".reads"  # inside the staging folder, removed before the manifest is made
# options whose whole URL is the secret (a webhook's path is its key): only scheme and host are kept
SECRET_URL_OPTIONS = ("--notify-webhook",)


def _host_only(url: str) -> str:
    """`[format+]scheme://host/***`: no user, path or query (where a webhook keeps its key)."""
    prefix, plus, rest = url.rpartition("+") if "+http" in url else ("", "", url)
    parts = urlsplit(rest)
    return f"{prefix}{plus}{parts.scheme}://{parts.hostname or ''}/***"


def masked_command(argv: list[str]) -> str:
    """The command line as it may be recorded: passwords and tokens in URLs masked, webhooks cut
    to their host."""
    from vdcaudit.history.database import masked  # the one URL masker (history URLs carry passwords)

    shown, secret_next = [], False
    for arg in argv:
        option, equals, value = arg.partition("=")
        if secret_next or (equals and option in SECRET_URL_OPTIONS):
            shown.append((f"{option}=" if equals else "") + _host_only(value if equals else arg))
        else:
            shown.append(masked(arg))
        secret_next = arg in SECRET_URL_OPTIONS
    return shlex.join(["vdcaudit", *shown])


def local_operator() -> dict[str, str]:
    return {"kind": "local", "name": operator()}


class EvidenceBundle:
    """One bundle being staged. Use as a context manager: leaving it without commit() (an error, a
    usage problem) removes the staging folder."""

    def __init__(self, target: Path, sign_key: Path | None, command: str) -> None:
        self.target = target
        self.key = signing.load_private_key(sign_key) if sign_key else None
        self._check_target()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        except OSError as exc:
            raise InputError(f"cannot write: {reason(exc)}", target) from None
        self.files: dict[str, dict[str, Any]] = {}
        # the scan's reads spool here as they happen; an input is copied from its spooled bytes
        self.reads = ReadLog(spool=self.staging / SPOOL)
        self.rejudge: dict[str, Any] = {"command": command}
        self.operator: dict[str, Any] = local_operator()
        self.report: dict[str, Any] = {}  # vdcaudit.yaml `report:` (organisation, engagement)
        self.committed = False
        self._counter = 0

    def __enter__(self) -> EvidenceBundle:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _check_target(self) -> None:
        if is_zip(self.target):
            check_replaceable(self.target)
        elif self.target.is_symlink() or (self.target.exists() and not self.target.is_dir()):
            raise InputError("is not a folder: --evidence takes a new or earlier bundle folder, or a .zip", self.target)
        elif self.target.is_dir() and any(self.target.iterdir()) and not (self.target / MANIFEST).is_file():
            # never replace a folder of someone's files with a bundle
            raise InputError("folder is not empty and holds no evidence bundle: refusing to replace it", self.target)

    # -- adding files ------------------------------------------------------------------------
    def _unique(self, folder: str, name: str) -> str:
        self._counter += 1
        return f"{folder}/{self._counter}-{name}"

    def add_file(self, source: Path, name: str, role: str) -> str:
        """Copy `source` in: the bytes the scan read when it read the file (never a second read of
        a file that may have changed since), else the file as it is now (one the scan skipped)."""
        destination = self.staging / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        read = self.reads.get(source)
        try:
            shutil.copyfile(read.spooled if read is not None and read.spooled is not None else source, destination)
        except OSError as exc:
            raise InputError(f"cannot copy into the evidence bundle: {reason(exc)}", source) from None
        self.files[name] = {"role": role, "from": shown_path(str(source))}
        return name

    def add_tree(self, source: Path, name: str, role: str) -> str:
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            self.add_file(file, f"{name}/{file.relative_to(source).as_posix()}", role)
        return name

    def add_bytes(self, name: str, content: bytes, role: str, origin: str = "") -> str:
        destination = self.staging / name
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content)
        except OSError as exc:
            raise InputError(f"cannot write: {reason(exc)}", self.target) from None
        self.files[name] = {"role": role, **({"from": origin} if origin else {})}
        return name

    def add_input(self, value: str) -> str:
        path = Path(value)
        if not path.exists():
            raise InputError("no such file or folder", path)
        name = self._unique("inputs", path.name or "input")
        return self.add_tree(path, name, "input") if path.is_dir() else self.add_file(path, name, "input")

    # -- what the scan was given -------------------------------------------------------------
    @staticmethod
    def refuse_unrecordable(params: dict[str, Any]) -> None:
        """Before anything is read: a source a bundle cannot hold."""
        if any(params.get(name) for name in ("nc", "sdn_nc")):
            raise InputError("--evidence does not record a live Network Controller read: save it with "
                             "`vdcaudit sdn --nc URL --save-snapshot DIR` and scan DIR with --sdn-snapshot")

    def record_sources(self, params: dict[str, Any]) -> None:
        """After the scan read them: copy every input file or folder the options name, and keep the
        options with the paths replaced by the copies: verify re-judges with exactly these."""
        self.refuse_unrecordable(params)
        options: dict[str, Any] = {}
        for name, value in params.items():
            if name in LIVE_OPTIONS or value is None or name in ("demo", "demo_next", "quiet", "rule_dirs"):
                continue
            if name in PATH_OPTIONS:
                values = value if isinstance(value, (list, tuple)) else [value]
                copied = [self.add_input(str(v)) for v in values if v]
                options[name] = copied if isinstance(value, (list, tuple)) else (copied[0] if copied else None)
            elif isinstance(value, (str, int, float, bool)) or (isinstance(value, (list, tuple)) and
                                                                all(isinstance(v, (str, int, float)) for v in value)):
                options[name] = list(value) if isinstance(value, (list, tuple)) else value
        if params.get("demo") or params.get("demo_next"):
            options["snapshot"] = [*options.get("snapshot", []), self._demo_azure(bool(params.get("demo_next")))]
            # the demo's exports describe a day of their own (collectors.DEMO_DAY): judged as of it
            self.rejudge["as_of"] = (DEMO_NEXT_DAY if params.get("demo_next") else DEMO_DAY)[:10]
            options["sdn_snapshot"] = [*options.get("sdn_snapshot", []),
                                       self.add_tree(data_path("demo") / "sdn", self._unique("inputs", "demo-sdn"), "input")]
        self.rejudge["options"] = options

    def _demo_azure(self, next_day: bool) -> str:
        """The demo's Azure files as the scan read them (a day later: the changed files replace
        the first day's of the same name)."""
        name = self._unique("inputs", "demo-azure")
        self.add_tree(data_path("demo") / "azure", name, "input")
        if next_day:
            for file in sorted((data_path("demo-next") / "azure").rglob("*.json")):
                self.add_file(file, f"{name}/{file.relative_to(data_path('demo-next') / 'azure').as_posix()}", "input")
        return name

    def record_live(self, inventory: Inventory, started: datetime) -> None:
        """A live Azure read: the collected snapshot (what `vdcaudit snapshot` writes), re-judged
        offline by verify; the operator is the principal Azure accepted."""
        from vdcaudit.commands.snapshot_command import snapshot_document

        document = snapshot_document(inventory, started, source="azure")
        name = self.add_bytes("inputs/azure-snapshot.json", json_bytes(document, indent=1), "input", "live Azure read")
        options = self.rejudge.setdefault("options", {})
        options["snapshot"] = [*options.get("snapshot", []), name]
        principal = next((s.get("principal") for s in inventory.sources if s.get("kind") == "azure"), None) or {}
        self.operator = {"kind": "azure", **principal} if principal else \
            {"kind": "azure", "note": "the access token named no principal", "local": local_operator()["name"]}

    def record_shards(self, shards: list[Path]) -> None:
        """`merge`: every shard as given (a findings file, or a whole shard bundle)."""
        self.rejudge["shards"] = [self.add_input(str(shard)) for shard in shards]

    def record_settings(self, config: Config, waivers: Path | None, baseline: Path | None,
                        rule_dirs: tuple[Path, ...], now: datetime, as_of: date | None = None) -> None:
        """`as_of`: the day --as-of named; verify judges the evidence as of that day too."""
        if as_of is not None:
            self.rejudge["as_of"] = as_of.isoformat()
        report = config.raw.get("report")
        self.report = report if isinstance(report, dict) else {}
        config_path = Path(config.path) if config.path else None
        for key, name, path in (("config", "vdcaudit", config_path), ("waivers", "waivers", waivers),
                                ("baseline", "baseline", baseline)):
            self.rejudge[key] = self.add_file(path, f"config/{name}{path.suffix}", key) if path else None
        folders = [self.add_tree(data_path("rules"), "rules/builtin", "rule")]
        folders += [self.add_tree(folder, f"rules/extra-{n}", "rule") for n, folder in enumerate(rule_dirs, 1)]
        self.rejudge["rules"] = folders
        self.rejudge["judged_at"] = now.isoformat()  # waivers expire and certificates age by this clock

    # -- finishing ---------------------------------------------------------------------------
    def commit(self, result: ScanResult, reports: list[Path], argv: list[str] | None = None) -> str:
        """Add the reports and the manifest, sign it, and put the bundle in place. Returns a line
        for the terminal."""
        shutil.rmtree(self.staging / SPOOL, ignore_errors=True)  # every input is copied from it by now
        for path in reports:
            self.add_file(path, f"reports/{path.name}", "report")
        if f"reports/{FINDINGS}" not in self.files:  # verify compares against it: always kept
            self.add_bytes(f"reports/{FINDINGS}", RENDERERS["json"].render(result), "report")
        self.rejudge["findings"] = f"reports/{FINDINGS}"
        if argv is None:
            context = click.get_current_context(silent=True)
            argv = context.find_root().meta.get("argv", sys.argv[1:]) if context else sys.argv[1:]
        manifest = self._manifest(result, argv)
        content = json_bytes(manifest)
        self.add_bytes(MANIFEST, content, "manifest")
        self.add_bytes(MANIFEST_DIGEST, f"{hashlib.sha256(content).hexdigest()}  {MANIFEST}\n".encode(), "manifest")
        if self.key is not None:
            self.add_bytes(signing.SIGNATURE, signing.sign(self.key, content), "signature")
            self.add_bytes(signing.SIGNER, signing.public_pem(self.key), "signer")
        self._put_in_place()
        self.committed = True
        signed = f", signed ({manifest['signature']['algorithm']})" if self.key is not None else ""
        return f"wrote evidence bundle {self.target}: {len(manifest['files'])} files{signed}"

    def _manifest(self, result: ScanResult, argv: list[str]) -> dict[str, Any]:
        files = {}
        for name, entry in sorted(self.files.items()):
            path = self.staging / name
            files[name] = {"sha256": file_digest(path), "bytes": path.stat().st_size, **entry}
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "tool": {"name": "vdcaudit", "version": __version__},
            "command": masked_command(argv),
            "started": result.started.isoformat(), "finished": result.finished.isoformat(),
            "operator": self.operator,
            "organisation": self.report.get("organisation"), "engagement": self.report.get("engagement"),
            "rulepack": {"rules": len(result.rules), "sha256": rulepack_digest(result.rules),
                         "shown_as": rulepack_version(result.rules)},
            "rejudge": self.rejudge,
            "files": files,
        }
        if self.key is not None:
            algorithm = signing.algorithm_of(self.key)
            manifest["signature"] = {
                "algorithm": algorithm, "file": signing.SIGNATURE, "public_key": signing.SIGNER,
                "public_key_sha256": signing.key_fingerprint(self.key),
                "check_with": shlex.join(signing.openssl_command(algorithm)),
            }
        return manifest

    def _put_in_place(self) -> None:
        try:
            if is_zip(self.target):
                with FileSet(self.target.parent) as files:
                    with zipfile.ZipFile(files.open(self.target.name), "w", zipfile.ZIP_DEFLATED) as archive:
                        for path in sorted(p for p in self.staging.rglob("*") if p.is_file()):
                            archive.write(path, PurePosixPath(*path.relative_to(self.staging).parts).as_posix())
                shutil.rmtree(self.staging, ignore_errors=True)
                return
            old = None
            if self.target.exists():
                old = self.target.with_name(f".{self.target.name}.{os.getpid()}.old")
                os.replace(self.target, old)
            try:
                os.replace(self.staging, self.target)
                os.chmod(self.target, 0o755)  # mkdtemp makes 0700; a bundle is meant to be handed on
            except OSError:
                if old is not None:
                    os.replace(old, self.target)
                raise
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            raise InputError(f"cannot write: {reason(exc)}", self.target) from None


@contextmanager
def evidence_bundle(target: Path | None, sign_key: Path | None, command: str) -> Iterator[EvidenceBundle | None]:
    """The bundle --evidence asks for (None without it); removed unless committed."""
    if target is None:
        if sign_key is not None:
            raise InputError("--sign-key signs an evidence bundle: give --evidence PATH too", sign_key)
        yield None
        return
    with EvidenceBundle(target, sign_key, command) as bundle:
        yield bundle
