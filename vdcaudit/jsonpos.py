"""JSON with line numbers: every object of the document remembers the line its `{` is on.

Template and plan findings point at the line of the resource's object (SARIF physical locations,
CI annotations), so the line must come from the parser, not from searching the text. The standard
library's pure-Python scanner lets the decoder supply its own object parser; ours wraps the stock one
and records where the object started.
"""

from __future__ import annotations

import bisect
import json
from json.decoder import JSONObject  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from vdcaudit.jsonfile import read_json


class LinedDict(dict):  # type: ignore[type-arg]
    """A JSON object with the 1-based line of its opening brace."""

    line: int = 0


class _LineDecoder(json.JSONDecoder):
    def __init__(self, text: str, strict: bool = True) -> None:
        super().__init__(strict=strict)
        newlines = [i for i, char in enumerate(text) if char == "\n"]

        def parse_object(state: tuple[str, int], *args: Any) -> tuple[LinedDict, int]:
            brace = state[1] - 1  # the scanner hands over the index just after "{"
            obj, end = JSONObject(state, *args)
            lined = LinedDict(obj)
            lined.line = bisect.bisect_left(newlines, brace) + 1
            return lined, end

        self.parse_object = parse_object
        self.scan_once = py_make_scanner(self)


def loads_with_lines(text: str, strict: bool = True) -> Any:
    """`strict=False` lets strings hold raw newlines (ARM templates may break a string over lines)."""
    return _LineDecoder(text, strict).decode(text)


def read_json_with_lines(path: Path) -> Any:
    """Like jsonfile.read_json, but objects are LinedDicts."""
    return read_json(path, loads_with_lines)


def line_of(value: Any) -> int | None:
    return value.line if isinstance(value, LinedDict) and value.line else None
