"""The template function library: each ARM function vdcaudit implements, and the tables evaluate
reads (plain, scoped, lazy; those known only at deployment)."""

from __future__ import annotations

import base64
import decimal
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from vdcaudit.collectors.arm_expressions.evaluation import Deployment, OutOfRange, Scope, evaluate, find_key, first_unknown
from vdcaudit.collectors.arm_expressions.limits import MAX_RANGE_COUNT, MAX_VALUE_CHARS, TemplateExpressionError, TemplateLimitError, Unknown
from vdcaudit.timestamps import parse_datetime


# Functions whose value only exists once something is deployed or at the moment of deployment.
DEPLOYMENT_TIME = {
    "reference", "utcnow", "newguid", "pickzones", "managementgroup", "managementgroupresourceid",
    "getsecret", "deployer", "references",
}


def _text(value: Any) -> str:
    """What ARM's string() gives: booleans as True/False, objects and arrays as compact JSON."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return ""
    return str(value)


def _require(kind: type | tuple[type, ...], value: Any, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TemplateExpressionError(f"{what} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        _check_length(sum(len(a) for a in args), "concat()")
        return [item for a in args for item in a]
    unknown = first_unknown(list(args))
    if unknown is not None:
        return unknown
    return _joined([_text(a) for a in args], "", "concat()")


def _check_length(length: int, what: str) -> None:
    """Refuse a result before building it when its size alone is past ARM's template size."""
    if length > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"{what} would build {length:,} characters or items "
                                 "(past ARM's template size limit)")


def _joined(parts: list[str], separator: str, what: str) -> str:
    _check_length(sum(len(p) for p in parts) + len(separator) * max(len(parts) - 1, 0), what)
    return separator.join(parts)


_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{(\d+)(?:,-?\d+)?(?::([^}]*))?\}")


def _format(template: str, *args: Any) -> str:
    """.NET composite formatting as format() uses it: {0}, {1:D3}, {2:N0}, {{ and }}."""
    built = [0]

    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        index = int(match.group(1))
        if index >= len(args):
            raise TemplateExpressionError(f"format(): no argument for {{{index}}}")
        value, spec = args[index], match.group(2)
        if spec and spec[0] in "Dd" and isinstance(value, int):
            width = int(spec[1:] or 0)
            _check_length(width, "format()")
            text = ("-" if value < 0 else "") + str(abs(value)).zfill(width)  # .NET: digits, then the sign
        elif spec and spec[0] in "Nn" and isinstance(value, (int, float)) and not isinstance(value, bool):
            decimals = int(spec[1:] or 2)  # N: group separators and, by default, 2 decimals (invariant culture)
            _check_length(decimals, "format()")
            exact = decimal.Decimal(str(value))
            digits = decimal.Context(prec=max(exact.adjusted(), 0) + decimals + 2)
            rounded = exact.quantize(decimal.Decimal(1).scaleb(-decimals), decimal.ROUND_HALF_UP, digits)
            text = f"{rounded:,.{decimals}f}"  # .NET rounds a midpoint away from zero
        else:
            text = _text(value)
        built[0] += len(text)
        _check_length(built[0], "format()")
        return text
    return _FORMAT_ITEM.sub(replace, _require(str, template, "format()'s first argument"))


def _replace(text: str, old: str, new: str) -> str:
    _require(str, text, "replace()")
    if old:
        _check_length(len(text) + text.count(old) * (len(new) - len(old)), "replace()")
    return text.replace(old, new)


def _pad_left(value: Any, width: int, char: str = " ") -> str:
    _check_length(_require(int, width, "padLeft()'s length"), "padLeft()")
    return _text(value).rjust(width, char)


def _range(start: int, count: int) -> list[int]:
    if not 0 <= _require(int, count, "range()'s count") <= MAX_RANGE_COUNT:
        raise TemplateExpressionError(f"range(): count must be 0 to {MAX_RANGE_COUNT}, got {count}")
    return list(range(_require(int, start, "range()'s start"), start + count))


