"""Template findings point at the line of the property their verdict read (SARIF regions, CI
annotations): the JSON parser records each member's line (vdcaudit.io.jsonpos)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.context import ScanContext
from vdcaudit.inventory import Inventory
from vdcaudit.io.jsonpos import loads_with_lines, property_lines
from vdcaudit.reports import RENDERERS
from vdcaudit.rulepack import load_rules
from vdcaudit.scan import scan


def test_member_lines_are_the_keys_lines_by_lower_case_path() -> None:
    document = loads_with_lines('{\n "a": 1,\n "Properties": {\n  "x": {"y": 2},\n  "list": [{"z": 1}],\n'
                                '  "Split":\n    "value"\n }\n}')
    assert property_lines(document) == {"a": 2, "properties": 3, "properties.x": 4, "properties.x.y": 4,
                                        "properties.list": 5, "properties.split": 6}
    # a key given twice: JSON keeps the last value, and the line is that one's
    assert property_lines(loads_with_lines('{"a": 1,\n "a": 2}')) == {"a": 2}
    # escaped keys, and strings holding brackets, colons and quotes do not confuse it
    tricky = loads_with_lines('{"x": "a:{[\\"", "k\\u00e9y":\n {"in": [1, {"deep": 2}]},\n "z": 1}')
    assert property_lines(tricky) == {"x": 1, "kéy": 1, "kéy.in": 2, "z": 3}


def test_findings_point_at_the_line_of_the_property_the_verdict_read(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text("""{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2023-05-01",
      "name": "stlegacy",
      "location": "westeurope",
      "kind": "StorageV2",
      "sku": {"name": "Standard_LRS"},
      "properties": {
        "supportsHttpsTrafficOnly": true,
        "MinimumTlsVersion":
          "TLS1_0"
      }
    }
  ]
}
""")
    inventory = Inventory()
    load_template(template, inventory)
    # as of a day before the platform TLS floors, so the properties' own values decide
    result = scan(inventory, load_rules(), ScanContext(options={"as_of": date(2024, 6, 1)}))
    tls = next(f for f in result.findings if f.rule_id == "VDC-ST-002")
    assert tls.status.value == "FAIL"
    assert tls.location == {"file": str(template), "line": 5}  # the resource
    assert tls.property_line == 14  # the key's line, whatever its case
    document = json.loads(RENDERERS["json"].render(result))
    # one entry for the account, whatever line each of its verdicts read
    assert [r["name"] for r in document["resources"]].count("stlegacy") == 1
    record = next(f for f in document["findings"] if f["rule_id"] == "VDC-ST-002")
    assert record["property_line"] == 14


def test_plan_findings_point_at_the_terraform_attribute_the_verdict_read() -> None:
    from vdcaudit.collectors.terraform import load_plan

    plan = Path(__file__).resolve().parent.parent / "fixtures" / "iac" / "plan.json"
    inventory = Inventory()
    load_plan(plan, inventory)
    # as of a day before the platform TLS floors, so the properties' own values decide
    result = scan(inventory, load_rules(), ScanContext(options={"as_of": date(2024, 6, 1)}))
    text = plan.read_text().splitlines()
    https = [f for f in result.findings if f.rule_id == "VDC-APP-001" and f.status.value == "FAIL"]
    assert https and all(text[f.property_line - 1].strip().startswith('"https_only"') for f in https)
    assert all(f.location["line"] < f.property_line for f in https)
