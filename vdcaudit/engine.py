"""Apply rules to an inventory. Each rule sees only the resources of its type (the inventory is
indexed by type), so a scan costs O(resources + rules), not O(rules x resources)."""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from vdcaudit import floors, forking, ipsec, jmes
from vdcaudit.armdata import ArmObject, path_keys
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for, malformed, scope_finding
from vdcaudit.inventory import API_VERSION, META, UNREAD, Inventory
from vdcaudit.model import CoverageRecord, Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.summary import UNSCOPED
from vdcaudit.unresolved import covering, note


CHILD_READ = re.compile(r"x_vdcaudit\.children\.([A-Za-z0-9_]+)")
# Sources that print deployed resources as the ARM API returns them (GET, Resource Graph, az).
DEPLOYED_SOURCES = frozenset({"azure", "snapshot"})


@dataclass
class EngineResult:
    findings: list[Finding]
    not_assessed: dict[str, int]  # resource type -> count of resources no rule looked at
    # subscription (summary.UNSCOPED for none) -> resources, and not-assessed resources by type:
    # what `vdcaudit merge` needs to count a subscription scanned by two shards once
    scopes: dict[str, dict[str, Any]]


# From this many resources, rules are judged on both cores: half of them in a forked worker
# (vdcaudit.forking). Below it the worker's start and the trip of its findings back cost more than
# they save.
PARALLEL_FROM_RESOURCES = 20_000


def run(rules: list[Rule], inventory: Inventory, context: ScanContext | None = None) -> EngineResult:
    context = context or ScanContext()
    inventory.link_children()
    judged = _judge_all(rules, inventory, context)
    findings = [finding for index in range(len(rules)) for finding in judged[index]]  # in rule order, as one process
    scopes: dict[str, dict[str, Any]] = {}
    return EngineResult(findings=findings, not_assessed=_not_assessed(rules, inventory, scopes), scopes=scopes)


def _judge_all(rules: list[Rule], inventory: Inventory, context: ScanContext) -> dict[int, list[Finding]]:
    """Findings by rule index. With a large inventory, the rules are split by the resources they
    judge and one half goes to a worker; if the worker fails, its half is judged here instead
    (slower, the same verdicts): a broken worker never changes a result."""
    def judge(indexes: list[int]) -> dict[int, list[Finding]]:
        with ipsec.allowing(context.config.ipsec_allowed):  # also in a forked worker
            return {index: _judge(rules[index], inventory, context) for index in indexes}

    if len(inventory) < PARALLEL_FROM_RESOURCES or len(rules) < 2 or not forking.available():
        return judge(list(range(len(rules))))
    from vdcaudit.checks import SHARED_VIEWS

    for build in SHARED_VIEWS:  # built once here, and read by the worker too (copy-on-write)
        build(inventory)
    here, there = _split(rules, inventory)
    worker = forking.Forked(lambda: judge(there), "the worker judging rules")
    try:
        judged = judge(here)
    except BaseException:
        worker.stop()
        raise
    try:
        judged.update(worker.result())
    except forking.WorkerFailed:
        judged.update(judge(there))
    return judged


def _split(rules: list[Rule], inventory: Inventory) -> tuple[list[int], list[int]]:
    """Rule indexes for here and for the worker, balanced by the resources each rule judges."""
    cost = {index: 1 + sum(len(inventory.of_type(t)) for t in rule.resource_types) for index, rule in enumerate(rules)}
    return forking.halves(cost, cost.__getitem__)


def _judge(rule: Rule, inventory: Inventory, context: ScanContext) -> list[Finding]:
    """Every finding of one rule."""
    from vdcaudit.checks import CHECKS

    findings = _coverage_gaps(rule, inventory)
    if rule.check:
        try:
            findings.extend(CHECKS[rule.check](rule, inventory, context))
        except Exception as exc:  # a broken check must not hide the other rules' results
            findings.append(scope_finding(rule, rule.resource_type, Status.ERROR,
                                          f"check {rule.check} failed: {type(exc).__name__}: {exc}", "engine"))
        return findings
    exempt = policy_exemption(rule, context)
    for resource_type in rule.resource_types:
        for resource in inventory.of_type(resource_type):
            if resource.get(META, {}).get("source") not in rule.sources:
                continue
            finding = evaluate(rule, resource, exempt, context)
            if finding is not None:
                findings.append(finding)
    return findings


