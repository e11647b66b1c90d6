"""Identity read the way every export writes it (vdcaudit.identity), and entries whose identity is
missing or contradicts itself: an ERROR for that entry, every other resource of the file judged.

The Az PowerShell files under tests/data/identity/psrule_style are written in the shape of
PSRule.Rules.Azure's test resources (Get-AzResource -ExpandProperties | ConvertTo-Json): `ResourceId`
with `ResourceType`, `Id` and `Type` beside them, `type` in lower case, children nested under
`resources` that print only an `Id`, and extension resources (a diagnostic setting) whose
`ResourceType` is the vault they extend and whose own type is `ExtensionResourceType`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.findings_json import findings_in
from vdcaudit.commands.cli import cli
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.identity import IdentityError, settle, type_in_id
from vdcaudit.inventory import Inventory

DATA = Path(__file__).parent / "data" / "identity"
RG = "/subscriptions/s1/resourceGroups/rg/providers"
VAULT_A = f"{RG}/Microsoft.KeyVault/vaults/kv-a"
VAULT_B = f"{RG}/Microsoft.KeyVault/vaults/kv-b"


@pytest.mark.parametrize(("resource_id", "expected"), [
    (f"{RG}/Microsoft.Web/sites/x/config/web", "Microsoft.Web/sites/config"),
    (f"{RG}/Microsoft.Web/sites/x/slots/s/config/web", "Microsoft.Web/sites/slots/config"),
    (f"{RG}/Microsoft.Sql/servers/s/databases/d/transparentDataEncryption/current",
     "Microsoft.Sql/servers/databases/transparentDataEncryption"),
    (f"{VAULT_A}/providers/microsoft.insights/diagnosticSettings/monitor", "microsoft.insights/diagnosticSettings"),
    ("/subscriptions/s1", "Microsoft.Resources/subscriptions"),
    ("/subscriptions/s1/resourceGroups/rg", "Microsoft.Resources/resourceGroups"),
    ("/providers/Microsoft.Management/managementGroups/mg", "Microsoft.Management/managementGroups"),
    (f"{RG}/Microsoft.Web/sites", None),          # a collection, not a resource
    (f"{RG}/Microsoft.Web/sites/x/config", None),
    ("sdn://nc.contoso.local/networking/v1/virtualNetworks/vnet1", None),
    ("terraform:azurerm_key_vault.main", None),
])
def test_the_type_an_arm_id_encodes(resource_id: str, expected: str | None) -> None:
    assert type_in_id(resource_id) == expected


@pytest.mark.parametrize("entry", [
    {"Id": VAULT_A, "Type": "Microsoft.KeyVault/vaults"},
    {"ResourceId": VAULT_A, "type": "Microsoft.KeyVault/vaults"},
    {"id": VAULT_A, "Type": "Microsoft.KeyVault/vaults"},
    {"ResourceId": VAULT_A, "ResourceType": "Microsoft.KeyVault/vaults"},
    {"RESOURCEID": VAULT_A, "Id": VAULT_A.lower(), "ResourceType": "microsoft.keyvault/vaults", "Type": None},
    {"Id": VAULT_A},  # no type at all: the id encodes it
])
def test_each_identity_spelling_gives_one_id_and_type(entry: dict[str, Any]) -> None:
    settled = settle({**entry, "Name": "kv-a", "Properties": {}})
    assert settled["id"].lower() == VAULT_A.lower() and settled["type"].lower() == "microsoft.keyvault/vaults"
    assert sorted(settled) == ["Name", "Properties", "id", "type"]


def test_an_extension_resource_printed_by_powershell_takes_its_extension_type() -> None:
    setting = f"{VAULT_A}/providers/microsoft.insights/diagnosticSettings/monitor"
    settled = settle({"ResourceId": setting, "Id": setting, "Type": "microsoft.keyvault/vaults",
                      "ResourceType": "microsoft.keyvault/vaults",
                      "ExtensionResourceType": "microsoft.insights/diagnosticSettings"})
    assert settled == {"id": setting, "type": "microsoft.insights/diagnosticSettings"}


@pytest.mark.parametrize(("entry", "problem", "resource_type"), [
    ({"Id": VAULT_A, "ResourceId": VAULT_B, "ResourceType": "Microsoft.KeyVault/vaults"},
     f"names two different resources: 'Id' {VAULT_A} and 'ResourceId' {VAULT_B}", "Microsoft.KeyVault/vaults"),
    ({"Id": VAULT_A, "ResourceId": VAULT_B}, "names two different resources", "Microsoft.KeyVault/vaults"),
    ({"Id": VAULT_A, "ResourceId": f"{RG}/Microsoft.Sql/servers/s"}, "names two different resources", None),
    ({"id": VAULT_A, "type": "Microsoft.KeyVault/vaults", "ResourceType": "Microsoft.KeyVault/managedHSMs"},
     "names two different types: 'type' Microsoft.KeyVault/vaults and 'ResourceType' Microsoft.KeyVault/managedHSMs",
     None),
    ({"id": f"{RG}/Microsoft.Sql/servers/s/databases/d",
      "type": "Microsoft.Sql/servers/databases/transparentDataEncryption"},
     "has 'type' saying it is a Microsoft.Sql/servers/databases/transparentDataEncryption, but its 'id' "
     f"{RG}/Microsoft.Sql/servers/s/databases/d names a Microsoft.Sql/servers/databases",
     "Microsoft.Sql/servers/databases"),  # the id's type decides which rules report it, not the stated one
    ({"ResourceId": f"{VAULT_A}/providers/microsoft.insights/diagnosticSettings/m",
      "ResourceType": "Microsoft.Storage/storageAccounts", "ExtensionResourceType": "microsoft.insights/diagnosticSettings"},
     "saying it extends a Microsoft.Storage/storageAccounts", None),
    ({"type": "Microsoft.KeyVault/vaults", "name": "kv"}, "has no id", "Microsoft.KeyVault/vaults"),
    ({"name": "kv"}, "has no id", None),
    ({"id": "kv-a"}, "has no type, and its id kv-a does not name one", None),
    ({"id": 42, "type": "Microsoft.KeyVault/vaults"}, "has 'id' 42, which is not an id", None),
])
def test_identity_that_is_missing_or_contradicts_itself_is_refused_naming_both(
        entry: dict[str, Any], problem: str, resource_type: str | None) -> None:
    with pytest.raises(IdentityError) as error:
        settle(entry)
    assert problem in str(error.value) and error.value.resource_type == resource_type


def test_a_psrule_style_folder_is_read_whole_with_every_spelling() -> None:
    inventory = Inventory()
    load_snapshot(DATA / "psrule_style", inventory)
    assert not inventory.coverage
    types = sorted(r["type"].lower() for r in inventory)
    assert types.count("microsoft.storage/storageaccounts") == 3  # ResourceId+type, Id+Type, id+Type
    assert types.count("microsoft.web/sites/config") == 2  # nested children with an Id and no type
    assert types.count("microsoft.sql/servers/databases/transparentdataencryption") == 2
    assert "microsoft.insights/diagnosticsettings" in types and len(inventory) == 16
    inventory.link_children()
    database = inventory.get("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/test-rg/providers/"
                             "Microsoft.Sql/servers/server-A/databases/database-B")
    assert database["x_vdcaudit"]["children"]["transparentdataencryption"][0]["properties"]["state"] == "Disabled"


def _scan(tmp_path: Path, snapshot: Path, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(snapshot), "--format", "json", "--out", str(out),
                                      "--quiet", *options])
    return result.exit_code, findings_in(out), result.output


def test_psrule_style_folder_scan_judges_every_resource(tmp_path: Path) -> None:
    # judged as of a day before Azure's storage TLS floor, so the account's own setting decides
    code, findings, _ = _scan(tmp_path, DATA / "psrule_style", "--as-of", "2024-06-01")
    assert code == 0 and not [f for f in findings if f["status"] == "ERROR"]
    verdict = {(f["rule_id"], f["resource_id"].rsplit("/", 1)[-1]): f["status"] for f in findings}
    # children read through their parents: a site's config/web, a database's TDE state
    assert verdict[("VDC-APP-002", "site-A")] == "PASS" and verdict[("VDC-APP-002", "site-B")] == "FAIL"
    assert verdict[("VDC-SQL-001", "database-A")] == "PASS" and verdict[("VDC-SQL-001", "database-B")] == "FAIL"
    assert verdict[("VDC-ST-002", "storage-A")] == "PASS" and verdict[("VDC-ST-002", "storage-B")] == "FAIL"


def test_rest_file_with_one_inconsistent_entry_judges_the_rest_and_fails_the_gate(tmp_path: Path) -> None:
    """A TDE body whose id is its database's: that entry is an ERROR naming both values; the
    database, the other database's TDE FAIL, the server, the account and the vault are judged."""
    snapshot = DATA / "rest_value_with_tde_mismatch.json"
    code, findings, _ = _scan(tmp_path, snapshot, "--fail-on", "high")
    errors = [f for f in findings if f["status"] == "ERROR"]
    assert errors and {f["resource_id"] for f in errors} == {f"{snapshot}#value[2]"}
    assert all("transparentDataEncryption" in f["message"] and "names a Microsoft.Sql/servers/databases" in f["message"]
               for f in errors)
    assert {f["rule_id"] for f in errors} >= {"VDC-SQL-001"}  # the rule that reads a database's TDE state
    verdict = {(f["rule_id"], f["resource_id"].rsplit("/", 1)[-1]): f["status"] for f in findings}
    assert verdict[("VDC-SQL-001", "otherdb")] == "FAIL"
    assert verdict[("VDC-SQL-001", "testdb")] == "UNKNOWN"  # its TDE state was not exported
    assert verdict[("VDC-ST-002", "sto4445")] == "PASS" and ("VDC-KV-002", "sample-vault") in verdict
    assert code == 1


