"""Evidence values as text, the same way in every human-readable format."""

from __future__ import annotations

import json
from typing import Any


def evidence_value(value: Any) -> str:
    """None is the engine's marker for a path that was absent from the resource."""
    if value is None:
        return "absent"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    return [f"{path} = {evidence_value(value)}" for path, value in evidence.items()]
