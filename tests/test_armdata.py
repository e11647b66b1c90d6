"""The one accessor: names match case-insensitively, ARM's coercions apply, ambiguity is an ERROR,
and one malformed resource never takes another resource's verdict with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.armdata import ArmObject, as_bool, dig, props, wrap_resource
from vdcaudit.commands.cli import cli
from vdcaudit.engine import run
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Status
from vdcaudit.rulepack import load_rules
from tests.findings_json import findings_in

RULES = {rule.id: rule for rule in load_rules()}


def verdicts(rule_id: str, *resources: dict) -> dict[str, Status]:
    inventory = Inventory()
    for resource in resources:
        inventory.add(resource, "snapshot")
    return {f.resource_name: f.status for f in run([RULES[rule_id]], inventory).findings}


def redis(name: str, **envelope: object) -> dict:
    return {"id": f"/subscriptions/s/resourceGroups/g/providers/Microsoft.Cache/Redis/{name}",
            "name": name, "type": "Microsoft.Cache/Redis", **envelope}


def test_names_match_in_any_case_and_keep_their_spelling() -> None:
    resource, ambiguous, _ = wrap_resource({"ID": "x", "Properties": {"EnableNonSslPort": True}}, META)
    assert resource["id"] == "x" and resource.get("properties")["enableNonSslPort"] is True
    assert "PROPERTIES" in resource and list(resource) == ["ID", "Properties"]
    assert ambiguous == []
    assert json.loads(json.dumps(resource)) == {"ID": "x", "Properties": {"EnableNonSslPort": True}}


def test_writes_go_to_the_existing_spelling() -> None:
    data = ArmObject({"SubscriptionId": "a"})
    data["subscriptionId"] = "b"
    assert dict(data) == {"SubscriptionId": "b"}
    assert data.pop("SUBSCRIPTIONID") == "b" and not data


def test_capital_p_properties_cannot_pass_on_a_default() -> None:
    # Lower-case envelope, PowerShell-style `Properties`: the open non-TLS port must be seen.
    found = verdicts("VDC-RED-001", redis("mixed", Properties={"enableNonSslPort": True}))
    assert found == {"mixed": Status.FAIL}


def test_a_name_spelt_twice_in_different_case_is_an_error_not_a_guess() -> None:
    found = verdicts("VDC-RED-001", redis("twice", properties={"enableNonSslPort": False},
                                          Properties={"enableNonSslPort": True}))
    assert found == {"twice": Status.ERROR}


@pytest.mark.parametrize("value, expected", [("true", Status.PASS), ("True", Status.PASS),
                                             ("false", Status.FAIL), (True, Status.PASS)])
def test_string_booleans_are_read_as_arm_reads_them(value: object, expected: Status) -> None:
    account = {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
               "name": "a", "type": "Microsoft.Storage/storageAccounts",
               "properties": {"supportsHttpsTrafficOnly": value}}
    assert verdicts("VDC-ST-001", account) == {"a": expected}


def test_coercions_are_recorded() -> None:
    inventory = Inventory()
    inventory.add({"id": "/subscriptions/s/providers/Microsoft.Web/sites/w", "type": "Microsoft.Web/sites",
                   "properties": {"httpsOnly": "true", "siteConfig": {"minTlsVersion": 1.2}}}, "snapshot")
    site = next(iter(inventory))
    assert dig(site, "properties.siteConfig.minTlsVersion") == "1.2" and props(site)["httpsOnly"] is True
    assert len(site[META]["coerced"]) == 2


def test_what_is_deep_inside_lists_is_reported_with_its_path() -> None:
    # Most resources are copied the fast way; one that holds something to report (deep inside a
    # list, after plain items already copied) is wrapped again the way that names the path.
    plain = {"name": "a", "rules": [{"port": 1}, {"port": 2}]}
    resource, ambiguous, coerced = wrap_resource(
        {"id": "x", "properties": {"acl": [plain, {"Items": [{"on": "TRUE", "tlsVersion": 1.2}]}],
                                   "nested": {"Name": 1, "name": 2}}, "tags": {"on": "true"}}, META)
    assert coerced == ["properties.acl[1].Items[0].on: 'TRUE' read as True",
                       "properties.acl[1].Items[0].tlsVersion: 1.2 read as '1.2'"]
    assert ambiguous == ["properties.nested.name"]
    assert resource["properties"]["acl"][0] == plain and type(resource["properties"]["acl"][0]["rules"][1]) is ArmObject
    assert resource["tags"]["on"] == "true"  # coercion applies inside properties only


def test_accessor_helpers_refuse_malformed_data() -> None:
    with pytest.raises(TypeError):
        props({"properties": "a string"})
    with pytest.raises(TypeError):
        dig({"properties": {"encryption": "EncryptionAtRestWithPlatformKey"}}, "properties.encryption.type")
    assert dig({"properties": None}, "properties.encryption.type") is None
    assert as_bool("TRUE") is True and as_bool("yes") is None


def disk(name: str, encryption: object) -> dict:
    return {"id": f"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/{name}",
            "name": name, "type": "Microsoft.Compute/disks", "properties": {"encryption": encryption}}


def test_one_malformed_disk_keeps_the_others_fail(tmp_path: Path) -> None:
    snapshot = tmp_path / "disks.json"
    good = disk("plain", {"type": "EncryptionAtRestWithPlatformKey"})
    snapshot.write_text(json.dumps([disk("broken", "EncryptionAtRestWithPlatformKey"), good]))
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(snapshot), "--out", str(tmp_path / "out"),
                                      "--format", "json", "--fail-on", "high"])
    findings = findings_in(tmp_path / "out")
    by_disk = {f["resource_name"]: f["status"] for f in findings if f["rule_id"] == "VDC-DSK-001"}
    assert by_disk == {"broken": "ERROR", "plain": "FAIL"}
    assert result.exit_code == 1, result.output


def test_properties_that_are_not_an_object_are_an_error_for_every_rule() -> None:
    # Az PowerShell shape, `Properties` printed as a string: broken data, never UNKNOWN or a verdict
    broken = {"ResourceId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Cache/Redis/r2",
              "ResourceType": "Microsoft.Cache/Redis", "Name": "r2", "Properties": "oops"}
    assert verdicts("VDC-RED-001", redis("ok", properties={"enableNonSslPort": True}), {
        "id": broken["ResourceId"], "type": broken["ResourceType"], "name": "r2", "Properties": "oops"}) == {
        "ok": Status.FAIL, "r2": Status.ERROR}
    assert verdicts("VDC-DSK-001", disk("listed", None), {**disk("text", None), "properties": ["a"]}) == {
        "listed": Status.UNKNOWN, "text": Status.ERROR}
