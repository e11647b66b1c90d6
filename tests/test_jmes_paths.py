"""The field-path shortcut in vdcaudit.jmes gives exactly what the JMESPath interpreter gives."""

from __future__ import annotations

import jmespath
import pytest

from vdcaudit import jmes
from vdcaudit.armdata import ArmObject

DATA = [
    {"a": {"b": {"c": 1}}}, {"a": {"b": "text"}}, {"a": [1]}, {"a": None}, {"a": {"b": {"c": None}}},
    {"a": {"b": {"c": False}}}, {"a": {"b": []}}, ArmObject({"A": ArmObject({"B": ArmObject({"C": 2})})}),
    "text", [{"a": 1}], None, {"x-y": {"z": 3}},
]


@pytest.mark.parametrize("text", ["a", "a.b", "a.b.c", '"x-y".z', "a.b.c.d"])
def test_field_paths_take_the_shortcut_and_agree_with_the_interpreter(text: str) -> None:
    expression = jmes.compile_expression(text)
    assert expression.fields is not None
    for data in DATA:
        expected = jmespath.compile(text).search(data, options=jmes.OPTIONS)
        assert jmes.search(expression, data) == expected and type(jmes.search(expression, data)) is type(expected)


@pytest.mark.parametrize("text", ["a[0]", "a.b == 'x'", "a.*", "a || b", "length(a)"])
def test_other_expressions_are_interpreted(text: str) -> None:
    expression = jmes.compile_expression(text)
    assert expression.fields is None
    for data in DATA:
        try:
            expected = jmespath.compile(text).search(data, options=jmes.OPTIONS)
        except jmespath.exceptions.JMESPathError:
            continue
        assert jmes.search(expression, data) == expected
