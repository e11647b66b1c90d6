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
from vdcaudit.context import ScanContext
from tests import evidence_day
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
    result = scan(inv, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml"), options=evidence_day.OPTIONS))
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
    ("VDC-VNET-002", "vdc-prod-spoke1-vnet", "PASS"), ("VDC-VNET-002", "vdc-prod-hub-vnet", "WARN"),
    ("VDC-PEER-001", "vdc-prod-spoke1-vnet", "PASS"), ("VDC-PEER-001", "vdc-prod-hub-vnet", "FAIL"),
    ("VDC-LA-001", "vdc-prod-la-cluster", "PASS"), ("VDC-LA-001", "vdc-prod-la-cluster-dr", "FAIL"),
    ("VDC-LA-002", "vdc-prod-la-cluster", "PASS"), ("VDC-LA-002", "vdc-prod-la-cluster-dr", "FAIL"),
    ("VDC-CMK-006", "vdc-prod-la-cluster", "PASS"),
    ("VDC-LA-003", "vdc-prod-law", "PASS"),          # linked through its linkedServices/cluster child
    ("VDC-LA-003", "vdc-prod-law-diag", "FAIL"),
    ("VDC-SQLMI-001", "vdc-prod-sqlmi", "PASS"), ("VDC-SQLMI-001", "vdc-prod-sqlmi-legacy", "FAIL"),
    ("VDC-SQLMI-002", "vdc-prod-sqlmi", "PASS"), ("VDC-SQLMI-002", "vdc-prod-sqlmi-legacy", "FAIL"),
    ("VDC-CMK-004", "vdc-prod-sqlmi", "PASS"),       # key uri from the keys child the protector names
    ("VDC-VMSS-001", "vdc-prod-batch", "FAIL"),      # no securityProfile: encryption at host off by default
])
def test_template_findings_for_every_rule_type(template_result, rule_id: str, name: str, status: str) -> None:
    finding = next(f for f in template_result.findings if f.rule_id == rule_id and f.resource_name == name)
    assert finding.status.value == status, finding.message


@pytest.fixture(scope="module")
def template_result():
    from vdcaudit.rulepack import load_rules
    inv = Inventory()
    load_template(TEMPLATE, inv, PARAMETERS)
    return scan(inv, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml"), options=evidence_day.OPTIONS))


def test_every_rule_resource_type_is_in_the_template_fixture(inventory: Inventory) -> None:
    """Issue 7: every resource type of a rule that accepts templates appears in the fixture templates
    (main.json and the per-topic *.template.json beside it)."""
    from vdcaudit.rulepack import load_rules
    rule_types = {rule.resource_type.lower() for rule in load_rules() if "template" in rule.sources}
    seen = {r["type"].lower() for r in inventory}
    # fixtures of later rule groups: per-topic templates beside main.json, and folders (atrest/, ...)
    for extra in sorted([*FIXTURES.glob("*.template.json"), *FIXTURES.glob("*/main.json")]):
        more = Inventory()
        load_template(extra, more)
        seen |= {r["type"].lower() for r in more}
    assert rule_types - seen == set()


def _write(tmp_path: Path, document: object, name: str = "t.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


@pytest.mark.parametrize("document, message", [
    ('{"resources": [\n  {"type": }\n]}', ":2:12: malformed JSON"),
    ({"parameters": {"a": {"value": 1}}}, "looks like a parameters file"),
    ({"resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "x",
                     "name": "[concat('a'"}], "parameters": {}}, None),
    ({"resources": "storage"}, "'resources' must be an array"),
    ({"parameters": [], "resources": []}, "'parameters' must be an object"),
])
def test_bad_templates_name_file_and_line(tmp_path: Path, document: object, message: str | None) -> None:
    path = _write(tmp_path, document)
    if message is None:  # "[concat('a'" has no closing bracket: ARM reads it as a plain string
        inv = Inventory()
        load_template(path, inv)
        assert inv.of_type("Microsoft.Storage/storageAccounts")[0]["name"] == "[concat('a'"
        return
    with pytest.raises(InputError) as error:
        load_template(path, Inventory())
    assert error.value.one_line().startswith(str(path)) and message in error.value.one_line()


