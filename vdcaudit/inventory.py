"""The inventory: ARM-shaped resources from every source, indexed by type, children linked to parents.

Conventions (docs/writing-rules.md, "Selectors, child data and Python checks"):
- A resource is a dict in the ARM wire shape (`id`, `name`, `type`, `location`, `properties`, ...).
- vdcaudit's own annotations live under the reserved top-level key `x_vdcaudit`:
  `source` (which collector produced it), `origin` (file/line for offline sources) and `children`
  (child and extension resources found in the inventory, keyed by the lower-cased last segment of
  their type, e.g. `children.transparentdataencryption`, `children.encryptionprotector`,
  `children.roleassignments`). Rules reach child data through these paths.
- Types compare case-insensitively (Resource Graph lower-cases them); the original spelling is kept.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from vdcaudit.armdata import ArmObject, wrap_resource
from vdcaudit.errors import InputError
from vdcaudit.model import CoverageRecord
from vdcaudit.secret_values import drop_secret_values

META = "x_vdcaudit"
# x_vdcaudit keys: when the source collected the resource (a `vdcaudit snapshot` file's collection
# time, ISO 8601), and the API version it was read or declared with (YYYY-MM-DD[-preview])
OBSERVED = "observed"
API_VERSION = "apiVersion"
# x_vdcaudit.unread: {child kind (last type segment, lower-case): why it could not be read}, set by a
# live source whose read of a parent's child data failed; rules reading that child judge UNKNOWN
UNREAD = "unread"
# x_vdcaudit.dataPlane: {child kind: api-version}, child data read through a service's data plane
# (a vault's certificates, read with --keyvault-data-plane), kept by `vdcaudit snapshot`: it tells
# "read, and there are none" from "never read"
DATA_PLANE = "dataPlane"

_View = TypeVar("_View")

# Top-level ARM envelope keys. Anything else at the top level of a resource without `properties`
# is an az CLI "flattened" print (e.g. `az sql db tde show`) and is folded back into `properties`.
ENVELOPE_KEYS = frozenset(key.lower() for key in (
    "id", "name", "type", "location", "tags", "sku", "kind", "identity", "plan", "zones", "etag",
    "managedBy", "subscriptionId", "resourceGroup", "tenantId", "extendedLocation", "systemData",
    "apiVersion", "managedByExtended", "properties", META,
))


def meta(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.setdefault(META, {})


def parse_scope(resource_id: str) -> tuple[str | None, str | None]:
    """(subscription id, resource group) named by an ARM id, either may be None."""
    if "subscriptions" not in resource_id.lower() and "resourcegroups" not in resource_id.lower():
        return None, None  # an id outside ARM's scopes (an SDN resource, say): most of a fabric's findings
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    subscription = parts[lowered.index("subscriptions") + 1] if "subscriptions" in lowered[:-1] else None
    group = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered[:-1] else None
    return subscription, group


def parent_id(resource_id: str) -> str | None:
    """The id of the resource this one belongs to: a child's parent or an extension's scope."""
    marker = "/providers/"
    lowered = resource_id.lower()
    cut = lowered.rfind(marker)
    if cut < 0:
        return None
    tail = resource_id[cut + len(marker):].strip("/").split("/")
    if len(tail) > 3:  # namespace/type/name/childType/childName...
        return resource_id.rstrip("/").rsplit("/", 2)[0]
    if len(tail) == 3 and marker in lowered[:cut]:  # an extension resource on another resource
        return resource_id[:cut]
    return None


def normalise(resource: dict[str, Any]) -> dict[str, Any]:
    """Bring the small differences between az CLI, ARG and ARM prints to one shape (in place)."""
    if "properties" not in resource:
        flattened = ArmObject({k: resource.pop(k) for k in list(resource) if k.lower() not in ENVELOPE_KEYS})
        if flattened:
            resource["properties"] = flattened
    drop_secret_values(resource)
    subscription, group = parse_scope(resource["id"])
    if subscription and not resource.get("subscriptionId"):
        resource["subscriptionId"] = subscription
    if group and not resource.get("resourceGroup"):
        resource["resourceGroup"] = group
    return resource


class Inventory:
    def __init__(self) -> None:
        self._by_id: dict[str, dict[str, Any]] = {}
        # type (lower-cased) -> id (lower-cased) -> resource, in the order added: a resource merged
        # again moves to the end in O(1) (a list's remove() compared it with every resource of its
        # type, which made reading a large snapshot quadratic)
        self._by_type: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._type_lists: dict[str, list[dict[str, Any]]] = {}  # of_type()'s lists, until the next add
        self._linked = False
        self._contested: dict[str, str] = {}  # id (lower-case) named with two types -> those types
        self.coverage: list[CoverageRecord] = []
        self.sources: list[dict[str, Any]] = []  # what was read: {"kind": ..., "location": ...}
        self._derived: dict[str, Any] = {}  # views built from the whole inventory, see derived()
        # (subscription, type) -> resources a source counted but did not read because no rule
        # reads their type (the live scan asks Resource Graph only for the types rules read)
        self.uncollected: dict[tuple[str, str], int] = {}

    def add(self, resource: Any, source: str, origin: dict[str, Any] | None = None,
            observed: str | None = None) -> None:
        """Add one resource. A resource whose id was seen before is merged into the earlier one:
        its values win, but what it lacks (e.g. `properties`, which `az resource list` leaves null)
        does not erase what an earlier export (Resource Graph, `az resource show`) held.

        An entry that cannot be identified (not an object, no id or type) and the entries of one id
        with two different types are not judged (which of them is right cannot be told) and
        nothing is merged because of them: each becomes an entry error (see reject), and every
        other resource is judged as usual."""
        where = (origin or {}).get("file")
        if not isinstance(resource, dict):
            self.reject("is not a JSON object", source, origin)
            return
        try:
            resource, ambiguous, coerced = wrap_resource(resource, META)
        except ValueError as exc:
            raise InputError(f"{_describe(origin)}: {exc}", where) from None
        if not isinstance(resource.get(META, {}), dict):
            resource.pop(META)  # vdcaudit's own annotations key, printed as something else: not ours
        for key in ("id", "type"):
            if not isinstance(resource.get(key), str) or not resource[key]:
                declared = resource.get("type")
                self.reject(f"has no '{key}'", source, origin, declared if isinstance(declared, str) and declared else None)
                return
        resource = normalise(resource)
        key = resource["id"].lower()
        if key in self._contested:
            self.reject(f"has id {resource['id']}, which other entries name with different types "
                        f"({self._contested[key]})", source, origin, resource["type"])
            return
        previous = self._by_id.get(key)
        if previous is not None and previous["type"].lower() != resource["type"].lower():
            # Two different things under one id: merging would drop one resource's findings, and
            # which one is right cannot be told. Neither is judged; both are named.
            earlier = previous.get(META, {}).get("origin")
            self._contested[key] = f"{previous['type']}, {resource['type']}"
            del self._by_id[key]
            del self._by_type[previous["type"].lower()][key]
            self._type_lists.pop(previous["type"].lower(), None)
            self._linked = False
            self._derived.clear()
            problem = (f"has id {resource['id']} with type {{}}, but {{}} has the same id with type {{}}: "
                       "one id cannot name two resource types")
            self.reject(problem.format(previous["type"], _entry_name(origin), resource["type"]),
                        previous.get(META, {}).get("source", source), earlier, previous["type"])
            self.reject(problem.format(resource["type"], _entry_name(earlier), previous["type"]),
                        source, origin, resource["type"])
            return
        if previous is not None:
            del self._by_type[previous["type"].lower()][key]
            self._type_lists.pop(previous["type"].lower(), None)
            ambiguous += previous.get(META, {}).get("ambiguous", [])
            resource = _merged(previous, resource)
        meta(resource).update({"source": source, **({"origin": origin} if origin else {})})
        # when the evidence was collected is said by the file (vdcaudit_snapshot.collected), never by an entry
        meta(resource).pop(OBSERVED, None)
        if observed:
            meta(resource)[OBSERVED] = observed
        # Names spelt twice in different case make the resource ambiguous: the engine gives ERROR.
        for name, found in (("ambiguous", ambiguous), ("coerced", coerced)):
            if found:
                meta(resource)[name] = found
        self._by_id[key] = resource
        self._by_type[resource["type"].lower()][key] = resource
        self._type_lists.pop(resource["type"].lower(), None)
        self._linked = False
        self._derived.clear()

    def reject(self, problem: str, source: str, origin: dict[str, Any] | None,
               resource_type: str | None = None) -> None:
        """An entry of the input that cannot be judged: recorded as an entry error (a coverage record
        that the rules of `resource_type`, or every rule when the type is unknown, report as ERROR
        for this entry, by file and position), so it fails the gate like any ERROR."""
        location = {k: origin[k] for k in ("file", "line") if origin and origin.get(k) is not None}
        self.coverage.append(CoverageRecord(
            source=source, scope=_entry_name(origin), reason=f"the entry {problem}", resource_type=resource_type,
            location=location or None, entry_error=True))

    def derived(self, name: str, build: Callable[["Inventory"], _View]) -> _View:
        """A view built from the whole inventory (an index of vaults, the SDN fabric, ...), built once
        and shared by every check that asks for it, until a resource is added."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    def count_uncollected(self, subscription: str, resource_type: str, count: int) -> None:
        key = (subscription, resource_type)
        self.uncollected[key] = self.uncollected.get(key, 0) + count

    def add_coverage(self, record: CoverageRecord) -> None:
        self.coverage.append(record)

    def link_children(self) -> None:
        """Attach every child/extension resource to its parent under x_vdcaudit.children."""
        if self._linked:
            return
        self._derived.clear()  # views may read the links
        for resource in self._by_id.values():
            meta(resource).pop("children", None)
            meta(resource).pop("parent", None)
        for resource in self._by_id.values():
            pid = parent_id(resource["id"])
            parent = self._by_id.get(pid.lower()) if pid else None
            if parent is None:
                continue
            kind = resource["type"].rsplit("/", 1)[-1].lower()
            meta(parent).setdefault("children", {}).setdefault(kind, []).append(resource)
            meta(resource)["parent"] = parent["id"]
        self._linked = True

    def get(self, resource_id: str) -> dict[str, Any] | None:
        return self._by_id.get(resource_id.lower())

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        kind = resource_type.lower()
        if kind not in self._type_lists:
            self._type_lists[kind] = list(self._by_type.get(kind, {}).values())
        return self._type_lists[kind]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def extend(self, resources: Iterable[Any], source: str, origin: dict[str, Any] | None = None,
               observed: str | None = None) -> None:
        for index, resource in enumerate(resources):
            self.add(resource, source, {**(origin or {}), "index": index}, observed)


