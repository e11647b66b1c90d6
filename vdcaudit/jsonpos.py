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
    """A JSON object with the 1-based line of its opening brace, and the line of each member's
    value (`key_lines`: where a finding about that property points)."""

    line: int = 0
    key_lines: dict[str, int] = {}


class _LineDecoder(json.JSONDecoder):
    def __init__(self, text: str, strict: bool = True) -> None:
        super().__init__(strict=strict)
        newlines = [i for i, char in enumerate(text) if char == "\n"]

        def parse_object(state: tuple[str, int], strict: bool, scan_once: Any, *args: Any) -> tuple[LinedDict, int]:
            brace = state[1] - 1  # the scanner hands over the index just after "{"
            starts: list[int] = []

            def scan_member(string: str, index: int) -> Any:  # called once per member value, in order
                starts.append(string.rfind(":", 0, index))  # the key's colon: the key's line, not the value's
                return scan_once(string, index)

            obj, end = JSONObject(state, strict, scan_member, *args)
            lined = LinedDict(obj)
            lined.line = bisect.bisect_left(newlines, brace) + 1
            if len(starts) == len(obj):  # (a key given twice keeps one value: then no member lines)
                lined.key_lines = {key: bisect.bisect_left(newlines, start) + 1 for key, start in zip(obj, starts)}
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


def property_lines(value: Any, prefix: str = "", depth: int = 0) -> dict[str, int]:
    """Line of every object member below `value`, by lower-case dotted path
    (`properties.minimumtlsversion`): ARM names are case-insensitive."""
    lines: dict[str, int] = {}
    if not isinstance(value, LinedDict) or depth > 32:
        return lines
    for key, line in value.key_lines.items():
        path = f"{prefix}{str(key).lower()}"
        lines[path] = line
        lines.update(property_lines(value[key], path + ".", depth + 1))
    return lines
