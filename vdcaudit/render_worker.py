"""Rendering report formats on both cores: a forked worker process writes some of the requested
formats while this process writes the others.

Each format is a pass over every finding (100,000 resources: CSV 2.8 s, JUnit 2.1 s, HTML 1.6 s,
JSON 1.0 s, SARIF 0.7 s, Markdown 0.4 s, measured), and the formats do not depend on one another,
so with two or more formats of a large scan the work is split by that measured cost. The worker is
forked (it shares the scan result with no copy and no pickling) after this process has opened
every temporary file of the report set, so the files stay this process's to commit or discard: the
worker only writes into the streams it was handed and reports each file's sha256, or one line
saying what failed. A worker that dies without a word fails the write like any other error.
Where fork is not available (Windows), or the scan is small, everything is written here.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from vdcaudit.atomic import FileSet, reason
from vdcaudit.errors import InputError
from vdcaudit.reports import RENDERERS
from vdcaudit.scan import ScanResult

# Seconds to render 100,000 findings (benchmarks/scale.py), to split the formats evenly.
COST = {"csv": 2.8, "junit": 2.1, "html": 1.6, "json": 1.0, "sarif": 0.7, "md": 0.4}
# Below this many findings every format renders in well under a second: a worker would not pay.
PARALLEL_FROM_FINDINGS = 20_000


def split(formats: Sequence[str]) -> tuple[list[str], list[str]]:
    """(formats written here, formats for the worker): the costliest first, each to the lighter side."""
    sides: tuple[list[str], list[str]] = ([], [])
    load = [0.0, 0.0]
    for name in sorted(formats, key=lambda f: -COST.get(f, 1.0)):
        lighter = 0 if load[0] <= load[1] else 1
        sides[lighter].append(name)
        load[lighter] += COST.get(name, 1.0)
    return sides


def render_all(result: ScanResult, formats: Sequence[str], files: FileSet) -> dict[str, str]:
    """Write every format into the set; sha256 by format."""
    for name in formats:  # every temporary file is this process's, whoever writes it
        files.open(RENDERERS[name].filename)
    here, there = (list(formats), []) if not _parallel(result, formats) else split(formats)
    worker = _Worker(result, there, files) if there else None
    try:
        digests = {}
        for name in here:
            filename = RENDERERS[name].filename
            try:
                RENDERERS[name].write(result, files.stream(filename))
                digests[name] = files.digest(filename)
            except OSError as exc:  # a full disk, say: name the file (every one of the set is open)
                raise InputError(f"cannot write: {reason(exc)}", files.target(filename)) from None
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    if worker is not None:
        digests.update(worker.digests())
    return {name: digests[name] for name in formats}


def _parallel(result: ScanResult, formats: Sequence[str]) -> bool:
    return (len(formats) > 1 and len(result.findings) >= PARALLEL_FROM_FINDINGS
            and "fork" in multiprocessing.get_all_start_methods())


class _Worker:
    def __init__(self, result: ScanResult, names: list[str], files: FileSet) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._names = names
        self._process = context.Process(target=_work, args=(result, names, files, send), daemon=True,
                                        name="vdcaudit-render")
        self._process.start()
        send.close()  # this process keeps only the reading end: the worker's exit ends the pipe

    def digests(self) -> dict[str, str]:
        """What the worker wrote (its files are complete: this process's copies of the streams
        hold nothing unwritten, so the set commits them as they are)."""
        try:
            outcome = self._receive.recv()
        except EOFError:
            outcome = None
        self._process.join()
        if outcome is None:
            raise InputError(f"the worker rendering {', '.join(self._names)} stopped without a result "
                             f"(exit code {self._process.exitcode})")
        if outcome[0] == "error":
            raise InputError(outcome[1], outcome[2])
        digests: dict[str, str] = outcome[1]
        return digests

    def stop(self) -> None:
        self._process.kill()
        self._process.join()


def _work(result: ScanResult, names: list[str], files: FileSet, send: Connection) -> None:
    """In the worker: write each format into its stream (opened by the parent) and send the
    sha256 of each (or what failed). The worker never commits or discards the set."""
    current = None
    try:
        digests = {}
        for name in names:
            current = RENDERERS[name].filename
            RENDERERS[name].write(result, files.stream(current))
            digests[name] = files.digest(current)
        message: tuple[Any, ...] = ("ok", digests)
    except InputError as exc:
        message = ("error", exc.problem, exc.path)
    except OSError as exc:  # a full disk, say
        message = ("error", f"cannot write: {reason(exc)}", str(files.target(current)) if current else None)
    except Exception as exc:  # a bug: one line, as the command line reports its own
        message = ("error", f"internal error while rendering {current}: {type(exc).__name__}: {exc}", None)
    send.send(message)
    send.close()
