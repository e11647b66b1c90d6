"""`thresholds.key_vault_certificates` in vdcaudit.yaml: the parameters of Azure Policy's built-in
Key Vault certificate definitions, with the policies' own defaults. A parameter the policy gives no
default (the CA names, the lifetime-action and expiry days, the RSA key size) stays None until the
file sets it, and the rule that needs it reports UNKNOWN naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdcaudit.errors import InputError

SECTION = "key_vault_certificates"
WHERE = f"thresholds.{SECTION}"


@dataclass(frozen=True)
class CertificateThresholds:
    # 8e826246 "...issued by the specified integrated certificate authority" (allowedCAs)
    integrated_cas: tuple[str, ...] = ("DigiCert", "GlobalSign")
    # d3e82b87 / a22f4a40 "...issued by the specified non-integrated certificate authority" (caCommonNames)
    ca_common_names: tuple[str, ...] | None = None
    # 12ef42cb "...the specified lifetime action triggers" (minimumDaysBeforeExpiry, maximumPercentageLife)
    min_days_before_expiry: int | None = None
    max_lifetime_percentage: int | None = None
    # 0a075868 "...the specified maximum validity period" (maximumValidityInMonths)
    max_validity_months: int = 12
    # f772fb64 "...should not expire within the specified number of days" (daysToExpire)
    min_days_to_expiry: int | None = None
    # 1151cede "...should use allowed key types" (allowedKeyTypes)
    key_types: tuple[str, ...] = ("RSA", "RSA-HSM")
    # bd78111f "...elliptic curve cryptography should have allowed curve names" (allowedECNames)
    ec_curves: tuple[str, ...] = ("P-256", "P-256K", "P-384", "P-521")
    # cee51871 "...RSA cryptography should have the specified minimum key size" (minimumRSAKeySize)
    min_rsa_key_size: int | None = None

    @staticmethod
    def setting(name: str) -> str:
        """The setting's path in vdcaudit.yaml, for messages."""
        return f"{WHERE}.{name}"


_LISTS = ("integrated_cas", "ca_common_names", "key_types", "ec_curves")
_NUMBERS = ("min_days_before_expiry", "max_lifetime_percentage", "max_validity_months", "min_days_to_expiry",
            "min_rsa_key_size")


def certificate_thresholds(config: dict[str, Any], path: Path | None = None) -> CertificateThresholds:
    """The settings from a vdcaudit.yaml document (its JSON Schema checks the types and the values
    each policy allows; this reads them and refuses what the schema cannot say, e.g. an empty list)."""
    block = (config.get("thresholds") or {}).get(SECTION) or {}
    if not isinstance(block, dict):
        raise InputError(f"{WHERE} must be a mapping", path)
    values: dict[str, Any] = {}
    for name, value in block.items():
        if value is None:
            continue
        if name in _LISTS:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise InputError(f"{WHERE}.{name} must be a non-empty list of names", path)
            values[name] = tuple(value)
        elif name in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{WHERE}.{name} must be a whole number of 0 or more", path)
            values[name] = value
        else:
            raise InputError(f"{WHERE}: unknown setting {name}", path)
    return CertificateThresholds(**values)
