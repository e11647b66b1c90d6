"""Read resource data the way ARM reads it: the one accessor every rule, check and renderer uses.

- Property names match case-insensitively (ARM and the Network Controller ignore case: templates
  write `"Protocol"`, Az PowerShell prints `Properties`). `ArmObject` is a dict whose lookups fold
  case, so JMESPath (which reads fields with `.get`) and Python checks see `properties.x` whatever
  spelling the source printed. Iteration, evidence and output keep the source's own spelling.
- A JSON object that spells one name twice in different case (`properties` and `Properties`) is
  ambiguous: ARM would not take it, and either reading could hide a FAIL. `wrap` records such names
  and the engine gives ERROR for that resource instead of guessing.
- Values ARM coerces are read as ARM reads them: the resource providers deserialise a boolean
  property given as the string "true"/"false" (a template's string parameter, a bool parameter whose
  default is the string "true") as the boolean, and a string-typed version property given as a
  number (`"minTlsVersion": 1.2`) as the string "1.2". `wrap` applies both inside `properties` and
  records every coerced value under `x_vdcaudit.coerced`, so nothing is changed silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# String-typed ARM properties whose values look like numbers, so authors write them as numbers
# (Microsoft.Web siteConfig.minTlsVersion "1.2", Microsoft.Sql servers minimalTlsVersion "1.2", ...).
# ARM's JSON deserialiser turns the number into the string the API declares.
VERSION_STRING_PROPERTIES = frozenset(name.lower() for name in (
    "minTlsVersion", "minimalTlsVersion", "minimumTlsVersion", "scmMinTlsVersion", "minTlsCipherSuite",
    "minimumTlsVersionAllowed", "tlsVersion", "sslMinimalVersion", "minimalTlsVersionInbound",
))

# Deeper than any ARM resource (the deepest API shapes are ~15 levels); deeper is hostile input.
MAX_DEPTH = 100


_ABSENT = object()

# A name not spelt as stored is looked up through the object's case-folded names. Resources of one
# kind share their key spellings, so the folded table is built once per key layout and shared (a
# scan reads millions of absent names); the tables together hold at most FOLD_CACHE_KEYS names, so
# data with endless layouts only falls back to building them each time.
FOLD_CACHE_KEYS = 1_000_000
_folds: dict[tuple[Any, ...], dict[str, str]] = {}
_folded_keys = 0


def _fold_table(keys: tuple[Any, ...]) -> dict[str, str]:
    """lower-case name -> the first stored spelling of it, for one key layout."""
    global _folded_keys
    table = _folds.get(keys)
    if table is None:
        table = {}
        for stored in keys:
            if isinstance(stored, str):
                table.setdefault(stored.lower(), stored)
        if _folded_keys + len(keys) <= FOLD_CACHE_KEYS:
            _folds[keys] = table
            _folded_keys += len(keys)
    return table


class ArmObject(dict):  # type: ignore[type-arg]
    """A JSON object whose keys are read case-insensitively; stored and printed as the source spelt them."""

    __slots__ = ()

    def _spelling(self, key: Any) -> Any:
        """The stored key that `key` names, or None. Exact spelling first (the common case, O(1))."""
        if dict.__contains__(self, key):
            return key
        if isinstance(key, str) and dict.__len__(self):
            return _fold_table(tuple(dict.keys(self))).get(key.lower())
        return None

    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key, _ABSENT)  # the exact spelling, in one lookup (rules read millions)
        if value is not _ABSENT:
            return value
        if isinstance(key, str) and dict.__len__(self):  # _spelling, inlined: absent names are read millions of times too
            keys = tuple(dict.keys(self))
            stored = (_folds.get(keys) or _fold_table(keys)).get(key.lower())
            if stored is not None:
                return dict.__getitem__(self, stored)
        return default

    def __missing__(self, key: Any) -> Any:
        # dict's own [] finds the exact spelling at C speed and asks here only for another one
        stored = self._spelling(key)
        if stored is None:
            raise KeyError(key)
        return dict.__getitem__(self, stored)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._spelling(key) is not None  # exact spelling: one call

    def __setitem__(self, key: Any, value: Any) -> None:
        # Writing `subscriptionId` into a resource printed with `SubscriptionId` updates that key.
        stored = self._spelling(key)
        dict.__setitem__(self, key if stored is None else stored, value)

    def __delitem__(self, key: Any) -> None:
        stored = self._spelling(key)
        if stored is None:
            raise KeyError(key)
        dict.__delitem__(self, stored)

    def pop(self, key: Any, *default: Any) -> Any:
        stored = self._spelling(key)
        if stored is None:
            if default:
                return default[0]
            raise KeyError(key)
        return dict.pop(self, stored)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        stored = self._spelling(key)
        if stored is None:
            dict.__setitem__(self, key, default)
            return default
        return dict.__getitem__(self, stored)

    def update(self, *others: Any, **values: Any) -> None:  # type: ignore[override]
        for other in (*others, values):
            for key, value in (other.items() if isinstance(other, Mapping) else other):
                self[key] = value

    def __copy__(self) -> ArmObject:
        return ArmObject(self)

    def copy(self) -> ArmObject:
        return ArmObject(self)


def wrap(value: Any, *, coerce: bool = False) -> tuple[Any, list[str], list[str]]:
    """`value` with every JSON object made an ArmObject (in place for lists, new objects for dicts).

    Returns (wrapped value, ambiguous names as paths, coerced values described). With `coerce`, the
    ARM value coercions above apply (the caller passes it for a resource's `properties`).
    """
    ambiguous: list[str] = []
    coerced: list[str] = []
    wrapped = _wrap(value, "", 0, coerce, ambiguous, coerced)
    return wrapped, ambiguous, coerced


def wrap_resource(resource: dict[str, Any], reserved: str) -> tuple[ArmObject, list[str], list[str]]:
    """A resource wrapped for reading: coercion applies inside `properties` only, and the reserved
    annotations key (vdcaudit's own, holding links to other resources) is kept as it is."""
    ambiguous: list[str] = []
    coerced: list[str] = []
    wrapped = _wrap(resource, "", 0, False, ambiguous, coerced, reserved)
    return wrapped, ambiguous, coerced


class _Unusual(Exception):
    """Raised by _copy_plain: the value holds something only _wrap reports (a name spelt twice, a
    non-string name, a value ARM coerces, the depth limit)."""


# Key layouts seen to be plain: string names, none spelt twice in any case. Resources of one kind
# share a few layouts; the set is bounded like the fold tables (FOLD_CACHE_KEYS names in all).
_plain_layouts: set[tuple[Any, ...]] = set()
_plain_keys = 0


# While a large source is read (shared_strings), equal strings among the values copied are kept
# once: a fabric repeats its states, timestamps and references in every NIC (a third of its memory).
_shared: dict[str, str] | None = None


@contextmanager
def shared_strings() -> Iterator[None]:
    """Within this block, resources wrapped keep one object per distinct string value (strings are
    immutable, so nothing else changes); the table goes when the block ends."""
    global _shared
    outer = _shared
    _shared = {} if outer is None else outer
    try:
        yield
    finally:
        _shared = outer


def _copy_plain(value: Any, depth: int, coerce: bool) -> Any:
    """_wrap of a value with nothing to report, at a fraction of its cost (no paths are spelt, most
    objects are copied at C speed): what nearly every resource holds. Raises _Unusual otherwise,
    and the caller wraps the value with _wrap, which says why (lists already visited hold
    ArmObjects then, which _wrap copies again the same)."""
    global _plain_keys
    if depth >= MAX_DEPTH:
        raise _Unusual
    texts = _shared
    if isinstance(value, list):
        for index, item in enumerate(value):
            kind = type(item)
            if kind is dict or kind is ArmObject or kind is list:
                value[index] = _copy_plain(item, depth + 1, coerce)
            elif isinstance(item, (dict, list)) or (coerce and _coerced("", item) is not item):
                raise _Unusual
            elif kind is str and texts is not None:
                value[index] = texts.setdefault(item, item)
        return value
    keys = tuple(value)
    if keys not in _plain_layouts:
        table = _fold_table(keys)
        if len(table) != len(keys):
            raise _Unusual
        if _plain_keys + len(keys) <= FOLD_CACHE_KEYS:
            _plain_layouts.add(keys)
            _plain_keys += len(keys)
    result = ArmObject(value)
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if coerce and len(item) in (4, 5) and _coerced("", item) is not item:
                raise _Unusual
            if texts is not None and (kept := texts.setdefault(item, item)) is not item:
                dict.__setitem__(result, key, kept)
        elif kind is dict or kind is ArmObject or kind is list:
            dict.__setitem__(result, key, _copy_plain(item, depth + 1, coerce))
        elif kind is not bool and item is not None and (
                isinstance(item, (dict, list)) or (coerce and _coerced(key.lower(), item) is not item)):
            raise _Unusual
    return result


def _wrap(value: Any, path: str, depth: int, coerce: bool, ambiguous: list[str], coerced: list[str],
          reserved: str | None = None) -> Any:
    """`reserved` (at the top of a resource only): the key kept unwrapped; there, coercion starts
    below `properties`. Only containers are recursed into, and a value's path is spelt out only
    when it is reported: a scan wraps millions of values."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels at {path or 'the top'}")
    if isinstance(value, dict):
        result = ArmObject()
        folded: set[str] = set()
        for key, item in value.items():
            below = coerce
            if isinstance(key, str):
                lowered = key.lower()
                if lowered in folded:
                    ambiguous.append(f"{path}.{key}" if path else key)
                folded.add(lowered)
                if coerce:
                    read = _coerced(lowered, item)
                    if read is not item:
                        coerced.append(f"{f'{path}.{key}' if path else key}: {item!r} read as {read!r}")
                        item = read
                if reserved is not None:
                    below = lowered == "properties"
            if isinstance(item, (dict, list)) and (reserved is None or key != reserved):
                item = _wrap_child(item, f"{path}.{key}" if path else str(key), depth + 1, below, ambiguous,
                                   coerced, fast=reserved is not None)
            elif depth == MAX_DEPTH:  # a value one level below the limit is as deep as a container there
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels at {path}.{key}")
            dict.__setitem__(result, key, item)
        return result
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                value[index] = _wrap(item, f"{path}[{index}]", depth + 1, coerce, ambiguous, coerced)
            else:
                if depth == MAX_DEPTH:
                    raise ValueError(f"nested deeper than {MAX_DEPTH} levels at {path}[{index}]")
                if coerce:
                    read = _coerced("", item)
                    if read is not item:
                        coerced.append(f"{path}[{index}]: {item!r} read as {read!r}")
                        value[index] = read
        return value
    return value


def _wrap_child(value: Any, path: str, depth: int, coerce: bool, ambiguous: list[str], coerced: list[str],
                fast: bool) -> Any:
    """_wrap of a container; with `fast` (a resource's top-level values), _copy_plain first."""
    if fast:
        try:
            return _copy_plain(value, depth, coerce)
        except _Unusual:
            pass
    return _wrap(value, path, depth, coerce, ambiguous, coerced)


def _coerced(name: str, value: Any) -> Any:
    """The value as ARM reads it: `value` itself when ARM reads it as given."""
    if isinstance(value, str):
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    elif name in VERSION_STRING_PROPERTIES and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def props(resource: Mapping[str, Any]) -> ArmObject:
    """A resource's `properties` (any spelling). Absent or null gives an empty object; a value that
    is not an object is malformed data and raises, so the caller's resource gets ERROR, not a verdict."""
    found = resource.get("properties")
    if found is None:
        return ArmObject()
    if not isinstance(found, dict):
        raise TypeError(f"'properties' is a {type(found).__name__}, not an object")
    return found if isinstance(found, ArmObject) else ArmObject(found)


_PATH_KEY = re.compile(r'"([^"]+)"|([^.]+)')


def path_keys(path: str) -> list[str]:
    """The keys of a dotted path; a key that holds dots is written in double quotes, as in JMESPath
    (`properties.customProperties."Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168"`)."""
    return [quoted or plain for quoted, plain in _PATH_KEY.findall(path)]


def dig(data: Any, path: str | Iterable[str]) -> Any:
    """The value at a dotted path (`properties.encryption.type`), None where any step is absent.
    A step into a value that is not an object raises TypeError: that is malformed data, not absence."""
    node = data
    for key in (path.split(".") if isinstance(path, str) else path):
        if node is None:
            return None
        if not isinstance(node, dict):
            raise TypeError(f"'{key}' read from a {type(node).__name__}, not an object")
        node = node.get(key) if isinstance(node, ArmObject) else ArmObject(node).get(key)
    return node


def as_bool(value: Any) -> bool | None:
    """A boolean as ARM reads one: True/False, or the strings "true"/"false" in any case; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def same(value: Any, expected: str) -> bool:
    """Enum values compare case-insensitively (Az PowerShell prints "Enabled", ARG may lower-case)."""
    return isinstance(value, str) and value.lower() == expected.lower()


def objects(value: Any, what: str) -> list[dict[str, Any]]:
    """A JSON array of objects the data should hold ([] when absent); anything else is malformed and
    raises TypeError naming `what`, so the check says ERROR for that resource only."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"{what} is not an array of objects")
    return value
