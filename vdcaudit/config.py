"""The scan configuration file (vdcaudit.yaml): who owns keys, which services must use
customer-managed (and HSM-backed) keys, and scan settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdcaudit import thresholds
from vdcaudit.errors import InputError
from vdcaudit.ipsec import parse_allowed
from vdcaudit.services import known_services
from vdcaudit.waivers import WaiverEntry, max_days, parse_waivers, waiver_items
from vdcaudit.io.yamlfile import load_config_document

# The baseline keeps keys apart from their users: a platform-managed key is held and used by the
# same service, so by default every data service must use a customer-managed key (docs/configuration.md,
# "Customer-managed keys"). HSM-backed keys are a stricter policy some organisations set.
POLICY_DEFAULTS = {"cmk_required": True, "hsm_required": False}


@dataclass(frozen=True)
class KeyPolicy:
    """One yes/no policy (cmk_required, hsm_required): a default and per-service overrides."""

    setting: str
    default: bool
    services: dict[str, bool] = field(default_factory=dict)
    declared: bool = False  # set in the file (else the built-in default)

    def required(self, service: str) -> tuple[bool, str]:
        """(required?, where that comes from) for one service."""
        if service in self.services:
            return self.services[service], f"{self.setting}.services.{service}: {str(self.services[service]).lower()}"
        origin = f"{self.setting}.default" if self.declared else f"{self.setting} (built-in default)"
        return self.default, f"{origin}: {str(self.default).lower()}"


@dataclass
class KeyOwner:
    object_id: str
    name: str = ""


@dataclass
class Config:
    path: str | None = None
    # None: not declared (rules that need it report UNKNOWN); []: declared, nobody owns keys
    key_owners: list[KeyOwner] | None = None
    waivers: list[WaiverEntry] | None = None  # None: the file lists no waivers
    waiver_max_days: int | None = None  # `waivers.max_days`: the longest a waiver may last (created..expires)
    raw: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, KeyPolicy] = field(default_factory=lambda: parse_policies({}))
    # `report:` title, organisation, engagement, prepared_by, reviewed_by (the report's cover and
    # sign-off block); absent keys are left out
    report: dict[str, str] = field(default_factory=dict)
    # ipsec.allowed: the IPsec/IKE algorithms the tenant mandates, per policy property (vdcaudit.ipsec)
    ipsec_allowed: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_key_owner(self, object_id: str) -> bool:
        return any(owner.object_id.lower() == object_id.lower() for owner in self.key_owners or [])


def parse_policies(data: dict[str, Any], path: Path | None = None) -> dict[str, KeyPolicy]:
    """cmk_required / hsm_required: a bool, or {default: bool, services: {service: bool}}."""
    policies = {}
    known = set(known_services())
    for setting, builtin in POLICY_DEFAULTS.items():
        value = data.get(setting)
        if value is None:
            policies[setting] = KeyPolicy(setting, builtin)
        elif isinstance(value, bool):
            policies[setting] = KeyPolicy(setting, value, declared=True)
        else:
            services = dict(value.get("services") or {})
            unknown = sorted(set(services) - known)
            if unknown:
                # a misspelt service would silently keep the default
                raise InputError(f"{setting}.services: unknown service {unknown[0]} (known: {', '.join(sorted(known))})",
                                 path)
            policies[setting] = KeyPolicy(setting, bool(value.get("default", builtin)), services,
                                          declared="default" in value)
    return policies


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    data, text = load_config_document(path, "config")
    owners = None
    if "key_owners" in data:
        owners = [KeyOwner(o, "") if isinstance(o, str) else KeyOwner(o["id"], o.get("name", ""))
                  for o in data["key_owners"] or []]
    section = data.get("waivers")
    # `waivers: {max_days: N}` alone sets the cap for a --waivers file and lists no waivers itself
    listed = "waivers" in data and not (isinstance(section, dict) and "list" not in section)
    waivers = parse_waivers(waiver_items(section), path, text) if listed else None
    thresholds.check(data, path)  # a bad block is refused when the file is read, not mid-scan
    return Config(path=str(path), key_owners=owners, waivers=waivers, waiver_max_days=max_days(section), raw=data,
                  policies=parse_policies(data, path), report=dict(data.get("report") or {}),
                  ipsec_allowed=parse_allowed((data.get("ipsec") or {}).get("allowed"), path))