def _split_type(resource_type: str) -> tuple[str, list[str]]:
    parts = resource_type.strip("/").split("/")
    if len(parts) < 2 or "." not in parts[0]:
        raise TemplateExpressionError(f"'{resource_type}' is not a resource type (Namespace/type)")
    return parts[0], parts[1:]


def _id_tail(resource_type: str, names: list[Any]) -> str:
    namespace, types = _split_type(_require(str, resource_type, "the resource type"))
    flat = [part for name in names for part in _require(str, name, "a resource name").split("/")]
    if len(flat) != len(types):
        raise TemplateExpressionError(
            f"{resource_type} needs {len(types)} name segment(s), got {len(flat)}")
    return f"providers/{namespace}/" + "/".join(f"{t}/{n}" for t, n in zip(types, flat))


def resource_id(deployment: Deployment, *args: Any) -> str:
    """resourceId([subscriptionId], [resourceGroupName], type, name1, name2, ...): the type is the
    first argument with a '/' in it (subscription ids and group names cannot hold one)."""
    position = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a), None)
    if position is None or position > 2:
        raise TemplateExpressionError("resourceId() needs a resource type (Namespace/type) argument")
    scope = list(args[:position])
    subscription = scope[0] if len(scope) == 2 else deployment.subscription_id
    group = scope[-1] if scope else deployment.resource_group
    return f"/subscriptions/{subscription}/resourceGroups/{group}/" + _id_tail(args[position], list(args[position + 1:]))


def _subscription_resource_id(scope: Scope, *args: Any) -> str:
    position = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a), 0)
    subscription = args[0] if position == 1 else scope.deployment.subscription_id
    return f"/subscriptions/{subscription}/" + _id_tail(args[position], list(args[position + 1:]))


def _unique_string(*args: Any) -> str:
    """Deterministic, 13 lower-case characters like ARM's, but NOT the value ARM computes (ARM's
    hash is unpublished): stable across scans, so ids and fingerprints stay the same."""
    digest = hashlib.sha256("|".join(_text(a) for a in args).encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:13]


