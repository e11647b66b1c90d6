"""The AVDC encryption baseline as a rule pack: size, metadata every rule carries, UNKNOWN coverage
per resource type, framework filtering, and the helpers the cross-resource checks rely on."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vdcaudit.checks.appgateway import effective_policy, weak_cipher_reason
from vdcaudit.checks.cmk import VaultIndex
from vdcaudit.commands.cli import cli
from vdcaudit.inventory import Inventory
from vdcaudit.resources import data_path
from vdcaudit.rulepack import load_rules

CASES = Path(__file__).parent / "rule_cases"
AZURE_RULES = [r for r in load_rules() if not r.resource_type.lower().startswith("microsoft.sdn/")]

# Types whose only rules state a documented Azure default for the one property they read, so a
# missing property is decided by that default (UNKNOWN comes only from coverage gaps).
DEFAULT_DECIDED_TYPES = {"microsoft.compute/virtualmachines"}


def test_every_rule_file_of_the_pack_loads_as_its_own_rule() -> None:
    """The real count, not a floor: one loaded rule per rules/*.yaml file, each with the id its file
    declares, so a rule file that silently stops loading (a changed file filter, an id collision
    hidden by a rename) fails here. Files starting with "_" hold shared definitions (selectors)."""
    files = [path for path in sorted(data_path("rules").glob("*.yaml")) if not path.name.startswith("_")]
    declared = {yaml.safe_load(path.read_text(encoding="utf-8"))["id"]: path.name for path in files}
    loaded = load_rules()
    assert len(files) == 201  # the built-in pack today: update this number with the rule file you add or remove
    assert len(loaded) == len(files) and {rule.id for rule in loaded} == set(declared)
    assert all(Path(rule.file).name == declared[rule.id] for rule in loaded)


@pytest.mark.parametrize("rule", AZURE_RULES, ids=lambda r: r.id)
def test_rule_carries_baseline_frameworks_and_remediation(rule) -> None:
    assert rule.rationale.startswith("Baseline "), "rationale must quote the baseline requirement it implements"
    assert rule.references.get("baseline")
    assert rule.frameworks().get("mcsb") and rule.frameworks().get("nist-800-53")
    assert rule.remediation.get("summary")
    assert rule.remediation.get("az") or rule.remediation.get("powershell") or rule.remediation.get("bicep")


def test_a_missing_property_gives_unknown_for_every_resource_type() -> None:
    unknown_by_type: dict[str, set[str]] = defaultdict(set)
    for rule in AZURE_RULES:
        cases = yaml.safe_load((CASES / f"{rule.id}.yaml").read_text(encoding="utf-8"))["cases"]
        if any(case["expect"] == "UNKNOWN" for case in cases):
            unknown_by_type[rule.resource_type.lower()].add(rule.id)
    types = {rule.resource_type.lower() for rule in AZURE_RULES} - DEFAULT_DECIDED_TYPES
    assert not sorted(t for t in types if not unknown_by_type[t])


def test_rules_list_filters_by_nist_control() -> None:
    result = CliRunner().invoke(cli, ["rules", "list", "--framework", "nist-800-53:SC-28"])
    assert result.exit_code == 0, result.output
    assert "VDC-ST-004" in result.output and "VDC-SQL-003" in result.output
    assert "VDC-APP-001" not in result.output  # in transit: SC-8, not SC-28


@pytest.mark.parametrize(("suite", "weak"), [
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", False),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", False),
    ("TLS_AES_256_GCM_SHA384", False),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", True),   # SHA-1 MAC
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", True),      # no forward secrecy
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", True),
])
def test_weak_cipher_suites(suite: str, weak: bool) -> None:
    assert (weak_cipher_reason(suite) is not None) is weak


def test_unknown_predefined_policy_name_is_unknown_not_pass() -> None:
    policy = effective_policy({"policyType": "Predefined", "policyName": "AppGwSslPolicy20990101"}, "gateway")
    assert policy.unknown and policy.min_protocol is None


def test_vault_found_by_uri_host_by_name_and_by_id() -> None:
    inventory = Inventory()
    vault_id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cn"
    inventory.add({"id": vault_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-cn",
                   "properties": {"vaultUri": "https://kv-cn.vault.azure.cn/"}}, "snapshot")
    inventory.add({"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-nouri",
                   "type": "microsoft.keyvault/vaults", "name": "kv-nouri", "properties": {}}, "snapshot")
    vaults = VaultIndex(inventory)
    assert vaults.find("https://KV-CN.vault.azure.cn/keys/k/1")["name"] == "kv-cn"
    assert vaults.find("https://kv-nouri.vault.azure.net/keys/k")["name"] == "kv-nouri"
    assert vaults.find(vault_id.upper())["name"] == "kv-cn"
    assert vaults.find("https://missing.vault.azure.net/") is None