def judge_rule(rule: Rule, inventory: Inventory, context: ScanContext) -> list[Finding]:
    """Every finding of one rule under the given settings (vdcaudit.policy_effects judges a rule
    again with the built-in defaults to show what a vdcaudit.yaml setting changed)."""
    return _judge(rule, inventory, context)


def _coverage_gaps(rule: Rule, inventory: Inventory) -> list[Finding]:
    """UNKNOWN for every scope where resources of the rule's type could not be read; ERROR for every
    entry of the input the rule would have judged that could not be identified."""
    gaps = []
    types = {t.lower() for t in rule.resource_types}
    for record in inventory.coverage:
        if record.entry_error:
            if _judges_entry(rule, record):
                gaps.append(scope_finding(rule, record.scope, Status.ERROR,
                                          f"cannot judge the entry {record.scope}: {record.reason}",
                                          record.source, record.location))
        elif record.resource_type is None or record.resource_type.lower() in types:
            what = record.resource_type or "resources"
            gaps.append(scope_finding(
                rule, record.scope, Status.UNKNOWN,
                f"{what} in {record.scope} could not be read ({record.reason})"
                + (f": {record.detail}" if record.detail else ""), record.source, record.location))
    return gaps


def _judges_entry(rule: Rule, record: CoverageRecord) -> bool:
    """Whether the rule would have judged an entry that could not be identified: every rule of its
    source when its type is unknown; else the rules of its type, of a type it reads, or of a parent
    type (a child's data, a TDE state say, is judged on its parent)."""
    if record.source not in rule.sources:
        return False
    if record.resource_type is None:
        return True
    segments = record.resource_type.lower().split("/")
    family = {"/".join(segments[:end]) for end in range(2, len(segments) + 1)}
    return any(t.lower() in family for t in (*rule.resource_types, *rule.reads))


# What a policy set to false accepts, for the PASS message
ACCEPTED_INSTEAD = {"cmk_required": "platform-managed keys are accepted",
                    "hsm_required": "software-protected keys are accepted"}


def policy_exemption(rule: Rule, context: ScanContext) -> str | None:
    """Why the rule's control is not required here (its `required_by` policy in vdcaudit.yaml says
    so for the rule's service), or None when it is required."""
    if rule.required_by is None:
        return None
    required, origin = context.config.policies[rule.required_by].required(rule.service)
    accepted = ACCEPTED_INSTEAD[rule.required_by]
    return None if required else f"{rule.required_by} is false for {rule.service} ({origin}): {accepted}"


