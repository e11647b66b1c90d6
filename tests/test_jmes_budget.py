"""Every JMESPath search has a budget: expressions that grow their data (written as an attacker
would) end in BudgetExceeded, while large but honest data is judged as before."""

from __future__ import annotations

import pytest

from vdcaudit import jmes

DOUBLE = " | [@, @]" * 34
DATA = {"properties": {"x": "ab", "rules": [1, 2]}}


@pytest.mark.parametrize("expression", [
    "properties.rules" + " | [@, @][]" * 34,  # flatten doubles a real list
    "properties.x" + " | join('', [@, @])" * 34,  # a string doubled
    "length(to_string(properties" + DOUBLE + "))",  # shared parts written out 2^34 times
    f"(properties{DOUBLE}) == (properties{DOUBLE})",  # a comparison walking 2^34 pairs
    f"contains([properties{DOUBLE}], properties{DOUBLE})",
    "length(properties.rules" + " | [@, @][*][]" * 34 + ")",  # projections
    "length(map(&[@, @], properties.rules" + " | [@, @][]" * 20 + "))",
    "merge(properties" + " | [@, @][]" * 20 + " | [0], `{}`)",
])
def test_growing_expressions_are_stopped(expression: str) -> None:
    with pytest.raises(jmes.BudgetExceeded):
        jmes.search(jmes.compile_expression(expression), DATA)


def test_large_honest_data_is_judged() -> None:
    rules = [{"name": f"r{i}", "properties": {"access": "Allow", "protocol": "Tcp", "port": str(i)}}
             for i in range(4000)]
    resource = {"properties": {"securityRules": rules, "minimumTlsVersion": "TLS1_0" + "x" * 2_000_000}}
    expression = jmes.compile_expression(
        "length(properties.securityRules[?properties.access == 'Allow' && properties.protocol != 'Udp']) > `3999`"
        " && starts_with(lower(properties.minimumTlsVersion), 'tls1_0')")
    assert jmes.search(expression, resource) is True


def test_each_search_has_its_own_budget() -> None:
    expression = jmes.compile_expression("properties.rules" + " | [@, @][]" * 12)  # 8,192 items
    for _ in range(100):  # 100 searches together cost more than one budget
        assert len(jmes.search(expression, DATA)) == 8192


def test_validate_names_repeating_multi_selects() -> None:
    assert jmes.growth_warnings(jmes.compile_expression("properties" + DOUBLE))
    assert jmes.growth_warnings(jmes.compile_expression("{a: properties.x, b: properties.x}"))
    assert not jmes.growth_warnings(jmes.compile_expression("[properties.x, properties.y]"))