def _guid(*args: Any) -> str:
    """Deterministic (uuid5 of the arguments), like ARM's guid() but not the same value."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vdcaudit:" + "|".join(_text(a) for a in args)))


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return _text(item).lower() in container.lower()
    if isinstance(container, dict):
        return find_key(container.keys(), item) is not None
    if isinstance(container, list):
        return item in container
    raise TemplateExpressionError(f"contains() cannot search {container!r}")


def _union(*args: Any) -> Any:
    unknown = next((a for a in args if isinstance(a, Unknown)), None)
    if unknown is not None:
        return unknown  # which keys or items the union has is not known
    if all(isinstance(a, dict) for a in args):
        return _merge(args, deep=True)
    if all(isinstance(a, list) for a in args):
        return _dedupe([item for a in args for item in a])
    raise TemplateExpressionError("union() takes objects or arrays, not a mix")


def _merge(objects: Any, deep: bool) -> dict[str, Any]:
    """union() merges nested objects too (later values win); shallowMerge() only the top level."""
    merged: dict[str, Any] = {}
    for obj in objects:
        for key, value in obj.items():
            found = find_key(merged.keys(), key)
            if deep and found is not None and isinstance(merged[found], dict) and isinstance(value, dict):
                merged[found] = _merge([merged[found], value], deep=True)
            else:
                if found is not None:
                    del merged[found]
                merged[key] = value
    return merged


def _identity(item: Any) -> Any:
    # default=repr: an item may hold a value unknown before deployment (kept in place by union())
    return json.dumps(item, sort_keys=True, default=repr) if isinstance(item, (dict, list)) \
        else (type(item).__name__, item)


def _dedupe(items: list[Any]) -> list[Any]:
    """Items in order, each once (hashed: a long list must not cost its length squared)."""
    seen: set[Any] = set()
    kept = []
    for item in items:
        key = _identity(item) if not isinstance(item, Unknown) else id(item)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _try_get(source: Any, *keys: Any) -> Any:
    """tryGet(object or array, key, ...): null where any step is missing (Bicep's `a.?b`)."""
    for key in keys:
        if isinstance(source, Unknown):
            return source
        if isinstance(source, dict) and isinstance(key, str):
            found = find_key(source.keys(), key)
            source = source[found] if found is not None else None
        elif isinstance(source, list) and isinstance(key, int) and not isinstance(key, bool):
            source = source[key] if 0 <= key < len(source) else None
        elif source is None:
            return None
        else:
            raise TemplateExpressionError(f"tryGet() cannot read [{key!r}] of {type(source).__name__}")
    return source


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a == b  # ARM's equals() is case-sensitive for strings
    return bool(a == b and type(a) is type(b))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int):
        return value != 0
    raise TemplateExpressionError(f"bool() cannot convert {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TemplateExpressionError("int() cannot convert a boolean")
    return int(value)


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _length(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise TemplateExpressionError(f"length() needs a string, array or object, got {value!r}")


def _copy_index(scope: Scope, *args: Any) -> Any:
    loop = next((a for a in args if isinstance(a, str)), None)
    offset = next((a for a in args if isinstance(a, int) and not isinstance(a, bool)), 0)
    loop = loop if loop is not None else scope.current_loop
    if loop is None or find_key(scope.copy_indexes.keys(), loop) is None:
        raise TemplateExpressionError("copyIndex() used outside a copy loop" if loop is None
                                      else f"copyIndex(): no copy loop named '{loop}'")
    return scope.copy_indexes[find_key(scope.copy_indexes.keys(), loop) or loop] + offset


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if type(a) is not type(b) or not isinstance(a, (int, str)):
            raise TemplateExpressionError(f"cannot compare {a!r} with {b!r}")
        if isinstance(a, str):  # ARM orders text as .NET's culture comparison does: letters first
            # regardless of case, then lower case before upper (greater('A', 'a') is true)
            return op((a.lower(), a.swapcase()), (b.lower(), b.swapcase()))
        return op(a, b)
    return compare


def _lazy_if(args: tuple[Any, ...], scope: Scope) -> Any:
    if len(args) != 3:
        raise TemplateExpressionError("if() takes three arguments")
    condition = evaluate(args[0], scope)
    if isinstance(condition, Unknown):
        return condition
    return evaluate(args[1] if _require(bool, condition, "if()'s condition") else args[2], scope)


def _lazy_logic(stop_on: bool) -> Callable[[tuple[Any, ...], Scope], Any]:
    """and() stops at the first false, or() at the first true; an unknown only matters when no
    argument decides the result."""
    def logic(args: tuple[Any, ...], scope: Scope) -> Any:
        unknown = None
        for arg in args:
            value = evaluate(arg, scope)
            if isinstance(value, Unknown):
                unknown = unknown or value
                continue
            if _require(bool, value, "and()/or() arguments") is stop_on:
                return stop_on
        return unknown if unknown is not None else not stop_on
    return logic


def _lazy_coalesce(args: tuple[Any, ...], scope: Scope) -> Any:
    for arg in args:
        value = evaluate(arg, scope)
        if isinstance(value, Unknown) or value is not None:
            return value
    return None


@dataclass(frozen=True)
class Lambda:
    """lambda('x', body): called by map(), filter(), reduce(), sort(), toObject(), mapValues()."""

    names: tuple[str, ...]
    body: Any
    scope: Scope = field(compare=False)

    def __call__(self, *values: Any) -> Any:
        bound = {**self.scope.lambda_values, **{n.lower(): v for n, v in zip(self.names, values)}}
        return evaluate(self.body, replace(self.scope, lambda_values=bound))


def _lazy_lambda(args: tuple[Any, ...], scope: Scope) -> Any:
    if len(args) < 2:
        raise TemplateExpressionError("lambda() takes the names of its variables and a body")
    names = [evaluate(arg, scope) for arg in args[:-1]]
    if not all(isinstance(n, str) for n in names):
        raise TemplateExpressionError("lambda()'s variable names must be strings")
    return Lambda(tuple(names), args[-1], scope)


def _lazy_lambda_variables(args: tuple[Any, ...], scope: Scope) -> Any:
    name = evaluate(args[0], scope) if len(args) == 1 else None
    if not isinstance(name, str) or name.lower() not in scope.lambda_values:
        raise TemplateExpressionError(f"lambdaVariables('{name}') is not a variable of an enclosing lambda()")
    return scope.lambda_values[name.lower()]


def _callable(value: Any, what: str) -> Lambda:
    if not isinstance(value, Lambda):
        raise TemplateExpressionError(f"{what} needs a lambda()")
    return value


def _map(items: Any, fn: Any) -> Any:
    fn = _callable(fn, "map()")
    return [fn(item, index) for index, item in enumerate(_require(list, items, "map()'s array"))]


def _filter(items: Any, fn: Any) -> Any:
    fn = _callable(fn, "filter()")
    kept = []
    for index, item in enumerate(_require(list, items, "filter()'s array")):
        keep = fn(item, index)
        if isinstance(keep, Unknown):
            return keep
        if _require(bool, keep, "filter()'s lambda result"):
            kept.append(item)
    return kept


def _reduce(items: Any, initial: Any, fn: Any) -> Any:
    fn = _callable(fn, "reduce()")
    current = initial
    for index, item in enumerate(_require(list, items, "reduce()'s array")):
        current = fn(current, item, index)
    return current


def _sort(items: Any, fn: Any) -> Any:
    fn = _callable(fn, "sort()")

    def before(a: Any, b: Any) -> int:
        decided = fn(a, b)
        if isinstance(decided, Unknown):
            raise _UnknownOrder(decided)
        return -1 if _require(bool, decided, "sort()'s lambda result") else 1
    try:
        return sorted(_require(list, items, "sort()'s array"), key=functools.cmp_to_key(before))
    except _UnknownOrder as unknown:
        return unknown.value


class _UnknownOrder(Exception):
    def __init__(self, value: Unknown) -> None:
        self.value = value


def _to_object(items: Any, key_fn: Any, value_fn: Any = None) -> Any:
    result: dict[str, Any] = {}
    for item in _require(list, items, "toObject()'s array"):
        key = _callable(key_fn, "toObject()")(item)
        if isinstance(key, Unknown):
            return key
        value = item if value_fn is None else _callable(value_fn, "toObject()")(item)
        result[_require(str, key, "toObject()'s key")] = value
    return result


def _map_values(obj: Any, fn: Any) -> Any:
    fn = _callable(fn, "mapValues()")
    return {key: fn(value) for key, value in _require(dict, obj, "mapValues()'s object").items()}


_ISO_DURATION = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                           r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _datetime(text: Any) -> datetime:
    try:
        return parse_datetime(_require(str, text, "a date-time"), naive="utc")
    except ValueError:
        raise TemplateExpressionError(f"{text!r} is not an ISO 8601 date-time") from None


def _date_time_add(base: Any, duration: Any, fmt: Any = None) -> str:
    """dateTimeAdd(base, 'P1Y'). ARM does not follow the calendar: a year is 365 days and a month
    30 (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-date#datetimeadd,
    "Remarks": 2024-01-01 plus P1Y is 2024-12-31)."""
    match = _ISO_DURATION.match(_require(str, duration, "dateTimeAdd()'s duration"))
    if match is None or duration in ("P", "PT"):
        raise TemplateExpressionError(f"{duration!r} is not an ISO 8601 duration")
    sign = -1 if match.group(1) else 1
    years, months, weeks, days, hours, minutes = (int(g or 0) for g in match.groups()[1:7])
    seconds = float(match.group(8) or 0)
    moment = _datetime(base)
    try:
        moment += sign * timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes,
                                   seconds=seconds)
    except (OverflowError, ValueError):  # timedelta's own range, or a date past year 9999
        raise OutOfRange(f"{duration} from {base} is past the calendar's years 1 to 9999") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _date_time_from_epoch(epoch: Any) -> str:
    seconds = _require(int, epoch, "dateTimeFromEpoch()")
    try:
        return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):
        raise OutOfRange(f"{seconds} seconds from 1970 is past the calendar's years 1 to 9999") from None


