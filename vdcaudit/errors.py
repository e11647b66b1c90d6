"""User-facing errors: each one becomes a single line on stderr and exit code 2."""

from __future__ import annotations

import os
from pathlib import Path

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


DEBUG_ENV = "VDCAUDIT_DEBUG"


def debug_enabled() -> bool:
    """VDCAUDIT_DEBUG asks for tracebacks: on only for 1, true or yes (any case), so that
    VDCAUDIT_DEBUG=0 or =false, as CI systems write a switched-off flag, is off."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes")


class InputError(Exception):
    """Bad input that the user can fix: a malformed file, a wrong shape, an unknown option value."""

    def __init__(self, problem: str, path: str | Path | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.problem}" if where else self.problem
