"""JMESPath as vdcaudit uses it: compiled once, two case-folding helpers, `iso_date` (a timestamp's date, for
comparing dates), `weak_ipsec` (the weak choices in IPsec/IKE policies, defined once in vdcaudit.ipsec), and the
paths an expression reads from its input (so a missing value gives UNKNOWN naming the path).

Every search has a budget (rules are input: a custom rule can double its data at every step): each
element a projection or filter visits, each node the interpreter visits, each item a function
returns and each pair a comparison of structures looks at costs a step (MAX_STEPS per search), and
no single value built (a flatten, merge; a join, to_string) may be larger than MAX_VALUE_ITEMS items
or MAX_STRING_CHARS characters, checked before it is built. Past either, `BudgetExceeded` is raised: the engine makes
that rule's finding for that resource an ERROR, and the other resources are judged as usual.
`growth_warnings` names the constructs that can grow a value, for `rules validate`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath import functions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter, _is_comparable, _is_special_number_case

from vdcaudit.armdata import ArmObject
from vdcaudit.ipsec import weak_choices


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])")

# A search's budget: the built-in rules need at most a few thousand steps on the largest resources
# of the benchmarks; these limits stop a runaway rule in well under a second and a few tens of MB.
MAX_STEPS = 200_000
MAX_VALUE_ITEMS = 200_000  # items of one array or object built
MAX_STRING_CHARS = 16 * 1024 * 1024  # characters of one string built (joined, to_string); 256 cost a step


class BudgetExceeded(Exception):
    """A search went past its budget (MAX_STEPS, or a value of more than MAX_VALUE_ITEMS)."""


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_STEPS


_BUDGET = _Budget()  # one search at a time per process: searches do not nest, the engine forks


def _charge(steps: int) -> None:
    _BUDGET.left -= steps
    if _BUDGET.left < 0:
        raise BudgetExceeded(f"the expression took more than {MAX_STEPS:,} steps (vdcaudit's budget per "
                             "evaluation; a rule whose data grows at every step ends here)")


def _check_items(items: int, what: str) -> None:
    """Refuse an array or object before building it when it would be past MAX_VALUE_ITEMS."""
    if items > MAX_VALUE_ITEMS:
        raise BudgetExceeded(f"{what} would build a value of {items:,} items "
                             f"(vdcaudit's budget is {MAX_VALUE_ITEMS:,} per value)")
    _charge(items)


def _check_chars(chars: int, what: str) -> None:
    """Refuse a string before building it when it would be past MAX_STRING_CHARS."""
    if chars > MAX_STRING_CHARS:
        raise BudgetExceeded(f"{what} would build a string of {chars:,} characters "
                             f"(vdcaudit's budget is {MAX_STRING_CHARS:,} per value)")
    _charge(chars // 256)


def _size(value: Any) -> int:
    """The steps a value costs: an item each, 256 characters a step (strings are handled at C speed)."""
    if isinstance(value, str):
        return 1 + len(value) // 256
    return len(value) if isinstance(value, (list, dict)) else 1


def _serialized_size(value: Any) -> int:
    """About how many characters `value` takes as JSON, walking it as a tree (a part reused many
    times counts every time, as to_string writes it), stopping past MAX_VALUE_ITEMS."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        _charge(_size(item) if isinstance(item, str) else 1)
        if isinstance(item, dict):
            size += 2 + sum(len(str(key)) + 4 for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            size += 2 + len(item)
            stack.extend(item)
        else:
            size += len(item) + 2 if isinstance(item, str) else 8
        if size > MAX_STRING_CHARS:
            _check_chars(size, "to_string()")
    return size


def _equal(a: Any, b: Any) -> bool:
    """JMESPath's == (jmespath.visitor._equals), comparing structures pair by pair within the
    budget: a structure that reuses one part many times cannot make one comparison run for hours."""
    if _is_special_number_case(a, b):
        return False
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            _charge(1 + len(x))
            if len(x) != len(y) or any(key not in y for key in x):
                return False
            stack.extend((x[key], y[key]) for key in x)
        elif isinstance(x, list) and isinstance(y, list):
            _charge(1 + len(x))
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, (dict, list)) or isinstance(y, (dict, list)) or x != y:
            return False
    return True


def _not_equal(a: Any, b: Any) -> bool:
    return not _equal(a, b)


