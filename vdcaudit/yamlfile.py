"""Parse YAML files (vdcaudit.yaml, waivers, rule files) and turn every way they can be wrong into one
clear InputError, as jsonfile does for JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vdcaudit.errors import InputError
from vdcaudit.jsonfile import read_text
from vdcaudit.resources import schema_validator

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# libyaml's parser with PyYAML's safe constructor (the same objects, ~10x faster to parse: the
# rule pack is read at every start); the pure-Python loader where libyaml is not compiled in.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, path: Path) -> Any:
    """The document in text (read from path, which messages name)."""
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError):
        pass  # libyaml places some errors elsewhere: the pure-Python loader words and places them
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None
    except ValueError as exc:
        # PyYAML reads an unquoted 2025-13-45 as a timestamp and fails building the date (as it does
        # an explicit `!!int abc`) with a plain ValueError that carries no position.
        value, line = _bad_timestamp(text)
        if value is None:
            raise InputError(f"invalid YAML: {exc}", path) from None
        raise InputError(f"invalid YAML: {value!r} is not a valid date (YYYY-MM-DD)", path, line) from None


def load_config_document(path: Path, what: str) -> tuple[Any, str]:
    """(document, text) of a vdcaudit.yaml-shaped file, validated against the config schema; `what`
    names the document in messages when the problem is at its top level."""
    text = read_text(path)
    data = load_yaml(text, path) or {}
    error = jsonschema.exceptions.best_match(schema_validator("config.schema.json").iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or what
        raise InputError(f"{where}: {error.message}", path)
    return data, text


def _bad_timestamp(text: str) -> tuple[str | None, int | None]:
    loader = yaml.SafeLoader(text)
    try:
        stack = [loader.get_single_node()]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
            elif isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
                try:
                    loader.construct_yaml_timestamp(node)
                except ValueError:
                    return node.value, node.start_mark.line + 1
    finally:
        loader.dispose()
    return None, None
