"""A hang guard for tests whose subject could block (a FIFO, a server that never finishes): past
the limit the test fails with TimeoutError instead of hanging the suite. Not a speed assertion."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def hang_guard(seconds: int, what: str) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{what} for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
