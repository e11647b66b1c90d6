"""Data Factory linked services keep their secrets in Key Vault, as Azure Policy's built-in "Azure
Data Factory linked services should use Key Vault for storing secrets" judges them.

A linked service's secret fields (typeProperties.password, servicePrincipalKey, accountKey, sasUri,
connectionString ...) are SecretBase objects: `{"type": "SecureString", "value": ...}` keeps the
secret in the factory, `{"type": "AzureKeyVaultSecret", "store": ..., "secretName": ...}` reads it
from Key Vault (https://learn.microsoft.com/azure/data-factory/store-credentials-in-key-vault).
A connection string may also carry a credential inline (`AccountKey=`, `Password=`, `PWD=`,
`CredString=`), and `encryptedCredential` holds credentials the factory stores encrypted
(https://learn.microsoft.com/azure/data-factory/encrypt-credentials-self-hosted-integration-runtime).
vdcaudit never keeps a secret value (secret_values.py masks them as the resource is read); this
check reads only each field's kind and the names of a connection string's keys.
"""

from __future__ import annotations

import re
from typing import Any

from vdcaudit.armdata import props
from vdcaudit.checks import register_each
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.secret_values import MAX_DEPTH

VAULT_REFERENCE = "azurekeyvaultsecret"
# The connection-string keys the built-in policy treats as an inline credential
INLINE_KEYS = re.compile(r"(?i)\b(accountkey|pwd|password|credstring)=")
# Fields that hold a secret whatever their form: anything but a Key Vault reference is inline
SECRET_FIELDS = frozenset({"sasuri", "accountkey", "serviceprincipalkey"})
# Linked-service types whose whole connection string is the secret
CONNECTION_STRING_IS_SECRET = frozenset({"mongodbatlas", "mongodbv2"})


def _kind(value: Any) -> str:
    return str(value.get("type") or "").lower() if isinstance(value, dict) else ""


def inline_secrets(type_properties: Any, service_type: str) -> tuple[list[str], list[str]]:
    """(fields holding a secret inline, fields reading one from Key Vault), as paths under typeProperties."""
    inline: list[str] = []
    vaulted: list[str] = []

    def walk(node: Any, path: str, depth: int) -> None:
        if depth <= 0 or not isinstance(node, dict):
            return
        for key, value in node.items():
            where, name = f"{path}.{key}" if path else key, key.lower()
            kind = _kind(value)
            if kind == VAULT_REFERENCE:
                vaulted.append(where)
            elif kind == "securestring":
                inline.append(f"{where} (SecureString)")
            elif name == "encryptedcredential" and value:
                inline.append(f"{where} (stored in the factory)")
            elif name in SECRET_FIELDS and value not in (None, ""):
                inline.append(f"{where} (not a Key Vault reference)")
            elif name == "connectionstring" and isinstance(value, str) and value:
                if service_type in CONNECTION_STRING_IS_SECRET:
                    inline.append(f"{where} (not a Key Vault reference)")
                elif INLINE_KEYS.search(value):
                    keys = sorted({m.group(1) for m in INLINE_KEYS.finditer(value)}, key=str.lower)
                    inline.append(f"{where} (holds {', '.join(k + '=' for k in keys)})")
            else:
                walk(value, where, depth - 1)

    walk(type_properties, "", MAX_DEPTH)
    return inline, vaulted


@register_each("datafactory_linked_service_secrets")
def datafactory_linked_service_secrets(rule: Rule, service: dict[str, Any], inventory: Inventory,
                                       context: ScanContext) -> Finding:
    settings = props(service)
    type_properties = settings.get("typeProperties")
    if not isinstance(type_properties, dict):
        return finding_for(rule, service, Status.UNKNOWN,
                           "cannot assess: properties.typeProperties absent from the resource data")
    inline, vaulted = inline_secrets(type_properties, str(settings.get("type") or "").lower())
    evidence = {"properties.type": settings.get("type"), "inline secrets": inline, "Key Vault references": vaulted}
    if inline:
        return finding_for(rule, service, Status.FAIL,
                           f"secrets kept in the factory, not in Key Vault: {'; '.join(inline)}", evidence)
    if vaulted:
        return finding_for(rule, service, Status.PASS,
                           f"every secret is read from Key Vault ({', '.join(vaulted)})", evidence)
    return finding_for(rule, service, Status.PASS,
                       "the linked service holds no secret (an identity or a Key Vault reference signs it in)", evidence)
