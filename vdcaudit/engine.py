"""Apply rules to an inventory. Each rule sees only the resources of its type (the inventory is
indexed by type), so a scan costs O(resources + rules), not O(rules x resources)."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

from vdcaudit import jmes
from vdcaudit.armdata import ArmObject
from vdcaudit.findings import ambiguity, finding_for, scope_finding
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, ScanContext, Status
from vdcaudit.rulepack import Rule
from vdcaudit.summary import UNSCOPED
from vdcaudit.unresolved import covering, note


@dataclass
class EngineResult:
    findings: list[Finding]
    not_assessed: dict[str, int]  # resource type -> count of resources no rule looked at
    # subscription (summary.UNSCOPED for none) -> resources, and not-assessed resources by type:
    # what `vdcaudit merge` needs to count a subscription scanned by two shards once
    scopes: dict[str, dict[str, Any]]


def run(rules: list[Rule], inventory: Inventory, context: ScanContext | None = None) -> EngineResult:
    from vdcaudit.checks import CHECKS

    context = context or ScanContext()
    inventory.link_children()
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(_coverage_gaps(rule, inventory))
        if rule.check:
            try:
                findings.extend(CHECKS[rule.check](rule, inventory, context))
            except Exception as exc:  # a broken check must not hide the other rules' results
                findings.append(scope_finding(rule, rule.resource_type, Status.ERROR,
                                              f"check {rule.check} failed: {type(exc).__name__}: {exc}", "engine"))
            continue
        for resource in inventory.of_type(rule.resource_type):
            if resource.get(META, {}).get("source") not in rule.sources:
                continue
            finding = evaluate(rule, resource)
            if finding is not None:
                findings.append(finding)
    scopes: dict[str, dict[str, Any]] = {}
    return EngineResult(findings=findings, not_assessed=_not_assessed(rules, inventory, scopes), scopes=scopes)


def _coverage_gaps(rule: Rule, inventory: Inventory) -> list[Finding]:
    """UNKNOWN for every scope where resources of the rule's type could not be read."""
    gaps = []
    for record in inventory.coverage:
        if record.resource_type is None or record.resource_type.lower() == rule.resource_type.lower():
            what = record.resource_type or "resources"
            gaps.append(scope_finding(
                rule, record.scope, Status.UNKNOWN,
                f"{what} in {record.scope} could not be read ({record.reason})"
                + (f": {record.detail}" if record.detail else ""), record.source))
    return gaps


def evaluate(rule: Rule, resource: dict[str, Any]) -> Finding | None:
    """One JMESPath rule on one resource; None when the rule's `where` excludes the resource."""
    assert rule.assertion is not None
    if (blocked := ambiguity(rule, resource)) is not None:
        return blocked
    try:
        view, defaults_used = _with_defaults(rule, resource)
        if rule.where is not None and not jmes.truthy(jmes.search(rule.where, view)):
            # Excluded, unless only because a value the `where` reads is not known yet (a template's
            # reference(), a plan's "known after apply"): then whether the rule applies is unknown.
            unknowable = note(resource, rule.where_paths)
            if unknowable:
                return finding_for(rule, resource, Status.UNKNOWN,
                                   f"cannot tell whether the rule applies: {unknowable}")
            return None
        evidence = {path: jmes.search(expr, view) for path, expr in rule.evidence_expressions.items()}
        notes = [f"{path} absent, Azure default {value!r} applies" for path, value in defaults_used.items()]
        missing = [req for req in rule.requirements if not req.satisfied_by(view)]
        if missing:
            names = "; ".join(req.describe() for req in missing)
            why = note(resource, [path for req in missing for path in req.alternatives])
            return finding_for(rule, resource, Status.UNKNOWN,
                               f"cannot assess: {names} absent from the resource data"
                               + (f" ({why})" if why else ""), evidence)
        passed = jmes.truthy(jmes.search(rule.assertion, view))
    except Exception as exc:  # e.g. a JMESPath type error on unexpected data
        return finding_for(rule, resource, Status.ERROR, f"evaluation failed: {type(exc).__name__}: {exc}")
    if passed:
        message = f"Compliant: {rule.title}"
    else:
        message = rule.fail_message or f"Not compliant: {rule.title}"
    if notes:
        message += " (" + "; ".join(notes) + ")"
    return finding_for(rule, resource, Status.PASS if passed else Status.FAIL, message, evidence)


def _with_defaults(rule: Rule, resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The resource with the rule's documented Azure defaults filled in where values are absent."""
    used: dict[str, Any] = {}
    view = resource
    for path, default in rule.absent_default.items():
        keys = path.split(".")
        node: Any = resource
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None or covering(resource, path) is not None:
            continue  # present, or absent only because the source cannot know it yet
        if len(keys) > 1 and not isinstance(resource.get(keys[0]), dict):
            # A resource printed without its `properties` at all (az resource list) says nothing
            # about the property: that is missing data (UNKNOWN), not the documented default.
            continue
        if view is resource:
            view = copy.copy(resource)
        target = view
        for key in keys[:-1]:
            child = target.get(key)
            child = ArmObject(child) if isinstance(child, dict) else ArmObject()
            target[key] = child
            target = child
        target[keys[-1]] = default
        used[path] = default
    return view, used


def _not_assessed(rules: list[Rule], inventory: Inventory, scopes: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Resource types that no rule targets and that are not attached to an assessed parent; fills
    `scopes` with the resources (and these counts) per subscription."""
    assessed = {t.lower() for rule in rules for t in (rule.resource_type, *rule.reads)}
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}  # ARG lower-cases types; show the ARM spelling when one was seen
    per_scope: dict[str, Counter[str]] = {}
    resources: Counter[str] = Counter()
    for resource in inventory:
        scope = resource.get("subscriptionId") or UNSCOPED
        resources[scope] += 1
        if resource["type"].lower() in assessed:
            continue
        parent = resource.get(META, {}).get("parent")
        if parent and inventory.get(parent) is not None:
            continue  # read by rules on its parent through x_vdcaudit.children
        key = resource["type"].lower()
        if key not in spelling or spelling[key].islower():
            spelling[key] = resource["type"]
        counts[key] += 1
        per_scope.setdefault(scope, Counter())[key] += 1
    for (subscription, kind), count in inventory.uncollected.items():  # counted, never read
        key = kind.lower()
        scope = subscription or UNSCOPED
        resources[scope] += count
        parent = key.rsplit("/", 1)[0]
        if key in assessed or (key.count("/") > 1 and parent in assessed):
            continue  # a child of an assessed type: read through its parent, as above
        spelling.setdefault(key, kind)
        counts[key] += count
        per_scope.setdefault(scope, Counter())[key] += count
    for scope, count in sorted(resources.items(), key=lambda item: str(item[0])):
        by_type = per_scope.get(scope, Counter())
        scopes[str(scope)] = {"resources": count,
                              "not_assessed": {spelling[key]: n for key, n in sorted(by_type.items())}}
    return {spelling[key]: count for key, count in sorted(counts.items())}
