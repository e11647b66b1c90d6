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


def _outcome(run, data):
    try:
        return ("value", run(data))
    except Exception as exc:  # the same error type from both, e.g. a function given a wrong type
        return ("error", type(exc).__name__)


def _variants(resource):
    """The resource, and copies with each top-level property blanked in the ways data goes wrong."""
    from vdcaudit.armdata import props

    yield resource
    try:
        properties = props(resource)
    except TypeError:
        return
    for name in list(properties)[:12]:
        for odd in (None, "", 0, 1, True, [], {}, "TLS1_0", [{"a": 1}], ArmObject({"x": None})):
            copy = ArmObject(resource)
            copy["properties"] = ArmObject({**properties, name: odd})
            yield copy


def test_compiled_rules_agree_with_the_interpreter_on_the_demo():
    from vdcaudit.collectors.snapshot import load_snapshot
    from vdcaudit.inventory import Inventory
    from vdcaudit.resources import data_path
    from vdcaudit.rulepack import load_rules

    inventory = Inventory()
    load_snapshot(data_path("demo") / "azure", inventory)
    inventory.link_children()
    compared = 0
    for rule in load_rules():
        expressions = [e for e in (rule.assertion, rule.where) if e is not None]
        expressions += list(rule.evidence_expressions.values())
        for resource in inventory.of_type(rule.resource_type):
            for data in _variants(resource):
                for expression in expressions:
                    interpreted = _outcome(lambda d: jmespath.compile(expression.expression).search(d, options=jmes.OPTIONS), data)
                    assert _outcome(expression.run, data) == interpreted, (rule.id, expression.expression)
                    compared += 1
    assert compared > 10_000
