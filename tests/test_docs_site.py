"""The documentation site: every page reachable, the JSON contract's version as shipped, no lab notes.

`mkdocs build --strict` (run by .ci/run) checks links and anchors; these checks need no MkDocs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# Lab notes belong in benchmarks/README.md: issue numbers, rounds, "not met" lists, commit ids.
LAB_NOTE = re.compile(r"\bissue \d+|\(issue|\brounds?\b|\bnot met\b|\bStart =", re.I)
COMMIT_LIKE = re.compile(r"(?<![0-9A-Za-z_/-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![0-9A-Za-z_-])")
NOT_COMMITS = {"ed25519"}
# A citation of the upstream data a generated page was made from names that repository's commit.
UPSTREAM_CITATION = "Made from Azure/azure-policy at commit"


def nav_pages(entries: list) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = nav_pages(config["nav"])
    assert all((DOCS / page).is_file() for page in pages), pages
    top_level = sorted(path.name for path in DOCS.glob("*.md"))
    assert sorted(page for page in pages if "/" not in page) == top_level
    assert "rules/index.md" in pages
    rule_pages = {path.stem for path in (DOCS / "rules").glob("VDC-*.md")}
    index = (DOCS / "rules" / "index.md").read_text(encoding="utf-8")
    assert rule_pages and all(f"]({rule}.md)" in index for rule in rule_pages)


def test_the_json_page_states_the_shipped_schema_version() -> None:
    schema = json.loads((REPO / "vdcaudit" / "schemas" / "vdcaudit-findings.schema.json").read_text(encoding="utf-8"))
    page = (DOCS / "json.md").read_text(encoding="utf-8")
    assert f"**{schema['version']}** today" in page
    assert (DOCS / "schemas" / "vdcaudit-findings.schema.json").read_bytes() == \
        (REPO / "vdcaudit" / "schemas" / "vdcaudit-findings.schema.json").read_bytes()


def test_user_docs_hold_no_lab_notes() -> None:
    found = []
    for path in [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            commits = [word for word in COMMIT_LIKE.findall(line)
                       if word not in NOT_COMMITS and UPSTREAM_CITATION not in line]
            if LAB_NOTE.search(line) or commits:
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not found, "lab notes belong in benchmarks/README.md:\n" + "\n".join(found)
