"""Application gateways: the TLS policy clients meet, and listeners that accept plain HTTP.

The policy a listener enforces is not one property: it is the gateway's `sslPolicy` (predefined by
name, or custom with `minProtocolVersion` + `cipherSuites`, or - before policy types existed - only
`disabledSslProtocols`), overridden per listener by an SSL profile's own `sslPolicy`. When no policy
is set at all, Azure applies a default that depends on the API version the gateway was created with
(https://learn.microsoft.com/azure/application-gateway/application-gateway-ssl-policy-overview:
AppGwSslPolicy20150501, TLS 1.0 and weak suites, for API versions before 2023-02-01;
AppGwSslPolicy20220101, TLS 1.2, from 2023-02-01). A template carries its `apiVersion`, so the
default is known; a deployed gateway's print does not say, so that case is UNKNOWN. (Application
Gateway stopped accepting TLS 1.0/1.1 from clients on 31 August 2025: from then on the platform floor
decides VDC-AGW-001 for a gateway configured with an old policy, see vdcaudit.floors.) Shapes follow Microsoft.Network API
2023-09-01.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vdcaudit import floors
from vdcaudit.armdata import dig, objects, props, same
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule

PROTOCOL_ORDER = ["tlsv1_0", "tlsv1_1", "tlsv1_2", "tlsv1_3"]

# Predefined policies: minimum protocol, and why the cipher list is weak (None: no weak suites).
# From the Application Gateway TLS policy overview's table of predefined policies.
PREDEFINED: dict[str, tuple[str, str | None]] = {
    "appgwsslpolicy20150501": ("tlsv1_0", "3DES, static-RSA key exchange and CBC with SHA-1 suites"),
    "appgwsslpolicy20170401": ("tlsv1_1", "static-RSA key exchange and CBC with SHA-1 suites"),
    "appgwsslpolicy20170401s": ("tlsv1_2", "static-RSA key exchange and CBC with SHA-1 suites"),
    "appgwsslpolicy20220101": ("tlsv1_2", None),
    "appgwsslpolicy20220101s": ("tlsv1_2", None),
}

DEFAULT_POLICY_CHANGE = "2023-02-01"  # API version from which the default policy is AppGwSslPolicy20220101

NO_POLICY = ("no SSL policy is set, so Azure's default applies, and the default depends on the API version "
             "the gateway was created with (AppGwSslPolicy20150501 before 2023-02-01, TLS 1.0 and weak "
             "suites; AppGwSslPolicy20220101 after); set an explicit policy")


def weak_cipher_reason(suite: str) -> str | None:
    """Why a cipher suite is weak, or None. No forward secrecy (static RSA), SHA-1 MACs, 3DES/RC4/NULL."""
    name = suite.upper()
    if any(bad in name for bad in ("3DES", "RC4", "NULL", "_DES_", "EXPORT", "MD5")):
        return "broken cipher"
    if name.startswith("TLS_RSA_"):
        return "static RSA key exchange (no forward secrecy)"
    if name.endswith("_SHA"):
        return "SHA-1 MAC"
    return None


@dataclass
class Policy:
    where: str  # "gateway" or "SSL profile NAME"
    min_protocol: str | None  # lower-case, e.g. tlsv1_2; None when it cannot be told
    weak: list[str]  # weak suites / reasons
    description: str
    unknown: str | None = None  # why the policy cannot be assessed


def effective_policy(policy: dict[str, Any] | None, where: str) -> Policy:
    if not policy:
        return Policy(where, None, [], "none", unknown=NO_POLICY)
    if not isinstance(policy, dict):
        raise TypeError(f"the {where} sslPolicy is a {type(policy).__name__}, not an object")
    kind = str(policy.get("policyType") or "").lower()
    name = str(policy.get("policyName") or "")
    if kind == "predefined" or (not kind and name):
        known = PREDEFINED.get(name.lower())
        if known is None:
            return Policy(where, None, [], f"Predefined {name or '?'}",
                          unknown=f"predefined policy {name or '(no name)'} is not one vdcaudit knows")
        minimum, weak_note = known
        return Policy(where, minimum, [f"{name}: {weak_note}"] if weak_note else [], f"Predefined {name}")
    suites = [str(s) for s in policy.get("cipherSuites") or []]
    weak = [f"{s} ({reason})" for s in suites if (reason := weak_cipher_reason(s))]
    if kind in ("custom", "customv2"):
        minimum = str(policy.get("minProtocolVersion") or "").lower()
        if minimum not in PROTOCOL_ORDER:
            return Policy(where, None, weak, f"{policy.get('policyType')} policy",
                          unknown=f"custom policy minProtocolVersion is {minimum or 'absent'}")
        return Policy(where, minimum, weak, f"{policy.get('policyType')} min {policy.get('minProtocolVersion')}")
    disabled = {str(p).lower() for p in policy.get("disabledSslProtocols") or []}
    if disabled:  # the pre-2017 form: only a list of disabled protocols
        enabled = [p for p in PROTOCOL_ORDER if p not in disabled]
        return Policy(where, enabled[0] if enabled else None, weak, f"disabledSslProtocols {sorted(disabled)}")
    return Policy(where, None, [], "empty", unknown=NO_POLICY)


def default_policy(gateway: dict[str, Any]) -> dict[str, Any] | None:
    """The predefined policy Azure applies to a gateway without one, when its apiVersion says which."""
    version = gateway.get("apiVersion")
    if not isinstance(version, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", version):
        return None
    name = "AppGwSslPolicy20220101" if version[:10] >= DEFAULT_POLICY_CHANGE else "AppGwSslPolicy20150501"
    return {"policyType": "Predefined", "policyName": name}


def gateway_policies(gateway: dict[str, Any]) -> list[Policy]:
    configured = props(gateway).get("sslPolicy")
    fallback = None if configured else default_policy(gateway)
    if fallback is not None:
        policy = effective_policy(fallback, "gateway")
        policy.description += f" (Azure default for API version {str(gateway.get('apiVersion'))[:10]}: no sslPolicy set)"
        policies = [policy]
    else:
        policies = [effective_policy(configured, "gateway")]
    for profile in _entries(gateway, "sslProfiles"):
        profile_policy = dig(profile, "properties.sslPolicy")
        if profile_policy:
            policies.append(effective_policy(profile_policy, f"SSL profile {profile.get('name')}"))
    return policies


def _entries(gateway: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The gateway's sub-resources of one kind (listeners, SSL profiles, ...); malformed data raises."""
    return objects(props(gateway).get(name) or [], f"properties.{name}")


