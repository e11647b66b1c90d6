"""Python checks judge resource by resource (issue 12, item 1): for every check family, a malformed
resource of the rule's type gets ERROR naming it, and a valid resource of the same type beside it
keeps its FAIL. The valid resource is each rule's own first FAIL case (tests/rule_cases), so the
test follows the cases as they grow."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from tests.test_rule_cases import CASE_FILES, RULES, _complete, _config
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.model import Status

# One rule per check family (the module in vdcaudit/checks that judges it), plus every SDN check
# whose resources are found through the fabric view rather than the rule's type.
FAMILIES = {
    "VDC-AGW-001": "appgateway", "VDC-AGW-002": "appgateway", "VDC-AGW-003": "appgateway",
    "VDC-CMK-001": "cmk", "VDC-KV-003": "keyvault", "VDC-LA-003": "loganalytics",
    "VDC-ER-001": "network", "VDC-PEER-001": "peering", "VDC-DSK-001": "compute",
    "VDC-SDN-001": "sdn", "VDC-SDN-002": "sdn", "VDC-SDN-010": "sdn", "VDC-SDN-013": "sdn",
    "VDC-SDN-016": "sdn", "VDC-SDN-017": "sdn", "VDC-SDN-018": "sdn",
}
# Rules about resources that the malformed resource is not (hosts, subnets, credentials): the
# malformed resource is then a virtual network / NIC they depend on, and it must show as ERROR.
DEPENDENT = {"VDC-SDN-003": "Microsoft.SDN/virtualNetworks", "VDC-SDN-009": "Microsoft.SDN/networkInterfaces",
             "VDC-SDN-014": "Microsoft.SDN/virtualNetworks", "VDC-SDN-015": "Microsoft.SDN/virtualNetworks"}


def _first_fail(rule_id: str) -> dict[str, Any]:
    """The rule's first failing case (FAIL; WARN for rules whose finding is a warning)."""
    cases = CASE_FILES[rule_id]["cases"]
    return next((case for case in cases if case["expect"] == "FAIL"), None) or \
        next(case for case in cases if case["expect"] == "WARN")


def _malformed_twin(resource: dict[str, Any]) -> dict[str, Any]:
    """The same resource under another id, its `properties` a string where an object belongs."""
    twin = copy.deepcopy(resource)
    twin["id"] = resource["id"] + "-broken"
    twin["name"] = f"{resource['name']}-broken"
    for key in ("resourceId", "resourceRef"):
        if key in twin:
            twin[key] = f"{twin[key]}-broken"
    twin["properties"] = "EncryptionAtRestWithPlatformKey"
    return twin


def _scan(rule_id: str, resources: list[dict[str, Any]], case: dict[str, Any]) -> list[Any]:
    rule = RULES[rule_id]
    source = "snapshot" if "snapshot" in rule.sources else rule.sources[0]
    inventory = Inventory()
    for resource in resources:
        inventory.add(resource, source)
    context = ScanContext(config=_config(case.get("config")), options=case.get("options", {}))
    if "now" in case:
        context.now = datetime.fromisoformat(str(case["now"]))
    return run([rule], inventory, context).findings


def _failing_case(rule_id: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(case, its resource, its related resources) of the rule's first failing case."""
    case = _first_fail(rule_id)
    rule_type = RULES[rule_id].resource_type
    target = _complete(case["resource"], rule_type, 0)
    return case, target, [_complete(other, rule_type, i) for i, other in enumerate(case.get("related", []), 1)]


@pytest.mark.parametrize("rule_id", sorted(FAMILIES))
def test_a_malformed_resource_keeps_the_others_fail(rule_id: str) -> None:
    case, target, related = _failing_case(rule_id)
    broken = _malformed_twin(target)
    findings = _scan(rule_id, [broken, target, *related], case)
    about = case.get("finding_id", target["id"])
    statuses = {f.resource_id: f.status for f in findings}
    assert statuses.get(about) is Status(case["expect"]), findings
    assert statuses.get(broken["id"]) is Status.ERROR, findings
    error = next(f for f in findings if f.resource_id == broken["id"])
    assert "not an object" in error.message or "TypeError" in error.message


@pytest.mark.parametrize("rule_id", sorted(DEPENDENT))
def test_a_malformed_dependency_is_an_error_and_the_fail_stays(rule_id: str) -> None:
    case, target, related = _failing_case(rule_id)
    everything = [target, *related]
    model = next(r for r in everything if r["type"].lower() == DEPENDENT[rule_id].lower())
    broken = _malformed_twin(model)
    findings = _scan(rule_id, [broken, *everything], case)
    about = case.get("finding_id", target["id"])
    statuses = {f.resource_id: f.status for f in findings}
    assert statuses.get(about) is Status(case["expect"]), findings
    assert statuses.get(broken["id"]) is Status.ERROR, findings


def test_one_malformed_listener_list_does_not_hide_another_gateways_plain_http() -> None:
    """The issue's own reproduction, for application gateways: a gateway whose listeners are a string
    is ERROR; the gateway beside it whose only listener is HTTP (spelt `Protocol`) still FAILs."""
    base = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/applicationGateways/"
    broken = {"id": base + "broken", "name": "broken", "type": "Microsoft.Network/applicationGateways",
              "properties": {"httpListeners": "listener1"}}
    plain = {"id": base + "plain", "name": "plain", "type": "Microsoft.Network/applicationGateways",
             "properties": {"httpListeners": [{"id": base + "plain/httpListeners/l1", "name": "l1",
                                               "Properties": {"Protocol": "Http"}}]}}
    findings = _scan("VDC-AGW-003", [broken, plain], {})
    assert {f.resource_name: f.status for f in findings} == {"broken": Status.ERROR, "plain": Status.FAIL}
