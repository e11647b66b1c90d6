"""Templates judge what they know: a resource whose name (or an extension's scope) is a parameter
without a default, supplied at deploy time as is usual in CI, is judged under a symbolic name (the
parameter stands for itself), with its file and line; every known property gets its verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.findings_json import findings_in
from vdcaudit.commands.cli import cli
from vdcaudit.collectors.arm_template import load_template
from vdcaudit.inventory import Inventory

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
GROUP = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vdcaudit-template-rg/providers"


def _template(resources: list[dict[str, Any]], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": parameters or {"vaultName": {"type": "string"}, "serverName": {"type": "string"},
                                         "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "resources": resources}


VAULT = {
    "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "[parameters('vaultName')]",
    "location": "[parameters('location')]",
    "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "premium"},
                   "enableSoftDelete": True, "enablePurgeProtection": False, "enableRbacAuthorization": True,
                   "publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny", "bypass": "None"}},
}
# Bicep writes a child declared with `parent:` at the top level, its name built from the parent's
SERVER = {"type": "Microsoft.Sql/servers", "apiVersion": "2023-08-01-preview", "name": "[parameters('serverName')]",
          "location": "[parameters('location')]", "properties": {"minimalTlsVersion": "1.0"}}
DATABASE = {"type": "Microsoft.Sql/servers/databases", "apiVersion": "2023-08-01-preview",
            "name": "[format('{0}/{1}', parameters('serverName'), 'appdb')]", "location": "[parameters('location')]",
            "properties": {}, "dependsOn": ["[resourceId('Microsoft.Sql/servers', parameters('serverName'))]"]}
TDE = {"type": "Microsoft.Sql/servers/databases/transparentDataEncryption", "apiVersion": "2023-08-01-preview",
       "name": "[format('{0}/{1}/{2}', parameters('serverName'), 'appdb', 'current')]",
       "properties": {"state": "Disabled"}}


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "main.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def _scan(path: Path, *options: str) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    out = path.parent / "out"
    result = CliRunner().invoke(cli, ["scan", "--template", str(path), "--format", "json", "--out", str(out),
                                      "--quiet", *options])
    return result.exit_code, {(f["rule_id"], f["resource_id"]): f for f in findings_in(out)}


def test_a_vault_named_by_a_parameter_without_a_default_is_judged_under_its_symbolic_name(tmp_path: Path) -> None:
    path = _write(tmp_path, _template([VAULT]))
    code, findings = _scan(path, "--fail-on", "high")
    vault_id = f"{GROUP}/Microsoft.KeyVault/vaults/[parameters('vaultName')]"
    purge = findings[("VDC-KV-002", vault_id)]
    line = path.read_text().splitlines().index('      "type": "Microsoft.KeyVault/vaults",')  # the line of its `{`
    assert purge["status"] == "FAIL" and purge["location"] == {"file": str(path), "line": line}
    assert findings[("VDC-KV-005", vault_id)]["status"] == "PASS"
    assert findings[("VDC-IAC-001", f"{GROUP}/Microsoft.Resources/deployments/vdcaudit-template")]["status"] == "PASS"
    assert not [f for f in findings.values() if f["status"] == "UNKNOWN" and "vaultName" in f["message"]]
    assert code == 1  # the FAIL gates, as any FAIL does


def test_bicep_children_named_from_a_symbolic_parent_are_linked_to_it(tmp_path: Path) -> None:
    inventory = Inventory()
    load_template(_write(tmp_path, _template([SERVER, DATABASE, TDE])), inventory)
    inventory.link_children()
    database = inventory.get(f"{GROUP}/Microsoft.Sql/servers/[parameters('serverName')]/databases/appdb")
    assert database is not None and database["name"] == "appdb"
    [tde] = database["x_vdcaudit"]["children"]["transparentdataencryption"]
    assert tde["properties"]["state"] == "Disabled"
    unresolved = database["x_vdcaudit"]["unresolved"]["name"]
    assert unresolved["expression"] == DATABASE["name"] and "serverName" in unresolved["reason"]
    assert not inventory.coverage


def test_children_nested_under_a_symbolic_parent_get_verdicts(tmp_path: Path) -> None:
    server = {**SERVER, "resources": [{**DATABASE, "type": "databases", "name": "appdb", "resources": [
        {"type": "transparentDataEncryption", "apiVersion": "2023-08-01-preview", "name": "current",
         "properties": {"state": "Enabled"}}]}]}
    # as of a day before Azure SQL's TLS 1.2 floor, so the server's own setting decides
    code, findings = _scan(_write(tmp_path, _template([server])), "--as-of", "2024-06-01")
    server_id = f"{GROUP}/Microsoft.Sql/servers/[parameters('serverName')]"
    assert findings[("VDC-SQL-001", f"{server_id}/databases/appdb")]["status"] == "PASS"
    assert findings[("VDC-SQL-002", server_id)]["status"] == "FAIL"  # minimalTlsVersion 1.0
    assert code == 0  # no --fail-on


def test_a_name_vdcaudit_cannot_resolve_symbolically_is_named_by_its_expression(tmp_path: Path) -> None:
    vault = {**VAULT, "name": "[reference(resourceId('Microsoft.Resources/deployments', 'names')).outputs.vault.value]"}
    inventory = Inventory()
    load_template(_write(tmp_path, _template([vault])), inventory)
    [resource] = inventory.of_type("Microsoft.KeyVault/vaults")
    assert resource["name"] == vault["name"].replace("/", "%2F")
    assert resource["properties"]["enablePurgeProtection"] is False


def test_an_extension_on_a_symbolic_vault_is_built_on_its_symbolic_id(tmp_path: Path) -> None:
    lock = {"type": "Microsoft.Authorization/locks", "apiVersion": "2020-05-01", "name": "keep",
            "scope": "[format('Microsoft.KeyVault/vaults/{0}', parameters('vaultName'))]",
            "properties": {"level": "CanNotDelete"}}
    inventory = Inventory()
    load_template(_write(tmp_path, _template([VAULT, lock])), inventory)
    [built] = inventory.of_type("Microsoft.Authorization/locks")
    assert built["id"] == f"{GROUP}/Microsoft.KeyVault/vaults/[parameters('vaultName')]/providers/" \
                          "Microsoft.Authorization/locks/keep"
    assert "scope" in built["x_vdcaudit"]["unresolved"]
