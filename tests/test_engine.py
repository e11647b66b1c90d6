"""The engine's four statuses, defaults, coverage gaps, and indexing by type."""

from __future__ import annotations

from pathlib import Path

import pytest

from vdcaudit import engine
from vdcaudit.engine import run
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.model import CoverageRecord, Status, fingerprint
from vdcaudit.rulepack import Rule, load_rule_file

RULE = """\
id: VDC-TST-001
title: Test rule on storage TLS
severity: high
category: in-transit
resource_type: Microsoft.Storage/storageAccounts
where: "kind != 'FileStorage'"
assert: "{assertion}"
evidence: [properties.minimumTlsVersion]
rationale: Because the baseline says so.
remediation: {{summary: Fix it.}}
references: {{baseline: test}}
version: 1
{extra}
"""


def make_rule(tmp_path: Path, assertion: str = "contains(['TLS1_2'], properties.minimumTlsVersion)",
              extra: str = "") -> Rule:
    path = tmp_path / "VDC-TST-001.yaml"
    path.write_text(RULE.format(assertion=assertion, extra=extra), encoding="utf-8")
    return load_rule_file(path)


def account(name: str, properties: dict | None = None, kind: str = "StorageV2", type_: str = "Microsoft.Storage/storageAccounts") -> dict:
    resource = {"id": f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}",
                "name": name, "type": type_, "kind": kind}
    if properties is not None:
        resource["properties"] = properties
    return resource


def scan(rule: Rule, *resources: dict, coverage: list[CoverageRecord] | None = None) -> dict[str, object]:
    inventory = Inventory()
    for resource in resources:
        inventory.add(resource, "snapshot")
    for record in coverage or []:
        inventory.add_coverage(record)
    return {f.resource_name: f for f in run([rule], inventory).findings}


def test_pass_fail_unknown_error(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, assertion="length(properties.minimumTlsVersion) > `0` && properties.minimumTlsVersion == 'TLS1_2'")
    found = scan(rule,
                 account("good", {"minimumTlsVersion": "TLS1_2"}),
                 account("bad", {"minimumTlsVersion": "TLS1_0"}),
                 account("missing", {}),
                 account("broken", {"minimumTlsVersion": True}))  # length() of a boolean: a type error
    assert {name: f.status for name, f in found.items()} == {
        "good": Status.PASS, "bad": Status.FAIL, "missing": Status.UNKNOWN, "broken": Status.ERROR}
    assert "properties.minimumTlsVersion" in found["missing"].message
    assert "invalid-type" in found["broken"].message or "TypeError" in found["broken"].message
    assert found["bad"].evidence == {"properties.minimumTlsVersion": "TLS1_0"}
    assert found["good"].fingerprint == fingerprint("VDC-TST-001", found["good"].resource_id)


def test_where_excludes_resources(tmp_path: Path) -> None:
    found = scan(make_rule(tmp_path), account("files", {"minimumTlsVersion": "TLS1_0"}, kind="FileStorage"))
    assert found == {}


def test_absent_default_is_applied_and_named(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra="absent_default: {properties.minimumTlsVersion: TLS1_0}")
    found = scan(rule, account("old", {}), account("noprops"))
    assert found["old"].status is Status.FAIL
    assert "properties.minimumTlsVersion absent, Azure default 'TLS1_0' applies" in found["old"].message
    # no `properties` at all (az resource list prints it so): missing data, not the default
    assert found["noprops"].status is Status.UNKNOWN


def test_absent_default_does_not_modify_the_inventory(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra="absent_default: {properties.minimumTlsVersion: TLS1_0}")
    resource = account("old", {"x": 1})
    inventory = Inventory()
    inventory.add(resource, "snapshot")
    run([rule], inventory)
    assert resource["properties"] == {"x": 1}


def test_or_requirement_is_met_by_either_spelling(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, assertion="(properties.minimumTlsVersion || properties.minTls) == 'TLS1_2'")
    found = scan(rule, account("a", {"minTls": "TLS1_2"}), account("b", {}))
    assert found["a"].status is Status.PASS
    assert found["b"].status is Status.UNKNOWN
    assert "properties.minimumTlsVersion or properties.minTls" in found["b"].message


def test_explicit_requires_overrides_derived_paths(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, assertion="!(properties.allowSharedKeyAccess)", extra="requires: []")
    assert scan(rule, account("a", {}))["a"].status is Status.PASS


def test_types_match_case_insensitively(tmp_path: Path) -> None:
    found = scan(make_rule(tmp_path), account("arg", {"minimumTlsVersion": "TLS1_2"}, type_="microsoft.storage/storageaccounts"))
    assert found["arg"].status is Status.PASS
    assert found["arg"].resource_type == "microsoft.storage/storageaccounts"


