"""JMESPath as vdcaudit uses it: compiled once, two case-folding helpers, `iso_date` (a timestamp's date, for
comparing dates), `weak_ipsec` (the weak choices in IPsec/IKE policies, defined once in vdcaudit.ipsec), and the
paths an expression reads from its input (so a missing value gives UNKNOWN naming the path)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath import functions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter, _is_comparable

from vdcaudit.armdata import ArmObject
from vdcaudit.ipsec import weak_choices


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])")


class _VdcFunctions(functions.Functions):
    """Azure enum values differ in case between sources (Az PowerShell "Get", ARM "get",
    ARG lower-cased types), so rules compare through lower()/upper()."""

    # Resource data is read through armdata.ArmObject (a dict whose names match case-insensitively);
    # JMESPath type-checks function arguments by class name, so it must know that name is an object.
    def _get_allowed_pytypes(self, types: Any) -> Any:
        allowed, subtypes = super()._get_allowed_pytypes(types)
        if "dict" in allowed:
            allowed = [*allowed, ArmObject.__name__]
        return allowed, [[*s, ArmObject.__name__] if "dict" in s else s for s in subtypes]

    def _convert_to_jmespath_type(self, pyobject: Any) -> Any:
        return "object" if pyobject == ArmObject.__name__ else super()._convert_to_jmespath_type(pyobject)

    @functions.signature({"types": []})
    def _func_lower(self, value: Any) -> Any:
        return _map_strings(value, str.lower)

    @functions.signature({"types": []})
    def _func_upper(self, value: Any) -> Any:
        return _map_strings(value, str.upper)

    @functions.signature({"types": []})
    def _func_iso_date(self, value: Any) -> Any:
        """The calendar date (YYYY-MM-DD) an ISO 8601 timestamp starts with, else null: dates
        compare as strings only in that form (Windows PowerShell prints "/Date(ms)/" instead)."""
        return value[:10] if isinstance(value, str) and ISO_DATE.match(value) else None

    @functions.signature({"types": ["array", "null"]})
    def _func_weak_ipsec(self, policies: Any) -> Any:
        """The weak algorithm choices in a list of IPsec/IKE policies (vdcaudit.ipsec)."""
        return weak_choices(policies)


def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [fn(v) if isinstance(v, str) else v for v in value]
    return value


OPTIONS = jmespath.Options(custom_functions=_VdcFunctions())
# The interpreter keeps no state between searches: one serves every rule and resource.
_INTERPRETER = TreeInterpreter(OPTIONS)


class Expression(ParsedResult):
    """A compiled expression whose syntax tree is also turned into nested Python closures once, so
    a search calls functions instead of walking the tree and dispatching on node types (the rule
    engine evaluates millions of them). The closures follow jmespath's TreeInterpreter exactly
    (tests/test_jmes_paths.py compares both); node types they do not cover are handed to it."""

    def __init__(self, expression: str, parsed: dict[str, Any]) -> None:
        super().__init__(expression, parsed)
        self.fields = _field_chain(parsed)
        self.run = _closure(parsed)

    def search(self, value: Any, options: Any = None) -> Any:
        return self.run(value)


def _field_chain(node: dict[str, Any]) -> tuple[str, ...] | None:
    """The names of a plain field path (`properties.minimumTlsVersion`), else None."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] == "subexpression":
        chains = [_field_chain(child) for child in node["children"]]
        if any(chain is None for chain in chains):
            return None
        return tuple(name for chain in chains if chain for name in chain)
    return None


def _is_false(value: Any) -> bool:  # TreeInterpreter._is_false
    return value == "" or value == [] or value == {} or value is None or value is False


Closure = Callable[[Any], Any]


_exact = dict.get
_MISSING = object()


