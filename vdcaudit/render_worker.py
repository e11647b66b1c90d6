"""Rendering report formats on both cores: a forked worker (vdcaudit.forking) writes some of the
requested formats while this process writes the others.

Each format is a pass over every finding (100,000 resources: CSV 2.8 s, JUnit 2.1 s, HTML 1.6 s,
JSON 1.0 s, SARIF 0.7 s, Markdown 0.4 s, measured), and the formats do not depend on one another,
so with two or more formats of a large scan the work is split by that measured cost. The worker is
forked after this process has opened every temporary file of the report set, so the files stay
this process's to commit or discard: the worker only writes into the streams it was handed and
sends back each file's sha256. Its failure, or its death, fails the write like any other error.
"""

from __future__ import annotations

from collections.abc import Sequence

from vdcaudit import forking
from vdcaudit.io.atomic import FileSet, reason
from vdcaudit.errors import InputError
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult

# Seconds to render 100,000 findings (benchmarks/scale.py), to split the formats evenly.
COST = {"csv": 2.8, "junit": 2.1, "html": 1.6, "json": 1.0, "sarif": 0.7, "md": 0.4}
# Below this many findings every format renders in well under a second: a worker would not pay.
PARALLEL_FROM_FINDINGS = 20_000


def split(formats: Sequence[str]) -> tuple[list[str], list[str]]:
    """(formats written here, formats for the worker), balanced by their measured cost."""
    return forking.halves(formats, lambda name: COST.get(name, 1.0))


def render_all(result: ScanResult, formats: Sequence[str], files: FileSet) -> dict[str, str]:
    """Write every format into the set; sha256 by format."""
    for name in formats:  # every temporary file is this process's, whoever writes it
        files.open(RENDERERS[name].filename)
    parallel = len(formats) > 1 and len(result.findings) >= PARALLEL_FROM_FINDINGS and forking.available()
    here, there = split(formats) if parallel else (list(formats), [])
    worker = forking.Forked(lambda: _render(result, there, files), "the worker rendering " + ", ".join(there)) \
        if there else None
    try:
        digests = _render(result, here, files)
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    if worker is not None:
        try:
            digests.update(worker.result())
        except forking.WorkerFailed as exc:
            raise InputError(str(exc)) from None
    return {name: digests[name] for name in formats}


def _render(result: ScanResult, names: Sequence[str], files: FileSet) -> dict[str, str]:
    """Write each format into its stream (never committing or discarding the set); sha256 by format."""
    digests = {}
    for name in names:
        filename = RENDERERS[name].filename
        try:
            RENDERERS[name].write(result, files.stream(filename))
            digests[name] = files.digest(filename)
        except OSError as exc:  # a full disk, say: name the file (every one of the set is open)
            raise InputError(f"cannot write: {reason(exc)}", files.target(filename)) from None
    return digests
