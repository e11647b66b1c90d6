"""Key Vault certificates judged as Azure Policy's built-in certificate definitions judge them (mode
Microsoft.KeyVault.Data: one verdict per certificate), on the metadata `--keyvault-data-plane`
reads (collectors/azure/keyvault_data.py): the certificate policy (`properties.policy`, Key Vault's
snake_case), its attributes, and the public certificate (`properties.cer`, whose issuer is judged).

The rules are on vaults (resource_type Microsoft.KeyVault/vaults, reads the certificates) and give
one finding per certificate, as Azure Policy reports each certificate: a waiver or a fix concerns
one certificate, and one bad certificate never hides another's verdict. A vault whose certificates
were not read gets one UNKNOWN per rule instead, naming why: never read (no --keyvault-data-plane),
or a read that failed (403, timeout, a refused vaultUri: the coverage gap's reason).
The thresholds come from vdcaudit.yaml (vdcaudit.thresholds), with their defaults.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from vdcaudit import floors, thresholds
from vdcaudit.armdata import dig, props
from vdcaudit.checks import judge_each, register
from vdcaudit.collectors.azure.keyvault_model import CERTIFICATE_TYPE, VAULT_TYPE, unread_detail
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import DATA_PLANE, META, UNREAD, Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

NOT_READ = ("cannot assess: certificates are read only through Key Vault's data plane "
            "(vdcaudit scan/snapshot --keyvault-data-plane); this vault's were not read")
RSA_TYPES = ("rsa", "rsa-hsm")
# Sources that read a deployed vault: there, certificates not read are a gap
DEPLOYED = ("azure", "snapshot")
EC_TYPES = ("ec", "ec-hsm")

# (status, message, evidence) of one certificate, or None when the rule does not apply to it
Verdict = tuple[Status, str, dict[str, Any]]
# `thresholds.key_vault_certificates.<name>`, read when a rule asks for it
Settings = Callable[[str], thresholds.Setting]
CertificateJudge = Callable[[Any, Settings, dict[str, Any], ScanContext], Verdict | None]


def _undeclared(setting: str, what: str) -> Verdict:
    return (Status.UNKNOWN, f"cannot assess: no {what} declared in vdcaudit.yaml "
            f"(thresholds.{thresholds.CERTIFICATES}.{setting}; Azure Policy's definition has no default)", {})


def _absent(path: str) -> Verdict:
    return Status.UNKNOWN, f"cannot assess: {path} absent from the certificate's data", {path: None}


class Decided(Exception):
    """A verdict reached before the rule's own test: data absent (UNKNOWN), or a key type the rule
    does not judge (None)."""

    def __init__(self, verdict: Verdict | None) -> None:
        super().__init__("decided")
        self.verdict = verdict


def _needed(value: Any, path: str) -> Any:
    """The value, or Decided(UNKNOWN) when it is absent."""
    if value is None or value == "":
        raise Decided(_absent(path))
    return value


def _unread_vaults(rule: Rule, inventory: Inventory) -> Iterator[Finding]:
    """UNKNOWN for each vault whose certificates were not read: never (no data-plane read), or a read
    that failed (the live scan's x_vdcaudit.unread, a snapshot's coverage record naming the vault)."""
    failed = {record.detail.lower(): record.reason for record in inventory.coverage
              if (record.resource_type or "").lower() == CERTIFICATE_TYPE.lower()}
    for vault in inventory.of_type(VAULT_TYPE):
        annotations = vault.get(META, {})
        if annotations.get("source") not in DEPLOYED or "certificates" in (annotations.get(DATA_PLANE) or {}):
            continue  # a plan declares the certificates it makes, and only those are judged
        reason = (annotations.get(UNREAD) or {}).get("certificates") or failed.get(unread_detail(vault["id"]).lower())
        yield finding_for(rule, vault, Status.UNKNOWN,
                          f"cannot assess: the vault's certificates could not be read ({reason})" if reason else NOT_READ)


def certificate_check(name: str) -> Callable[[CertificateJudge], CertificateJudge]:
    """Register a check that judges every certificate with `judge` (and the unread vaults UNKNOWN)."""
    def decorate(judge: CertificateJudge) -> CertificateJudge:
        @register(name)
        def check(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
            settings: Settings = partial(thresholds.read, context.config.raw, thresholds.CERTIFICATES)
            yield from _unread_vaults(rule, inventory)

            def one(rule: Rule, certificate: dict[str, Any], _: Inventory, context: ScanContext) -> Finding | None:
                if certificate.get("properties") is None:
                    return finding_for(rule, certificate, Status.UNKNOWN, "cannot assess: properties absent")
                try:
                    verdict = judge(props(certificate), settings, certificate, context)
                except Decided as decided:
                    verdict = decided.verdict
                return None if verdict is None else finding_for(rule, certificate, *verdict)

            certificates = [c for c in inventory.of_type(CERTIFICATE_TYPE) if c.get(META, {}).get("source") in rule.sources]
            yield from judge_each(rule, inventory, context, one, resources=certificates)
        return judge
    return decorate


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _one_of(what: str, value: str, allowed: tuple[str, ...], evidence: dict[str, Any]) -> Verdict:
    """PASS when `value` is one of `allowed` (compared case-insensitively, as Azure Policy's `in`)."""
    listed = ", ".join(allowed)
    if value.lower() in (name.lower() for name in allowed):
        return Status.PASS, f"{what} {value} (allowed: {listed})", evidence
    return Status.FAIL, f"{what} {value} is not allowed ({listed})", evidence


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@certificate_check("kv_certificate_integrated_ca")
def integrated_ca(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    issuer = _needed(_text(dig(data, "policy.issuer.name")), "properties.policy.issuer.name")
    return _one_of("The certificate policy's issuer", issuer, settings("integrated_cas").value,
                   {"properties.policy.issuer.name": issuer})


def issuer_common_name(cer: str) -> str:
    """The issuer's common name in a certificate (`cer`: base64 DER, as Key Vault answers it)."""
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(cer, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"properties.cer is not a base64 DER certificate ({exc})") from None
    names = certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


@certificate_check("kv_certificate_non_integrated_ca")
def non_integrated_ca(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    allowed = settings("ca_common_names").value
    if allowed is None:
        return _undeclared("ca_common_names", "allowed CA")
    issuer = issuer_common_name(_needed(_text(dig(data, "cer")), "properties.cer"))
    evidence = {"issuer common name (from properties.cer)": issuer}
    # Azure Policy's `contains` compares case-insensitively
    match = next((name for name in allowed if name.lower() in issuer.lower()), None)
    if match:
        return Status.PASS, f"Issued by {issuer!r} (allowed: {match!r})", evidence
    return (Status.FAIL, f"Issued by {issuer!r}, which names none of the allowed CAs "
            f"({', '.join(allowed)})", evidence)


@certificate_check("kv_certificate_lifetime_action")
def lifetime_action(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    min_days, max_percentage = settings("min_days_before_expiry").value, settings("max_lifetime_percentage").value
    if min_days is None or max_percentage is None:
        return _undeclared("min_days_before_expiry" if min_days is None else "max_lifetime_percentage",
                           "lifetime action threshold")
    _needed(dig(data, "policy"), "properties.policy")
    actions = dig(data, "policy.lifetime_actions")
    evidence = {"properties.policy.lifetime_actions": actions}
    if not actions:
        return (Status.FAIL, "The certificate policy has no lifetime action: the certificate is neither renewed "
                "nor announced before it expires", evidence)
    if not isinstance(actions, list):
        raise TypeError("properties.policy.lifetime_actions is not an array")
    late = []
    # Key Vault takes 1-99 (percentage) and 1 or more (days); a 0 is a trigger not set (a Terraform
    # state's unset number) (learn.microsoft.com/rest/api/keyvault/certificates/get-certificate, Trigger)
    for action in actions:
        days = _whole(dig(action, "trigger.days_before_expiry"))
        percentage = _whole(dig(action, "trigger.lifetime_percentage"))
        kind = _text(dig(action, "action.action_type")) or "action"
        if days and days < min_days:
            late.append(f"{kind} {days} days before expiry (at least {min_days})")
        if percentage and percentage > max_percentage:
            late.append(f"{kind} at {percentage}% of the lifetime (at most {max_percentage}%)")
    if late:
        return Status.FAIL, "Lifetime action triggers too late: " + "; ".join(late), evidence
    return Status.PASS, "Every lifetime action triggers within the thresholds", evidence


@certificate_check("kv_certificate_validity")
def validity(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    months = _needed(_whole(dig(data, "policy.x509_props.validity_months")), "properties.policy.x509_props.validity_months")
    evidence = {"properties.policy.x509_props.validity_months": months}
    maximum = settings("max_validity_months").value
    if months > maximum:
        return Status.FAIL, f"Valid for {months} months, longer than {maximum}", evidence
    return Status.PASS, f"Valid for {months} months (at most {maximum})", evidence


@certificate_check("kv_certificate_expiry")
def expiry(data: Any, settings: Settings, certificate: dict[str, Any], context: ScanContext) -> Verdict:
    minimum = settings("min_days_to_expiry")
    expires = _needed(_whole(dig(data, "attributes.exp")), "properties.attributes.exp")
    on, basis = floors.evidence_date(certificate, context)
    when = datetime.fromtimestamp(expires, timezone.utc)
    evidence = {"properties.attributes.exp": expires, "expires": when.isoformat()}
    limit = datetime(on.year, on.month, on.day, tzinfo=timezone.utc) + timedelta(days=minimum.value)
    if when <= limit:
        return (Status.FAIL, f"Expires {when.date().isoformat()}, within {minimum.value} days ({minimum.origin}) of "
                f"{on.isoformat()} ({basis})", evidence)
    return (Status.PASS, f"Expires {when.date().isoformat()}, more than {minimum.value} days ({minimum.origin}) after "
            f"{on.isoformat()} ({basis})", evidence)


def _key_type(data: Any) -> str:
    return _text(dig(data, "policy.key_props.kty"))


def _key_type_among(data: Any, kinds: tuple[str, ...]) -> str:
    """The key type when it is one of `kinds` (lower-case); Decided(None) for another type."""
    kty = _needed(_key_type(data), "properties.policy.key_props.kty")
    if kty.lower() not in kinds:
        raise Decided(None)
    return str(kty)


@certificate_check("kv_certificate_key_type")
def key_type(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    kty = _needed(_key_type(data), "properties.policy.key_props.kty")
    return _one_of("Key type", kty, settings("key_types").value, {"properties.policy.key_props.kty": kty})


@certificate_check("kv_certificate_ec_curve")
def ec_curve(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    kty = _key_type_among(data, EC_TYPES)
    curve = _needed(_text(dig(data, "policy.key_props.crv")), "properties.policy.key_props.crv")
    evidence = {"properties.policy.key_props.kty": kty, "properties.policy.key_props.crv": curve}
    return _one_of("Curve", curve, settings("ec_curves").value, evidence)


@certificate_check("kv_certificate_rsa_size")
def rsa_size(data: Any, settings: Settings, _: dict[str, Any], __: ScanContext) -> Verdict:
    kty = _key_type_among(data, RSA_TYPES)
    minimum = settings("min_rsa_key_size").value
    if minimum is None:
        return _undeclared("min_rsa_key_size", "minimum RSA key size")
    size = _needed(_whole(dig(data, "policy.key_props.key_size")), "properties.policy.key_props.key_size")
    evidence = {"properties.policy.key_props.kty": kty, "properties.policy.key_props.key_size": size}
    if size < minimum:
        return Status.FAIL, f"RSA key of {size} bits, smaller than {minimum}", evidence
    return Status.PASS, f"RSA key of {size} bits (at least {minimum})", evidence