def test_coverage_gap_gives_unknown_for_affected_rules_only(tmp_path: Path) -> None:
    rule = make_rule(tmp_path)
    gaps = [CoverageRecord("azure", "/subscriptions/s2", "403 Forbidden"),
            CoverageRecord("azure", "/subscriptions/s3", "timeout", resource_type="Microsoft.Storage/storageAccounts"),
            CoverageRecord("azure", "/subscriptions/s4", "timeout", resource_type="Microsoft.Sql/servers")]
    found = scan(rule, account("good", {"minimumTlsVersion": "TLS1_2"}), coverage=gaps)
    assert found["good"].status is Status.PASS
    assert found["/subscriptions/s2"].status is Status.UNKNOWN and "403 Forbidden" in found["/subscriptions/s2"].message
    assert found["/subscriptions/s3"].status is Status.UNKNOWN
    assert "/subscriptions/s4" not in found


def test_rules_only_see_resources_of_their_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated: list[str] = []
    original = engine.evaluate

    def counting(rule: Rule, resource: dict, *rest: object):
        evaluated.append(resource["type"])
        return original(rule, resource, *rest)

    monkeypatch.setattr(engine, "evaluate", counting)
    others = [{"id": f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/s{i}",
               "type": "Microsoft.Sql/servers"} for i in range(50)]
    scan(make_rule(tmp_path), account("a", {"minimumTlsVersion": "TLS1_2"}), *others)
    assert evaluated == ["Microsoft.Storage/storageAccounts"]


def test_not_assessed_types_are_counted(tmp_path: Path) -> None:
    inventory = Inventory()
    inventory.add(account("a", {"minimumTlsVersion": "TLS1_2"}), "snapshot")
    inventory.add({"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/w", "type": "microsoft.web/sites"}, "snapshot")
    inventory.add({"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/w2", "type": "Microsoft.Web/sites"}, "snapshot")
    # a child of an assessed parent that a rule reads (x_vdcaudit.children.blobservices) is read
    # through the parent, not "not assessed"
    inventory.add({"id": account("a")["id"] + "/blobServices/default", "type": "Microsoft.Storage/storageAccounts/blobServices"}, "snapshot")
    reading = make_rule(tmp_path, "x_vdcaudit.children.blobservices != null || "
                                  "contains(['TLS1_2'], properties.minimumTlsVersion)")
    assert run([reading], inventory).not_assessed == {"Microsoft.Web/sites": 2}


def test_types_a_check_reads_count_as_assessed(builtin_rules) -> None:
    inventory = Inventory()
    port = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/expressRoutePorts/p1"
    inventory.add({"id": port, "type": "Microsoft.Network/expressRoutePorts", "properties": {}}, "snapshot")
    rule = builtin_rules["VDC-ER-001"]
    assert "Microsoft.Network/expressRoutePorts" in rule.reads
    assert run([rule], inventory).not_assessed == {}
    assert run([builtin_rules["VDC-ST-001"]], inventory).not_assessed == {"Microsoft.Network/expressRoutePorts": 1}


# -- issue 10: defaults by API version, null in a GET, WARN postures, rules on several types -------

BY_VERSION = """absent_default_by_api_version:
  properties.minimumTlsVersion:
    - {since: null, value: TLS1_0}
    - {since: "2023-01-01", value: TLS1_2}"""


def test_absent_default_by_api_version_follows_the_resource_apiVersion(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra=BY_VERSION)
    found = scan(rule, {**account("new", {}), "apiVersion": "2023-05-01"},
                 {**account("old", {}), "apiVersion": "2022-09-01-preview"},
                 {**account("edge", {}), "apiVersion": "2023-01-01"}, account("unsaid", {}))
    assert {name: f.status for name, f in found.items()} == {
        "new": Status.PASS, "old": Status.FAIL, "edge": Status.PASS, "unsaid": Status.UNKNOWN}
    assert "Azure default 'TLS1_2' applies" in found["new"].message
    assert "depends on the API version" in found["unsaid"].message and "'TLS1_2' from 2023-01-01" in found["unsaid"].message


def test_one_path_cannot_have_both_kinds_of_default(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="both absent_default and absent_default_by_api_version"):
        make_rule(tmp_path, extra="absent_default: {properties.minimumTlsVersion: TLS1_0}\n" + BY_VERSION)