def _lazy_parameters(args: tuple[Any, ...], scope: Scope) -> Any:
    name = evaluate(args[0], scope) if len(args) == 1 else None
    return name if isinstance(name, Unknown) else scope.parameter(name)


def _lazy_variables(args: tuple[Any, ...], scope: Scope) -> Any:
    name = evaluate(args[0], scope) if len(args) == 1 else None
    return name if isinstance(name, Unknown) else scope.variable(name)


LAZY: dict[str, Callable[[tuple[Any, ...], Scope], Any]] = {
    "if": _lazy_if, "and": _lazy_logic(False), "or": _lazy_logic(True), "coalesce": _lazy_coalesce,
    "parameters": _lazy_parameters, "variables": _lazy_variables,
    "lambda": _lazy_lambda, "lambdavariables": _lazy_lambda_variables,
}


def _resource_group(scope: Scope) -> dict[str, Any]:
    d = scope.deployment
    return {"id": f"/subscriptions/{d.subscription_id}/resourceGroups/{d.resource_group}",
            "name": d.resource_group, "type": "Microsoft.Resources/resourceGroups",
            "location": d.location, "properties": {"provisioningState": "Succeeded"},
            # the placeholder group's own settings are those of the group deployed to, unknown here
            "tags": Unknown("the tags of the resource group deployed to are only known at deployment"),
            "managedBy": Unknown("the resource group deployed to is only known at deployment")}


