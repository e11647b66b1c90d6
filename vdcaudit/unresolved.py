"""Values a source knows exist but cannot know yet (a template's reference(), a Terraform value
"known after apply"). Sources leave them out of the resource and list them under
`x_vdcaudit.unresolved` as {path: {"expression": ..., "reason": ...}}; the engine uses this to keep
an absent value from taking a documented default, and to say in the UNKNOWN finding why it is absent.
"""

from __future__ import annotations

import re
from typing import Any

from vdcaudit.inventory import META

_INDEX = re.compile(r"\[\d+\]")


def _unresolved(resource: dict[str, Any]) -> dict[str, Any]:
    found = resource.get(META, {}).get("unresolved")
    return found if isinstance(found, dict) else {}


def covering(resource: dict[str, Any], path: str) -> tuple[str, dict[str, Any]] | None:
    """The unresolved entry that makes `path` unknowable: the path itself or a parent of it.
    (Also a child of it: an object with one unknown member is not fully known either.) A path into
    child data (`x_vdcaudit.children.<kind>[0].properties...`) is looked up in that child's entries."""
    wanted = _INDEX.sub("", path)
    kind, _, inner = wanted.removeprefix(f"{META}.children.").partition(".")
    if wanted.startswith(f"{META}.children.") and inner:
        children = resource.get(META, {}).get("children", {}).get(kind, [])
        return next((hit for child in children if isinstance(child, dict)
                     for hit in [covering(child, inner)] if hit is not None), None)
    for recorded, entry in _unresolved(resource).items():
        if wanted == recorded or wanted.startswith(recorded + ".") or recorded.startswith(wanted + "."):
            return recorded, entry if isinstance(entry, dict) else {"expression": entry}
    return None


def note(resource: dict[str, Any], paths: list[str]) -> str:
    """Why the missing paths are absent, when a source recorded it; '' otherwise."""
    parts = []
    for path in paths:
        hit = covering(resource, path)
        if hit is None:
            continue
        recorded, entry = hit
        expression = f" = {entry['expression']}" if entry.get("expression") else ""
        reason = f": {entry['reason']}" if entry.get("reason") else ""
        text = f"{recorded}{expression} cannot be resolved before deployment{reason}"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)