def evaluate(rule: Rule, resource: dict[str, Any], exempt: str | None = None,
             context: ScanContext | None = None) -> Finding | None:
    """One JMESPath rule on one resource; None when the rule's `where` excludes the resource.
    `exempt`: the configured policy does not require the control (PASS, saying why). `context`
    gives the day the evidence describes, for the rule's platform floor (vdcaudit.floors)."""
    if rule.assertion is None:
        raise ValueError(f"rule {rule.id} has no assert expression to evaluate")
    context = context or ScanContext()
    if (blocked := malformed(rule, resource)) is not None:
        return blocked
    if (unread := _unread_children(rule, resource)):
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {unread}")
    try:
        view, notes, undecided = _with_defaults(rule, resource)
        # Which resources a rule applies to is decided on the data as printed: a default filled in
        # for the assertion must not make a rule apply (a scale set without a VM profile, say).
        if rule.where is not None and not jmes.truthy(jmes.search(rule.where, resource)):
            # Excluded, unless only because a value the `where` reads is not known yet (a template's
            # reference(), a plan's "known after apply"): then whether the rule applies is unknown.
            unknowable = note(resource, rule.where_paths)
            if unknowable:
                return finding_for(rule, resource, Status.UNKNOWN,
                                   f"cannot tell whether the rule applies: {unknowable}")
            return None
        evidence = {path: jmes.search(expr, view) for path, expr in rule.evidence_expressions.items()}
        if exempt is not None:
            # Honest about what was accepted: the evidence still shows the key the service uses.
            return finding_for(rule, resource, Status.PASS, f"Accepted by policy: {exempt}", evidence)
        floor_note = None
        if rule.platform_floor is not None and rule.floor_value is not None:
            on, basis = floors.evidence_date(resource, context)
            # a value the source cannot know yet (a template's reference()) is no configured value
            configured = None if note(resource, [rule.floor_value_text or ""]) else jmes.search(rule.floor_value, resource)
            decided = floors.decide(rule.platform_floor, configured, on, basis)
            if decided is not None:
                return finding_for(rule, resource, decided.status, decided.message, evidence)
            if on < rule.platform_floor.since:
                floor_note = floors.pending(rule.platform_floor, on, basis)
        missing = [req for req in rule.requirements if not req.satisfied_by(view)]
        if missing:
            names = "; ".join(req.describe() for req in missing)
            why = note(resource, [path for req in missing for path in req.alternatives])
            undecided_notes = [undecided[p] for req in missing for p in req.alternatives if p in undecided]
            why = "; ".join(filter(None, [why, *undecided_notes]))
            return finding_for(rule, resource, Status.UNKNOWN,
                               f"cannot assess: {names} absent from the resource data"
                               + (f" ({why})" if why else ""), evidence)
        # A value the assertion reads that the source knows exists but cannot know yet (a template's
        # utcNow() or reference(), a plan's "known after apply") would decide the verdict: neither PASS
        # nor FAIL. (With `requires` narrowed to a parent object, such a value is not among the
        # requirements above, so this is checked apart.)
        unknowable = note(resource, rule.assert_paths)
        if unknowable:
            return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {unknowable}", evidence)
        passed = jmes.truthy(jmes.search(rule.assertion, view))
    except Exception as exc:  # e.g. a JMESPath type error on unexpected data
        return finding_for(rule, resource, Status.ERROR, f"evaluation failed: {type(exc).__name__}: {exc}")
    status = Status.PASS if passed else rule.fail_status
    message = rule.messages[status.value]
    if floor_note and status is not Status.PASS:
        notes.append(floor_note)
    if notes:
        message += " (" + "; ".join(notes) + ")"
    return finding_for(rule, resource, status, message, evidence)


