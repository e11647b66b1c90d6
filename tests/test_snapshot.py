"""The offline snapshot loader: the three shapes, folders, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory

ACCOUNT = {"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
           "name": "st1", "type": "Microsoft.Storage/storageAccounts", "properties": {"minimumTlsVersion": "TLS1_2"}}


@pytest.mark.parametrize("document", [
    [ACCOUNT],                                                      # az resource list
    {"count": 1, "data": [ACCOUNT], "skip_token": None},            # az graph query -o json
    {"value": [ACCOUNT], "nextLink": "https://management.azure.com/next"},  # ARM list response
])
def test_each_snapshot_shape_loads(write_json, document: object) -> None:
    inventory = Inventory()
    load_snapshot(write_json("snap.json", document), inventory)
    assert [r["name"] for r in inventory.of_type("microsoft.storage/storageaccounts")] == ["st1"]
    assert inventory.sources[0]["resources"] == 1


def test_folder_is_read_recursively(write_json, tmp_path: Path) -> None:
    write_json("a/one.json", [ACCOUNT])
    write_json("a/b/two.json", {"value": [{**ACCOUNT, "id": ACCOUNT["id"] + "2", "name": "st2"}]})
    write_json("a/notes.txt", "ignored")
    inventory = Inventory()
    load_snapshot(tmp_path / "a", inventory)
    assert sorted(r["name"] for r in inventory) == ["st1", "st2"]


def test_powershell_bom_and_utf16_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([ACCOUNT]).encode())
    (tmp_path / "utf16.json").write_bytes(json.dumps([{**ACCOUNT, "id": ACCOUNT["id"] + "x"}]).encode("utf-16"))
    inventory = Inventory()
    load_snapshot(tmp_path, inventory)
    assert len(inventory) == 2


def test_malformed_json_names_file_line_and_column(write_json) -> None:
    path = write_json("bad.json", '[\n  {"id": "x",\n   "type": }\n]')
    with pytest.raises(InputError) as error:
        load_snapshot(path, Inventory())
    assert error.value.one_line().startswith(f"{path}:3:12: malformed JSON")


@pytest.mark.parametrize("document", [{"resources": []}, "42", "\"text\"", {"value": "not a list"}])
def test_unrecognised_shape_is_rejected(write_json, document: object) -> None:
    path = write_json("wrong.json", document)
    with pytest.raises(InputError, match="not an Azure snapshot") as error:
        load_snapshot(path, Inventory())
    assert str(path) in error.value.one_line()


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load_snapshot(tmp_path / "nope.json", Inventory())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no .json files"):
        load_snapshot(tmp_path / "empty", Inventory())


def test_one_bad_file_in_a_folder_adds_nothing(write_json, tmp_path: Path) -> None:
    write_json("d/a-good.json", [ACCOUNT])
    write_json("d/b-bad.json", "{oops")
    inventory = Inventory()
    with pytest.raises(InputError, match="b-bad.json"):
        load_snapshot(tmp_path / "d", inventory)
    assert len(inventory) == 0


def test_coverage_gaps_recorded_in_a_snapshot_are_loaded(write_json) -> None:
    document = {"vdcaudit_snapshot": {"coverage": [{"source": "azure", "scope": "s2", "reason": "403 Forbidden",
                                                    "resource_type": None, "detail": ""}]},
                "value": [ACCOUNT]}
    inventory = Inventory()
    load_snapshot(write_json("evidence.json", document), inventory)
    assert [(c.scope, c.reason) for c in inventory.coverage] == [("s2", "403 Forbidden")]


def test_malformed_coverage_block_is_rejected(write_json) -> None:
    path = write_json("evidence.json", {"vdcaudit_snapshot": {"coverage": [{"scope": "s2"}]}, "value": []})
    with pytest.raises(InputError, match=r"coverage\[0\] needs source, scope and reason"):
        load_snapshot(path, Inventory())


# -- Az PowerShell: Get-AzResource -ExpandProperties | ConvertTo-Json -Depth 100 -----------------
# Written from the PSResource members the cmdlet documents (Name, ResourceId, ResourceName,
# ResourceType, ResourceGroupName, Location, SubscriptionId, Tags, Properties, Sku, Kind, ...):
# PascalCase envelope, `Properties` as the provider returned it, children nested under `resources`.
PS_REDIS = {
    "Name": "redis1", "ResourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Cache/Redis/redis1",
    "ResourceName": "redis1", "ResourceType": "Microsoft.Cache/Redis", "ResourceGroupName": "rg",
    "Location": "westeurope", "SubscriptionId": "s1", "Tags": {"env": "prod"},
    "Sku": {"Name": "Standard", "Tier": None, "Family": "C", "Capacity": 1},
    "Kind": None, "CreatedTime": None, "ChangedTime": None, "ETag": None,
    "Properties": {"provisioningState": "Succeeded", "enableNonSslPort": True, "minimumTlsVersion": "1.2"},
}
PS_SITE = {
    "Name": "app1", "ResourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/app1",
    "ResourceType": "Microsoft.Web/sites", "ResourceGroupName": "rg", "Location": "westeurope",
    "SubscriptionId": "s1", "Kind": "app", "Properties": {"httpsOnly": False},
    "resources": [{
        "Name": "app1/web", "ResourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/app1/config/web",
        "ResourceType": "Microsoft.Web/sites/config", "ResourceGroupName": "rg", "SubscriptionId": "s1",
        "Properties": {"minTlsVersion": "1.0", "ftpsState": "AllAllowed"},
    }],
}


def test_az_powershell_export_loads_with_nested_children(write_json) -> None:
    inventory = Inventory()
    load_snapshot(write_json("ps.json", [PS_REDIS, PS_SITE]), inventory)
    redis = inventory.get(PS_REDIS["ResourceId"])
    assert redis is not None and redis["type"] == "Microsoft.Cache/Redis" and redis["resourceGroup"] == "rg"
    assert redis["properties"]["enableNonSslPort"] is True and redis["sku"]["name"] == "Standard"
    assert "Properties" in dict.keys(redis)  # evidence keeps PowerShell's spelling
    config = inventory.get(PS_SITE["resources"][0]["ResourceId"])
    assert config is not None and config["type"] == "Microsoft.Web/sites/config"
    assert inventory.sources[0]["resources"] == 3


def test_one_powershell_resource_printed_as_an_object_and_mixed_shapes_load(write_json) -> None:
    inventory = Inventory()
    load_snapshot(write_json("one.json", PS_REDIS), inventory)
    load_snapshot(write_json("mixed.json", {"value": [ACCOUNT, PS_SITE]}), inventory)
    assert sorted(r["name"] for r in inventory) == ["app1", "app1/web", "redis1", "st1"]


def test_powershell_redis_with_the_non_tls_port_open_fails() -> None:
    """Issue 10: a PowerShell export stopped the scan, and mixed case could PASS on a default."""
    from vdcaudit.engine import run
    from vdcaudit.rulepack import load_rules

    inventory = Inventory()
    inventory.extend(resources_in_ps([PS_REDIS]), "snapshot")
    rule = next(r for r in load_rules() if r.id == "VDC-RED-001")
    assert [f.status.value for f in run([rule], inventory).findings] == ["FAIL"]


def resources_in_ps(document: list) -> list:
    from vdcaudit.collectors.snapshot import resources_in
    from vdcaudit.identity import settle

    return [settle(entry) for entry, _ in resources_in(document, Path("ps.json"))]


def test_an_entry_whose_type_its_id_contradicts_is_an_entry_error_and_the_other_is_judged(
        write_json, tmp_path: Path) -> None:
    write_json("d/a.json", [ACCOUNT])
    write_json("d/b.json", [{**ACCOUNT, "type": "Microsoft.Storage/storageAccounts/blobServices"}])
    inventory = Inventory()
    load_snapshot(tmp_path / "d", inventory)
    assert [r["name"] for r in inventory] == ["st1"] and inventory.get(ACCOUNT["id"])["type"] == ACCOUNT["type"]
    [error] = inventory.coverage
    assert error.entry_error and error.scope == f"{tmp_path / 'd' / 'b.json'}#[0]"
    assert error.resource_type == "Microsoft.Storage/storageAccounts"  # the id's type: its rules report the entry
    assert "saying it is a Microsoft.Storage/storageAccounts/blobServices" in error.reason
    assert "names a Microsoft.Storage/storageAccounts" in error.reason


def test_one_id_that_names_no_type_given_two_types_makes_both_entries_errors(write_json, tmp_path: Path) -> None:
    """An id that does not encode a type (not an ARM id) cannot tell which entry is right: neither
    is judged or merged, both are named, and a third entry with that id is not judged either."""
    odd = {"id": "urn:vdcaudit:thing", "name": "thing", "type": "Microsoft.Storage/storageAccounts", "properties": {}}
    write_json("d/a.json", [odd, ACCOUNT])
    write_json("d/b.json", [{**odd, "type": "Microsoft.KeyVault/vaults"}, odd])
    inventory = Inventory()
    load_snapshot(tmp_path / "d", inventory)
    assert [r["name"] for r in inventory] == ["st1"]
    assert [(e.scope.rsplit("/", 1)[-1], e.resource_type) for e in inventory.coverage] == [
        ("a.json#[0]", "Microsoft.Storage/storageAccounts"), ("b.json#[0]", "Microsoft.KeyVault/vaults"),
        ("b.json#[1]", "Microsoft.Storage/storageAccounts")]
    assert all(e.entry_error and "two resource types" in e.reason or "other entries" in e.reason
               for e in inventory.coverage)


def test_duplicate_id_with_the_same_type_in_other_case_merges(write_json) -> None:
    inventory = Inventory()
    load_snapshot(write_json("m.json", [ACCOUNT, {**ACCOUNT, "type": "microsoft.storage/storageaccounts",
                                                  "properties": None}]), inventory)
    assert len(inventory) == 1
    assert inventory.get(ACCOUNT["id"])["properties"]["minimumTlsVersion"] == "TLS1_2"


def test_powershell_print_with_both_id_and_resource_id(write_json) -> None:
    both = {**PS_REDIS, "Id": PS_REDIS["ResourceId"]}
    inventory = Inventory()
    load_snapshot(write_json("both.json", [both]), inventory)
    [redis] = list(inventory)
    assert redis["id"] == PS_REDIS["ResourceId"] and redis["type"] == "Microsoft.Cache/Redis"
    assert not redis.get("x_vdcaudit", {}).get("ambiguous")