def _protocol_is(item: dict[str, Any], protocol: str) -> bool:
    return same(dig(item, "properties.protocol"), protocol)


def _ref_id(item: dict[str, Any] | None, path: str) -> str:
    return str(dig(item, path) or "").lower()


def _has_https_listener(gateway: dict[str, Any]) -> bool:
    return any(_protocol_is(listener, "Https") for listener in _entries(gateway, "httpListeners"))


def _policy_verdict(rule: Rule, gateway: dict[str, Any], problem: Callable[[Policy], str | None],
                    failing: str, evidence_name: str, passing: str) -> Finding | None:
    """One gateway's TLS policies judged by `problem` (why a policy falls short, or None)."""
    if not _has_https_listener(gateway):
        return None  # no TLS termination on the gateway; VDC-AGW-003 reports plain HTTP listeners
    policies = gateway_policies(gateway)
    evidence: dict[str, Any] = {p.where: p.description for p in policies}
    problems = [text for p in policies if (text := problem(p))]
    unknown = [p for p in policies if p.unknown]
    if problems:
        evidence[evidence_name] = problems
        return finding_for(rule, gateway, Status.FAIL, f"{failing}: " + "; ".join(problems), evidence)
    if unknown:
        return finding_for(rule, gateway, Status.UNKNOWN, "cannot assess: " + "; ".join(
            f"{p.where}: {p.unknown}" for p in unknown), evidence)
    return finding_for(rule, gateway, Status.PASS, passing, evidence)