def _closure(node: dict[str, Any]) -> Closure:
    kind = node["type"]
    chain = _field_chain(node)
    if chain is not None:
        def fields(value: Any) -> Any:
            for name in chain:  # only an object has fields
                if not isinstance(value, dict):
                    return None
                # the name as spelt, at C speed; only a miss pays for ArmObject's case-folding get
                found = _exact(value, name, _MISSING)
                value = value.get(name) if found is _MISSING else found
            return value
        return fields
    children = [_closure(child) for child in node.get("children", []) if isinstance(child, dict)] \
        if kind not in ("literal", "index") else []
    if kind in ("subexpression", "index_expression", "pipe"):
        def sequence(value: Any) -> Any:
            for step in children:
                value = step(value)
            return value
        return sequence
    if kind == "literal":
        constant = node["value"]
        return lambda value: constant
    if kind in ("identity", "current"):
        return lambda value: value
    if kind == "index":
        position = node["value"]

        def index(value: Any) -> Any:
            if not isinstance(value, list):
                return None
            try:
                return value[position]
            except IndexError:
                return None
        return index
    if kind == "comparator":
        compare = TreeInterpreter.COMPARATOR_FUNC[node["value"]]
        left, right = children
        if node["value"] in ("eq", "ne"):
            return lambda value: compare(left(value), right(value))

        def ordering(value: Any) -> Any:
            a, b = left(value), right(value)
            if not (_is_comparable(a) and _is_comparable(b)):
                return None
            return compare(a, b)
        return ordering
    if kind == "function_expression":
        name = node["value"]
        call = OPTIONS.custom_functions.call_function
        return lambda value: call(name, [argument(value) for argument in children])
    if kind == "multi_select_list":
        return lambda value: None if value is None else [child(value) for child in children]
    if kind == "or_expression":
        first, second = children

        def either(value: Any) -> Any:
            matched = first(value)
            return second(value) if _is_false(matched) else matched
        return either
    if kind == "and_expression":
        first, second = children

        def both(value: Any) -> Any:
            matched = first(value)
            return matched if _is_false(matched) else second(value)
        return both
    if kind == "filter_projection":
        base, project, condition = children

        def filtered(value: Any) -> Any:
            items = base(value)
            if not isinstance(items, list):
                return None
            collected = []
            for element in items:
                if not _is_false(condition(element)):
                    current = project(element)
                    if current is not None:
                        collected.append(current)
            return collected
        return filtered
    return lambda value: _INTERPRETER.visit(node, value)  # any other node: the interpreter itself


def compile_expression(text: str) -> Expression:
    parsed = jmespath.compile(text)
    return Expression(parsed.expression, parsed.parsed)


def search(expression: ParsedResult, data: Any) -> Any:
    run = getattr(expression, "run", None)
    return run(data) if run is not None else _INTERPRETER.visit(expression.parsed, data)


def truthy(value: Any) -> bool:
    """JMESPath's notion of truth: false, null, empty string/array/object are false; 0 is true."""
    return not (value is None or value is False or value in ("", [], {}))


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Requirement:
    """Values an expression needs: satisfied when at least one of the alternative paths is present
    (`a || b` needs a or b). Each path is compiled once, here."""

    alternatives: tuple[str, ...]
    compiled: tuple[ParsedResult, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", tuple(compile_expression(p) for p in self.alternatives))

    def describe(self) -> str:
        return " or ".join(self.alternatives)

    def satisfied_by(self, data: Any) -> bool:
        return any(search(expression, data) is not None for expression in self.compiled)


def required_paths(expression: ParsedResult) -> list[Requirement]:
    """The root-relative paths the expression reads, grouped into requirements.

    Paths read inside projections and filters are relative to each element and are not included;
    the array they project over is. Function arguments and comparisons at the root are included.
    """
    found: list[Requirement] = []
    for group in _walk(expression.parsed):
        if group and Requirement(tuple(group)) not in found:
            found.append(Requirement(tuple(group)))
    return found


def _walk(node: dict[str, Any]) -> list[list[str]]:
    kind = node["type"]
    path = _as_path(node)
    if path is not None:
        return [[path]]
    if kind == "or_expression":
        return [[alt for side in node["children"] for group in _walk(side) for alt in group]]
    if kind in ("projection", "value_projection", "filter_projection", "flatten"):
        # children[0] is evaluated at the root; the rest per element
        return _walk(node["children"][0])
    if kind == "subexpression":
        # left side is root-relative (a.b where b is not a plain field, e.g. a.[x, y])
        return _walk(node["children"][0])
    if kind == "index_expression":
        return _walk(node["children"][0])
    if kind in ("literal", "current", "identity", "expref"):
        return []
    groups: list[list[str]] = []
    for child in node.get("children", []):
        if isinstance(child, dict):
            groups.extend(_walk(child))
    return groups


def _as_path(node: dict[str, Any]) -> str | None:
    """A plain path (fields and numeric indexes) as text, or None if the node is something else."""
    kind = node["type"]
    if kind == "field":
        name = node["value"]
        return name if _IDENTIFIER.match(name) else '"' + name.replace('"', '\\"') + '"'
    if kind == "subexpression":
        parts = [_as_path(child) for child in node["children"]]
        if all(p is not None for p in parts):
            return ".".join(p for p in parts if p is not None).replace(".[", "[")
        return None
    if kind == "index_expression":
        left, right = node["children"]
        left_path = _as_path(left) if left["type"] != "identity" else ""
        if left_path is not None and right["type"] == "index":
            return f"{left_path}[{right['value']}]"
        return None
    return None
