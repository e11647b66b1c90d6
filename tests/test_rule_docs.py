"""docs/rules.md is generated from the rule files and must be kept in step with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.rule_docs import render
from vdcaudit.rulepack import load_rules

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "rules.md"


def test_committed_rule_docs_are_up_to_date() -> None:
    expected = render(load_rules())
    assert DOCS.is_file(), "docs/rules.md is missing: run `vdcaudit rules docs`"
    assert DOCS.read_text(encoding="utf-8") == expected, \
        "docs/rules.md is out of date with rules/*.yaml: run `vdcaudit rules docs`"


def test_docs_have_a_table_per_category_and_a_section_per_rule() -> None:
    rules = load_rules()
    text = render(rules)
    for category in ("at-rest", "in-transit", "key-management"):
        assert f"## {category} (" in text
    for rule in rules:
        assert f"\n### {rule.id}\n" in text
        assert f"[{rule.id}](#{rule.id.lower()})" in text


def test_docs_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "rules.md"
    result = CliRunner().invoke(cli, ["rules", "docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render(load_rules())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "temporary file left behind"


def test_docs_command_reports_an_unwritable_path_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "docs", "--out", str(blocker / "rules.md")])
    assert result.exit_code == 2
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_docs_command_without_out_prints_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["rules", "docs"])
    assert result.exit_code == 0
    assert result.output == render(load_rules())
    assert list(tmp_path.iterdir()) == []