def _deployment(scope: Scope) -> dict[str, Any]:
    """deployment(): its name; where the template is linked from depends on how it is deployed."""
    return {"name": scope.deployment.name, "properties": {
        "templateLink": Unknown("deployment().properties.templateLink depends on how the template is deployed")}}


def _subscription(scope: Scope) -> dict[str, Any]:
    d = scope.deployment
    return {"id": f"/subscriptions/{d.subscription_id}", "subscriptionId": d.subscription_id,
            "tenantId": d.tenant_id, "displayName": d.subscription_id}


_SCOPED: dict[str, Callable[..., Any]] = {
    "resourcegroup": _resource_group,
    "subscription": _subscription,
    "tenant": lambda scope: {"tenantId": scope.deployment.tenant_id},
    "deployment": _deployment,
    "resourceid": lambda scope, *args: resource_id(scope.deployment, *args),
    "subscriptionresourceid": _subscription_resource_id,
    "copyindex": _copy_index,
}

_PLAIN: dict[str, Callable[..., Any]] = {
    "concat": _concat,
    "format": _format,
    "string": _text,
    "bool": _bool,
    "int": _int,
    "json": lambda text: json.loads(_require(str, text, "json()'s argument")),
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
    "equals": _equals,
    "not": lambda value: not _require(bool, value, "not()'s argument"),
    "less": _compare(lambda a, b: a < b),
    "lessorequals": _compare(lambda a, b: a <= b),
    "greater": _compare(lambda a, b: a > b),
    "greaterorequals": _compare(lambda a, b: a >= b),
    "tolower": lambda s: _require(str, s, "toLower()'s argument").lower(),
    "toupper": lambda s: _require(str, s, "toUpper()'s argument").upper(),
    "trim": lambda s: _require(str, s, "trim()'s argument").strip(),
    "empty": _empty,
    "contains": _contains,
    "union": _union,
    "length": _length,
    "first": lambda v: (v[0] if v else None) if isinstance(v, (list, str)) else _require(list, v, "first()"),
    "last": lambda v: (v[-1] if v else None) if isinstance(v, (list, str)) else _require(list, v, "last()"),
    "split": lambda s, sep: _require(str, s, "split()").split(sep) if isinstance(sep, str)
    else re.split("|".join(map(re.escape, sep)), s),
    "join": lambda items, sep: _joined([_text(i) for i in _require(list, items, "join()")], sep, "join()"),
    "replace": _replace,
    "substring": lambda s, start=0, length=None: s[start:] if length is None else s[start:start + length],
    "take": lambda v, n: v[:max(n, 0)],
    "skip": lambda v, n: v[max(n, 0):],
    "startswith": lambda s, p: _require(str, s, "startsWith()").lower().startswith(p.lower()),
    "endswith": lambda s, p: _require(str, s, "endsWith()").lower().endswith(p.lower()),
    "indexof": lambda s, p: s.index(p) if isinstance(s, list) and p in s else -1 if isinstance(s, list)
    else _require(str, s, "indexOf()").lower().find(p.lower()),
    "lastindexof": lambda s, p: len(s) - 1 - s[::-1].index(p) if isinstance(s, list) and p in s
    else -1 if isinstance(s, list) else _require(str, s, "lastIndexOf()").lower().rfind(p.lower()),
    "padleft": _pad_left,
    "createarray": lambda *items: list(items),
    "array": lambda v: v if isinstance(v, list) else [v],
    "createobject": lambda *kv: {kv[i]: kv[i + 1] for i in range(0, len(kv) - 1, 2)},
    "add": lambda a, b: _require(int, a, "add()") + _require(int, b, "add()"),
    "sub": lambda a, b: _require(int, a, "sub()") - _require(int, b, "sub()"),
    "mul": lambda a, b: _require(int, a, "mul()") * _require(int, b, "mul()"),
    "div": lambda a, b: int(_require(int, a, "div()") / _require(int, b, "div()")),
    "mod": lambda a, b: _require(int, a, "mod()") % _require(int, b, "mod()"),
    "min": lambda *v: min(v[0] if len(v) == 1 and isinstance(v[0], list) else v),
    "max": lambda *v: max(v[0] if len(v) == 1 and isinstance(v[0], list) else v),
    "range": _range,
    "tryget": _try_get,
    "shallowmerge": lambda objects: _merge(_require(list, objects, "shallowMerge()'s argument"), deep=False),
    "intersection": lambda first, *rest: {k: v for k, v in first.items() if all(o.get(k, object()) == v for o in rest)}
    if isinstance(first, dict) else [i for i in _dedupe(first) if all(i in o for o in rest)],
    "flatten": lambda items: [i for sub in _require(list, items, "flatten()")
                              for i in _require(list, sub, "flatten()")],
    "map": _map,
    "filter": _filter,
    "reduce": _reduce,
    "sort": _sort,
    "toobject": _to_object,
    "mapvalues": _map_values,
    "datetimeadd": _date_time_add,
    "datetimetoepoch": lambda text: int(_datetime(text).timestamp()),
    "datetimefromepoch": _date_time_from_epoch,
    "uniquestring": _unique_string,
    "guid": _guid,
    "base64": lambda s: base64.b64encode(_require(str, s, "base64()").encode()).decode(),
    "base64tostring": lambda s: base64.b64decode(_require(str, s, "base64ToString()")).decode(),
    "tenantresourceid": lambda t, *names: "/" + _id_tail(t, list(names)),
    "extensionresourceid": lambda base, t, *names: base.rstrip("/") + "/" + _id_tail(t, list(names)),
    "environment": lambda: {"name": "AzureCloud", "suffixes": {"storage": "core.windows.net",
                                                               "sqlServerHostname": ".database.windows.net",
                                                               "keyvaultDns": ".vault.azure.net"}},
    "items": lambda obj: [{"key": k, "value": v} for k, v in sorted(_require(dict, obj, "items()").items())],
    "objectkeys": lambda obj: list(_require(dict, obj, "objectKeys()").keys()),
}

FUNCTIONS: dict[str, Callable[..., Any]] = {**_PLAIN, **_SCOPED}
NEEDS_SCOPE = set(_SCOPED)
# Functions that only assemble values: unknown parts stay where they are instead of making the
# whole result unknown (a variable object with one unknown property is still mostly known).
STRUCTURAL = {"union", "createobject", "createarray", "array", "concat", "tryget", "map", "reduce",
               "mapvalues"}
# Functions that only look at the shape of their argument: unknown items inside it do not matter.
SHAPE_ONLY = {"length", "empty"}
# Of those, the ones that put an unknown argument itself into the result.
KEEPS_UNKNOWN_ARGUMENTS = {"createobject", "createarray", "concat"}
