"""Evidence is capped (vdcaudit.findings): what is within every limit is kept as it is, without a
copy; what is not is cut exactly as the full walk cuts it, whichever limit it meets first."""

from __future__ import annotations

from typing import Any

import pytest

from vdcaudit.findings import ITEMS_LIMIT, NESTING_LIMIT, TEXT_LIMIT, VALUE_BUDGET, _cap, capped_evidence


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


SHAPES = {
    "leaks as the boundary check lists them": [{"direction": "Inbound", "remote_prefix": "172.16.0.0/12",
                                                "nics": ["nic1", "nic2"], "rules": ["acl/r (priority 200)"]}] * 20,
    "a long string": "x" * (TEXT_LIMIT + 1),
    "a string exactly at the limit": "x" * TEXT_LIMIT,
    "too many items": list(range(ITEMS_LIMIT + 1)),
    "exactly the items allowed": {str(i): i for i in range(ITEMS_LIMIT)},
    "too deep": _nested(NESTING_LIMIT + 1),
    "as deep as allowed": _nested(NESTING_LIMIT),
    "the text budget used up": ["y" * TEXT_LIMIT] * (VALUE_BUDGET // TEXT_LIMIT) + ["", "z"],
    "the text budget used up by names": {"k" * TEXT_LIMIT + str(i): 1 for i in range(5)},
    "a tuple": ("a", "b"),
    "a key that is not text": {1: "one"},
    "scalars": [None, True, 1, 2.5, ""],
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_capped_evidence_is_what_the_full_walk_gives(name: str) -> None:
    value = SHAPES[name]
    capped = capped_evidence({"path": value})
    assert capped == {"path": _cap(value, [VALUE_BUDGET], 0)}
    assert type(capped["path"]) is type(_cap(value, [VALUE_BUDGET], 0))  # a tuple comes back a list


def test_cut_values_say_so() -> None:
    capped = capped_evidence({"long": "x" * (TEXT_LIMIT + 1), "deep": _nested(NESTING_LIMIT + 1)})
    assert "[cut by vdcaudit" in capped["long"] and "[cut by vdcaudit" in str(capped["deep"])
