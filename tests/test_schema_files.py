"""The JSON schemas vdcaudit ships are plain JSON objects with no key given twice: a duplicate key is
legal JSON, but the later one silently replaces the earlier (two settings blocks merged side by side
once left one of them unchecked by the schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SCHEMAS = sorted((Path(__file__).resolve().parents[1] / "vdcaudit" / "schemas").glob("*.json"))


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"keys given twice: {duplicates}"
    return dict(pairs)


def test_there_are_schemas() -> None:
    assert len(SCHEMAS) >= 3


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda path: path.name)
def test_no_key_is_given_twice(path: Path) -> None:
    json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_refuse_duplicates)
