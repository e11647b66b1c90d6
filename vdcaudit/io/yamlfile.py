"""Parse YAML files (vdcaudit.yaml, waivers, rule files) and turn every way they can be wrong into one
clear InputError, as jsonfile does for JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import MAX_DEPTH, read_text
from vdcaudit.resources import schema_validator

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# Values a document may hold once its aliases are expanded. PyYAML shares one object per anchor,
# but everything after it (schema validation, reports) walks the expanded tree: nine lines of
# anchors doubling each other ("billion laughs") are 10^9 values. Real rule, config and waiver
# files hold a few hundred.
MAX_VALUES = 100_000


class _TooBig(Exception):
    pass

# libyaml's parser with PyYAML's safe constructor (the same objects, ~10x faster to parse: the
# rule pack is read at every start); the pure-Python loader where libyaml is not compiled in.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, path: Path) -> Any:
    """The document in text (read from path, which messages name). Aliases are counted before the
    document is built: one expanding past MAX_VALUES values, a recursive one, or nesting deeper
    than MAX_DEPTH is refused."""
    try:
        try:
            return _built(text, _SAFE_LOADER)
        except (yaml.YAMLError, ValueError, IndexError, TypeError, OverflowError):
            # libyaml words and places some errors differently: the pure-Python loader decides
            return _built(text, yaml.SafeLoader)
    except _TooBig as exc:
        raise InputError(f"invalid YAML: {exc}", path) from None
    except RecursionError:
        raise InputError(f"invalid YAML: nested deeper than {MAX_DEPTH} levels", path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None
    except (IndexError, TypeError, OverflowError) as exc:
        # PyYAML building a tagged value it cannot build (`!!int` with no digits, say)
        raise InputError(f"invalid YAML: a value cannot be built ({type(exc).__name__}: {exc})", path) from None
    except ValueError as exc:
        # PyYAML reads an unquoted 2025-13-45 as a timestamp and fails building the date (as it does
        # an explicit `!!int abc`) with a plain ValueError that carries no position.
        value, line = _bad_timestamp(text)
        if value is None:
            raise InputError(f"invalid YAML: {exc}", path) from None
        raise InputError(f"invalid YAML: {value!r} is not a valid date (YYYY-MM-DD)", path, line) from None


def _built(text: str, loader_class: Any) -> Any:
    """The document, its aliases counted (_check_size) before it is built."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_size(root: yaml.Node) -> None:
    """Count the values and the depth of the document as if every alias were expanded, visiting
    each distinct node once (aliases are the same node object reached twice)."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if size[key] > MAX_VALUES:
                raise _TooBig(f"aliases expand to more than {MAX_VALUES:,} values")
            if height[key] > MAX_DEPTH:
                raise _TooBig(f"nested deeper than {MAX_DEPTH} levels")
            continue
        if key in size:
            continue
        if key in on_path:
            raise _TooBig("an alias refers to the node that contains it (recursive alias)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


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
