"""The depth check that protects every reader from deeply nested JSON works on the text, not the
parsed value: differential-tested against the depth of the parsed value, on documents whose
strings hold the characters that could fool a text scan (brackets, quotes, backslashes, escapes)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from vdcaudit.io.jsonfile import nested_deeper_than

TRICKY = ['[', ']', '{', '}', '"', '\\', '\\"', '"]', '\\\\', '\n', '\u00e9', '\u2028', '\U0001f512', 'a', ' ']


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 6)))


def _document(rng: random.Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([_text(rng), rng.randint(-5, 5), None, True, 1.5])
    if rng.random() < 0.5:
        return [_document(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {_text(rng): _document(rng, depth - 1) for _ in range(rng.randint(0, 3))}


@pytest.mark.parametrize("seed", range(20))
def test_text_depth_agrees_with_the_parsed_depth(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        value = _document(rng, rng.randint(0, 9))
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
        depth = _depth(value)
        for limit in (max(depth - 1, 0), depth, depth + 1):
            assert nested_deeper_than(text, limit) is (depth > limit), (text, limit)


def test_brackets_inside_strings_are_text() -> None:
    assert not nested_deeper_than(json.dumps({"a": "[[[[[[" * 50, "b": "\\\"[[[["}), 2)
    assert nested_deeper_than(json.dumps([[["\\"]]]), 2)


@pytest.mark.parametrize("encoding, prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b"")])
def test_files_read_the_same_whichever_way_they_are_parsed(tmp_path: Any, encoding: str, prefix: bytes) -> None:
    # UTF-8 files are parsed from their bytes, anything else from their text: the same value, and
    # the same depth limit.
    from vdcaudit.errors import InputError
    from vdcaudit.io.jsonfile import MAX_DEPTH, read_json

    document = {"value": [{"name": "caf\u00e9 \U0001f512", "n": 1.5, "deep": [[["x"]]]}]}
    path = tmp_path / "doc.json"
    path.write_bytes(prefix + json.dumps(document, ensure_ascii=False).encode(encoding))
    assert read_json(path) == document
    path.write_bytes(prefix + ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode(encoding))
    with pytest.raises(InputError, match="nested deeper than"):
        read_json(path)


def test_what_orjson_refuses_is_read_or_refused_as_before(tmp_path: Any) -> None:
    from vdcaudit.errors import InputError
    from vdcaudit.io.jsonfile import read_json

    path = tmp_path / "doc.json"
    path.write_bytes(b'{"n": NaN}')
    assert str(read_json(path)["n"]) == "nan"
    path.write_bytes(b'{"name": "\xff"}')
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_json(path)
