"""A resource's identity (its ARM id and type) read the way every export writes it.

Exports spell identity in several ways: `id`/`type` (az CLI, Resource Graph, the REST API),
`ResourceId`/`ResourceType` and `Id`/`Type` (Az PowerShell's PSResource prints both pairs, and
children nested under `resources` often only `Id`), in any case. An ARM id encodes the resource's
type (`.../providers/Microsoft.Web/sites/x/config/web` is a `Microsoft.Web/sites/config`), so a
missing type is derived from it, and a stated type that the id contradicts is a contradiction.

Identity is never guessed: two identity keys that disagree (an `Id` and a `ResourceId` naming
different resources, a `type` the id contradicts) make the entry unidentifiable (IdentityError
naming both values); it is then not judged and not merged into any other resource.
"""

from __future__ import annotations

from typing import Any

ID_NAMES = frozenset({"id", "resourceid"})
TYPE_NAMES = frozenset({"type", "resourcetype"})
# Az PowerShell prints an extension resource (a diagnostic setting, a role assignment on a vault)
# with the type it extends in ResourceType/Type and its own type in ExtensionResourceType.
EXTENSION_TYPE_NAME = "extensionresourcetype"
_MARKER = "/providers/"


class IdentityError(ValueError):
    """The entry has no identity, or two that disagree. `resource_type` is the type the entry states
    (or its id encodes) when that much is known: the rules of that type report the entry as ERROR."""

    def __init__(self, problem: str, resource_type: str | None = None) -> None:
        super().__init__(problem)
        self.resource_type = resource_type


def type_in_id(resource_id: str) -> str | None:
    """The resource type an ARM id encodes, or None when it is not an ARM resource id.

    `/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/a/databases/b` ->
    `Microsoft.Sql/servers/databases`; an extension resource's type is read after its last
    `/providers/` (`.../vaults/v/providers/Microsoft.Insights/diagnosticSettings/d` ->
    `Microsoft.Insights/diagnosticSettings`); a subscription and a resource group are
    `Microsoft.Resources/subscriptions` and `Microsoft.Resources/resourceGroups`."""
    if not resource_id.startswith("/"):
        return None
    lowered = resource_id.lower()
    cut = lowered.rfind(_MARKER)
    if cut < 0:
        parts = resource_id.strip("/").split("/")
        names = [part.lower() for part in parts[::2]]
        if len(parts) == 2 and names == ["subscriptions"]:
            return "Microsoft.Resources/subscriptions"
        if len(parts) == 4 and names == ["subscriptions", "resourcegroups"]:
            return "Microsoft.Resources/resourceGroups"
        return None
    tail = resource_id[cut + len(_MARKER):].strip("/").split("/")
    # namespace, then (type, name) pairs: an odd count of non-empty segments, at least three
    if len(tail) < 3 or len(tail) % 2 == 0 or not all(tail):
        return None
    return "/".join([tail[0], *tail[1::2]])


def same_type(one: str, other: str) -> bool:
    """Types compare case-insensitively; Resource Graph names a resource group's type
    `microsoft.resources/subscriptions/resourcegroups`, ARM `Microsoft.Resources/resourceGroups`."""
    return _canonical(one) == _canonical(other)


def _canonical(resource_type: str) -> str:
    lowered = resource_type.lower()
    return "microsoft.resources/resourcegroups" if lowered == "microsoft.resources/subscriptions/resourcegroups" \
        else lowered


# Entries of one export share their key layout: which keys are identity keys is worked out once per
# layout (a snapshot of a million resources has a few dozen layouts); past this many, it is not kept.
LAYOUTS_KEPT = 10_000
_identity_keys: dict[tuple[Any, ...], tuple[str, ...]] = {}
_PLAIN = ("id", "type")


