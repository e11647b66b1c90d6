"""`vdcaudit rules validate` lints what the schema cannot see: a presence test against null on a
string property takes "" for a value (a cluster printing keyName "" has no key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli

RULE = """id: VDC-TST-001
version: 1
title: Test clusters name a key
severity: low
category: at-rest
resource_type: Microsoft.OperationalInsights/clusters
assert: "{assertion}"
rationale: A test rule for the lint, long enough for the schema.
remediation: {{summary: Associate a key with the cluster.}}
references: {{baseline: Data at rest is encrypted}}
"""


def validate(tmp_path: Path, assertion: str) -> tuple[int, str]:
    (tmp_path / "VDC-TST-001.yaml").write_text(RULE.format(assertion=assertion), encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "validate", str(tmp_path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("assertion", [
    "properties.keyVaultProperties.keyName != null",
    "properties.keyVaultProperties.keyVaultUri != `null`",
    "length(properties.disks[?diskEncryptionSet.id == null]) == `0`"])
def test_a_null_test_on_a_string_property_is_flagged(tmp_path: Path, assertion: str) -> None:
    code, output = validate(tmp_path, assertion)
    assert code == 2
    assert "takes an empty string for a value" in output and "length(" in output
    assert "0 valid, 1 invalid" in output


@pytest.mark.parametrize("assertion", [
    "length(properties.keyVaultProperties.keyName || '') > `0`",
    "properties.attributes.exp != null",            # a number (epoch seconds): no empty string to take
    "properties.virtualMachineProfile != null"])     # an object
def test_length_tests_and_non_string_properties_pass(tmp_path: Path, assertion: str) -> None:
    code, output = validate(tmp_path, assertion)
    assert code == 0, output


def test_the_built_in_pack_is_lint_free() -> None:
    result = CliRunner().invoke(cli, ["rules", "validate"])
    assert result.exit_code == 0, result.output
