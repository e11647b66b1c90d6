"""Waivers: accepted exceptions, kept in one reviewed file (`waivers:` in vdcaudit.yaml, or the file
given with --waivers, which has the same shape).

Each waiver names a rule id and a resource id (both may be globs: `*`, `?`, `[...]`; compared
case-insensitively), a justification, an owner and an expiry date (the last day it applies); it may
name an approver and the date it was created.
- A waiver is refused (exit 2) when it matches every rule and every resource (a blanket exception
  is no exception), when its rule matches no rule of the loaded pack (a typo would otherwise waive
  nothing while looking reviewed), when it was created after it expires or after today, and, when
  vdcaudit.yaml sets `waivers.max_days`, when it has no `created` date or runs longer than that.
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
from vdcaudit.io.yamlfile import load_config_document


@dataclass(frozen=True)
class WaiverEntry:
    rule: str
    resource: str
    justification: str
    owner: str
    expires: date
    file: str
    line: int | None = None
    approver: str | None = None
    created: date | None = None

    def matches(self, finding: Finding) -> bool:
        return fnmatchcase(finding.rule_id.lower(), self.rule.lower()) \
            and fnmatchcase(finding.resource_id.lower(), self.resource.lower())

    def expired(self, today: date) -> bool:
        return today > self.expires

    def to_model(self) -> Waiver:
        return Waiver(rule=self.rule, resource=self.resource, justification=self.justification,
                      owner=self.owner, expires=self.expires.isoformat(), approver=self.approver,
                      created=self.created.isoformat() if self.created else None)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "resource": self.resource, "justification": self.justification,
                "owner": self.owner, "expires": self.expires.isoformat(),
                **({"approver": self.approver} if self.approver is not None else {}),
                **({"created": self.created.isoformat()} if self.created is not None else {}),
                "location": f"{self.file}:{self.line}" if self.line else self.file}

    def refuse(self, problem: str) -> InputError:
        return InputError(f"waiver {self.rule} on {self.resource}: {problem}", self.file, self.line)


NEEDS_WAIVER = {Status.FAIL, Status.WARN, Status.UNKNOWN, Status.ERROR}


def parse_waivers(items: list[dict[str, Any]], path: Path, text: str) -> list[WaiverEntry]:
    """Schema-valid `waivers:` items -> entries, with each item's line for messages."""
    lines = _item_lines(text)
    entries = []
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else None
        entries.append(WaiverEntry(
            rule=str(item["rule"]), resource=str(item["resource"]), justification=str(item["justification"]).strip(),
            owner=str(item["owner"]), expires=_date(item["expires"], "expires", path, line), file=str(path), line=line,
            approver=str(item["approver"]) if item.get("approver") is not None else None,
            created=_date(item["created"], "created", path, line) if item.get("created") is not None else None))
    return entries


def waiver_items(section: Any) -> list[dict[str, Any]]:
    """The waivers of a `waivers:` section: a list, or {max_days, list} (None: no waivers)."""
    if isinstance(section, dict):
        return list(section.get("list") or [])
    return list(section or [])


def max_days(section: Any) -> int | None:
    """The lifetime cap a `waivers:` section sets (`waivers.max_days`), if any."""
    return section.get("max_days") if isinstance(section, dict) else None


def _date(value: Any, name: str, path: Path, line: int | None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"waiver {name}: {value!r} is not a date (YYYY-MM-DD)", path, line) from None


# Ids of every shape a finding can be about (an ARM resource, a subscription, a management group,
# an SDN resource, an unmapped Terraform resource, the file:line scope of a template or plan gap): a
# resource pattern matching all of them matches every resource there can be.
_PROBE_IDS = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
              "Microsoft.Storage/storageAccounts/st", "/subscriptions/00000000-0000-0000-0000-000000000000",
              "/providers/Microsoft.Management/managementGroups/mg",
              "sdn://nc.contoso.com/networking/v1/virtualNetworks/vnet", "terraform:azurerm_x.y", "main.json:12")


def _matches_everything(pattern: str, names: list[str]) -> bool:
    """A glob made of wildcards only (`*`, `**`, `?*`), or one matching every name given."""
    if not pattern.replace("*", "").replace("?", ""):
        return True
    return bool(names) and all(fnmatchcase(name.lower(), pattern.lower()) for name in names)


def check_waivers(waivers: list[WaiverEntry], rule_ids: list[str], today: date, cap: int | None) -> None:
    """Refuse (InputError, exit 2) the waivers no reviewer should have accepted; see the module doc."""
    for waiver in waivers:
        if _matches_everything(waiver.rule, rule_ids) and _matches_everything(waiver.resource, list(_PROBE_IDS)):
            raise waiver.refuse("matches every rule and every resource; name the rule(s) or the resource(s) it excuses")
        if not any(fnmatchcase(rule_id.lower(), waiver.rule.lower()) for rule_id in rule_ids):
            raise waiver.refuse("names no rule of the loaded rule pack (see `vdcaudit rules list`)")
        if waiver.created is not None and waiver.created > waiver.expires:
            raise waiver.refuse(f"created {waiver.created} after it expires ({waiver.expires})")
        if waiver.created is not None and waiver.created > today:
            raise waiver.refuse(f"created {waiver.created}, a date after today ({today})")
        if cap is None:
            continue
        if waiver.created is None:
            raise waiver.refuse(f"has no 'created' date, and waivers.max_days ({cap}) caps how long a waiver lasts")
        days = (waiver.expires - waiver.created).days
        if days > cap:
            raise waiver.refuse(f"lasts {days} days (created {waiver.created}, expires {waiver.expires}), "
                                f"longer than waivers.max_days: {cap}")


def _item_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level `waivers:` sequence (or its `list:`)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "waivers" and isinstance(value, yaml.MappingNode):
            value = next((v for k, v in value.value if isinstance(k, yaml.ScalarNode) and k.value == "list"), None)
        if isinstance(key, yaml.ScalarNode) and key.value == "waivers" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_waivers_file(path: Path) -> list[WaiverEntry]:
    """A file with a `waivers:` list (vdcaudit.yaml itself will do), validated by the config schema."""
    data, text = load_config_document(path, "waivers file")
    if not isinstance(data, dict) or "waivers" not in data:
        raise InputError("no 'waivers:' list in the file", path)
    if max_days(data["waivers"]) is not None:
        # a cap set by the file it caps caps nothing: it belongs to the reviewed vdcaudit.yaml
        raise InputError("waivers.max_days is read from --config (vdcaudit.yaml) only, not from --waivers", path)
    return parse_waivers(waiver_items(data["waivers"]), path, text)


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