def _floor_verdict(rule: Rule, gateway: dict[str, Any], context: ScanContext) -> Finding | None:
    """The rule's platform floor, when in force on the evidence's date, decides a gateway whose policies
    allow TLS 1.0/1.1 (no effect: WARN) or cannot be told (PASS); None otherwise (vdcaudit.floors)."""
    floor = rule.platform_floor
    if floor is None or not _has_https_listener(gateway):
        return None
    on, basis = floors.evidence_date(gateway, context)
    policies = gateway_policies(gateway)
    weak = [p for p in policies if p.min_protocol in ("tlsv1_0", "tlsv1_1")]
    if not weak and not any(p.unknown for p in policies):
        return None  # every policy known and at 1.2 or later: judged as always
    decided = floors.decide(floor, weak[0].min_protocol if weak else None, on, basis)
    if decided is None:
        return None
    evidence = {p.where: p.description for p in policies}
    return finding_for(rule, gateway, decided.status, decided.message, evidence)


@register_each("appgw_min_tls")
def appgw_min_tls(rule: Rule, gateway: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
    if (decided := _floor_verdict(rule, gateway, context)) is not None:
        return decided
    return _policy_verdict(
        rule, gateway, lambda p: f"{p.where} allows {p.min_protocol}" if p.min_protocol in ("tlsv1_0", "tlsv1_1") else None,
        "accepts TLS older than 1.2", "policies allowing TLS older than 1.2", "every TLS policy requires TLS 1.2 or later")


@register_each("appgw_cipher_suites")
def appgw_cipher_suites(rule: Rule, gateway: dict[str, Any], inventory: Inventory,
                        context: ScanContext) -> Finding | None:
    return _policy_verdict(
        rule, gateway, lambda p: f"{p.where}: {', '.join(p.weak)}" if p.weak else None,
        "weak cipher suites offered", "weak suites", "no weak cipher suites in any TLS policy")


def _redirects_to_https(gateway: dict[str, Any], listener_id: str) -> bool:
    """True when every routing rule on this HTTP listener redirects to an HTTPS listener."""
    listeners = {str(item.get("id", "")).lower(): item for item in _entries(gateway, "httpListeners")}
    redirects = {str(item.get("id", "")).lower(): item for item in _entries(gateway, "redirectConfigurations")}
    rules = [r for r in _entries(gateway, "requestRoutingRules")
             if _ref_id(r, "properties.httpListener.id") == listener_id]
    if not rules:
        return False
    for routing_rule in rules:
        redirect = redirects.get(_ref_id(routing_rule, "properties.redirectConfiguration.id"))
        target = listeners.get(_ref_id(redirect, "properties.targetListener.id"))
        if target is None or not _protocol_is(target, "Https"):
            return False
    return True


@register_each("appgw_https_listeners")
def appgw_https_listeners(rule: Rule, gateway: dict[str, Any], inventory: Inventory,
                          context: ScanContext) -> Finding:
    if "httpListeners" not in props(gateway):
        return finding_for(rule, gateway, Status.UNKNOWN,
                           "cannot assess: properties.httpListeners absent from the resource data")
    plain, redirected = [], []
    for listener in _entries(gateway, "httpListeners"):
        if not _protocol_is(listener, "Http"):
            continue
        if _redirects_to_https(gateway, str(listener.get("id", "")).lower()):
            redirected.append(listener.get("name"))
        else:
            plain.append(listener.get("name"))
    evidence = {"HTTP listeners serving content": plain, "HTTP listeners redirecting to HTTPS": redirected}
    if plain:
        return finding_for(rule, gateway, Status.FAIL,
                           f"listeners serve plain HTTP: {', '.join(map(str, plain))}", evidence)
    return finding_for(rule, gateway, Status.PASS,
                       "no listener serves plain HTTP (HTTP only redirects to HTTPS)", evidence)
