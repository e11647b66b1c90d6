"""Using the second core: a function run in a forked process, its result sent back.

A scan's large phases (judging rules, rendering formats) split into independent halves, and a
forked process starts with the whole scan already in memory (no copy, no pickling on the way in),
so one half runs there while this process does the other. What comes back is the function's
result, pickled; an InputError raised there is raised here as it was; anything else that goes
wrong there, including the process dying, is WorkerFailed, and the caller decides what that means.
Only where the platform can fork (not Windows): `available()`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

_Item = TypeVar("_Item")

from vdcaudit.errors import InputError


class WorkerFailed(Exception):
    """The forked function raised something other than InputError, or its process died."""


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def halves(items: Iterable[_Item], cost: Callable[[_Item], float]) -> tuple[list[_Item], list[_Item]]:
    """(the half for this process, the half for a worker), balanced by `cost`: the costliest item
    first, each to the lighter side."""
    sides: tuple[list[_Item], list[_Item]] = ([], [])
    load = [0.0, 0.0]
    for item in sorted(items, key=lambda i: -cost(i)):
        lighter = 0 if load[0] <= load[1] else 1
        sides[lighter].append(item)
        load[lighter] += cost(item)
    return sides


class Forked:
    """`target()` running in a forked process from the moment this is made."""

    def __init__(self, target: Callable[[], Any], name: str) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(target, send), daemon=True, name=name)
        self._process.start()
        send.close()  # only the worker holds the sending end: its exit ends the pipe

    def result(self) -> Any:
        try:
            outcome = self._receive.recv()
        except EOFError:
            outcome = None
        finally:
            self._receive.close()
        self._process.join()
        if outcome is None:
            raise WorkerFailed(f"{self._process.name} stopped without a result (exit code {self._process.exitcode})")
        if outcome[0] == "input":
            raise InputError(outcome[1], outcome[2])
        if outcome[0] == "error":
            raise WorkerFailed(f"{self._process.name}: {outcome[1]}")
        return outcome[1]

    def stop(self) -> None:
        """For a caller that failed itself: the worker's work is not wanted any more."""
        self._process.kill()
        self._process.join()
        self._receive.close()


def _run(target: Callable[[], Any], send: Connection) -> None:
    try:
        outcome: tuple[Any, ...] = ("ok", target())
    except InputError as exc:
        outcome = ("input", exc.problem, exc.path)
    except Exception as exc:  # reported as one line by the caller
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    send.send(outcome)
    send.close()
