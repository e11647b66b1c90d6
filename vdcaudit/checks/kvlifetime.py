"""Key Vault keys and secrets judged as Azure Policy's built-in Microsoft.KeyVault.Data definitions
judge them: allowed key types and curves, days left before expiry, maximum validity, days active.

The management plane (GET .../vaults/V/keys, .../vaults/V/secrets; az keyvault key/secret list through
ARM) prints each object's `properties.attributes` {enabled, nbf, exp, created, updated} in Unix seconds
and leaves `nbf` and `exp` out when they are not set; Terraform plans give RFC 3339 dates; templates
epoch seconds. Dates are judged on the day the evidence describes (vdcaudit.floors.evidence_date:
--as-of, a snapshot's collection time, else the scan time), so a scan of the same evidence gives the
same verdicts. Thresholds come from vdcaudit.yaml (vdcaudit.thresholds).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any, Optional

from vdcaudit import floors
from vdcaudit import thresholds
from vdcaudit.armdata import dig
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.timestamps import parse_datetime
from vdcaudit.unresolved import covering, note

DEPLOYED = {"azure", "snapshot"}
EC_TYPES = {"EC", "EC-HSM"}
ATTRIBUTES = "properties.attributes"
Verdict = tuple[Status, str, dict[str, Any]]  # status, message, evidence
Judge = Callable[[dict[str, Any], ScanContext], Optional[Verdict]]
AREAS = {"microsoft.keyvault/vaults/keys": thresholds.KEYS, "microsoft.keyvault/vaults/secrets": thresholds.SECRETS}


def _day(value: Any) -> date | None:
    """A Key Vault time attribute as a UTC day: Unix seconds (ARM, templates) or RFC 3339 (Terraform)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        value = int(value.strip())
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return parse_datetime(value.strip(), naive="utc").astimezone(timezone.utc).date()
        except ValueError:
            return None
    return None


class _Unknown(Exception):
    """The finding is UNKNOWN for the reason given."""


def _attribute(resource: dict[str, Any], name: str) -> date | None:
    """The day an attribute names, None when it is not set; _Unknown when it cannot be read."""
    path = f"{ATTRIBUTES}.{name}"
    if covering(resource, path) is not None:
        raise _Unknown(note(resource, [path]))
    value = dig(resource, path)
    if value is None:
        return None
    day = _day(value)
    if day is None:
        raise _Unknown(f"{path} is {value!r}, not a time")
    return day


def _evidence(resource: dict[str, Any], *names: str) -> dict[str, Any]:
    return {f"{ATTRIBUTES}.{name}": dig(resource, f"{ATTRIBUTES}.{name}") for name in names}


def _judged(rule: Rule, resource: dict[str, Any], judge: Judge, context: ScanContext) -> Finding | None:
    """Run `judge(resource, context)`: (status, message, evidence) or None; properties or attributes
    missing from the export, or a time that cannot be read, give UNKNOWN naming it."""
    if resource.get("properties") is None:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    if dig(resource, ATTRIBUTES) is None and resource.get(META, {}).get("source") in DEPLOYED:
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {ATTRIBUTES} absent from the resource data")
    try:
        verdict = judge(resource, context)
    except _Unknown as reason:
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {reason}")
    if verdict is None:
        return None
    status, message, evidence = verdict
    return finding_for(rule, resource, status, message, evidence)


def _allowed_value(rule: Rule, key: dict[str, Any], path: str, setting: str, what: str,
                   context: ScanContext) -> Finding:
    if key.get("properties") is None:
        return finding_for(rule, key, Status.UNKNOWN, "cannot assess: properties absent from the resource data")
    value = dig(key, path)
    evidence = {path: value}
    if value is None:
        reason = note(key, [path]) or f"{path} absent from the resource data"
        return finding_for(rule, key, Status.UNKNOWN, f"cannot assess: {reason}", evidence)
    allowed = thresholds.read(context.config.raw, thresholds.KEYS, setting)
    names = {name.upper() for name in allowed.value}
    listed = ", ".join(sorted(names))
    if str(value).upper() in names:
        return finding_for(rule, key, Status.PASS, f"{what} {value} is allowed ({allowed.origin}: {listed})", evidence)
    return finding_for(rule, key, Status.FAIL, f"{what} {value} is not allowed ({allowed.origin}: {listed})", evidence)