def _with_defaults(rule: Rule, resource: dict[str, Any]) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The resource with the rule's documented Azure defaults filled in where values are absent.

    Returns (view, one note per default used, why no default could be chosen by path). A default
    that changed with the API version applies only when the resource says which version created it
    (a template's `apiVersion`); a default documented only for some resources (`absent_default_when`)
    applies where its condition holds on the data as printed; otherwise the value stays absent and
    the reason is returned."""
    notes: list[str] = []
    undecided: dict[str, str] = {}
    view = resource
    api_version, which = _api_version(resource, rule.absent_default_api_basis == "response")
    defaults = {path: (value, "") for path, value in rule.absent_default.items()}
    for path, entries in rule.absent_default_by_api_version.items():
        chosen = [value for since, value in entries if api_version is not None and since <= api_version]
        if chosen:
            defaults[path] = (chosen[0], f"{which} API version {api_version}")
        elif _absent(resource, path):
            what = ("that created the resource" if rule.absent_default_api_basis == "created"
                    else "the resource was read or declared with")
            known = f" (the data says {api_version})" if api_version else " and the data does not say which"
            undecided[path] = (f"Azure's default for {path} depends on the API version {what} ("
                               + "; ".join(f"{value!r} from {since}" if since else f"{value!r} before"
                                           for since, value in entries)
                               + ")" + known)
    for path in dict.fromkeys(p for c in rule.absent_default_when for p in c.values):
        if not _absent(resource, path) or path in defaults:
            continue  # present, or decided by the API version above
        cases = [c for c in rule.absent_default_when if path in c.values]
        holding = next((c for c in cases if jmes.truthy(jmes.search(c.when, resource))), None)
        if holding is not None:
            defaults[path] = (holding.values[path], holding.because)
            undecided.pop(path, None)
        else:
            by_case = (f"Azure documents the default of {path} case by case ("
                       + "; ".join(c.because for c in cases) + ") and the data shows none of these cases")
            undecided[path] = "; ".join(filter(None, [undecided.get(path), by_case]))
    for path, (default, because) in defaults.items():
        keys = path_keys(path)
        if not _absent(resource, path):
            continue  # present, or absent only because the source cannot know it yet
        if view is resource:
            view = copy.copy(resource)
        target = view
        for key in keys[:-1]:
            child = target.get(key)
            child = ArmObject(child) if isinstance(child, dict) else ArmObject()
            target[key] = child
            target = child
        target[keys[-1]] = default
        notes.append(f"{path} absent, Azure default {default!r} applies" + (f": {because}" if because else ""))
    return view, notes, undecided


def _absent(resource: dict[str, Any], path: str) -> bool:
    """True when the value at `path` is absent in a way a documented default may fill: not when the
    source cannot know it yet (a template's reference()), not when the resource was printed
    without its `properties` at all (az resource list), which says nothing about the property, and
    not when a deployed resource's GET prints the property as null: the API then names the property
    without reporting its value (a web app's GET prints `siteConfig.ftpsState: null`; the value
    lives in its config/web child), which is unknown, not unset."""
    keys = path_keys(path)
    node: Any = resource
    parent: Any = None
    for key in keys:
        parent = node
        node = node.get(key) if isinstance(node, dict) else None
    if node is not None or covering(resource, path) is not None:
        return False
    if isinstance(parent, dict) and keys[-1] in parent and \
            resource.get(META, {}).get("source") in DEPLOYED_SOURCES:
        return False
    return len(keys) == 1 or isinstance(resource.get(keys[0]), dict)


def _api_version(resource: dict[str, Any], read_counts: bool) -> tuple[str | None, str]:
    """The API version (YYYY-MM-DD; a preview suffix is ignored) that decides a by-version default,
    and which it is: the version the resource was declared with (templates keep `apiVersion` on the
    resource), else, when `read_counts`, the version it was read with (x_vdcaudit.apiVersion,
    recorded by the live scan and `vdcaudit snapshot`). (None, "") when the data does not say."""
    candidates = [("declared", resource.get("apiVersion"))]
    if read_counts:
        candidates.append(("read with", resource.get(META, {}).get(API_VERSION)))
    for which, value in candidates:
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
            return value[:10], which
    return None, ""


def _unread_children(rule: Rule, resource: dict[str, Any]) -> str:
    """Which child data this rule reads that the source could not read for this resource, and why
    ('' when none): the rule must not judge from what was left."""
    unread = resource.get(META, {}).get(UNREAD)
    if not unread or not isinstance(unread, dict):
        return ""
    read = _child_kinds_read([rule])
    return "; ".join(f"its {kind} could not be read ({why})" for kind, why in unread.items() if kind in read)


def _child_kinds_read(rules: list[Rule]) -> set[str]:
    """Child kinds (`x_vdcaudit.children.<kind>`) some rule reads: named in a rule's JMESPath, or
    the last type segment of a type a check `reads`. A child no rule reads is not assessed, even
    when its parent is (a web app's deployment slots were once hidden that way)."""
    kinds = {t.rsplit("/", 1)[-1].lower() for rule in rules for t in rule.reads}
    for rule in rules:
        for text in (rule.assert_text, rule.condition_text, *rule.evidence, *(r.describe() for r in rule.requirements)):
            kinds.update(match.lower() for match in CHILD_READ.findall(text or ""))
    return kinds


def _not_assessed(rules: list[Rule], inventory: Inventory, scopes: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Resource types that no rule targets and that are not attached to an assessed parent; fills
    `scopes` with the resources (and these counts) per subscription."""
    assessed = {t.lower() for rule in rules for t in (*rule.resource_types, *rule.reads)}
    read_as_children = _child_kinds_read(rules)
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
        kind = resource["type"].rsplit("/", 1)[-1].lower()
        if parent and inventory.get(parent) is not None and kind in read_as_children:
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
