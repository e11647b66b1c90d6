"""`vdcaudit merge` shards given as evidence bundles: each is checked (every hash, the signature
against --trust, and its inputs judged again must give its findings) before its findings file is
merged; with --require-signed only signed bundles are accepted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from vdcaudit.bundle.layout import is_bundle
from vdcaudit.bundle.reader import open_bundle
from vdcaudit.bundle.verify import check_files, check_signature, inside, rejudge
from vdcaudit.errors import InputError


@contextmanager
def shard_files(paths: list[Path], trust: Path | None = None, require_signed: bool = False) -> Iterator[list[Path]]:
    """The findings file of every shard (a bundle's own, once it checked out), open while the
    context lasts (a zipped bundle is extracted into a temporary folder)."""
    with ExitStack() as stack:
        files = []
        for path in paths:
            if not is_bundle(path):
                if require_signed:
                    raise InputError("not a signed shard bundle (--require-signed takes folders or .zip files "
                                     "written by `vdcaudit scan --evidence PATH --sign-key KEY`)", path)
                files.append(path)
                continue
            bundle = stack.enter_context(open_bundle(path))
            problems = check_signature(bundle, trust, require_signed)[0] + check_files(bundle)
            if not problems:  # arrived judged: its inputs are judged again, its findings must agree
                problems = rejudge(bundle)[0]
            if problems:
                raise InputError(f"shard bundle rejected: {problems[0]}"
                                 + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""), path)
            files.append(inside(bundle, (bundle.manifest.get("rejudge") or {}).get("findings")))
        yield files
