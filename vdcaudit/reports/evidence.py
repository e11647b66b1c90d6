"""Evidence values as text, the same way in every human-readable format."""

from __future__ import annotations

import json
import re
from typing import Any

# Control characters (C0 but tab, line feed and carriage return; DEL; C1) from resource data: a NUL
# or an escape sequence written raw can end a cell, confuse a parser or a terminal, and is invisible
# to the reader. Shown as \uXXXX instead, so the reader sees that they are there.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    r"""text with every control character written as a visible \uXXXX escape."""
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def evidence_value(value: Any) -> str:
    """None is the engine's marker for a path that was absent from the resource."""
    if value is None:
        return "absent"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    return [f"{path} = {evidence_value(value)}" for path, value in evidence.items()]
