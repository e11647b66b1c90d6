"""`thresholds.key_vault_keys` and `thresholds.key_vault_secrets` in vdcaudit.yaml: the parameters Azure
Policy's built-in Key Vault key and secret definitions take, with the value each rule uses when the
file does not set it (docs/configuration.md, "Key Vault keys and secrets").

Where the definition has a default, it is the policy's own (allowed key types, allowed curve names).
The day counts have none in the definitions; the values below are the ones Microsoft documents:
- https://learn.microsoft.com/azure/event-grid/event-schema-key-vault : Key Vault's "near expiry"
  events fire 30 days before a secret (and by default a key) expires: 30 days before expiration.
- https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation : "rotate encryption
  keys at least every two years": keys valid and active for at most 730 days.
- https://learn.microsoft.com/azure/key-vault/secrets/secrets-best-practices : rotate secrets "at
  least every 60 days": secrets valid and active for at most 60 days.
The file is checked against the config schema when it is read; values given to the rules another way
(tests) are checked here, and a wrong one is the rule's ERROR, never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdcaudit.config import Config

KEYS = "key_vault_keys"
SECRETS = "key_vault_secrets"
# Microsoft.KeyVault.Data definitions 75c4f823 (allowedKeyTypes) and ff25f3c8 (allowedECNames)
DEFAULT_KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")
DEFAULT_CURVES = ("P-256", "P-256K", "P-384", "P-521")
DAY_DEFAULTS = {
    KEYS: {"min_days_before_expiry": 30, "max_validity_days": 730, "max_active_days": 730},
    SECRETS: {"min_days_before_expiry": 30, "max_validity_days": 60, "max_active_days": 60},
}
BY_TYPE = {"microsoft.keyvault/vaults/keys": KEYS, "microsoft.keyvault/vaults/secrets": SECRETS}


@dataclass(frozen=True)
class Setting:
    """One threshold and where its value comes from (printed in findings)."""

    value: Any
    origin: str


def _block(config: Config, area: str) -> dict[str, Any]:
    thresholds = config.raw.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise ValueError("thresholds in vdcaudit.yaml is not a mapping")
    block = thresholds.get(area) or {}
    if not isinstance(block, dict):
        raise ValueError(f"thresholds.{area} in vdcaudit.yaml is not a mapping")
    return block


def days(config: Config, resource_type: str, name: str) -> Setting:
    """A day count (min_days_before_expiry, max_validity_days, max_active_days) for keys or secrets."""
    area = BY_TYPE[resource_type.lower()]
    block = _block(config, area)
    if name not in block:
        return Setting(DAY_DEFAULTS[area][name], f"thresholds.{area}.{name} default")
    value = block[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"thresholds.{area}.{name} is {value!r}, not a whole number of days")
    return Setting(value, f"thresholds.{area}.{name}")


def allowed(config: Config, name: str) -> Setting:
    """A key allow-list (allowed_key_types, allowed_curve_names), upper-cased for comparison."""
    builtin = {"allowed_key_types": DEFAULT_KEY_TYPES, "allowed_curve_names": DEFAULT_CURVES}[name]
    block = _block(config, KEYS)
    if name not in block:
        return Setting(frozenset(builtin), f"thresholds.{KEYS}.{name} default")
    value = block[name]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"thresholds.{KEYS}.{name} is {value!r}, not a list of names")
    return Setting(frozenset(v.upper() for v in value), f"thresholds.{KEYS}.{name}")
