"""Secret values never enter the inventory: vdcaudit judges where a secret is kept, never what it is.

A template, a plan, an `az` print or an ARM GET may carry a value that is a secret (a Key Vault
secret's value, an API Management named value, an Automation variable, a Data Factory linked
service's password or connection string). `drop_secret_values` removes them from a resource as it
enters the inventory, keeping what the rules read: whether a value is a secret, whether it is
inline (`SecureString`) or a Key Vault reference (`AzureKeyVaultSecret`: vault and secret name
only), and which secret keys a connection string holds (`AccountKey=***`), so no report, bundle
or history can leak one.
"""

from __future__ import annotations

import re
from typing import Any

# Types whose `properties.value` is the secret (or may be: a named value's or a variable's value
# is printed in clear when it is not marked secret or encrypted)
VALUE_TYPES = frozenset({
    "microsoft.keyvault/vaults/secrets",
    "microsoft.apimanagement/service/namedvalues",
    "microsoft.automation/automationaccounts/variables",
})
LINKED_SERVICE = "microsoft.datafactory/factories/linkedservices"
MASK = "***"
# Keys of connection strings whose values are credentials (Azure Storage, SQL, ODBC, Service Bus ...)
SECRET_KEYS = re.compile(r"(?i)\b(accountkey|pwd|password|credstring|sharedaccesskey|sharedaccesssignature|"
                         r"sig|secret|clientsecret)=([^;]*)")
# Linked-service fields a connection string is kept in (credentials masked, the rest kept) and fields
# that are a credential whole when written as a plain string
CONNECTION_FIELDS = frozenset({"connectionstring"})
CREDENTIAL_FIELDS = frozenset({"encryptedcredential", "sasuri", "sastoken", "accountkey", "serviceprincipalkey",
                               "password", "secretaccesskey", "accesstoken", "clientsecret", "refreshtoken"})
MAX_DEPTH = 32  # typeProperties nest a few levels; deeper input is cut, not walked


def drop_secret_values(resource: dict[str, Any]) -> None:
    """Remove secret values from one resource (in place)."""
    kind = str(resource.get("type", "")).lower()
    properties = resource.get("properties")
    if not isinstance(properties, dict):
        return
    if kind in VALUE_TYPES:
        for key in [k for k in properties if k.lower() == "value"]:
            del properties[key]
    elif kind == LINKED_SERVICE:
        for key in [k for k in properties if k.lower() == "typeproperties"]:
            properties[key] = _masked(properties[key], MAX_DEPTH)


def mask_connection_string(text: str) -> str:
    """`text` with the value of every credential key masked: `AccountName=a;AccountKey=***`."""
    return SECRET_KEYS.sub(lambda m: f"{m.group(1)}={MASK}", text)


def _masked(value: Any, depth: int) -> Any:
    """A linked service's typeProperties without secrets: a SecureString keeps its `type` only,
    connection strings keep their keys with credentials masked, a credential written as a plain
    string (a SAS URI, an account key, an encrypted credential) is masked whole."""
    if depth <= 0:
        return MASK
    if isinstance(value, list):
        return [_masked(item, depth - 1) for item in value]
    if not isinstance(value, dict):
        return value
    if str(_get(value, "type") or "").lower() == "securestring":
        return {k: v for k, v in value.items() if k.lower() != "value"}
    result = type(value)()
    for key, item in value.items():
        if key.lower() in CONNECTION_FIELDS and isinstance(item, str):
            result[key] = mask_connection_string(item)
        elif key.lower() in CREDENTIAL_FIELDS and isinstance(item, str) and item:
            result[key] = MASK
        else:
            result[key] = _masked(item, depth - 1)
    return result


def _get(mapping: dict[str, Any], name: str) -> Any:
    return next((v for k, v in mapping.items() if k.lower() == name), None)
