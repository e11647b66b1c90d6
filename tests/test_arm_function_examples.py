"""The template expression evaluator against its reference: every documented example of every
function vdcaudit evaluates, as Microsoft Learn's template-function pages give it (the example's
parameters and variables, each output's expression, and the output ARM produces).

The cases live in tests/data/arm_function_examples.json, each citing its page. An output whose
documented value vdcaudit cannot reproduce is listed under `differs` with why and what vdcaudit gives
instead (`unknown` for a value only known at deployment, `uniqueString`/`guid` for ARM's unpublished
hashes, or the value itself), and that behaviour is what is checked for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from vdcaudit.collectors.arm_expressions import Budget, Deployment, Scope, Unknown, evaluate_value
from vdcaudit.collectors.arm_template import _Loader

EXAMPLES = json.loads((Path(__file__).parent / "data" / "arm_function_examples.json").read_text(encoding="utf-8"))
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNIQUE = re.compile(r"^[a-z2-7]{13}$")


def _outputs() -> list[Any]:
    return [pytest.param(case, name, id=f"{case['source'].rsplit('/', 1)[-1]}:{name}")
            for case in EXAMPLES["cases"] for name in case["outputs"]]


def _scope(case: dict[str, Any]) -> Scope:
    """The scope the template loader builds for the example's template (variable copy loops included)."""
    document = {"parameters": {name: {"defaultValue": value} for name, value in case.get("parameters", {}).items()},
                "variables": case.get("variables", {}), "resources": []}
    deployment = Deployment(**case.get("deployment", {"subscription_id": "00000000-0000-0000-0000-000000000000",
                                                      "resource_group": "examplegroup", "location": "southcentralus"}))
    return _Loader(Path("example.json"), Budget()).scope(document, {}, deployment, Path("example.json"), None)


@pytest.mark.parametrize(("case", "name"), _outputs())
def test_documented_example(case: dict[str, Any], name: str) -> None:
    expression, documented = case["outputs"][name]
    value = evaluate_value(expression, _scope(case))
    instead = case.get("differs", {}).get(name, {}).get("gives")
    if instead == "unknown":  # only known at deployment: never guessed
        assert isinstance(value, Unknown), case["source"]
        return
    assert not isinstance(value, Unknown), f"{case['source']}: {name} is unknown to vdcaudit: {value.reason}"
    assert value == evaluate_value(expression, _scope(case))  # deterministic, so ids and fingerprints are stable
    if instead is None:
        assert value == documented, case["source"]
        assert type(value) is type(documented), case["source"]  # 1 is not True, "5" is not 5
    elif instead == "uniqueString":  # ARM's hash is not published: 13 lower-case characters of vdcaudit's own
        assert UNIQUE.match(value[-13:])
        if isinstance(documented, str):
            assert value[:-13] == documented[:-13] and len(value) == len(documented)
    elif instead == "guid":  # likewise: a uuid5 of the arguments, in GUID form
        assert GUID.match(value)
    else:
        assert value == instead, case["source"]
