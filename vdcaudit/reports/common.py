"""Facts about a scan that several output formats print the same way: the rule-pack identity,
the scope of the scan, and which statuses count as gaps. Nothing here re-evaluates a finding."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from vdcaudit.model import Finding, Status
from vdcaudit.provenance import shown_path
from vdcaudit.rulepack import Rule
from vdcaudit.scan import ScanResult
from vdcaudit.summary import UNSCOPED

# A gap is anything not shown to be compliant. WARN is compliant for now and listed apart.
GAP_STATUSES = (Status.FAIL, Status.UNKNOWN, Status.ERROR)
# Source kinds grouped under the headings the cover page uses; kinds not named here are listed
# under their own name, so a new source shows up without touching this module.
SCOPE_HEADINGS = {
    "azure": "Azure (live)",
    "snapshot": "Azure snapshots",
    "sdn": "SDN Network Controllers",
    "template": "Templates",
    "terraform": "Terraform plans",
    "iac": "Templates",
}
# Keys a source record may use to name the tenant(s) and subscription(s) it read.
_TENANT_KEYS = ("tenant", "tenant_id", "tenantId", "tenants")
_SUBSCRIPTION_KEYS = ("subscription", "subscription_id", "subscriptionId", "subscriptions")


def rulepack_digest(rules: list[Rule]) -> str:
    """The full sha256 (64 hex) over the rules' metadata: two scans with the same digest were
    judged by the same rule text, whatever the tool version."""
    return hashlib.sha256(
        json.dumps([r.metadata() for r in rules], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()


def rulepack_version(rules: list[Rule]) -> str:
    """`<count> rules, sha256:<64 hex>`: the whole digest, as every report shows it (an auditor
    compares it with the rule pack they hold, and a cut digest proves less)."""
    return f"{len(rules)} rules, sha256:{rulepack_digest(rules)}"


def is_open_gap(finding: Finding) -> bool:
    return finding.status in GAP_STATUSES and finding.waiver is None


def _values(record: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, list):
            found.extend(str(v) for v in value if v)
    return found


@dataclass
class SourceLine:
    location: str  # relative to where the scan ran (vdcaudit.provenance.shown_path)
    resources: int | None
    note: str = ""  # why the inventory counts more than `resources` (a live scan)


@dataclass
class Scope:
    tenants: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    subscription_names: dict[str, str] = field(default_factory=dict)  # where a source gave them
    sources: dict[str, list[SourceLine]] = field(default_factory=dict)  # by heading

    def resources_by_location(self) -> dict[str, int | None]:
        return {line.location: line.resources for lines in self.sources.values() for line in lines}


def _inventory_note(record: dict[str, Any]) -> str:
    """A live scan reads resources in three ways; its `resources` are the first only."""
    children, counted = record.get("children"), record.get("counted_only")
    parts = []
    if isinstance(children, int) and children:
        parts.append(f"+ {children:,} child resources read from their parents (databases, role assignments, settings)")
    if isinstance(counted, int) and counted:
        parts.append(f"+ {counted:,} resources of types no rule reads, counted by Resource Graph but not read")
    listed = record.get("resources")
    if not parts or not isinstance(listed, int):
        return ""
    total = listed + (children if isinstance(children, int) else 0) + (counted if isinstance(counted, int) else 0)
    return f"{listed:,} listed " + " ".join(parts) + f" = {total:,} resources"


def scan_scope(result: ScanResult) -> Scope:
    scope = Scope()
    tenants: dict[str, None] = {}
    subscriptions: dict[str, None] = {}
    for record in result.sources:
        for tenant in _values(record, _TENANT_KEYS):
            tenants[tenant] = None
        for subscription in _values(record, _SUBSCRIPTION_KEYS):
            subscriptions[subscription] = None
        kind = str(record.get("kind", "source"))
        heading = SCOPE_HEADINGS.get(kind, kind)
        count = record.get("resources")
        names = record.get("subscription_names")
        if isinstance(names, dict):
            scope.subscription_names.update({str(k): str(v) for k, v in names.items()})
        scope.sources.setdefault(heading, []).append(SourceLine(
            shown_path(str(record.get("location", ""))), count if isinstance(count, int) else None,
            _inventory_note(record)))
    for subscription in result.summary.get("by_subscription", {}):
        if subscription != UNSCOPED:
            subscriptions[subscription] = None
    scope.tenants = sorted(tenants)
    scope.subscriptions = sorted(subscriptions)
    return scope


@dataclass
class Unassessed:
    cause: str
    findings: int = 0
    rules: set[str] = field(default_factory=set)


def unassessed_causes(result: ScanResult) -> list[Unassessed]:
    """The UNKNOWN and ERROR findings (waived or not) grouped by why they could not be assessed,
    most first: what the report's coverage statement counts."""
    unread = {r.scope.lower(): r for r in result.coverage}
    causes: dict[str, Unassessed] = {}
    for finding in result.findings:
        if finding.status not in (Status.UNKNOWN, Status.ERROR):
            continue
        record = unread.get(finding.resource_id.lower())
        if finding.status is Status.ERROR:
            cause = "could not be judged: malformed data or a failing check (ERROR)"
        elif record is not None:
            cause = f"not read: {record.reason}"
        elif "absent from the resource data" in finding.message:
            cause = "a value the rule needs is absent from the source data"
        elif finding.source in ("template", "terraform"):
            cause = "a value a template or plan cannot know before deployment"
        else:
            cause = "data the check needs was not collected (related resources, host inventories)"
        entry = causes.setdefault(cause, Unassessed(cause))
        entry.findings += 1
        entry.rules.add(finding.rule_id)
    return sorted(causes.values(), key=lambda c: (-c.findings, c.cause))
