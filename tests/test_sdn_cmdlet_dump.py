"""Network Controller data saved with the NetworkController PowerShell cmdlets reads like the REST body.

`Get-NetworkControllerVirtualNetwork -ConnectionUri $uri | ConvertTo-Json -Depth 20` prints the
.NET objects of the Microsoft.Windows.NetworkController module: every member in PascalCase
(`ResourceRef`, `ResourceId`, `Properties.Subnets`, `Properties.AclRules`, `"Priority": "101"`), a
bare JSON array, and a lone object when there is one resource. The test turns the demo fabric's REST
bodies into that print (same data, PascalCase names, no `value` wrapper) and asserts that every
verdict is the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from vdcaudit.collectors.sdn.fabric import COLLECTIONS, load_fabric_snapshot
from vdcaudit.collectors.sdn.hostcerts import load_host_inventory, parse_date
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "sdn"
SDN_RULES = [rule for rule in load_rules() if rule.id.startswith("VDC-SDN-")]


def pascal(value: Any) -> Any:
    """What ConvertTo-Json prints for the cmdlet objects: member names PascalCase, values as they are."""
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def verdicts(folder: Path) -> dict[tuple[str, str], str]:
    inventory = Inventory()
    load_fabric_snapshot(folder, inventory, fabric="nc.contoso.local")
    return {(f.rule_id, f.resource_id.lower()): f.status.value for f in run(SDN_RULES, inventory).findings}


def test_a_cmdlet_dump_scans_with_the_same_verdicts_as_the_rest_bodies(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in COLLECTIONS:
        entries = json.loads((DEMO / f"{name}.json").read_text(encoding="utf-8"))["value"]
        printed = pascal(entries[0]) if len(entries) == 1 else pascal(entries)  # one resource: an object
        (dump / f"{name}.json").write_text(json.dumps(printed, indent=2), encoding="utf-8")
    shutil.copytree(DEMO / "hosts", dump / "hosts")
    acl_text = (dump / "accessControlLists.json").read_text(encoding="utf-8")
    assert '"ResourceRef"' in acl_text and '"AclRules"' in acl_text and '"Priority": "' in acl_text
    expected = verdicts(DEMO)
    assert expected and verdicts(dump) == expected
    assert {"FAIL", "PASS"} <= set(expected.values())


def test_a_secret_credential_printed_by_the_cmdlet_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps([
        {"ResourceId": "admin", "ResourceRef": "/credentials/admin",
         "Properties": {"Type": "UsernamePassword", "UserName": "u", "Value": "P@ssw0rd"}}]))
    inventory = Inventory()
    load_fabric_snapshot(tmp_path, inventory)
    [credential] = inventory.of_type("Microsoft.SDN/credentials")
    assert "P@ssw0rd" not in json.dumps(credential)


def test_windows_powershell_51_date_objects_are_read(tmp_path: Path) -> None:
    """PowerShell 5.1 prints a DateTime with its extended members as an object; `value` is the date."""
    printed = {"value": "/Date(1735689600000)/", "DisplayHint": 2, "DateTime": "Wednesday, January 1, 2025 1:00:00 AM"}
    assert parse_date(printed) == "2025-01-01T00:00:00+00:00"
    path = tmp_path / "hv01.json"
    path.write_text(json.dumps([{"Thumbprint": "A1" * 20, "Subject": "CN=x", "NotBefore": printed,
                                 "NotAfter": {"value": "/Date(2082758400000)/", "DateTime": "..."}}]))
    [record] = load_host_inventory(path)["stores"]["My"]
    assert record["notAfter"] == "2036-01-01T00:00:00+00:00"


def test_an_unreadable_date_makes_only_that_certificate_unknown(tmp_path: Path) -> None:
    path = tmp_path / "hv01.json"
    path.write_text(json.dumps([{"Thumbprint": "A1" * 20, "NotAfter": "yesterday"},
                                {"Thumbprint": "B2" * 20, "NotBefore": "/Date(1735689600000)/",
                                 "NotAfter": "/Date(2082758400000)/"}]))
    bad, good = load_host_inventory(path)["stores"]["My"]
    assert bad["notAfter"] is None and "cannot be read" in bad["dateProblem"]
    assert good["notAfter"] == "2036-01-01T00:00:00+00:00" and "dateProblem" not in good