def _defects(inventory: Inventory) -> list[dict]:
    return inventory.of_type("Microsoft.Resources/deployments")[0]["x_vdcaudit"]["defects"]


def test_undeclared_parameter_in_parameters_file_is_a_defect_of_that_file(tmp_path: Path) -> None:
    params = _write(tmp_path, {"parameters": {"typo": {"value": 1}}}, "p.json")
    inv = Inventory()
    load_template(TEMPLATE, inv, params)
    defect = next(d for d in _defects(inv) if "typo" in d["problem"])
    assert defect["file"] == str(params) and "is given a value but the template does not declare it" in defect["problem"]
    assert len(inv.of_type("Microsoft.Storage/storageAccounts")) == 4  # the template is still judged


def test_unknown_copy_count_is_a_coverage_gap(tmp_path: Path) -> None:
    path = _write(tmp_path, {"parameters": {"n": {"type": "int"}}, "resources": [
        {"copy": {"name": "l", "count": "[parameters('n')]"}, "type": "Microsoft.Storage/storageAccounts",
         "name": "[format('st{0}', copyIndex())]", "properties": {}}]})
    inv = Inventory()
    load_template(path, inv)
    assert not inv.of_type("Microsoft.Storage/storageAccounts")
    assert inv.coverage[0].resource_type == "Microsoft.Storage/storageAccounts"
    resource_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if '"copy"' in line) - 1
    assert "count is unknown" in inv.coverage[0].reason and inv.coverage[0].scope == f"{path}:{resource_line}"
    assert inv.coverage[0].location == {"file": str(path), "line": resource_line}
    assert _defects(inv) == []  # unknown before deployment is not a mistake


# -- templates in the shapes Microsoft publishes (fixtures/iac/published, written from the ARM template
#    reference in the shape `bicep build` gives Azure Verified Modules and the quickstart templates) ----

PUBLISHED = FIXTURES / "published"


def _scan(path: Path, parameters: Path | None = None):
    from vdcaudit.rulepack import load_rules
    inv = Inventory()
    load_template(path, inv, parameters)
    return inv, scan(inv, load_rules(), ScanContext(config=load_config(FIXTURES / "vdcaudit.yaml"), options=evidence_day.OPTIONS))


def _verdict(result, rule_id: str, name: str) -> object:
    return next(f for f in result.findings if f.rule_id == rule_id and f.resource_name == name)