WHEN = """absent_default_when:
  - when: "lower(kind) == 'blockblobstorage'"
    because: (test) this kind defaults to TLS1_2
    values: {properties.minimumTlsVersion: TLS1_2}
  - when: "iso_date(systemData.createdAt) < '2020-01-01'"
    because: (test) accounts created before 2020 default to TLS1_0
    values: {properties.minimumTlsVersion: TLS1_0}"""


def test_absent_default_when_takes_the_first_case_that_holds(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra=WHEN)
    old = {"systemData": {"createdAt": "2019-05-01T10:00:00Z"}}
    found = scan(rule, {**account("premium", {}), "kind": "BlockBlobStorage", **old},
                 {**account("old", {}), **old},
                 {**account("set", {"minimumTlsVersion": "TLS1_1"}), "kind": "BlockBlobStorage"},
                 {**account("odd-date", {}), "systemData": {"createdAt": "/Date(1556704800000)/"}},
                 account("unsaid", {}))
    assert {name: f.status for name, f in found.items()} == {
        "premium": Status.PASS, "old": Status.FAIL, "set": Status.FAIL, "odd-date": Status.UNKNOWN,
        "unsaid": Status.UNKNOWN}
    assert "Azure default 'TLS1_2' applies: (test) this kind" in found["premium"].message
    assert "case by case ((test) this kind defaults to TLS1_2; (test) accounts" in found["unsaid"].message


def test_absent_default_when_is_checked_at_load(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="both in absent_default_when and absent_default"):
        make_rule(tmp_path, extra="absent_default: {properties.minimumTlsVersion: TLS1_0}\n" + WHEN)
    with pytest.raises(InputError, match="invalid JMESPath in 'absent_default_when'"):
        make_rule(tmp_path, extra=WHEN.replace("lower(kind) == 'blockblobstorage'", "kind ==="))


def test_a_property_a_deployed_resource_prints_as_null_is_unknown_not_defaulted(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra="absent_default: {properties.minimumTlsVersion: TLS1_0}")
    inventory = Inventory()
    inventory.add(account("get", {"minimumTlsVersion": None}), "snapshot")
    inventory.add(account("template", {"minimumTlsVersion": None}), "template")
    inventory.add(account("missing", {}), "snapshot")
    statuses = {f.resource_name: f.status for f in run([rule], inventory).findings}
    assert statuses == {"get": Status.UNKNOWN, "template": Status.FAIL, "missing": Status.FAIL}


def test_fail_status_warn_and_also_applies_to(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, extra="fail_status: WARN\nalso_applies_to: [Microsoft.Storage/storageAccounts/blobServices]")
    blob = {**account("st1", {"minimumTlsVersion": "TLS1_0"}, type_="Microsoft.Storage/storageAccounts/blobServices"),
            "id": account("st1")["id"] + "/blobServices/default"}
    found = scan(rule, account("st2", {"minimumTlsVersion": "TLS1_0"}), blob)
    assert {name: f.status for name, f in found.items()} == {"st2": Status.WARN, "st1": Status.WARN}
    assert rule.metadata()["fail_status"] == "WARN" and rule.metadata()["also_applies_to"]


def test_where_is_decided_on_the_data_not_on_filled_in_defaults(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, assertion="properties.minimumTlsVersion == 'TLS1_2'",
                     extra="absent_default: {properties.minimumTlsVersion: TLS1_0}")
    rule_where = make_rule(tmp_path, assertion="properties.minimumTlsVersion == 'TLS1_2'",
                           extra="absent_default: {properties.minimumTlsVersion: TLS1_0}")
    assert scan(rule, account("a", {}))["a"].status is Status.FAIL
    rule_where.where = engine.jmes.compile_expression("properties.minimumTlsVersion != null")
    assert scan(rule_where, account("b", {})) == {}


def test_a_child_no_rule_reads_is_not_assessed_even_under_an_assessed_parent(tmp_path: Path) -> None:
    """Children count as assessed through their parent only when a rule reads them
    (x_vdcaudit.children.<kind> in a rule, or a check's `reads`)."""
    rule = make_rule(tmp_path)
    inventory = Inventory()
    inventory.add(account("st1", {"minimumTlsVersion": "TLS1_2"}), "snapshot")
    inventory.add({"id": account("st1")["id"] + "/blobServices/default", "name": "default",
                   "type": "Microsoft.Storage/storageAccounts/blobServices", "properties": {}}, "snapshot")
    assert run([rule], inventory).not_assessed == {"Microsoft.Storage/storageAccounts/blobServices": 1}
    reading = make_rule(tmp_path, assertion="x_vdcaudit.children.blobservices != null")
    assert run([reading], inventory).not_assessed == {}
