"""JSON with line numbers: every object of the document remembers the line its `{` is on, and can
tell the line of each of its keys.

Template and plan findings point at the line of the resource's object and of the property their
verdict read (SARIF physical locations, CI annotations), so the lines must come from the parser,
not from searching the text. The standard library's pure-Python scanner lets the decoder supply its
own object parser; ours wraps the stock one and records the object's span in the document.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import JSONObject  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from vdcaudit.io.jsonfile import read_json


# a JSON string, or a bracket, or a colon: enough to find an object's own keys (a colon follows a key)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


class _Document:
    """The parsed text and where its lines start, shared by its objects (never copied with them)."""

    __slots__ = ("text", "newlines")

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def __copy__(self) -> _Document:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Document:
        return self


class LinedDict(dict):  # type: ignore[type-arg]
    """A JSON object with the 1-based line of its opening brace, and the line of each member's key
    (`key_lines`: where a finding about that property points)."""

    # the object's span in the document: its lines are found only when asked (most objects never
    # are, and parsing stays as fast as without them)
    _span: tuple[int, int, _Document] | None = None

    @property
    def line(self) -> int:
        return self._span[2].line(self._span[0]) if self._span else 0

    @property
    def key_lines(self) -> dict[str, int]:
        if self._span is None:
            return {}
        brace, end, document = self._span
        text = document.text
        lines: dict[str, int] = {}
        depth, last = 0, None
        for token in _TOKEN.finditer(text, brace + 1, end - 1):
            found = token.group()
            if found[0] == '"':
                last = token
                continue
            if found in "{[":
                depth += 1
            elif found in "}]":
                depth -= 1
            elif depth == 0 and last is not None:  # a colon of this object: `last` is its key
                key = json.loads(last.group()) if "\\" in last.group() else last.group()[1:-1]
                lines[key] = document.line(last.start())
            last = None
        return lines


class _LineDecoder(json.JSONDecoder):
    def __init__(self, text: str, strict: bool = True) -> None:
        super().__init__(strict=strict)
        document = _Document(text)

        def parse_object(state: tuple[str, int], *args: Any) -> tuple[LinedDict, int]:
            brace = state[1] - 1  # the scanner hands over the index just after "{"
            obj, end = JSONObject(state, *args)
            lined = LinedDict(obj)
            lined._span = (brace, end, document)
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
