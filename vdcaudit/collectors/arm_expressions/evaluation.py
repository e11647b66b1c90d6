"""Evaluating a parsed expression in a `Scope`: parameters, variables, copy loops, property access,
and the call of a library function with its unknowns and bounds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from vdcaudit.collectors.arm_expressions.limits import (
    INT64, MAX_COPY_COUNT, MAX_VALUE_CHARS, Budget, TemplateExpressionError, TemplateLimitError, Unknown, measure,
)
from vdcaudit.collectors.arm_expressions.syntax import Access, Literal, is_expression, parse


@dataclass
class Deployment:
    """Where the template is imagined to be deployed: placeholders chosen by the user or defaults."""

    subscription_id: str
    resource_group: str
    location: str
    tenant_id: str = "00000000-0000-0000-0000-000000000000"
    name: str = "vdcaudit-template"


# The default of a parameter declared without one.
NO_DEFAULT = object()


@dataclass(frozen=True)
class VariableLoop:
    """`"variables": {"copy": [{"name": N, "count": C, "input": I}]}`: variable N is the array of I
    evaluated for copyIndex('N') = 0 .. C-1."""

    name: str
    count: Any
    input: Any


@dataclass
class Scope:
    """Parameters and variables of one template, evaluated lazily (a default value or a variable
    may use other parameters and variables) and once each."""

    deployment: Deployment
    parameter_values: dict[str, Any] = field(default_factory=dict)  # given values, not evaluated
    # every declared parameter: raw default (may be an expression) or NO_DEFAULT
    parameter_defaults: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # raw, may be expressions or VariableLoops
    copy_indexes: dict[str, int] = field(default_factory=dict)  # loop name -> current index
    current_loop: str | None = None
    budget: Budget = field(default_factory=Budget)
    lambda_values: dict[str, Any] = field(default_factory=dict)  # lambdaVariables() in a lambda's body
    # Naming a resource whose name is given at deployment time: a parameter without a value stands
    # for itself (`[parameters('vaultName')]`), so the resource is judged under that symbolic name.
    symbolic: bool = False
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    _evaluating: set[tuple[str, str]] = field(default_factory=set)

    def with_copy(self, loop: str, index: int) -> "Scope":
        """The same scope inside one iteration of a copy loop (shares the parameter cache)."""
        return replace(self, copy_indexes={**self.copy_indexes, loop: index}, current_loop=loop)

    def parameter(self, name: Any) -> Any:  # any evaluated value; find_key rejects non-strings
        key = find_key(self.parameter_defaults.keys() | self.parameter_values.keys(), name)
        if key is None:
            raise TemplateExpressionError(f"parameter '{name}' is not declared in the template")
        if key in self.parameter_values:
            value = self.parameter_values[key]
        elif (default := self.parameter_defaults.get(key, NO_DEFAULT)) is NO_DEFAULT:
            value = Unknown(f"parameter '{key}' has no value (no default, not in the parameters file)")
        else:
            value = self._lazy("parameter", key, default)
        return f"[parameters('{key}')]" if self.symbolic and isinstance(value, Unknown) else value

    def variable(self, name: Any) -> Any:  # any evaluated value; find_key rejects non-strings
        key = find_key(self.variables.keys(), name)
        if key is None:
            raise TemplateExpressionError(f"variable '{name}' is not declared in the template")
        return self._lazy("variable", key, self.variables[key])

    def _lazy(self, kind: str, key: str, raw: Any) -> Any:
        slot = (kind, key)
        if slot in self._cache:
            return self._cache[slot]
        if slot in self._evaluating:
            raise TemplateExpressionError(f"{kind} '{key}' refers to itself")
        self._evaluating.add(slot)
        try:
            # outside any resource's copy loop or lambda: a variable means the same everywhere
            root = replace(self, copy_indexes={}, current_loop=None, lambda_values={})
            value = _variable_loop(raw, root) if isinstance(raw, VariableLoop) else evaluate_value(raw, root)
        except TemplateExpressionError as exc:
            raise TemplateExpressionError(f"{kind} '{key}': {exc}") from None
        finally:
            self._evaluating.discard(slot)
        self._cache[slot] = value
        return value


def copy_count(raw: Any, scope: Scope, loop: str) -> Any:
    """A copy loop's count: an int from 0 to ARM's 800, or Unknown."""
    count = evaluate_value(raw, scope)
    if isinstance(count, Unknown):
        return count
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise TemplateExpressionError(f"copy loop '{loop}': count must be a non-negative integer, got {count!r}")
    if count > MAX_COPY_COUNT:
        raise TemplateLimitError(f"copy loop '{loop}' has count {count:,} (ARM allows {MAX_COPY_COUNT})")
    return count


def _variable_loop(loop: VariableLoop, scope: Scope) -> Any:
    count = copy_count(loop.count, scope, loop.name)
    if isinstance(count, Unknown):
        return count
    built = [_evaluate_json(loop.input, scope.with_copy(loop.name, i)) for i in range(count)]
    measure(built, scope.budget, what=f"variable '{loop.name}'")
    return built


def find_key(keys: Any, name: Any) -> str | None:
    """ARM parameter and variable names are case-insensitive."""
    if not isinstance(name, str):
        raise TemplateExpressionError("parameters() and variables() take a name (a string)")
    return next((k for k in keys if k.lower() == name.lower()), None)


def evaluate_value(value: Any, scope: Scope) -> Any:
    """A JSON value from the template with every expression string in it evaluated, and measured
    against the size limits. Objects keep their keys; `copy` arrays inside objects (property loops)
    are expanded."""
    try:
        result = _evaluate_json(value, scope)
    except RecursionError:
        raise TemplateLimitError("expressions nest or refer to each other too deeply") from None
    if isinstance(result, (dict, list)):
        measure(result, scope.budget)
    return result


def _evaluate_json(value: Any, scope: Scope) -> Any:
    scope.budget.charge(1)
    if isinstance(value, str):
        if is_expression(value):
            return evaluate(parse(value[1:-1]), scope)
        return value[1:] if value.startswith("[[") else value
    if isinstance(value, list):
        return [_evaluate_json(item, scope) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "copy" and isinstance(item, list):
                result.update(property_loops(item, scope))
            else:
                result[key] = _evaluate_json(item, scope)
        return result
    return value


def property_loops(loops: list[Any], scope: Scope) -> dict[str, Any]:
    """`"copy": [{"name": "ipsecPolicies", "count": 2, "input": {...}}]` inside properties."""
    produced: dict[str, Any] = {}
    for loop in loops:
        if not isinstance(loop, dict) or not isinstance(loop.get("name"), str) or "input" not in loop:
            raise TemplateExpressionError("a property copy loop needs 'name', 'count' and 'input'")
        count = copy_count(loop.get("count"), scope, loop["name"])
        if isinstance(count, Unknown):
            produced[loop["name"]] = count
            continue
        produced[loop["name"]] = [_evaluate_json(loop["input"], scope.with_copy(loop["name"], i))
                                  for i in range(count)]
    return produced


def evaluate(node: Any, scope: Scope) -> Any:
    scope.budget.charge(1)
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Access):
        return _access(evaluate(node.target, scope), evaluate(node.key, scope))
    name = node.name.lower()
    if name in library.LAZY:
        return library.LAZY[name](node.args, scope)
    if "." in name:
        return Unknown(f"user-defined function {node.name}() is not evaluated by vdcaudit")
    args = [evaluate(arg, scope) for arg in node.args]
    if name in library.DEPLOYMENT_TIME:
        return Unknown(f"{node.name}() is only known at deployment time")
    if name.startswith("list"):
        return Unknown(f"{node.name}() reads a deployed resource's secrets or state at deployment time")
    function = library.FUNCTIONS.get(name)
    if function is None:
        return Unknown(f"function {node.name}() is not supported by vdcaudit")
    if name not in library.STRUCTURAL and name not in library.SHAPE_ONLY:
        unknown = first_unknown(args)
    else:  # only an unknown argument itself matters, not unknown parts inside the structures
        unknown = next((a for a in args if isinstance(a, Unknown)), None) \
            if name not in library.KEEPS_UNKNOWN_ARGUMENTS else None
    if unknown is not None:
        return unknown
    result = _call(node.name, function, [scope, *args] if name in library.NEEDS_SCOPE else args)
    if isinstance(result, str):
        scope.budget.charge(len(result) // 256)
        if len(result) > MAX_VALUE_CHARS:
            raise TemplateLimitError(f"{node.name}() builds a string of {len(result):,} characters "
                                     "(past ARM's template size limit)")
    elif isinstance(result, (dict, list)):
        measure(result, scope.budget, what=f"the value of {node.name}()")
    elif isinstance(result, int) and not isinstance(result, bool) and not -INT64 <= result < INT64:
        return Unknown(f"{node.name}(): the result does not fit ARM's 64-bit integers; left unresolved")
    return result


class OutOfRange(OverflowError):
    """A value past what a function can represent (a date after 9999, say): unresolved, not an error."""


def _call(name: str, function: Callable[..., Any], args: list[Any]) -> Any:
    """The function's value; a value out of its range (a date past year 9999, a number past 64
    bits) is left unresolved; arguments it cannot take are the template's mistake, as in ARM."""
    try:
        return function(*args)
    except (OverflowError, OSError) as exc:  # OSError: the C library's range for epoch seconds
        return Unknown(f"{name}(): a value out of range ({exc}); left unresolved")
    except (TypeError, AttributeError) as exc:
        raise TemplateExpressionError(f"{name}(): wrong arguments ({exc})") from None
    except (ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
        raise TemplateExpressionError(f"{name}(): {exc}") from None
    except RecursionError:
        raise TemplateExpressionError(f"{name}(): the value is nested too deeply") from None


def first_unknown(value: Any) -> Unknown | None:
    for item in _walk(value):
        if isinstance(item, Unknown):
            return item
    return None


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _access(target: Any, key: Any) -> Any:
    if isinstance(target, Unknown):
        return target
    if isinstance(key, Unknown):
        return key
    if isinstance(target, dict):
        found = find_key(target.keys(), key) if isinstance(key, str) else None
        if found is None:
            raise TemplateExpressionError(f"the object has no property '{key}'")
        return target[found]
    if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool):
        if not 0 <= key < len(target):
            raise TemplateExpressionError(f"index {key} is out of range (the array has {len(target)} items)")
        return target[key]
    raise TemplateExpressionError(f"cannot read [{key!r}] of {type(target).__name__}")


# The function library needs Scope and evaluate (lambdas, scoped functions call back into them), so
# it is imported last; evaluate reads its tables at call time.
from vdcaudit.collectors.arm_expressions import functions as library  # noqa: E402
