"""What vdcaudit.yaml changed: every verdict-deciding setting that differs from its built-in
default, and the verdicts it changed (the report's "Policy in force").

The rules a setting can reach are judged a second time with the built-in defaults and the two
verdicts compared finding by finding, so the count does not depend on how a rule words its
messages. Only those rules are judged again (a rule whose `required_by` policy differs for its
service; the checks that read `key_owners`): a small part of the scan's work.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vdcaudit.config import POLICY_DEFAULTS, Config
from vdcaudit.context import ScanContext
from vdcaudit.engine import judge_rule
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding
from vdcaudit.rulepack import Rule

# The checks that read `key_owners` (vdcaudit/checks/keyvault.py); without the setting they report
# UNKNOWN for every vault.
KEY_OWNER_CHECKS = frozenset({"keyvault_key_owner_separation"})
KEY_OWNERS_DEFAULT = "not declared (key-owner rules report UNKNOWN)"


@dataclass
class SettingEffect:
    setting: str  # as written in vdcaudit.yaml, e.g. "cmk_required.services.automation"
    value: str
    default: str  # the built-in default
    # one entry per changed verdict: rule, resource id and name, status under the defaults, status now
    changed: list[dict[str, str]] = field(default_factory=list)

    @property
    def transitions(self) -> dict[str, int]:
        """"FAIL → PASS" -> count, most frequent first."""
        counts = Counter(f"{c['before']} → {c['after']}" for c in self.changed)
        return dict(counts.most_common())

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "value": self.value, "default": self.default,
                "verdicts_changed": len(self.changed), "transitions": self.transitions, "changed": self.changed}


def _text(value: bool) -> str:
    return str(value).lower()


def changed_settings(config: Config) -> dict[str, SettingEffect]:
    """Every verdict-deciding setting of the file that differs from the built-in default, by the
    name KeyPolicy.required gives as the origin of a requirement."""
    effects: dict[str, SettingEffect] = {}
    for setting, policy in config.policies.items():
        builtin = POLICY_DEFAULTS[setting]
        if policy.declared and policy.default != builtin:
            name = f"{setting}.default"
            effects[name] = SettingEffect(name, _text(policy.default), _text(builtin))
        for service, value in sorted(policy.services.items()):
            if value != builtin:
                name = f"{setting}.services.{service}"
                effects[name] = SettingEffect(name, _text(value), _text(builtin))
    if config.key_owners is not None:
        effects["key_owners"] = SettingEffect("key_owners", f"{len(config.key_owners)} declared", KEY_OWNERS_DEFAULT)
    return effects


def _deciding_setting(rule: Rule, config: Config) -> str | None:
    """The setting (an effects key) that makes this rule judge differently from the defaults."""
    if rule.required_by is not None:
        required, origin = config.policies[rule.required_by].required(rule.service)
        return origin.partition(":")[0] if required != POLICY_DEFAULTS[rule.required_by] else None
    if rule.check in KEY_OWNER_CHECKS and config.key_owners is not None:
        return "key_owners"
    return None


def policy_effects(rules: list[Rule], inventory: Inventory, context: ScanContext,
                   findings: list[Finding]) -> list[SettingEffect]:
    effects = changed_settings(context.config)
    if not effects:
        return []
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    defaults = ScanContext(config=Config(), now=context.now, options=context.options)
    for rule in rules:
        setting = _deciding_setting(rule, context.config)
        if setting is None or setting not in effects:
            continue
        before = {f.fingerprint: f.status.value for f in judge_rule(rule, inventory, defaults)}
        for finding in by_rule.get(rule.id, []):
            was = before.get(finding.fingerprint)
            if was is not None and was != finding.status.value:
                effects[setting].changed.append({"rule": rule.id, "resource": finding.resource_id,
                                                 "name": finding.resource_name, "before": was,
                                                 "after": finding.status.value})
    return list(effects.values())