# Functions whose result is built from their arguments' items: checked before they run.
def _join_size(args: list[Any]) -> None:
    _check_chars(sum(len(s) for s in args[1] if isinstance(s, str)) + len(args[0]) * len(args[1]), "join()")


def _merge_size(args: list[Any]) -> None:
    _check_items(sum(len(a) for a in args if isinstance(a, dict)), "merge()")


def _to_string_size(args: list[Any]) -> None:
    if not isinstance(args[0], str):
        _check_chars(_serialized_size(args[0]), "to_string()")


_BUILT_SIZE: dict[str, Callable[[list[Any]], None]] = {"join": _join_size, "merge": _merge_size,
                                                      "to_string": _to_string_size}


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

    def call_function(self, function_name: str, resolved_args: list[Any]) -> Any:
        """Within the search's budget: a function pays for what it reads and what it builds."""
        _charge(1 + sum(_size(a) for a in resolved_args))
        check_built = _BUILT_SIZE.get(function_name)
        if check_built is not None:
            try:
                check_built(resolved_args)
            except TypeError:
                pass  # wrong argument types: the call itself says so, as JMESPath does
        result = super().call_function(function_name, resolved_args)
        _charge(_size(result))
        return result

    @functions.signature({"types": ["array", "string"]}, {"types": []})
    def _func_contains(self, subject: Any, search: Any) -> Any:  # the stock one, with the budgeted ==
        if isinstance(subject, str):
            return isinstance(search, str) and search in subject
        return any(_equal(item, search) for item in subject)

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


class _BudgetedInterpreter(TreeInterpreter):
    """jmespath's interpreter, each node visited paid for, flatten checked before it is built."""

    COMPARATOR_FUNC = {**TreeInterpreter.COMPARATOR_FUNC, "eq": _equal, "ne": _not_equal}

    def visit(self, node: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        _charge(1)
        return super().visit(node, *args, **kwargs)

    def visit_flatten(self, node: dict[str, Any], value: Any) -> Any:
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        _check_items(sum(len(e) if isinstance(e, list) else 1 for e in base), "flatten ([])")
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged


OPTIONS = jmespath.Options(custom_functions=_VdcFunctions())
# The interpreter keeps no state between searches: one serves every rule and resource.
_INTERPRETER = _BudgetedInterpreter(OPTIONS)


class Expression(ParsedResult):
    """A compiled expression whose syntax tree is also turned into nested Python closures once, so
    a search calls functions instead of walking the tree and dispatching on node types (the rule
    engine evaluates millions of them). The closures follow jmespath's TreeInterpreter exactly
    (tests/test_jmes_paths.py compares both); node types they do not cover are handed to it."""

    def __init__(self, expression: str, parsed: dict[str, Any]) -> None:
        super().__init__(expression, parsed)
        self.fields = _field_chain(parsed)
        closure = _closure(parsed)

        def run(value: Any) -> Any:  # each search with a fresh budget
            _BUDGET.left = MAX_STEPS
            return closure(value)
        self.run = run

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
        compare = _BudgetedInterpreter.COMPARATOR_FUNC[node["value"]]
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
        width = len(children)

        def selected(value: Any) -> Any:
            if value is None:
                return None
            _charge(width)
            return [child(value) for child in children]
        return selected
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
            _charge(len(items))
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
    """The expression's value on `data`, within a fresh budget (BudgetExceeded past it)."""
    run = getattr(expression, "run", None)
    if run is not None:
        return run(data)
    _BUDGET.left = MAX_STEPS
    return _INTERPRETER.visit(expression.parsed, data)


def growth_warnings(expression: ParsedResult) -> list[str]:
    """Why the expression can build values larger than its data (a multi-select that repeats one
    sub-expression copies it; chained, that doubles at every step), for `rules validate`."""
    repeats = 0
    stack = [expression.parsed]
    while stack:
        node = stack.pop()
        children = [c for c in node.get("children", []) if isinstance(c, dict)]
        if node["type"] in ("multi_select_list", "multi_select_dict"):
            parts = [repr(c.get("children", [c])) if node["type"] == "multi_select_dict" else repr(c) for c in children]
            repeats += len(parts) - len(set(parts))
        stack.extend(children)
    if not repeats:
        return []
    return [f"a multi-select repeats the same sub-expression {repeats} time(s): the value can grow at every step "
            f"(each evaluation is stopped past {MAX_STEPS:,} steps or a value of {MAX_VALUE_ITEMS:,} items: an ERROR)"]


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