def _merged(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """`later` over `earlier`, key by key (and inside `properties`); null or missing values in
    `later` keep the earlier ones."""
    result = ArmObject({k: v for k, v in earlier.items() if k != META})
    for key, value in later.items():
        if value is None or key == META:
            continue
        if key.lower() == "properties" and isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = ArmObject(result[key])
            merged.update({k: v for k, v in value.items() if v is not None})
            value = merged
        result[key] = value
    if META in later:
        result[META] = later[META]
    return result


def strip_annotations(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy of the resource as the source printed it, without vdcaudit's annotations."""
    clean = {k: v for k, v in resource.items() if k != META}
    return copy.deepcopy(clean)


def _entry_name(origin: dict[str, Any] | None) -> str:
    """Where an entry is: `file#position` (a snapshot entry's path in its document, or its index),
    `file:line` (a template or plan), or `#index` alone."""
    origin = origin or {}
    where = str(origin.get("file") or origin.get("url") or "")
    if origin.get("entry"):
        return f"{where}#{origin['entry']}"
    if origin.get("line") is not None:
        return f"{where}:{origin['line']}"
    if origin.get("index") is not None:
        return f"{where}#{origin['index']}"
    return where or "an entry"


def _describe(origin: dict[str, Any] | None) -> str:
    if origin and "index" in origin:
        return f"resource #{origin['index']}"
    if origin and "line" in origin:
        return f"the resource at line {origin['line']}"
    return "resource"
