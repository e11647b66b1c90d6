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
