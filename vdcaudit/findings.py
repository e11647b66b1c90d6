"""Building findings from a rule and a resource: one place, so every check and the JMESPath
engine produce exactly the same shape."""

from __future__ import annotations

import functools
from typing import Any

from vdcaudit.inventory import META, parse_scope
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def finding_for(rule: Rule, resource: dict[str, Any], status: Status, message: str,
                evidence: dict[str, Any] | None = None) -> Finding:
    annotations = resource.get(META, {})
    origin = annotations.get("origin") or {}
    subscription, group = resource.get("subscriptionId"), resource.get("resourceGroup")
    if not (subscription and group):  # normalise() fills both when the id names them
        parsed = parse_scope(resource.get("id", ""))
        subscription, group = subscription or parsed[0], group or parsed[1]
    return Finding(
        rule_id=rule.id, title=rule.title,
        resource_id=resource.get("id") or resource.get("resourceRef") or "",
        resource_name=str(resource.get("name") or resource.get("resourceId") or ""),
        resource_type=resource.get("type", rule.resource_type),
        status=status, severity=rule.severity, category=rule.category, message=capped_text(message),
        evidence=capped_evidence(evidence), source=annotations.get("source", ""),
        subscription=subscription, resource_group=group,
        location=_location(origin.get("file", _NONE), origin.get("line", _NONE)),
        property_line=_property_line(origin.get("lines"), evidence),
    )


_NONE = object()  # a key the origin does not have (None is a value it may hold)


@functools.lru_cache(maxsize=4096)
def _location(file: Any, line: Any) -> dict[str, Any] | None:
    """A finding's {file, line}, one object per distinct place, shared by the findings there and
    only read (80,000 NICs of one snapshot file would otherwise hold 80,000 equal dicts)."""
    return {k: v for k, v in (("file", file), ("line", line)) if v is not _NONE} or None


def _property_line(lines: dict[str, int] | None, evidence: dict[str, Any] | None) -> int | None:
    """The line of the first property the verdict read that the file states (else of its nearest
    stated parent), where the source recorded member lines (templates, plans)."""
    if not lines:
        return None
    for path in evidence or {}:
        parts = str(path).lower().split(".")
        found = next((lines[".".join(parts[:n])] for n in range(len(parts), 0, -1)
                      if ".".join(parts[:n]) in lines), None)
        if found is not None:
            return found
    return None


def scope_finding(rule: Rule, scope_id: str, status: Status, message: str, source: str,
                  location: dict[str, Any] | None = None) -> Finding:
    """A finding about a whole scope (a subscription that could not be read, say), not a resource;
    `location` is the file and line for template and plan sources."""
    subscription, group = parse_scope(scope_id)
    return Finding(
        rule_id=rule.id, title=rule.title, resource_id=scope_id, resource_name=scope_id,
        resource_type=rule.resource_type, status=status, severity=rule.severity,
        category=rule.category, message=capped_text(message), source=source, subscription=subscription,
        resource_group=group, location=location,
    )


def malformed(rule: Rule, resource: dict[str, Any]) -> Finding | None:
    """ERROR for a resource no rule can judge: one that spells a property name twice in different
    case (ARM would refuse it, and reading either spelling could turn a FAIL into a PASS), or whose
    `properties` is not an object (null is "not printed" and gives UNKNOWN; a string is broken data,
    and a broken resource must be able to fail the gate)."""
    names = resource.get(META, {}).get("ambiguous")
    if names:
        return finding_for(rule, resource, Status.ERROR,
                           "cannot judge: property names differ only in case: " + ", ".join(names))
    properties = resource.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return finding_for(rule, resource, Status.ERROR,
                           f"cannot judge: 'properties' is a {type(properties).__name__}, not an object")
    return None


# Evidence is there to show why, not to carry the resource: one 200 MB string in an export would
# otherwise be copied into every report format. Each value keeps at most TEXT_LIMIT characters
# per string, ITEMS_LIMIT items per list or object, NESTING_LIMIT levels, and VALUE_BUDGET
# characters in all; whatever is cut is replaced by a marker that says so and how long it was.
TEXT_LIMIT = 4096
ITEMS_LIMIT = 100
NESTING_LIMIT = 8
VALUE_BUDGET = 16384
CUT = "[cut by vdcaudit: {} of {:,} {}]"


def capped_text(text: str) -> str:
    """A message within TEXT_LIMIT (a check may quote a value from the resource in it)."""
    return _cap_text(text, [TEXT_LIMIT])


def capped_evidence(evidence: dict[str, Any] | None) -> dict[str, Any]:
    if not evidence:
        return {}
    if len(evidence) <= ITEMS_LIMIT:
        for path, value in evidence.items():
            if not _short_text(path) or _fits(value, VALUE_BUDGET, 0) is None:
                break
        else:
            return dict(evidence)  # the common case, checked without copying: nothing to cut
    capped = {}
    for index, (path, value) in enumerate(evidence.items()):
        if index == ITEMS_LIMIT:
            capped["…"] = CUT.format("showing " + str(ITEMS_LIMIT), len(evidence), "evidence paths")
            break
        capped[_cap_text(str(path), [TEXT_LIMIT])] = _cap(value, [VALUE_BUDGET], 0)
    return capped


def _short_text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= TEXT_LIMIT


def _fits(value: Any, budget: int, depth: int) -> int | None:
    """The text budget left after `value` when _cap would keep it exactly as it is (plain lists and
    dicts with string keys, within every limit), else None. Walks without copying."""
    if isinstance(value, str):
        return budget - len(value) if len(value) <= TEXT_LIMIT and len(value) <= budget else None
    kind = type(value)
    if kind is dict:
        if depth >= NESTING_LIMIT or len(value) > ITEMS_LIMIT:
            return None
        for key, item in value.items():
            if budget <= 0 or not isinstance(key, str) or len(key) > min(TEXT_LIMIT, budget):
                return None
            found = _fits(item, budget - len(key), depth + 1)
            if found is None:
                return None
            budget = found
        return budget
    if kind is list:
        if depth >= NESTING_LIMIT or len(value) > ITEMS_LIMIT:
            return None
        for item in value:
            if budget <= 0:
                return None
            found = _fits(item, budget, depth + 1)
            if found is None:
                return None
            budget = found
        return budget
    return None if isinstance(value, (dict, list, tuple)) else budget


def _cap_text(text: str, budget: list[int]) -> str:
    keep = max(0, min(TEXT_LIMIT, budget[0]))
    budget[0] -= min(len(text), keep)
    if len(text) <= keep:
        return text
    return text[:keep] + "… " + CUT.format(f"kept {keep:,}", len(text), "characters")


def _cap(value: Any, budget: list[int], depth: int) -> Any:
    """A copy of value within the limits; `budget` (a one-item list, shared by the whole value)
    counts the characters of text still allowed."""
    if isinstance(value, str):
        return _cap_text(value, budget)
    if not isinstance(value, (dict, list, tuple)):
        return value
    if depth >= NESTING_LIMIT:
        return CUT.format("nothing kept", len(value), f"items nested deeper than {NESTING_LIMIT} levels")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index == ITEMS_LIMIT or budget[0] <= 0:
                out["…"] = CUT.format(f"kept {index:,}", len(value), "keys")
                break
            out[_cap_text(str(key), budget)] = _cap(item, budget, depth + 1)
        return out
    items: list[Any] = []
    for index, item in enumerate(value):
        if index == ITEMS_LIMIT or budget[0] <= 0:
            items.append(CUT.format(f"kept {index:,}", len(value), "items"))
            break
        items.append(_cap(item, budget, depth + 1))
    return items