def test_an_entry_error_alone_fails_the_gate_and_no_fail_on_error_leaves_it_out(tmp_path: Path) -> None:
    """Issue 19: an Id and a ResourceId naming two vaults were merged into one and hid its FAILs."""
    weak = {"ResourceId": VAULT_A, "ResourceType": "Microsoft.KeyVault/vaults", "Name": "kv-a",
            "Properties": {"enablePurgeProtection": False, "enableSoftDelete": True}}
    hiding = {"Id": VAULT_A, "ResourceId": VAULT_B, "ResourceType": "Microsoft.KeyVault/vaults", "Name": "kv-b",
              "Properties": {"enablePurgeProtection": True, "enableSoftDelete": True}}
    snapshot = tmp_path / "vaults.json"
    snapshot.write_text(json.dumps([weak, hiding]), encoding="utf-8")
    code, findings, _ = _scan(tmp_path, snapshot)
    assert code == 0
    purge = {f["resource_id"]: f for f in findings if f["rule_id"] == "VDC-KV-002"}
    assert purge[VAULT_A]["status"] == "FAIL" and VAULT_B not in purge
    entry = purge[f"{snapshot}#[1]"]
    assert entry["status"] == "ERROR" and entry["message"] == (
        f"cannot judge the entry {snapshot}#[1]: the entry names two different resources: 'Id' {VAULT_A} "
        f"and 'ResourceId' {VAULT_B}")

    only_error = tmp_path / "only.json"
    only_error.write_text(json.dumps([hiding]), encoding="utf-8")
    assert _scan(tmp_path, only_error, "--fail-on", "high")[0] == 1  # ERRORs of the vault rules, as their severity
    assert _scan(tmp_path, only_error, "--fail-on", "low", "--no-fail-on-error")[0] == 0
