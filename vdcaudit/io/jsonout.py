"""JSON encoding for every writer: orjson (fast, measured ~3x the standard library on findings),
falling back to the standard library for what orjson refuses (integers beyond 64 bits, non-string
keys), so hostile resource data can slow a report down but never break it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO

import orjson

# ASCII escapes in the fallback: a lone surrogate (which orjson refuses too) stays valid JSON.
_FALLBACK = json.JSONEncoder(separators=(",", ":"), default=str)
_FALLBACK_PRETTY = json.JSONEncoder(indent=2, default=str)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value, default=str)
    except TypeError:  # orjson.JSONEncodeError is one
        return _FALLBACK.encode(value).encode("utf-8")


_BATCH = 2000  # records encoded per write


def write_records(stream: BinaryIO, records: Iterable[Any], indent: bytes) -> int:
    """The records as the elements of a JSON array whose brackets the caller writes: one compact
    record per line after `indent`, encoded and written in batches (never the whole array in
    memory). Returns how many were written."""
    written = 0
    batch: list[bytes] = []
    for record in records:
        batch.append(dumps(record))
        if len(batch) == _BATCH:
            written += _write_batch(stream, batch, indent, written)
            batch = []
    if batch:
        written += _write_batch(stream, batch, indent, written)
    return written


def _write_batch(stream: BinaryIO, batch: list[bytes], indent: bytes, written: int) -> int:
    stream.write((b"," if written else b"") + b"\n" + indent + (b",\n" + indent).join(batch))
    return len(batch)


def dumps_pretty(value: Any) -> bytes:
    """Indented UTF-8 JSON, for the small parts of a document people read."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2)
    except TypeError:
        return _FALLBACK_PRETTY.encode(value).encode("utf-8")


def script_safe(data: bytes) -> bytes:
    """UTF-8 JSON that can sit inside <script type="application/json"> whatever strings it holds:
    the characters that could end or confuse the element (or a JavaScript parser) as JSON escapes.
    (Byte replacement is exact on UTF-8: no character's encoding is part of another's.)"""
    return (data.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
            .replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029"))
