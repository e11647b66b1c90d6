"""Rules answer Azure Policy built-in definitions by id; the catalog decides the rest. The mapping,
the catalog and the generated table must agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vdcaudit.azure_policy import COVERED, EXCLUDED, NOT_YET, SCREENED, counts, definitions
from vdcaudit.commands.cli import cli
from vdcaudit.errors import InputError
from vdcaudit.policy_docs import render
from vdcaudit.rulepack import load_rule_file, load_rules

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "policies" / "azure-policy-catalog.yaml"
DOCS = REPO / "docs" / "azure-policy.md"
ID = re.compile(r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$")


def test_catalog_entries_are_unique_well_formed_and_every_decision_has_a_reason() -> None:
    entries = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["definitions"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert ID.match(entry["id"]), entry
        assert entry["title"] and entry["category"], entry
        assert not ("screened" in entry and "excluded" in entry), entry
        for key in ("screened", "excluded"):
            if key in entry:
                assert len(entry[key]) >= 20, entry


def test_every_rule_reference_is_a_catalogued_in_scope_definition() -> None:
    found = definitions(load_rules())  # raises on a reference the catalog lacks or has decided against
    tally = counts(found)
    assert tally["in scope"] == tally[COVERED] + tally[EXCLUDED] + tally[NOT_YET]
    assert tally["candidates"] == tally["in scope"] + tally["screened"] == len(found)
    covered = [d for d in found if d.status == COVERED]
    assert covered and all(d.rules for d in covered)
    assert all(not d.rules for d in found if d.status != COVERED)
    # the control the README's example names is answered by VDC-ST-002
    tls = next(d for d in found if d.id == "fe83a0eb-a853-422d-aac2-1bffd182c5d0")
    assert [r.id for r in tls.rules] == ["VDC-ST-002"] and "VDC-ST-002" in tls.differs


def test_a_rule_naming_an_excluded_or_unknown_definition_is_refused(tmp_path: Path) -> None:
    source = (REPO / "rules" / "VDC-ST-001.yaml").read_text(encoding="utf-8")
    for definition_id, words in (("83cef61d-dbd1-4b20-a4fc-5fbc7da10833", "marks excluded"),
                                 ("00000000-0000-0000-0000-000000000000", "does not list")):
        rule_file = tmp_path / "VDC-ST-001.yaml"
        rule_file.write_text(source.replace("404c3081-a854-4457-ae30-26a93ef643f9", definition_id), encoding="utf-8")
        with pytest.raises(InputError, match=words):
            definitions([load_rule_file(rule_file)])


def test_committed_policy_table_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(load_rules()), \
        "docs/azure-policy.md is out of date: run `vdcaudit rules policies --out docs/azure-policy.md`"


@pytest.mark.parametrize("definition_id, expected, code", [
    ("404C3081-A854-4457-AE30-26A93EF643F9", ["(covered)", "VDC-ST-001"], 0),
    ("fe83a0eb-a853-422d-aac2-1bffd182c5d0", ["VDC-ST-002 differs:"], 0),
    ("83cef61d-dbd1-4b20-a4fc-5fbc7da10833", ["(excluded:", "retired on 16 September 2024"], 0),
    ("3827af20-8f80-4b15-8300-6db0873ec901", ["(screened:", "authentication"], 0),
    ("b5ec538c-daa0-4006-8596-35468b9148e8", ["(covered)", "VDC-ST-010"], 0),
    ("00000000-0000-0000-0000-000000000000", ["is not an Azure Policy definition"], 2),
])
def test_rules_list_by_policy(definition_id: str, expected: list[str], code: int) -> None:
    result = CliRunner().invoke(cli, ["rules", "list", "--policy", definition_id])
    assert result.exit_code == code, result.output
    for words in expected:
        assert words in result.output
    if code == 0 and "(covered)" not in result.output and "differs" not in result.output:
        assert "rules in" not in result.output  # no empty table for a definition no rule answers


def test_a_definition_no_rule_answers_is_listed_as_not_yet_covered() -> None:
    # Every in-scope definition is answered or excluded today; take away the rule that answers one
    # and the definition must come back as not yet covered, in the counts and in the table.
    rules = load_rules()
    assert counts(definitions(rules))[NOT_YET] == 0
    without = [rule for rule in rules if rule.id != "VDC-ST-010"]
    by_id = {d.id: d for d in definitions(without)}
    assert by_id["b5ec538c-daa0-4006-8596-35468b9148e8"].status == NOT_YET
    assert counts(definitions(without))[NOT_YET] == 1
    table = render(without)
    assert "not yet covered 1" in table and "b5ec538c-daa0-4006-8596-35468b9148e8" in table


def test_rules_show_and_the_rule_reference_name_the_definitions() -> None:
    shown = CliRunner().invoke(cli, ["rules", "show", "VDC-KV-001"])
    assert shown.exit_code == 0 and "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d" in shown.output
    assert "version: 1" in shown.output
    reference = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "Azure Policy: Key vaults should have soft delete enabled (`1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d`)" in reference


def test_policy_table_goes_to_stdout_unless_out_is_given(tmp_path: Path) -> None:
    printed = CliRunner().invoke(cli, ["rules", "policies"])
    assert printed.exit_code == 0 and printed.output.startswith("# Azure Policy built-in definitions")
    target = tmp_path / "table.md"
    written = CliRunner().invoke(cli, ["rules", "policies", "--out", str(target)])
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == printed.output


def test_sarif_and_html_rule_help_name_the_definitions(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--demo", "--format", "sarif,html", "--out", str(tmp_path)])
    assert result.exit_code in (0, 1), result.output
    import json

    sarif = json.loads((tmp_path / "vdcaudit.sarif").read_text(encoding="utf-8"))
    descriptor = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "VDC-ST-001")
    assert descriptor["properties"]["azure-policy"][0] == "404c3081-a854-4457-ae30-26a93ef643f9"
    assert descriptor["properties"]["version"] == 1
    assert "Azure Policy: Secure transfer to storage accounts should be enabled" in descriptor["help"]["text"]
    html = (tmp_path / "vdcaudit-report.html").read_text(encoding="utf-8")
    assert "Azure Policy: Secure transfer to storage accounts should be enabled" in html


def test_the_readme_states_the_coverage_the_catalog_and_rules_give() -> None:
    tally = counts(definitions(load_rules()))
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert (f"of the {tally['in scope']} built-in Azure Policy definitions on encryption and key management, "
            f"{tally[COVERED]} are answered by rules, {tally[EXCLUDED]} are outside vdcaudit's model") in readme
    assert f"and {tally[NOT_YET]} are not yet covered" in readme
