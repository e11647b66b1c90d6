"""Property-based fuzzing (Hypothesis) of `vdcaudit merge`'s shard reading: a schema-valid shard with
one field (any field, at any depth) replaced by a value of any JSON type, or removed. Whatever the
shard holds, merge gives a result every report format renders, or one InputError (exit 2); never another
exception (the CLI's exit 3)."""

from __future__ import annotations

import copy
import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.guards import hang_guard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdcaudit.errors import InputError
from vdcaudit.merge import merge
from vdcaudit.reports import RENDERERS
from vdcaudit.rulepack import Rule, load_rules
from tests.shards import hand_written_shard

EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
EXAMPLE_SECONDS = 20

SHARD = hand_written_shard(("stlogs", "FAIL"), ("stdata", "PASS"))
SHARD["scan"]["scopes"] = {"11111111-1111-4111-8111-111111111111": {"resources": 2, "not_assessed": {"x/y": 1}}}
SHARD["summary"]["by_subscription"] = {"11111111-1111-4111-8111-111111111111": {
    "by_status": {"PASS": 1, "FAIL": 1, "WARN": 0, "UNKNOWN": 0, "ERROR": 0}, "waived": 0, "score": 50}}
SHARD["coverage"] = [{"source": "snapshot", "scope": "s", "reason": "403 Forbidden", "resource_type": None, "detail": ""}]
SUMMARY = {"status": "FAIL", "problems": [{"rule_id": "VDC-SDN-004", "status": "FAIL", "message": "expired"}]}
SHARD["sections"] = {"sdn": {"hosts_inventoried": 1, "hosts_with_encrypted_subnets": 1, "coverage": [
    {"source": "sdn", "scope": "nc", "reason": "403 Forbidden", "resource_type": None, "detail": ""}],
    "virtual_networks": [{"name": "vnet1", "id": "sdn://nc/virtualNetworks/vnet1", "address_space": ["10.1.0.0/16"],
                          "credential": {"ref": "/credentials/enc", "thumbprint": "AB", "problem": None},
                          "encrypted_subnets": 1, "findings": SUMMARY,
                          "subnets": [{"name": "app", "prefix": "10.1.1.0/24", "encrypted": True, "acl": None,
                                       "nics": ["vm1"], "hosts": ["hv01"], "boundary": SUMMARY}],
                          "hosts": [{"name": "hv01", "inventory": "script", **SUMMARY}]}]}}
SHARD["findings"][0]["waiver"] = {"rule": "*", "resource": "*", "justification": "j", "owner": "o", "expires": "2001-01-01"}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


PATHS = _paths(SHARD)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30) | st.sampled_from(["2026-12-01T02:00:00", "2026-13-45T00:00:00+00:00", "FAIL", "PASS",
                                              "VDC-ST-002", "3.1", "-1", "1e400", "\x1b[31m"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


@lru_cache(maxsize=1)
def rules() -> list[Rule]:
    return load_rules()


def _mutated(path: tuple[Any, ...], value: Any, remove: bool) -> dict[str, Any]:
    document = copy.deepcopy(SHARD)
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


@EXAMPLES
@given(path=st.sampled_from(PATHS), value=JSON_VALUES, remove=st.booleans())
def test_any_shard_field_gives_a_result_or_one_input_error(path: tuple[Any, ...], value: Any, remove: bool) -> None:
    with tempfile.TemporaryDirectory() as folder, hang_guard(EXAMPLE_SECONDS, "merging one shard"):
        shard = Path(folder) / "shard.json"
        shard.write_text(json.dumps(_mutated(path, value, remove)), encoding="utf-8")
        try:
            result = merge([shard], rules())
        except InputError as exc:
            assert "\n" not in str(exc) and str(shard) in str(exc)
            return
        for name in RENDERERS:
            assert RENDERERS[name].render(result)
