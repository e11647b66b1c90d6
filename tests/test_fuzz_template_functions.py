"""Every ARM template function, called with arguments chosen by Hypothesis (extreme integers,
durations and dates among them): each call gives a value, an unresolved value (Unknown), or the
template's own error (TemplateExpressionError / TemplateLimitError) — never any other exception,
which would end the whole scan with exit 3. Bounded examples per function keep it fast."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdcaudit.collectors.arm_expressions import (
    Budget, Call, Deployment, Literal, Scope, TemplateExpressionError, TemplateLimitError, Unknown, evaluate, parse,
)
from vdcaudit.collectors.arm_expressions.functions import FUNCTIONS, LAZY

EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INT64 = 2 ** 63

extreme_ints = st.sampled_from([0, 1, -1, 800, 10_000, 10_001, 2 ** 31, -2 ** 31, INT64 - 1, -INT64, 2 ** 40,
                                253402300799, 253402300800, -62135596801])
ints = extreme_ints | st.integers(min_value=-INT64, max_value=INT64 - 1)
special_texts = st.sampled_from([
    "", "P9999999999D", "P1Y", "-P1M", "PT1H", "P", "PT", "P99999999999999Y", "PT99999999999999999S", "P1W",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-12-07T00:00:00Z", "not a date", "{0}", "{0:D9999999}",
    "{99}", "a,b", "{}", "[]", "true", "null", "x" * 300, "AAAA", "=", "Microsoft.Storage/storageAccounts",
])
texts = special_texts | st.text(max_size=20)
scalars = st.none() | st.booleans() | ints | texts | st.floats(allow_nan=True)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=5)


def _scope() -> Scope:
    return Scope(deployment=Deployment("00000000-0000-0000-0000-000000000001", "rg", "westeurope"),
                 parameter_defaults={"p": "x"}, variables={"v": [1, 2]}, copy_indexes={"loop": 3},
                 current_loop="loop", budget=Budget(limit=200_000))


def _call(name: str, args: list[Any]) -> Any:
    try:
        return evaluate(Call(name, tuple(Literal(a) for a in args)), _scope())
    except (TemplateExpressionError, TemplateLimitError):
        return None


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - set(LAZY)))
@EXAMPLES
@given(args=st.lists(values, max_size=4))
def test_every_template_function_ends_in_a_value_unknown_or_a_template_error(name: str, args: list[Any]) -> None:
    _call(name, args)


@pytest.mark.parametrize("name", sorted(LAZY))
@EXAMPLES
@given(args=st.lists(values, max_size=3))
def test_every_lazy_template_function_too(name: str, args: list[Any]) -> None:
    _call(name, args)


@pytest.mark.parametrize("expression", [
    "[dateTimeFromEpoch(9223372036854775807)]",
    "[dateTimeFromEpoch(-9223372036854775808)]",
    "[dateTimeAdd('2026-01-01T00:00:00Z', 'P9999999999D')]",
    "[dateTimeAdd('9999-12-31T00:00:00Z', 'P1Y')]",
    "[dateTimeAdd('2026-01-01T00:00:00Z', 'PT99999999999999999999S')]",
    "[dateTimeFromEpoch(253402300800)]",  # 10000-01-01
    "[mul(9223372036854775807, 2)]",
])
def test_date_functions_at_their_extremes_are_unresolved(expression: str) -> None:
    value = evaluate(parse(expression[1:-1]), _scope())
    assert isinstance(value, Unknown) and ("out of range" in value.reason or "64-bit" in value.reason)


def test_date_functions_inside_their_range_still_resolve() -> None:
    assert evaluate(parse("dateTimeFromEpoch(253402300799)"), _scope()) == "9999-12-31T23:59:59Z"
    # ARM counts a month as 30 days (template-functions-date#datetimeadd, Remarks)
    assert evaluate(parse("dateTimeAdd('2026-01-31T00:00:00Z', 'P1M')"), _scope()) == "2026-03-02T00:00:00Z"
