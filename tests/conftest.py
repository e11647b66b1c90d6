from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from vdcaudit import forking
from vdcaudit.rulepack import Rule, load_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def builtin_rules() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_rules()}


@pytest.fixture
def write_json(tmp_path: Path):
    """Write a JSON document (or raw text) to a file under tmp_path and return its path."""
    def write(name: str, content: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        return path
    return write


@pytest.fixture
def forked_workers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the worker processes (vdcaudit.forking) started during the test, in order."""
    started: list[str] = []
    real = forking.Forked.__init__

    def spy(self: forking.Forked, target: Any, name: str) -> None:
        real(self, target, name)
        started.append(name)
    monkeypatch.setattr(forking.Forked, "__init__", spy)
    return started


@pytest.fixture(scope="session")
def sarif_validator() -> jsonschema.Draft4Validator:
    """The OASIS SARIF 2.1.0 schema (tests/data), as GitHub code scanning validates uploads."""
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)
