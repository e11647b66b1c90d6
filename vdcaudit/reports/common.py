"""Facts about a scan that several output formats print the same way: the rule-pack identity,
the scope of the scan, and which statuses count as gaps. Nothing here re-evaluates a finding."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from vdcaudit.model import Finding, Status
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
    """`<count> rules, sha256:<12 hex>`: the digest as reports show it (the evidence bundle's
    manifest keeps it whole)."""
    return f"{len(rules)} rules, sha256:{rulepack_digest(rules)[:12]}"


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
class Scope:
    tenants: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    # heading -> [(location, resource count or None)]
    sources: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)


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
        scope.sources.setdefault(heading, []).append(
            (str(record.get("location", "")), count if isinstance(count, int) else None))
    for subscription in result.summary.get("by_subscription", {}):
        if subscription != UNSCOPED:
            subscriptions[subscription] = None
    scope.tenants = sorted(tenants)
    scope.subscriptions = sorted(subscriptions)
    return scope
