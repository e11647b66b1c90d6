"""Read JSON files (and the text of any input file) and turn every way they can be wrong into one
clear InputError."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from vdcaudit.errors import InputError
from vdcaudit.io.reads import read_input


# No export, template or plan nests anywhere near this deep (ARM resources are a dozen levels); a
# document that does is hostile or broken, and every reader after the parser recurses on it.
MAX_DEPTH = 200
TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"
# What the depth check keeps of a document: brackets, and the quotes that say which brackets are text.
_STRUCTURE = b'[]{}"'
_DROPPED = bytes(sorted(set(range(256)) - set(_STRUCTURE)))
_STRING = re.compile(rb'"[^"]*"')  # a string, once only quotes and brackets are left of it
# Marks an empty pair while a pass removes them: a byte the depth check has already dropped, so it
# cannot be in the structure, and a `[{}]` does not become `[]` (two levels) within one pass.
_PEELED = b"x"


class TooDeep(ValueError):
    """The document nests deeper than MAX_DEPTH."""


def fast_loads(text: str | bytes) -> Any:
    """orjson where it agrees with the standard library (several times faster on large snapshots);
    what it refuses (NaN, integers beyond 64 bits, a lone surrogate, malformed JSON) goes to
    json.loads, which decides, and words any error, exactly as before. Bytes are UTF-8 JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def read_json(path: Path, loads: Callable[[str], Any] = fast_loads) -> Any:
    """The file's JSON document; `loads` decodes it (jsonpos passes one that keeps line numbers)."""
    if loads is fast_loads:
        value = _read_utf8_json(path)
        if value is not _NOT_READ:
            return value
    text = read_text(path)
    try:
        return decode(text, loads)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", path, exc.lineno, exc.colno) from None
    except TooDeep:
        raise InputError(TOO_DEEP, path) from None


_NOT_READ = object()
_UTF8_BOM = b"\xef\xbb\xbf"


def _read_utf8_json(path: Path) -> Any:
    """The document of a UTF-8 file, or _NOT_READ for anything the text path below must read or
    refuse in its own words and order (another encoding, malformed or too deep JSON, a FIFO, an
    unreadable file). Parsed by the standard library, not orjson: orjson first builds a document
    of its own for the whole file, and on a 48 MB snapshot that adds 95 MB to the peak memory,
    while the standard library builds the values directly (at about 1.25x orjson's CPU there)."""
    if path.exists() and not path.is_file():
        return _NOT_READ
    try:
        raw = read_input(path)  # once, and logged: what is parsed is what the scan's provenance hashes
    except OSError:
        return _NOT_READ
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    if _bytes_nested_deeper_than(raw, MAX_DEPTH):
        return _NOT_READ
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_READ
    del raw  # the text alone is kept while the values are built
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return _NOT_READ


def decode(text: str, loads: Callable[[str], Any] = json.loads) -> Any:
    """JSON text -> value, refusing a document nested deeper than MAX_DEPTH (TooDeep) instead of
    letting a parser or a later reader exhaust the stack. Raises json.JSONDecodeError when malformed."""
    try:
        value = loads(text)
    except RecursionError:  # nested far deeper than MAX_DEPTH: the parser itself gave up
        raise TooDeep(TOO_DEEP) from None
    if nested_deeper_than(text, MAX_DEPTH):
        raise TooDeep(TOO_DEEP)
    return value


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether well-formed JSON text nests containers more than `limit` deep. Works on the text at
    C speed (bytes.replace and translate run at memory speed, so the regular expressions below see
    only the structure): drop escaped backslashes, then escaped quotes (left to right, as a JSON
    parser pairs them), then every byte but brackets and quotes; drop the strings, then remove the
    empty pairs ({} and []) once per level: each pass peels exactly one level, so what is left after
    `limit` passes is deeper."""
    return _bytes_nested_deeper_than(text.encode("utf-8", "surrogatepass"), limit)


def _bytes_nested_deeper_than(encoded: bytes, limit: int) -> bool:
    """nested_deeper_than on the text's UTF-8 bytes."""
    raw = encoded.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Most strings hold no bracket and leave `""`; two adjacent quotes are an empty string or the
    # end of one string and the start of the next, so dropping them never moves a bracket in or out.
    structure = raw.translate(None, _DROPPED).replace(b'""', b"")
    brackets = _STRING.sub(b"", structure)
    for _ in range(limit):
        if not brackets:
            return False
        # every {} and [] of this pass at once (as a regex alternation would, at memory speed)
        brackets = brackets.replace(b"{}", _PEELED).replace(b"[]", _PEELED).replace(_PEELED, b"")
    return bool(brackets)


def read_text(path: Path) -> str:
    """The file's text, whichever encoding Windows tools wrote it in."""
    if path.exists() and not (path.is_file() or path.is_dir()):
        # a FIFO or a device would block the scan (or never end) instead of failing
        raise InputError("not a regular file", path)
    try:
        raw = read_input(path)  # once: what is parsed is what the scan's provenance hashes
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        # utf-8-sig: PowerShell's Out-File and ConvertTo-Json > file often write a BOM
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Windows PowerShell 5.1 redirection writes UTF-16 with a BOM
        if raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
        text = raw.decode("utf-16")
    # universal newlines, as a text-mode read gives them (line numbers count "\n")
    return text.replace("\r\n", "\n").replace("\r", "\n")
