"""Building findings from a rule and a resource: one place, so every check and the JMESPath
engine produce exactly the same shape."""

from __future__ import annotations

from typing import Any

from vdcaudit.inventory import META, parse_scope
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule


def finding_for(rule: Rule, resource: dict[str, Any], status: Status, message: str,
                evidence: dict[str, Any] | None = None) -> Finding:
    annotations = resource.get(META, {})
    origin = annotations.get("origin") or {}
    subscription, group = resource.get("subscriptionId"), resource.get("resourceGroup")
    if not (subscription and group):  # normalise() fills both when the id names them
        parsed = parse_scope(resource.get("id", ""))
        subscription, group = subscription or parsed[0], group or parsed[1]
    return Finding(
        rule_id=rule.id, title=rule.title,
        resource_id=resource.get("id") or resource.get("resourceRef") or "",
        resource_name=str(resource.get("name") or resource.get("resourceId") or ""),
        resource_type=resource.get("type", rule.resource_type),
        status=status, severity=rule.severity, category=rule.category, message=message,
        evidence=evidence or {}, source=annotations.get("source", ""),
        subscription=subscription, resource_group=group,
        location={k: origin[k] for k in ("file", "line") if k in origin} or None,
    )


def scope_finding(rule: Rule, scope_id: str, status: Status, message: str, source: str) -> Finding:
    """A finding about a whole scope (a subscription that could not be read, say), not a resource."""
    subscription, group = parse_scope(scope_id)
    return Finding(
        rule_id=rule.id, title=rule.title, resource_id=scope_id, resource_name=scope_id,
        resource_type=rule.resource_type, status=status, severity=rule.severity,
        category=rule.category, message=message, source=source, subscription=subscription,
        resource_group=group,
    )


def ambiguity(rule: Rule, resource: dict[str, Any]) -> Finding | None:
    """ERROR for a resource that spells one property name twice in different case: ARM would refuse
    it, and reading either spelling could turn a FAIL into a PASS."""
    names = resource.get(META, {}).get("ambiguous")
    if not names:
        return None
    return finding_for(rule, resource, Status.ERROR,
                       "cannot judge: property names differ only in case: " + ", ".join(names))