def test_avm_key_vault_language_version_2_with_nullable_parameters_and_variable_copy_loop() -> None:
    inv, result = _scan(PUBLISHED / "avm-key-vault.json", PUBLISHED / "avm-key-vault.parameters.json")
    vault = inv.of_type("Microsoft.KeyVault/vaults")[0]
    assert vault["apiVersion"] == "2022-07-01"  # kept for rules whose Azure default depends on it
    assert vault["properties"]["publicNetworkAccess"] == "Disabled"  # tryGet over the given networkAcls
    assert vault["tags"] is None  # an unset nullable object parameter is null, not unknown
    # the variable copy loop turned role names into role definition ids; one assignment per element
    roles = sorted(r["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for r in inv.of_type(
        "Microsoft.Authorization/roleAssignments"))
    assert roles == ["14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "e147488a-f6f5-4113-8e2d-b22465e65bf6"]
    assert not inv.of_type("Microsoft.Authorization/locks")  # condition over an unset nullable lock
    assert _verdict(result, "VDC-KV-002", "kv-avm-hub-001").status.value == "PASS"
    assert _verdict(result, "VDC-KV-003", "kv-avm-hub-001").status.value == "FAIL"  # Crypto Officer, not an owner
    assert _verdict(result, "VDC-KV-006", "cmk-storage").status.value == "PASS"  # dateTimeToEpoch of a literal
    utc = _verdict(result, "VDC-KV-006", "cmk-sql")  # dateTimeAdd(utcNow()): unknown, never "no expiry"
    assert utc.status.value == "UNKNOWN" and "utcNow()" in utc.message
    assert _verdict(result, "VDC-IAC-001", "vdcaudit-template").status.value == "PASS"


def test_avm_storage_account_with_comments_union_of_coalesce_and_an_inner_module() -> None:
    path = PUBLISHED / "avm-storage-account.json"
    inv, result = _scan(path)
    account = inv.of_type("Microsoft.Storage/storageAccounts")[0]
    assert account["tags"] == {"hidden-title": "AVM storage account"}  # multi-line string, union over null
    assert account["properties"]["encryption"]["services"]["queue"] == {"enabled": True, "keyType": "Account"}
    lines = path.read_text().splitlines()
    line = account["x_vdcaudit"]["origin"]["line"]
    assert lines[line - 1].strip() == "{" and '"Microsoft.Storage/storageAccounts"' in lines[line]
    containers = inv.of_type("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert sorted(c["name"] for c in containers) == ["backups", "logs"]  # module with inner scope
    assert _verdict(result, "VDC-ST-002", "stavmhub001").status.value == "PASS"
    assert _verdict(result, "VDC-ST-004", "stavmhub001").status.value == "FAIL"  # no customer key given


def test_quickstart_sql_with_block_comments_and_nested_children() -> None:
    inv, result = _scan(PUBLISHED / "quickstart-sql.json")
    assert _verdict(result, "VDC-SQL-001", "SampleDB").status.value == "PASS"
    assert len(inv) == 5  # server, database, TDE, firewall rule, the deployment record


def test_avm_virtual_network_subnets_from_module_copy_loops() -> None:
    inv, result = _scan(PUBLISHED / "avm-virtual-network.json")
    subnets = inv.of_type("Microsoft.Network/virtualNetworks/subnets")
    assert sorted(s["name"] for s in subnets) == ["snet-app", "snet-data"]
    assert all(s["properties"]["privateEndpointNetworkPolicies"] == "Disabled" for s in subnets)
    vnet = inv.of_type("Microsoft.Network/virtualNetworks")[0]
    assert vnet["properties"]["ddosProtectionPlan"] is None and vnet["properties"]["enableDdosProtection"] is False
    assert _verdict(result, "VDC-VNET-001", "vnet-avm-spoke-001").status.value == "PASS"


def test_quickstart_web_app_values_as_people_type_them() -> None:
    """PascalCase `Properties`/`HttpsOnly`, a bool given as the string "true", a TLS version as a number."""
    _, result = _scan(PUBLISHED / "quickstart-webapp.json")
    app = next(f.resource_name for f in result.findings if f.rule_id == "VDC-APP-001")
    for rule_id in ("VDC-APP-001", "VDC-APP-002", "VDC-APP-003"):
        assert _verdict(result, rule_id, app).status.value == "PASS", rule_id


def test_one_broken_resource_never_hides_the_others() -> None:
    path = PUBLISHED / "broken-hub.json"
    lines = path.read_text().splitlines()
    inv, result = _scan(path)
    gate = _verdict(result, "VDC-IAC-001", "vdcaudit-template")
    assert gate.status.value == "FAIL" and "this template would not deploy: 3 defect(s)" in gate.message
    assert "parameter 'minTls' is not declared" in gate.message and "no property 'httpsOnly'" in gate.message
    broken_line = next(n for n, text in enumerate(lines, 1) if '"name": "appdb"' in text) - 3
    error = next(f for f in result.findings if f.status.value == "ERROR")
    assert error.location == {"file": str(path), "line": broken_line} and "needs 2 segment(s)" in error.message
    gap = next(f for f in result.findings if f.rule_id == "VDC-SQL-001")
    assert gap.status.value == "UNKNOWN" and gap.location == {"file": str(path), "line": broken_line}
    # the valid resources keep their verdicts, property by property
    assert _verdict(result, "VDC-ST-001", "stbrokenlogs").status.value == "FAIL"
    assert _verdict(result, "VDC-ST-001", "stbrokenok").status.value == "PASS"
    missing = _verdict(result, "VDC-ST-002", "stbrokenlogs")
    assert missing.status.value == "UNKNOWN" and "parameters('minTls')" in missing.message
    assert _verdict(result, "VDC-ST-002", "stbrokendata").status.value == "PASS"
    for finding in result.findings:
        assert finding.location and finding.location["file"] == str(path), finding


def test_absent_and_empty_properties_give_the_same_verdicts(tmp_path: Path) -> None:
    account = {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "kind": "StorageV2"}
    path = _write(tmp_path, {"resources": [{**account, "name": "stabsent"},
                                           {**account, "name": "stempty", "properties": {}}]})
    _, result = _scan(path)
    for rule_id in ("VDC-ST-002", "VDC-ST-003", "VDC-ST-004"):
        verdicts = {f.resource_name: f.status.value for f in result.findings if f.rule_id == rule_id}
        assert verdicts["stabsent"] == verdicts["stempty"] == "FAIL", (rule_id, verdicts)


@pytest.mark.parametrize("expression, expected", [
    ("[tryGet(createObject('a', createObject('b', 1)), 'a', 'b')]", 1),
    ("[tryGet(createObject('a', 1), 'missing')]", None),
    ("[union(coalesce(null(), createObject()), createObject('x', 1))]", {"x": 1}),
    ("[union(createObject('a', createObject('b', 1)), createObject('a', createObject('c', 2)))]",
     {"a": {"b": 1, "c": 2}}),
    ("[shallowMerge(createArray(createObject('a', createObject('b', 1)), createObject('a', createObject('c', 2))))]",
     {"a": {"c": 2}}),
    ("[map(createArray(1, 2), lambda('x', mul(lambdaVariables('x'), 10)))]", [10, 20]),
    ("[filter(createArray(1, 2, 3), lambda('x', greater(lambdaVariables('x'), 1)))]", [2, 3]),
    ("[reduce(createArray(1, 2, 3), 0, lambda('c', 'n', add(lambdaVariables('c'), lambdaVariables('n'))))]", 6),
    ("[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]", [1, 2, 3]),
    ("[dateTimeToEpoch('2027-06-30T00:00:00Z')]", 1814313600),
    ("[dateTimeAdd('2026-01-31T00:00:00Z', 'P1M')]", "2026-03-02T00:00:00Z"),  # ARM: a month is 30 days
    ("[length(createArray(reference('x'), 1))]", 2),  # the items may be unknown, the count is not
    ("[length(union(createArray(createObject('a', reference('x'))), createArray(1)))]", 2),
])
def test_newer_template_functions(expression: str, expected: object) -> None:
    assert evaluate_value(expression, _scope()) == expected


def test_variable_copy_loop_and_nullable_parameter(tmp_path: Path) -> None:
    path = _write(tmp_path, {
        "parameters": {"extra": {"type": "object", "nullable": True}},
        "variables": {"copy": [{"name": "tiers", "count": 2,
                                "input": "[format('tier{0}', copyIndex('tiers', 1))]"}]},
        "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                       "name": "[variables('tiers')[1]]",
                       "tags": "[union(coalesce(parameters('extra'), createObject()), createObject('t', 'x'))]"}]})
    inv = Inventory()
    load_template(path, inv)
    account = inv.of_type("Microsoft.Storage/storageAccounts")[0]
    assert account["name"] == "tier2" and account["tags"] == {"t": "x"}


