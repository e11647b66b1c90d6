"""Who ran a live scan: the Azure principal named in the access token's claims.

The token is a JWT; its payload (the middle, base64url-encoded part) names the principal: `oid`
(object id), `upn` or `preferred_username` (a user), `appid` / `azp` (an application) and `tid`
(tenant). The payload is decoded WITHOUT verifying the signature: the claims only label the
evidence bundle with the identity Azure accepted; ARM itself verified the token. The token is never
kept, printed or logged, only these few claims.
(Claims: https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference)
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential

CLAIMS = ("oid", "upn", "preferred_username", "appid", "azp", "tid", "idtyp")


def principal_of(token: str) -> dict[str, str]:
    """The naming claims of a JWT access token; {} when it is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    if not isinstance(claims, dict):
        return {}
    return {name: str(claims[name]) for name in CLAIMS if isinstance(claims.get(name), (str, int))}


class PrincipalRecorder(TokenCredential):
    """A credential that passes tokens through and keeps the principal of the first one."""

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner
        self.principal: dict[str, str] | None = None

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = self._inner.get_token(*scopes, **kwargs)
        if self.principal is None:
            self.principal = principal_of(token.token)
        return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()
