"""The text of an ARM template or parameters file, read the way ARM reads it, within ARM's limits.

ARM (and `az deployment`) accept `//` and `/* */` comments and strings that span lines in template
JSON; Python's parser does not. Comments are blanked out character for character (newlines kept), so
every line and column the parser reports is the one in the file. The same pass counts how deep
objects and arrays nest: a document nested past MAX_DEPTH is refused before the recursive parser
could run out of stack (the same bound every JSON reader applies, jsonfile.MAX_DEPTH: ARM resources
nest about 15 levels and a Bicep module adds about 6 per level of modules; here the error also
carries the line).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import MAX_DEPTH, TOO_DEEP, read_json
from vdcaudit.io.jsonpos import loads_with_lines

# ARM: "Limit the size of your template to 4 MB ... The parameter file is also limited to 4 MB."
# (learn.microsoft.com/azure/azure-resource-manager/templates/best-practices, "Template limits")
MAX_FILE_BYTES = 4 * 1024 * 1024

# What may come before a template's opening brace: white space and comments.
_LEAD = re.compile(r'\ufeff?(?:\s+|//[^\n]*|/\*.*?\*/)*', re.DOTALL)
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/|/\*|[\[\]{}]', re.DOTALL)
_NOT_NEWLINE = re.compile(r"[^\n]")


def strip_comments(text: str) -> str:
    """`text` with comments blanked; raises ValueError for an unterminated comment or too deep nesting."""
    pieces: list[str] = []
    last = depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _TextError(TOO_DEEP, text, match.start())
        elif first in "]}":
            depth -= 1
        elif first == "/":
            if token == "/*":
                raise _TextError("a /* comment is never closed", text, match.start())
            pieces.append(text[last:match.start()])
            pieces.append(_NOT_NEWLINE.sub(" ", token))
            last = match.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


class _TextError(ValueError):
    def __init__(self, problem: str, text: str, offset: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = text.count("\n", 0, offset) + 1


def read_template_json(path: Path) -> Any:
    """The document of a template or parameters file, objects carrying their line numbers."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_json reports what is wrong with the path
    if size > MAX_FILE_BYTES:
        raise InputError(f"the file is {size:,} bytes; ARM accepts templates and parameter files up to "
                         f"{MAX_FILE_BYTES:,} bytes (4 MB)", path)

    def loads(text: str) -> Any:
        # Said first: a file that is not JSON at all (a README, a Bicep file) is "not JSON", not a
        # complaint about the comments the JSON-with-comments reader would otherwise find in it.
        first = text[_LEAD.match(text).end():][:1]  # type: ignore[union-attr]  # the pattern matches ""
        if first not in ("{", "["):
            raise InputError("not JSON: a template or parameters file is a JSON object ('{' expected"
                             + (f", found {first!r})" if first else ", the file is empty)"), path, 1)
        try:
            stripped = strip_comments(text)
        except _TextError as exc:
            raise InputError(exc.problem, path, exc.line) from None
        # strict=False: ARM accepts strings broken over several lines
        return loads_with_lines(stripped, strict=False)

    return read_json(path, loads)