def settle(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its identity as `id` and `type` (every other identity key removed), or
    IdentityError. Null identity keys count as absent (PowerShell prints `ExtensionResourceType: null`)."""
    if _identity_layout(entry) == _PLAIN:  # az, Resource Graph, REST: the entry as it is, when its id agrees
        resource_id, resource_type = entry["id"], entry["type"]
        if isinstance(resource_id, str) and isinstance(resource_type, str) and resource_id.strip() \
                and resource_type.strip():
            named = type_in_id(resource_id)
            if named is None or same_type(resource_type, named):
                return entry
    ids = _stated(entry, ID_NAMES, "id")
    types = _stated(entry, TYPE_NAMES, "type")
    extension = _stated(entry, {EXTENSION_TYPE_NAME}, "type")
    distinct_ids = _distinct(ids, lambda value: value.rstrip("/").lower())
    encoded = {key: type_in_id(value) for key, value in distinct_ids}
    known_type = _known_type(types, extension, encoded)
    if len(distinct_ids) > 1:
        (first, one), (second, other) = distinct_ids[:2]
        raise IdentityError(f"names two different resources: '{first}' {one} and '{second}' {other}", known_type)
    distinct_types = _distinct(types, _canonical)
    if len(distinct_types) > 1:
        (first, one), (second, other) = distinct_types[:2]
        raise IdentityError(f"names two different types: '{first}' {one} and '{second}' {other}", None)
    if not distinct_ids:
        raise IdentityError("has no id (no 'id', 'Id' or 'ResourceId')", known_type)
    id_key, resource_id = distinct_ids[0]
    from_id = encoded[id_key]
    if extension:
        stated_key, stated = extension[0]
        _agree(stated_key, stated, id_key, resource_id, from_id)
        if distinct_types:  # the type it extends: the one the id names before its last /providers/
            extended_key, extended = distinct_types[0]
            _agree(extended_key, extended, id_key, resource_id, type_in_id(_extended_id(resource_id)), "extends")
    elif distinct_types:
        stated_key, stated = distinct_types[0]
        _agree(stated_key, stated, id_key, resource_id, from_id)
    resource_type = extension[0][1] if extension else distinct_types[0][1] if distinct_types else from_id
    if resource_type is None:
        raise IdentityError(f"has no type, and its id {resource_id} does not name one")
    names = ID_NAMES | TYPE_NAMES | {EXTENSION_TYPE_NAME}
    settled = {key: value for key, value in entry.items() if not (isinstance(key, str) and key.lower() in names)}
    return {"id": resource_id, "type": resource_type, **settled}


def _identity_layout(entry: dict[str, Any]) -> tuple[str, ...]:
    layout = tuple(entry)
    found = _identity_keys.get(layout)
    if found is None:
        names = ID_NAMES | TYPE_NAMES | {EXTENSION_TYPE_NAME}
        found = tuple(key for key in layout if isinstance(key, str) and key.lower() in names)
        if len(_identity_keys) < LAYOUTS_KEPT:
            _identity_keys[layout] = found
    return found


def _stated(entry: dict[str, Any], names: frozenset[str] | set[str], what: str) -> list[tuple[str, str]]:
    """(key, value) of every non-null identity key of this kind; a value that is not text is an error."""
    found = []
    for key, value in entry.items():
        if not isinstance(key, str) or key.lower() not in names or value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise IdentityError(f"has '{key}' {value!r}, which is not an {what}")
        found.append((key, value))
    return found


def _distinct(stated: list[tuple[str, str]], fold: Any) -> list[tuple[str, str]]:
    seen: dict[str, tuple[str, str]] = {}
    for key, value in stated:
        seen.setdefault(fold(value), (key, value))
    return list(seen.values())


def _known_type(types: list[tuple[str, str]], extension: list[tuple[str, str]],
                encoded: dict[str, str | None]) -> str | None:
    """The type the entry is of, as far as its keys agree on one (for reporting it when its identity
    fails): its stated type, or the type all its ids encode."""
    if extension:
        return extension[0][1]
    if types and len(_distinct(types, _canonical)) == 1:
        return types[0][1]
    named = {_canonical(t) for t in encoded.values() if t}
    if len(named) == 1 and None not in encoded.values():
        return next(t for t in encoded.values() if t)
    return None


def _agree(key: str, stated: str, id_key: str, resource_id: str, encoded: str | None, verb: str = "is") -> None:
    if encoded is not None and not same_type(stated, encoded):
        # The id's type, not the stated one, says which rules report the entry: a stated type is the
        # part an attacker picks (one no rule judges would make the entry disappear from the gate).
        raise IdentityError(f"has '{key}' saying it {verb} a {stated}, but its '{id_key}' {resource_id} names a {encoded}",
                            encoded if verb == "is" else None)


def _extended_id(resource_id: str) -> str:
    return resource_id[:resource_id.lower().rfind(_MARKER)]
