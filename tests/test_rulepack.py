"""Rule loading: the built-in pack is valid; every way a rule can be wrong is caught at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from vdcaudit.errors import InputError
from vdcaudit.rulepack import load_rule_file, load_rules

VALID = """\
id: VDC-TST-001
title: A test rule for storage
severity: high
category: in-transit
resource_type: Microsoft.Storage/storageAccounts
assert: "properties.supportsHttpsTrafficOnly == `true`"
rationale: Because the baseline says so.
remediation: {summary: Fix it.}
references: {baseline: test}
version: 1
"""


def write_rule(tmp_path: Path, text: str, name: str = "VDC-TST-001.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_rules_load_and_compile(builtin_rules) -> None:
    assert len(builtin_rules) >= 12
    for rule in builtin_rules.values():
        assert rule.check or rule.assertion is not None


def test_required_paths_come_from_the_assertion(tmp_path: Path) -> None:
    rule = load_rule_file(write_rule(tmp_path, VALID))
    assert [r.describe() for r in rule.requirements] == ["properties.supportsHttpsTrafficOnly"]


def test_invalid_jmespath_is_rejected_with_line(tmp_path: Path) -> None:
    text = VALID.replace('assert: "properties.supportsHttpsTrafficOnly == `true`"', 'assert: "properties.[?"')
    with pytest.raises(InputError) as error:
        load_rule_file(write_rule(tmp_path, text))
    assert error.value.line == 6
    assert "invalid JMESPath in 'assert'" in error.value.one_line()


def test_invalid_where_is_rejected_with_line(tmp_path: Path) -> None:
    text = VALID.replace("assert:", 'where: "name ==="\nassert:')
    with pytest.raises(InputError) as error:
        load_rule_file(write_rule(tmp_path, text))
    assert (error.value.line, "'where'" in error.value.problem) == (6, True)


@pytest.mark.parametrize(("change", "expected"), [
    (("severity: high", "severity: urgent"), "severity: 'urgent' is not one of"),
    (("id: VDC-TST-001", "id: storage-1"), "id: 'storage-1' does not match"),
    (("rationale: Because the baseline says so.\n", ""), "'rationale' is a required property"),
    (('assert: "properties.supportsHttpsTrafficOnly == `true`"\n', ""), "needs either 'assert'"),
    (("references: {baseline: test}", "references: {baseline: test, nist: [SC-8]}"), "Additional properties"),
    (("version: 1\n", ""), "'version' is a required property"),
    (("version: 1", "version: 0"), "0 is less than the minimum of 1"),
    (("references: {baseline: test}", "references: {baseline: test, azure-policy: [{id: 404c3081, title: A policy title}]}"),
     "does not match"),
])
def test_schema_violations_name_the_field(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(InputError, match="VDC-TST-001.yaml") as error:
        load_rule_file(write_rule(tmp_path, VALID.replace(*change)))
    assert expected in error.value.problem


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        load_rule_file(write_rule(tmp_path, VALID + "evidence: [unclosed\n"))
    assert error.value.line is not None and "invalid YAML" in error.value.problem


def test_unknown_python_check_is_rejected(tmp_path: Path) -> None:
    text = VALID.replace('assert: "properties.supportsHttpsTrafficOnly == `true`"', "check: no_such_check")
    with pytest.raises(InputError, match="not a registered Python check"):
        load_rule_file(write_rule(tmp_path, text))


def test_file_name_must_match_id(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file name must be the rule id"):
        load_rule_file(write_rule(tmp_path, VALID, "storage.yaml"))


def test_duplicate_ids_across_folders_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_rule(tmp_path / "a", VALID)
    write_rule(tmp_path / "b", VALID)
    with pytest.raises(InputError, match="duplicate rule id VDC-TST-001"):
        load_rules([tmp_path / "a", tmp_path / "b"], include_builtin=False)


def test_extra_rule_folder_adds_to_builtin(tmp_path: Path, builtin_rules) -> None:
    write_rule(tmp_path, VALID)
    ids = [rule.id for rule in load_rules([tmp_path])]
    assert "VDC-TST-001" in ids and len(ids) == len(builtin_rules) + 1


def test_a_named_selector_and_the_rules_own_where_both_decide(tmp_path: Path) -> None:
    from vdcaudit.jmes import search

    text = VALID.replace("assert:", "selectors: [premium-sku]\nwhere: \"kind != 'FileStorage'\"\nassert:")
    rule = load_rule_file(write_rule(tmp_path, text))
    assert rule.selectors == ("premium-sku",) and rule.where_text == "kind != 'FileStorage'"
    assert rule.where is not None
    assert search(rule.where, {"sku": {"name": "Premium"}, "kind": "StorageV2"})
    assert not search(rule.where, {"sku": {"name": "Standard"}, "kind": "StorageV2"})
    assert not search(rule.where, {"sku": {"name": "Premium"}, "kind": "FileStorage"})
    assert rule.metadata()["selectors"] == ["premium-sku"]


def test_an_unknown_selector_is_refused_with_its_line(tmp_path: Path) -> None:
    text = VALID.replace("assert:", "selectors: [premium-skus]\nassert:")
    with pytest.raises(InputError, match="unknown selector 'premium-skus'") as error:
        load_rule_file(write_rule(tmp_path, text))
    assert error.value.line == 6


def test_files_starting_with_an_underscore_are_not_rules(tmp_path: Path) -> None:
    from vdcaudit.rulepack import rule_files

    write_rule(tmp_path, VALID)
    (tmp_path / "_shared.yaml").write_text("not: a rule\n", encoding="utf-8")
    assert [p.name for p in rule_files(tmp_path)] == ["VDC-TST-001.yaml"]
