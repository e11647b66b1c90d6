"""Tests read a written vdcaudit-findings.json through the product's one reader, so they see every
finding flat (resource and rule fields included) whatever the schema version stores once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vdcaudit.findings_file import read_findings_file


def findings_in(path: Path) -> list[dict[str, Any]]:
    """The findings of a findings file (or of the vdcaudit-findings.json in a report folder)."""
    path = Path(path)
    return read_findings_file(path / "vdcaudit-findings.json" if path.is_dir() else path).findings
