"""docs/rules/<RULE_ID>.md is generated from the rule files and their cases; every ARM example on
a page gives the verdict the page shows, judged here again through the template source."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import date
from pathlib import Path

import pytest

from vdcaudit.rulepack import load_rules

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rule_pages", REPO / "scripts" / "rule_pages.py")
assert _spec and _spec.loader
rule_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rule_pages)

RULES = {rule.id: rule for rule in load_rules()}
EXAMPLE = re.compile(r"^### (PASS|FAIL|WARN): [^\n]*?(?:\(judged as of (\d{4}-\d{2}-\d{2})[^\n]*)?\n\n"
                     r"(?:vdcaudit\.yaml \(`--config`\):\n\n```yaml\n(.*?)\n```\n\n)?"
                     r"ARM template:\n\n```json\n(.*?)\n```", re.S | re.M)


def test_one_page_per_rule_and_every_page_is_up_to_date() -> None:
    wanted = rule_pages.pages()
    assert set(wanted) == {f"{rule_id}.md" for rule_id in RULES} | {"index.md"}
    stale = [name for name, text in wanted.items()
             if (REPO / "docs" / "rules" / name).read_text(encoding="utf-8") != text]
    assert not stale, f"out of date (run python scripts/rule_pages.py): {stale}"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_example_on_a_page_gives_its_verdict(rule_id: str) -> None:
    page = (REPO / "docs" / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
    for verdict, day, settings, template in EXAMPLE.findall(page):
        judged_on = date.fromisoformat(day) if day else None
        assert rule_pages.judge(RULES[rule_id], json.loads(template), judged_on, settings or None) == verdict, \
            (rule_id, verdict)


def test_most_rules_show_a_passing_and_a_failing_template() -> None:
    shown = [rule_id for rule_id in RULES
             if {"PASS"} <= {v for v, *_ in EXAMPLE.findall((REPO / "docs" / "rules" / f"{rule_id}.md").read_text(encoding="utf-8"))}]
    # multi-resource rules (a key vault, a child resource) included; SDN rules show NC bodies instead
    assert len(shown) >= 118


def test_a_page_without_a_template_example_says_why() -> None:
    for rule_id, rule in RULES.items():
        page = (REPO / "docs" / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
        if not EXAMPLE.findall(page) and "template" in rule.sources:
            assert f"No template example: {rule_pages.why_no_example(rule)};" in page, rule_id


def test_bicep_keeps_keys_and_strings_as_bicep_writes_them() -> None:
    template = {"resources": [{"type": "Microsoft.Web/sites", "apiVersion": "2024-04-01", "name": "app",
                               "properties": {"siteConfig": {"minTlsVersion": "1.2", "it's": [True, None, 3]}}}]}
    assert rule_pages.bicep_of(template) == (
        "resource example 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'app'\n  properties: {\n"
        "    siteConfig: {\n      minTlsVersion: '1.2'\n      'it\\'s': [\n        true\n        null\n        3\n"
        "      ]\n    }\n  }\n}")


def test_a_rules_defaults_read_the_same_on_its_page_and_in_the_reference() -> None:
    """One renderer (rule_docs.default_lines) for both documents: every documented default, of all
    three kinds (plain, by API version, by condition), stands word for word in both."""
    from vdcaudit.rule_docs import default_lines, render

    reference = render(list(RULES.values()))
    pages = rule_pages.pages()
    kinds = {"plain": 0, "api": 0, "when": 0}
    for rule in RULES.values():
        for line in default_lines(rule):
            assert line in reference and line in pages[f"{rule.id}.md"], (rule.id, line)
        kinds["plain"] += bool(rule.absent_default)
        kinds["api"] += bool(rule.absent_default_by_api_version)
        kinds["when"] += bool(rule.absent_default_when)
    assert all(kinds.values()), kinds


SDN_EXAMPLE = re.compile(r"^### (PASS|FAIL|WARN): [^\n]*?(?:\(judged at ([^)]+)\))?\n\nJudged: `([^`]+)`([^\n]*)\n\n"
                         r"(.*?)(?=^### |\Z)", re.S | re.M)
SDN_FILE = re.compile(r"^`([\w./-]+\.json)`: [^\n]*\n\n```json\n(.*?)\n```", re.S | re.M)
SDN_OPTION = re.compile(r"`--([\w-]+) ([^`]+)`")


@pytest.mark.parametrize("rule_id", sorted(r for r in RULES if "template" not in RULES[r].sources and "sdn" in RULES[r].sources))
def test_every_sdn_example_on_a_page_gives_its_verdict(rule_id: str) -> None:
    """An SDN page shows Network Controller REST bodies (not a template): the files it shows, as a
    snapshot folder, give the verdict the page states."""
    page = (REPO / "docs" / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
    examples = SDN_EXAMPLE.findall(page)
    if not examples:
        assert "No template example: " in page, rule_id  # and the page says why
        return
    assert {"PASS"} < {verdict for verdict, *_ in examples}, rule_id
    for verdict, now, about, options_text, body in examples:
        files = {name: json.loads(text) for name, text in SDN_FILE.findall(body)}
        assert files, (rule_id, verdict)
        options = {k.replace("-", "_"): int(v) if v.isdigit() else v for k, v in SDN_OPTION.findall(options_text)}
        assert rule_pages.judge_sdn(RULES[rule_id], files, about, now or None, options) == verdict, (rule_id, verdict)


def test_an_sdn_body_changed_on_a_page_changes_its_verdict() -> None:
    """The re-judging above can fail: the failing example of VDC-SDN-001 with its subnet's
    encryption turned off no longer FAILs."""
    page = (REPO / "docs" / "rules" / "VDC-SDN-001.md").read_text(encoding="utf-8")
    verdict, now, about, _, body = next(e for e in SDN_EXAMPLE.findall(page) if e[0] == "FAIL")
    files = {name: json.loads(text) for name, text in SDN_FILE.findall(body)}
    for subnet in files["virtualNetworks.json"]["value"][0]["properties"]["subnets"]:
        subnet["properties"]["encryptionEnabled"] = False
    assert rule_pages.judge_sdn(RULES["VDC-SDN-001"], files, about, now or None, {}) != "FAIL"


def test_an_example_judged_with_settings_needs_them() -> None:
    """VDC-KV-003 depends on key_owners: its page shows the vdcaudit.yaml it was judged with, and
    without it the same template is not PASS."""
    page = (REPO / "docs" / "rules" / "VDC-KV-003.md").read_text(encoding="utf-8")
    verdict, day, settings, template = next(e for e in EXAMPLE.findall(page) if e[0] == "PASS")
    assert "key_owners" in settings
    assert rule_pages.judge(RULES["VDC-KV-003"], json.loads(template), None, settings) == "PASS"
    assert rule_pages.judge(RULES["VDC-KV-003"], json.loads(template), None, None) != "PASS"
