"""Where the data shipped with vdcaudit (rules, templates, demo fixtures, schemas) lives.

In an installed wheel they sit in vdcaudit/_data (see pyproject's force-include); in a source
checkout (editable install, or tests run from the repository) they are the top-level folders.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema

_PACKAGE_DIR = Path(__file__).resolve().parent
_INSTALLED = _PACKAGE_DIR / "_data"
_SOURCE_TREE = _PACKAGE_DIR.parent

# name -> path relative to the installed data dir, and relative to the source tree
_LOCATIONS = {
    "rules": ("rules", "rules"),
    "templates": ("templates", "reports/templates"),
    "demo": ("fixtures/demo", "fixtures/demo"),
    "demo-next": ("fixtures/demo-next", "fixtures/demo-next"),
    "policies": ("policies", "policies"),
}


def data_path(name: str) -> Path:
    installed, source = _LOCATIONS[name]
    candidate = _INSTALLED / installed
    if candidate.is_dir():
        return candidate
    return _SOURCE_TREE / source


def schema_path(name: str) -> Path:
    """JSON Schemas are ordinary package files (vdcaudit/schemas)."""
    return _PACKAGE_DIR / "schemas" / name


@lru_cache(maxsize=None)
def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one of the shipped schemas, read and checked once per process."""
    return jsonschema.Draft202012Validator(json.loads(schema_path(name).read_text(encoding="utf-8")))
