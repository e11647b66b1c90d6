"""`thresholds.<area>.<name>` in vdcaudit.yaml: the parameters Azure Policy's built-in definitions take,
read one way for every area, each with the value a rule uses when the file does not set it and where
that value comes from (docs/configuration.md, "Thresholds").

The rule for a default: the policy parameter's own default; where the parameter has none, a value
Microsoft documents (cited in TABLE and in the rule file); else none, and the rule that needs the
setting reports UNKNOWN naming it. Findings print `Setting.origin`: "thresholds.X.Y" when the file
sets it, "thresholds.X.Y default (source)" when the default applies.

The config schema checks the values when the file is read (and `check` refuses what it cannot say);
values given to the rules another way (tests) are checked on every read, and a wrong one is the rule's
ERROR, never a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError

KEYS = "key_vault_keys"
SECRETS = "key_vault_secrets"
CERTIFICATES = "key_vault_certificates"
COSMOS = "cosmos_db"
DISKS = "disks"

DAYS = "days"  # a whole number, 0 or more (days, months, percentages, bits)
NAMES = "names"  # a non-empty list of non-empty strings

POLICY = "Azure Policy"
NEAR_EXPIRY = "Key Vault near-expiry events"
NEAR_EXPIRY_CITE = "https://learn.microsoft.com/azure/event-grid/event-schema-key-vault"


@dataclass(frozen=True)
class Threshold:
    """One setting: what it holds, its default (None: no default) and where the default comes from."""

    kind: str
    default: Any = None
    source: str = ""  # short, printed in findings
    cite: str = ""  # the page (or policy definition) that gives the default


def _policy(kind: str, default: Any, definition: str) -> Threshold:
    return Threshold(kind, default, POLICY, f"Azure Policy definition {definition}")


TABLE: dict[str, dict[str, Threshold]] = {
    KEYS: {
        "allowed_key_types": _policy(NAMES, ("RSA", "RSA-HSM", "EC", "EC-HSM"), "75c4f823 allowedKeyTypes"),
        "allowed_curve_names": _policy(NAMES, ("P-256", "P-256K", "P-384", "P-521"), "ff25f3c8 allowedECNames"),
        # The day counts have no default in the definitions: Key Vault's KeyNearExpiry event fires 30
        # days before expiry by default (the key rotation policy can change it)
        "min_days_before_expiry": Threshold(DAYS, 30, NEAR_EXPIRY, NEAR_EXPIRY_CITE),
        # "rotate encryption keys at least every two years"
        "max_validity_days": Threshold(DAYS, 730, "Key Vault key rotation guidance",
                                       "https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation"),
        "max_active_days": Threshold(DAYS, 730, "Key Vault key rotation guidance",
                                     "https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation"),
    },
    SECRETS: {
        # SecretNearExpiry: "triggered 30 days before the expiration date"
        "min_days_before_expiry": Threshold(DAYS, 30, NEAR_EXPIRY, NEAR_EXPIRY_CITE),
        # rotate secrets "at least every 60 days"
        "max_validity_days": Threshold(DAYS, 60, "Key Vault secrets guidance",
                                       "https://learn.microsoft.com/azure/key-vault/secrets/secrets-best-practices"),
        "max_active_days": Threshold(DAYS, 60, "Key Vault secrets guidance",
                                     "https://learn.microsoft.com/azure/key-vault/secrets/secrets-best-practices"),
    },
    CERTIFICATES: {
        "integrated_cas": _policy(NAMES, ("DigiCert", "GlobalSign"), "8e826246 allowedCAs"),
        "ca_common_names": Threshold(NAMES),  # d3e82b87 / a22f4a40 caCommonNames: no default
        # 12ef42cb minimumDaysBeforeExpiry, maximumPercentageLife: no default, and none documented for
        # the policy's meaning (the earliest a lifetime action may trigger)
        "min_days_before_expiry": Threshold(DAYS),
        "max_lifetime_percentage": Threshold(DAYS),
        "max_validity_months": _policy(DAYS, 12, "0a075868 maximumValidityInMonths"),
        # f772fb64 daysToExpire has no default: CertificateNearExpiry is "triggered 30 days before the
        # expiration date", the same default the key and secret rules use
        "min_days_to_expiry": Threshold(DAYS, 30, NEAR_EXPIRY, NEAR_EXPIRY_CITE),
        "key_types": _policy(NAMES, ("RSA", "RSA-HSM"), "1151cede allowedKeyTypes"),
        "ec_curves": _policy(NAMES, ("P-256", "P-256K", "P-384", "P-521"), "bd78111f allowedECNames"),
        "min_rsa_key_size": Threshold(DAYS),  # cee51871 minimumRSAKeySize: no default
    },
    COSMOS: {
        "max_key_age_days": _policy(DAYS, 60, "9d83ccb1 maxDaysSinceLastRegeneration"),
    },
    DISKS: {
        "allowed_disk_encryption_sets": Threshold(NAMES),  # d461a302 allowedEncryptionSets: no default
    },
}


@dataclass(frozen=True)
class Setting:
    """One threshold's value (None: not set and no default) and where it comes from."""

    value: Any
    origin: str
    path: str  # thresholds.<area>.<name>, for messages that ask for it to be set


def _problem(kind: str, value: Any) -> str | None:
    """Why `value` is not a value of `kind`; None when it is."""
    if kind == DAYS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return f"is {value!r}, not a whole number of 0 or more"
    if kind == NAMES and (not isinstance(value, list) or not value
                          or not all(isinstance(item, str) and item.strip() for item in value)):
        return f"is {value!r}, not a non-empty list of names"
    return None


def _area(raw: Mapping[str, Any], area: str) -> Mapping[str, Any]:
    block = raw.get("thresholds") or {}
    if not isinstance(block, Mapping):
        raise ValueError("thresholds in vdcaudit.yaml is not a mapping")
    values = block.get(area) or {}
    if not isinstance(values, Mapping):
        raise ValueError(f"thresholds.{area} in vdcaudit.yaml is not a mapping")
    return values


def read(raw: Mapping[str, Any], area: str, name: str) -> Setting:
    """`thresholds.<area>.<name>` from a vdcaudit.yaml document (Config.raw), else its default.
    ValueError when the value is not one the setting takes."""
    threshold = TABLE[area][name]
    path = f"thresholds.{area}.{name}"
    value = _area(raw, area).get(name)
    if value is None:
        if threshold.default is None:
            return Setting(None, f"{path} not set (no default)", path)
        return Setting(threshold.default, f"{path} default ({threshold.source})", path)
    problem = _problem(threshold.kind, value)
    if problem:
        raise ValueError(f"{path} {problem}")
    return Setting(tuple(value) if threshold.kind == NAMES else value, path, path)


def check(raw: Mapping[str, Any], path: Path | None = None) -> None:
    """Refuse, when the file is read, a threshold the rules could not use (not mid-scan)."""
    try:
        block = raw.get("thresholds") or {}
        if not isinstance(block, Mapping):
            raise ValueError("thresholds in vdcaudit.yaml is not a mapping")
        for area in block:
            if area not in TABLE:
                raise ValueError(f"thresholds: unknown area {area}")
            for name in _area(raw, area):
                if name not in TABLE[area]:
                    raise ValueError(f"thresholds.{area}: unknown setting {name}")
                read(raw, area, name)
    except ValueError as problem:
        raise InputError(str(problem), path) from None