@register_each("key_vault_key_type")
def key_type(rule: Rule, key: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    return _allowed_value(rule, key, "properties.kty", "allowed_key_types", "Key type", context)


@register_each("key_vault_key_curve")
def key_curve(rule: Rule, key: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    kty = dig(key, "properties.kty")
    if kty is not None and str(kty).upper() not in EC_TYPES:
        return None  # the definition judges elliptic-curve keys only
    if kty is None and key.get("properties") is not None:
        reason = note(key, ["properties.kty"]) or "properties.kty absent from the resource data"
        return finding_for(rule, key, Status.UNKNOWN, f"cannot assess whether the key is an EC key: {reason}")
    return _allowed_value(rule, key, "properties.curveName", "allowed_curve_names", "Curve", context)


def _days(resource: dict[str, Any], context: ScanContext, name: str) -> thresholds.Setting:
    return thresholds.read(context.config.raw, AREAS[resource["type"].lower()], name)


def _before_expiry(resource: dict[str, Any], context: ScanContext) -> Verdict | None:
    expires = _attribute(resource, "exp")
    if expires is None:
        return None  # as the definition: only objects with an expiry date are judged (VDC-KV-006/008 ask for one)
    minimum = _days(resource, context, "min_days_before_expiry")
    on, basis = floors.evidence_date(resource, context)
    left = (expires - on).days
    evidence = _evidence(resource, "exp")
    when = f"expires {expires.isoformat()}, {left} days after {on.isoformat()} ({basis})"
    if left < minimum.value:
        return Status.FAIL, f"Too close to expiry: {when}; fewer than {minimum.value} ({minimum.origin})", evidence
    return Status.PASS, f"{when[0].upper()}{when[1:]}; at least {minimum.value} ({minimum.origin})", evidence


def _validity(resource: dict[str, Any], context: ScanContext) -> Verdict:
    maximum = _days(resource, context, "max_validity_days")
    evidence = _evidence(resource, "created", "exp")
    expires = _attribute(resource, "exp")
    if expires is None:
        return Status.FAIL, f"No expiration date: valid for ever ({maximum.origin}: {maximum.value} days)", evidence
    created = _attribute(resource, "created")
    if created is not None:
        start = f"created {created.isoformat()}"
    elif resource.get(META, {}).get("source") in DEPLOYED:
        raise _Unknown(f"{ATTRIBUTES}.created absent from the resource data")
    else:
        # a template or plan creates the object when it is deployed: judged as deployed on the evidence day
        created, basis = floors.evidence_date(resource, context)
        start = f"deployed on {created.isoformat()} ({basis})"
    valid = (expires - created).days
    said = f"valid {valid} days ({start}, expires {expires.isoformat()})"
    if valid > maximum.value:
        return Status.FAIL, f"Validity too long: {said}; more than {maximum.value} ({maximum.origin})", evidence
    return Status.PASS, f"Validity within limits: {said}; at most {maximum.value} ({maximum.origin})", evidence


def _active(resource: dict[str, Any], context: ScanContext) -> Verdict:
    maximum = _days(resource, context, "max_active_days")
    evidence = _evidence(resource, "nbf", "created")
    start, since = _attribute(resource, "nbf"), "active from"  # the definition: nbf, else created
    if start is None:
        start, since = _attribute(resource, "created"), "created"
    if start is None:
        raise _Unknown(f"{ATTRIBUTES}.nbf and {ATTRIBUTES}.created absent from the resource data")
    on, basis = floors.evidence_date(resource, context)
    active = (on - start).days
    if active < 0:
        return Status.PASS, f"Not yet active on {on.isoformat()} ({basis}): {since} {start.isoformat()}", evidence
    said = f"{since} {start.isoformat()}, {active} days before {on.isoformat()} ({basis})"
    if active > maximum.value:
        return Status.FAIL, f"Active too long: {said}; more than {maximum.value} ({maximum.origin})", evidence
    return Status.PASS, f"Active within limits: {said}; at most {maximum.value} ({maximum.origin})", evidence


@register_each("key_vault_days_before_expiry")
def days_before_expiry(rule: Rule, item: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    return _judged(rule, item, _before_expiry, context)


@register_each("key_vault_validity_period")
def validity_period(rule: Rule, item: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    return _judged(rule, item, _validity, context)


@register_each("key_vault_active_period")
def active_period(rule: Rule, item: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    return _judged(rule, item, _active, context)
