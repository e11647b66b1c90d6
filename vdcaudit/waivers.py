"""Waivers: accepted exceptions, kept in one reviewed file (`waivers:` in vdcaudit.yaml, or the file
given with --waivers, which has the same shape).

Each waiver names a rule id and a resource id (both may be globs: `*`, `?`, `[...]`; compared
case-insensitively), a justification, an owner and an expiry date (the last day it applies).
- A waived finding keeps its status and is shown with its waiver; it is never hidden. It no longer
  counts for the --fail-on gate.
- An expired waiver applies to nothing and is reported as expired.
- A waiver that matches no finding that needs it (no FAIL, WARN, UNKNOWN or ERROR) is reported as
  stale, so fixed or renamed resources do not leave blanket exceptions behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from vdcaudit.errors import InputError
from vdcaudit.model import Finding, Status, Waiver
from vdcaudit.yamlfile import load_config_document


@dataclass(frozen=True)
class WaiverEntry:
    rule: str
    resource: str
    justification: str
    owner: str
    expires: date
    file: str
    line: int | None = None

    def matches(self, finding: Finding) -> bool:
        return fnmatchcase(finding.rule_id.lower(), self.rule.lower()) \
            and fnmatchcase(finding.resource_id.lower(), self.resource.lower())

    def expired(self, today: date) -> bool:
        return today > self.expires

    def to_model(self) -> Waiver:
        return Waiver(rule=self.rule, resource=self.resource, justification=self.justification,
                      owner=self.owner, expires=self.expires.isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "resource": self.resource, "justification": self.justification,
                "owner": self.owner, "expires": self.expires.isoformat(),
                "location": f"{self.file}:{self.line}" if self.line else self.file}


NEEDS_WAIVER = {Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR}


def parse_waivers(items: list[dict[str, Any]], path: Path, text: str) -> list[WaiverEntry]:
    """Schema-valid `waivers:` items -> entries, with each item's line for messages."""
    lines = _item_lines(text)
    entries = []
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else None
        entries.append(WaiverEntry(
            rule=str(item["rule"]), resource=str(item["resource"]), justification=str(item["justification"]).strip(),
            owner=str(item["owner"]), expires=_date(item["expires"], path, line), file=str(path), line=line))
    return entries


def _date(value: Any, path: Path, line: int | None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"waiver expires: {value!r} is not a date (YYYY-MM-DD)", path, line) from None


def _item_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level `waivers:` sequence."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "waivers" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_waivers_file(path: Path) -> list[WaiverEntry]:
    """A file with a `waivers:` list (vdcaudit.yaml itself will do), validated by the config schema."""
    data, text = load_config_document(path, "waivers file")
    if not isinstance(data, dict) or "waivers" not in data:
        raise InputError("no 'waivers:' list in the file", path)
    return parse_waivers(data["waivers"] or [], path, text)


def apply_waivers(findings: list[Finding], waivers: list[WaiverEntry], today: date) -> dict[str, Any]:
    """Set Finding.waiver where a live waiver matches; return the report's `waivers` section."""
    active = [w for w in waivers if not w.expired(today)]
    used: dict[WaiverEntry, int] = {w: 0 for w in active}
    for finding in findings:
        if finding.status not in NEEDS_WAIVER:
            continue
        waiver = next((w for w in active if w.matches(finding)), None)  # first in file order wins
        if waiver is not None:
            finding.waiver = waiver.to_model()
            used[waiver] += 1
    return {
        "applied": [{**w.to_dict(), "findings": n} for w, n in used.items() if n],
        "expired": [w.to_dict() for w in waivers if w.expired(today)],
        "stale": [w.to_dict() for w, n in used.items() if not n],
    }