# -- hostile templates: ARM's limits and the evaluation budget end them with exit 2, one line naming
#    the file and line, and nothing written ------------------------------------------------------------

def _storage(name: object = "st1", properties: object = None, **more: object) -> dict:
    return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
            "properties": properties or {}, **more}


def _doubling(kind: str) -> dict:
    step = {"strings": "[concat(variables('v{0}'), variables('v{0}'))]",
            "tree": "[createArray(variables('v{0}'), variables('v{0}'))]"}[kind]
    variables = {"v0": "ab", **{f"v{i}": step.format(i - 1) for i in range(1, 61)}}
    return {"variables": variables, "resources": [_storage(properties={"x": "[variables('v60')]"})]}


HOSTILE = {
    "doubling strings": (_doubling("strings"), "past ARM's template size limit"),
    "doubling shared structure": (_doubling("tree"), "steps"),
    "copy count 10^7": ({"resources": [_storage("[format('st{0}', copyIndex())]", copy={"name": "l", "count": 10**7})]},
                        "copy loop 'l' has count 10,000,000 (ARM allows 800)"),
    "property copy count": ({"resources": [_storage(properties={"copy": [{"name": "r", "count": 801, "input": 1}]})]},
                            "ARM allows 800"),
    "variable copy count": ({"variables": {"copy": [{"name": "v", "count": 10**7, "input": 1}]},
                             "resources": [_storage(properties={"x": "[variables('v')]"})]}, "ARM allows 800"),
    "257 parameters": ({"parameters": {f"p{i}": {"type": "string"} for i in range(257)}, "resources": []},
                       "257 parameters (ARM allows 256"),
    "257 variables": ({"variables": {f"v{i}": 1 for i in range(257)}, "resources": []},
                      "257 variables (ARM allows 256"),
    "801 resources": ({"resources": [_storage("[format('a{0}', copyIndex())]", copy={"name": "a", "count": 800}),
                                     _storage("b")]}, "more than 800 resources"),
    "65 outputs": ({"resources": [], "outputs": {f"o{i}": {"type": "string", "value": "x"} for i in range(65)}},
                   "65 outputs (ARM allows 64"),
    "long expression": ({"resources": [_storage("[concat('" + "a" * 30000 + "')]")]}, "ARM allows 24,576"),
    "deep expression": ({"resources": [_storage(properties={"x": "[" + "concat(" * 500 + "'a'" + ")" * 500 + "]"})]},
                        "nests calls deeper than 100 levels"),
    "expanded resources past 4 MB": ({"variables": {"big": "[padLeft('', 900000, 'a')]"}, "resources": [
        _storage("[format('s{0}', copyIndex())]", {"x": "[variables('big')]"}, copy={"name": "l", "count": 800})]},
        "4 MB limit per template"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_templates_end_in_one_error_line(tmp_path: Path, name: str) -> None:
    from click.testing import CliRunner
    from vdcaudit.commands.cli import cli
    document, expected = HOSTILE[name]
    path = _write(tmp_path, document)
    result = CliRunner().invoke(cli, ["scan", "--template", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vdcaudit: error: {path}:"), result.output
    assert expected in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, expected", [
    ('{"resources": ' + "[" * 100000 + "]" * 100000 + "}", ":1: JSON nested deeper than 200 levels"),
    ('{"resources": [], "x": "' + "a" * (4 * 1024 * 1024) + '"}', "ARM accepts templates and parameter files up to"),
    ('{"resources": [] /* never closed', ":1: a /* comment is never closed"),
])
def test_hostile_template_files_are_refused_before_parsing(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_template(path, Inventory())
    assert error.value.one_line().startswith(str(path)) and expected in error.value.one_line()


def test_comments_are_read_and_lines_stay_right(tmp_path: Path) -> None:
    path = _write(tmp_path, '// header\n{\n  /* a\n     block */\n  "resources": [ // trailing\n'
                            '    {"type": "Microsoft.Storage/storageAccounts", "name": "st1",\n'
                            '     "tags": {"u": "https://x/*y*/"}, "properties": {}}\n  ]\n}\n')
    inv = Inventory()
    load_template(path, inv)
    account = inv.of_type("Microsoft.Storage/storageAccounts")[0]
    assert account["tags"] == {"u": "https://x/*y*/"} and account["x_vdcaudit"]["origin"]["line"] == 6


@pytest.mark.parametrize("text, found", [("# vdcaudit\n\nSee /* the docs\n", "found '#'"),
                                         ("param name string\n", "found 'p'"), ("", "the file is empty")])
def test_a_file_that_is_not_json_is_called_not_json_before_its_comments_are_read(tmp_path, text, found) -> None:
    from click.testing import CliRunner

    from vdcaudit.commands.cli import cli

    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--template", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "README.md:1: not JSON" in result.output and found in result.output
    assert "comment" not in result.output and not (tmp_path / "out").exists()
