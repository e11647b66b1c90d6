"""ARM templates as a source: expressions, parameters, nesting, unknown values, line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vdcaudit.collectors.arm_expressions import (
    Deployment, Scope, TemplateExpressionError, Unknown, evaluate_value, parse,
)
from vdcaudit.collectors.arm_template import load_template
from vdcaudit.config import load_config
from vdcaudit.model import ScanContext
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iac"
TEMPLATE, PARAMETERS = FIXTURES / "main.json", FIXTURES / "main.parameters.json"


def _scope(**parameters: object) -> Scope:
    return Scope(Deployment("sub-1", "rg-1", "westeurope"), dict(parameters),
                 {"env": "dev", **{k: None for k in parameters}},
                 {"prefix": "[format('vdc-{0}', parameters('env'))]", "cfg": {"tls": "1.2", "key": "[listKeys('a', 'b')]"}})


@pytest.mark.parametrize("expression, expected", [
    ("[concat('a', 'b', string(1))]", "ab1"),
    ("[format('{0}-{1:D3}', variables('prefix'), 7)]", "vdc-dev-007"),
    ("[resourceId('Microsoft.Sql/servers/databases', 'srv', 'db')]",
     "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Sql/servers/srv/databases/db"),
    ("[resourceId('other-rg', 'Microsoft.Storage/storageAccounts', 'st')]",
     "/subscriptions/sub-1/resourceGroups/other-rg/providers/Microsoft.Storage/storageAccounts/st"),
    ("[if(equals(parameters('env'), 'dev'), 'TLS1_0', 'TLS1_2')]", "TLS1_0"),
    ("[toUpper(toLower('TlS'))]", "TLS"),
    ("[resourceGroup().location]", "westeurope"),
    ("[subscription().subscriptionId]", "sub-1"),
    ("[and(true(), not(empty(createArray(1))), or(false(), contains('abc', 'B')))]", True),
    ("[union(createObject('a', 1), createObject('b', bool('true')))]", {"a": 1, "b": True}),
    ("[variables('cfg').tls]", "1.2"),
    ("[int('42')]", 42),
    ("[[literal]", "[literal]"),
    ("[string(true())]", "True"),
    ("['it''s']", "it's"),
])
def test_expressions_evaluate(expression: str, expected: object) -> None:
    assert evaluate_value(expression, _scope()) == expected


def test_unique_string_is_deterministic_and_arm_shaped() -> None:
    first = evaluate_value("[uniqueString(resourceGroup().id)]", _scope())
    assert first == evaluate_value("[uniqueString(resourceGroup().id)]", _scope())
    assert len(first) == 13 and first.isalnum() and first.islower()
    assert first != evaluate_value("[uniqueString('other')]", _scope())


@pytest.mark.parametrize("expression, reason", [
    ("[reference('x').outputs.tls.value]", "reference() is only known at deployment time"),
    ("[listKeys('x', '2023-01-01').keys[0].value]", "listKeys()"),
    ("[variables('cfg').key]", "listKeys()"),
    ("[toLower(reference('x').tls)]", "reference()"),
    ("[someFutureFunction('a')]", "not supported by vdcaudit"),
    ("[parameters('noValue')]", None),
])
def test_values_known_only_at_deployment_are_unknown(expression: str, reason: str | None) -> None:
    scope = _scope()
    scope.parameter_defaults["noValue"] = __import__("vdcaudit.collectors.arm_expressions",
                                                     fromlist=["NO_DEFAULT"]).NO_DEFAULT
    value = evaluate_value(expression, scope)
    assert isinstance(value, Unknown)
    assert reason is None or reason in value.reason


def test_if_and_logic_decide_without_the_unknown_branch() -> None:
    assert evaluate_value("[if(true(), 'TLS1_2', reference('x'))]", _scope()) == "TLS1_2"
    assert evaluate_value("[and(false(), reference('x'))]", _scope()) is False
    assert isinstance(evaluate_value("[if(reference('x'), 'a', 'b')]", _scope()), Unknown)


@pytest.mark.parametrize("bad", ["[concat('a']", "[concat('a',)]", "['a' 'b']", "[toLower(1)]",
                                 "[parameters('undeclared')]", "[resourceId('NoSlash', 'x')]", "[format('{1}', 'a')]"])
def test_template_mistakes_are_errors(bad: str) -> None:
    with pytest.raises(TemplateExpressionError):
        evaluate_value(bad, _scope())


def test_parser_builds_member_and_index_access() -> None:
    tree = parse("reference('a').outputs['b'][0]")
    assert type(tree).__name__ == "Access"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    inv = Inventory()
    load_template(TEMPLATE, inv, PARAMETERS, subscription_id="sub-ci", resource_group="rg-ci")
    return inv


def _by_name(inventory: Inventory, name: str) -> dict:
    return next(r for r in inventory if r["name"] == name)


def test_parameters_file_overrides_defaults_and_variables_resolve(inventory: Inventory) -> None:
    logs = next(r for r in inventory.of_type("Microsoft.Storage/storageAccounts") if r["name"].startswith("stlogs"))
    assert logs["properties"]["minimumTlsVersion"] == "TLS1_0"          # from the parameters file
    assert logs["properties"]["encryption"]["requireInfrastructureEncryption"] is True  # variables('isProd')
    assert logs["location"] == "resourcegrouplocation"                 # documented placeholder
    assert logs["tags"] == {"environment": "prod", "workload": "vdc-hub"}


def test_nested_children_get_full_type_name_and_arm_id(inventory: Inventory) -> None:
    tde = inventory.get("/subscriptions/sub-ci/resourceGroups/rg-ci/providers/Microsoft.Sql/servers/vdc-prod-sql"
                        "/databases/appdb/transparentDataEncryption/current")
    assert tde is not None and tde["type"] == "Microsoft.Sql/servers/databases/transparentDataEncryption"
    assert tde["name"] == "current" and tde["resourceGroup"] == "rg-ci" and tde["subscriptionId"] == "sub-ci"
    inventory.link_children()
    db = _by_name(inventory, "reportdb")
    assert db["x_vdcaudit"]["children"]["transparentdataencryption"][0]["properties"]["state"] == "Disabled"


def test_copy_loop_and_nested_deployment_are_expanded(inventory: Inventory) -> None:
    names = sorted(r["name"] for r in inventory.of_type("Microsoft.Storage/storageAccounts"))
    assert [n[:7] for n in names] == ["stdata1", "stdata2", "stlogs" + names[2][6], "stspoke"]
    data2 = next(r for r in inventory if r["name"].startswith("stdata2"))
    assert data2["properties"]["supportsHttpsTrafficOnly"] is False      # not(equals(copyIndex(), 1))


def test_unresolvable_values_are_dropped_and_recorded(inventory: Inventory) -> None:
    server = _by_name(inventory, "vdc-prod-sql")
    assert "minimalTlsVersion" not in server["properties"]
    entry = server["x_vdcaudit"]["unresolved"]["properties.minimalTlsVersion"]
    assert entry["expression"].startswith("[reference(") and "deployment time" in entry["reason"]
    connection = _by_name(inventory, "vdc-prod-onprem-s2s")
    assert "sharedKey" not in connection["properties"]  # secure parameters are never read


def test_template_findings_end_to_end_with_lines() -> None:
    text = TEMPLATE.read_text().splitlines()
    inv = Inventory()
    load_template(TEMPLATE, inv, PARAMETERS)
    from vdcaudit.rulepack import load_rules
    result = scan(inv, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml")))
    verdicts = {(f.rule_id, f.resource_name[:8]): f for f in result.findings}
    expected = {
        ("VDC-ST-002", "stlogsvz"): "FAIL", ("VDC-ST-002", "stspoke1"): "PASS",
        ("VDC-ST-001", "stdata2v"): "FAIL", ("VDC-ST-001", "stdata1v"): "PASS",
        ("VDC-SQL-001", "appdb"): "PASS", ("VDC-SQL-001", "reportdb"): "FAIL",
        ("VDC-SQL-002", "vdc-prod"): "UNKNOWN", ("VDC-KV-002", "kv-prod-"): "UNKNOWN",
        ("VDC-KV-003", "kv-prod-"): "FAIL", ("VDC-DSK-001", "vdc-prod"): None,
        ("VDC-VPN-002", "vdc-prod"): "FAIL", ("VDC-VPN-003", "vdc-prod"): "PASS",
        ("VDC-SB-001", "vdc-prod"): "PASS", ("VDC-ER-001", "vdc-prod"): "FAIL",
    }
    for key, status in expected.items():
        if status:
            assert verdicts[key].status.value == status, (key, verdicts[key].message)
    disks = {f.resource_name: f.status.value for f in result.findings if f.rule_id == "VDC-DSK-001"}
    assert disks == {"vdc-prod-app01-data01": "PASS", "vdc-prod-app01-data02": "FAIL"}  # attached via the VM
    # UNKNOWN says why: the value is unknown before deployment, and absent_default does not apply
    kv = verdicts[("VDC-KV-002", "kv-prod-")]
    assert "parameters('enablePurgeProtection')" in kv.message and "has no value" in kv.message
    assert "reference(" in verdicts[("VDC-SQL-002", "vdc-prod")].message
    for finding in result.findings:
        assert finding.location and finding.location["file"] == str(TEMPLATE)
        assert text[finding.location["line"] - 1].strip() == "{", finding  # the resource object's line
    assert verdicts[("VDC-SQL-001", "appdb")].location["line"] == 154


# Resource types added to the rule pack after the first fixture: each PASSes and FAILs somewhere.
@pytest.mark.parametrize("rule_id, name, status", [
    ("VDC-AGW-001", "vdc-prod-agw", "PASS"), ("VDC-AGW-001", "vdc-prod-agw-legacy", "FAIL"),
    ("VDC-AGW-002", "vdc-prod-agw", "PASS"), ("VDC-AGW-002", "vdc-prod-agw-legacy", "FAIL"),
    ("VDC-AGW-003", "vdc-prod-agw", "PASS"),        # HTTP listener only redirects (resourceId() references)
    ("VDC-AGW-003", "vdc-prod-agw-legacy", "FAIL"),
    ("VDC-AGW-004", "vdc-prod-agw", "PASS"), ("VDC-AGW-004", "vdc-prod-agw-legacy", "FAIL"),
    ("VDC-APP-001", "vdc-prod-app-api", "PASS"), ("VDC-APP-001", "vdc-prod-app-portal", "FAIL"),
    ("VDC-APP-002", "vdc-prod-app-api", "PASS"),    # siteConfig on the site
    ("VDC-APP-002", "vdc-prod-app-portal", "FAIL"),  # the config/web child
    ("VDC-APP-003", "vdc-prod-app-api", "PASS"), ("VDC-APP-003", "vdc-prod-app-portal", "FAIL"),
    ("VDC-RED-001", "vdc-prod-redis", "PASS"), ("VDC-RED-001", "vdc-prod-redis-legacy", "FAIL"),
    ("VDC-RED-002", "vdc-prod-redis", "PASS"), ("VDC-RED-002", "vdc-prod-redis-legacy", "FAIL"),
    ("VDC-DES-001", "vdc-prod-des", "PASS"), ("VDC-DES-001", "vdc-prod-des-legacy", "FAIL"),
    ("VDC-CMK-002", "vdc-prod-des", "PASS"),
    ("VDC-CMK-002", "vdc-prod-des-legacy", "UNKNOWN"),  # its vault's purge protection is a parameter with no value
    ("VDC-IMG-001", "vdc-prod-app01-golden", "PASS"), ("VDC-IMG-001", "vdc-prod-app01-2023", "FAIL"),
    ("VDC-SNAP-001", "vdc-prod-app01-data01-snap", "PASS"), ("VDC-SNAP-001", "vdc-prod-app01-data02-snap", "FAIL"),
    ("VDC-KV-006", "des-key", "PASS"), ("VDC-KV-006", "legacy-key", "FAIL"),
    ("VDC-KV-007", "des-key", "PASS"), ("VDC-KV-007", "legacy-key", "FAIL"),
    ("VDC-VNET-001", "vdc-prod-hub-vnet", "PASS"), ("VDC-VNET-001", "vdc-prod-spoke2-vnet", "FAIL"),
    ("VDC-VNET-002", "vdc-prod-spoke1-vnet", "PASS"), ("VDC-VNET-002", "vdc-prod-hub-vnet", "FAIL"),
    ("VDC-PEER-001", "vdc-prod-spoke1-vnet", "PASS"), ("VDC-PEER-001", "vdc-prod-hub-vnet", "FAIL"),
    ("VDC-LA-001", "vdc-prod-la-cluster", "PASS"), ("VDC-LA-001", "vdc-prod-la-cluster-dr", "FAIL"),
    ("VDC-LA-002", "vdc-prod-la-cluster", "PASS"), ("VDC-LA-002", "vdc-prod-la-cluster-dr", "FAIL"),
    ("VDC-CMK-006", "vdc-prod-la-cluster", "PASS"),
    ("VDC-LA-003", "vdc-prod-law", "PASS"),          # linked through its linkedServices/cluster child
    ("VDC-LA-003", "vdc-prod-law-diag", "FAIL"),
    ("VDC-SQLMI-001", "vdc-prod-sqlmi", "PASS"), ("VDC-SQLMI-001", "vdc-prod-sqlmi-legacy", "FAIL"),
    ("VDC-SQLMI-002", "vdc-prod-sqlmi", "PASS"), ("VDC-SQLMI-002", "vdc-prod-sqlmi-legacy", "FAIL"),
    ("VDC-CMK-004", "vdc-prod-sqlmi", "PASS"),       # key uri from the keys child the protector names
])
def test_template_findings_for_every_rule_type(template_result, rule_id: str, name: str, status: str) -> None:
    finding = next(f for f in template_result.findings if f.rule_id == rule_id and f.resource_name == name)
    assert finding.status.value == status, finding.message


@pytest.fixture(scope="module")
def template_result():
    from vdcaudit.rulepack import load_rules
    inv = Inventory()
    load_template(TEMPLATE, inv, PARAMETERS)
    return scan(inv, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml")))


def test_every_rule_resource_type_is_in_the_template_fixture(inventory: Inventory) -> None:
    """Issue 7: every resource type of a rule that accepts templates appears in the fixture template."""
    from vdcaudit.rulepack import load_rules
    rule_types = {rule.resource_type.lower() for rule in load_rules() if "template" in rule.sources}
    templated = {r["type"].lower() for r in inventory}
    for extra in sorted(FIXTURES.glob("*/main.json")):  # fixtures of later rule groups (atrest/, ...)
        more = Inventory()
        load_template(extra, more, None)
        templated |= {r["type"].lower() for r in more}
    assert rule_types - templated == set()


def _write(tmp_path: Path, document: object, name: str = "t.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


@pytest.mark.parametrize("document, message", [
    ('{"resources": [\n  {"type": }\n]}', ":2:12: malformed JSON"),
    ({"parameters": {"a": {"value": 1}}}, "looks like a parameters file"),
    ({"resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "x",
                     "name": "[concat('a'"}], "parameters": {}}, None),
    ({"resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "[parameters('nope')]"}]},
     "name: parameter 'nope' is not declared"),
    ({"resources": [{"type": "Microsoft.Sql/servers/databases", "name": "onlyone"}]}, "needs 2 segment(s)"),
])
def test_bad_templates_name_file_and_line(tmp_path: Path, document: object, message: str | None) -> None:
    path = _write(tmp_path, document)
    if message is None:  # "[concat('a'" has no closing bracket: ARM reads it as a plain string
        inv = Inventory()
        load_template(path, inv)
        assert next(iter(inv))["name"] == "[concat('a'"
        return
    with pytest.raises(InputError) as error:
        load_template(path, Inventory())
    assert error.value.one_line().startswith(str(path)) and message in error.value.one_line()


def test_undeclared_parameter_in_parameters_file_is_an_error(tmp_path: Path) -> None:
    params = _write(tmp_path, {"parameters": {"typo": {"value": 1}}}, "p.json")
    with pytest.raises(InputError, match="parameter 'typo' is given a value") as error:
        load_template(TEMPLATE, Inventory(), params)
    assert error.value.path == str(params)


def test_unknown_copy_count_is_a_coverage_gap(tmp_path: Path) -> None:
    path = _write(tmp_path, {"parameters": {"n": {"type": "int"}}, "resources": [
        {"copy": {"name": "l", "count": "[parameters('n')]"}, "type": "Microsoft.Storage/storageAccounts",
         "name": "[format('st{0}', copyIndex())]", "properties": {}}]})
    inv = Inventory()
    load_template(path, inv)
    assert len(inv) == 0 and inv.coverage[0].resource_type == "Microsoft.Storage/storageAccounts"
    resource_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if '"copy"' in line) - 1
    assert "count is unknown" in inv.coverage[0].reason and inv.coverage[0].scope == f"{path}:{resource_line}"
