"""The shapes every part of vdcaudit agrees on: statuses, severities, findings, coverage records."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    # Compliant today but needs attention soon (e.g. a certificate close to expiry), or a posture
    # that is not a breach on its own (informational). Never counted as a failure by --fail-on.
    WARN = "WARN"
    UNKNOWN = "UNKNOWN"  # the data needed was absent or could not be read
    ERROR = "ERROR"  # the evaluation itself broke


STATUS_ORDER = [Status.FAIL, Status.UNKNOWN, Status.ERROR, Status.WARN, Status.PASS]


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)

    def at_least(self, threshold: "Severity") -> bool:
        return self.rank <= threshold.rank


SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]


class Category(str, Enum):
    AT_REST = "at-rest"
    IN_TRANSIT = "in-transit"
    KEY_MANAGEMENT = "key-management"


CATEGORY_ORDER = [Category.AT_REST, Category.IN_TRANSIT, Category.KEY_MANAGEMENT]


def fingerprint(rule_id: str, resource_id: str) -> str:
    """Stable across scans and sources: the same rule on the same resource gives the same value."""
    key = f"{rule_id.lower()}|{resource_id.lower()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass
class Waiver:
    rule: str
    resource: str
    justification: str
    owner: str
    expires: str | None = None
    approver: str | None = None
    created: str | None = None  # ISO date


class _Fingerprint:
    """Finding.fingerprint: hashed on first read and then kept on the finding (every writer prints
    it). What functools.cached_property does, without the lock it takes on every first read in
    Python 3.11 (a scan reads a fingerprint per finding, hundreds of thousands)."""

    def __get__(self, finding: "Finding | None", owner: type | None = None) -> Any:
        if finding is None:
            return self
        value = fingerprint(finding.rule_id, finding.resource_id)
        # An attribute set (not a write to __dict__, which would make Python build a dict for
        # each finding beside its compact attribute storage): later reads find it first.
        object.__setattr__(finding, "fingerprint", value)
        return value


@dataclass
class Finding:
    rule_id: str
    title: str
    resource_id: str
    resource_name: str
    resource_type: str
    status: Status
    severity: Severity
    category: Category
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    subscription: str | None = None
    resource_group: str | None = None
    # file and line of the resource for template / plan sources (SARIF physical locations)
    location: dict[str, Any] | None = None
    waiver: Waiver | None = None
    # line of the property the verdict read, in location's file (template / plan), for SARIF regions
    property_line: int | None = None

    fingerprint = _Fingerprint()  # not a field: derived from rule_id and resource_id


@dataclass
class CoverageRecord:
    """Something that could not be read. Rules on what it covers report UNKNOWN, never PASS."""

    source: str  # e.g. "azure", "snapshot", "sdn"
    scope: str  # a subscription id, a controller URL, a host name, a file
    reason: str  # e.g. "403 Forbidden", "timeout after 30s", "throttled (429), retries exhausted"
    resource_type: str | None = None  # None: everything in the scope
    detail: str = ""
    location: dict[str, Any] | None = None  # {file, line} of what was not read, for template / plan sources
    # An entry of the input that was read but cannot be judged (it has no identity, or two that
    # disagree): the rules that would have judged it report ERROR for it, not UNKNOWN.
    entry_error: bool = False

    def covers(self, scope: str | None, resource_type: str) -> bool:
        type_matches = self.resource_type is None or self.resource_type.lower() == resource_type.lower()
        scope_matches = scope is None or self.scope.lower() == scope.lower()
        return type_matches and scope_matches

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
