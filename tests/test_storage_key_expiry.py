"""VDC-ST-007 on a template: the account's keys are made at deployment, so the key policy alone is
judged there (key age is judged on deployed accounts: tests/rule_cases/VDC-ST-007.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules

RULE = next(rule for rule in load_rules() if rule.id == "VDC-ST-007")


def account(name: str, properties: dict) -> dict:
    return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
            "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": properties}


def test_a_template_is_judged_on_its_key_policy(tmp_path: Path) -> None:
    path = tmp_path / "main.json"
    path.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [account("stpolicy", {"keyPolicy": {"keyExpirationPeriodInDays": 90}}),
                      account("stnopolicy", {"minimumTlsVersion": "TLS1_2"}),
                      account("stnokeys", {"allowSharedKeyAccess": False})]}), encoding="utf-8")
    inventory = Inventory()
    load_template(path, inventory)
    found = {f.resource_name: f for f in run([RULE], inventory).findings}
    assert {name: f.status.value for name, f in found.items()} == {"stpolicy": "PASS", "stnopolicy": "FAIL"}
    assert "keys are made at deployment" in found["stpolicy"].message
