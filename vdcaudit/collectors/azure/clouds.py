"""Which Azure Resource Manager to talk to and how to authenticate against it."""

from __future__ import annotations

import base64
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential

from vdcaudit.endpoints import is_https_url
from vdcaudit.errors import InputError


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    authority_host: str  # Entra ID login endpoint for azure-identity
    # The DNS suffix of the cloud's Key Vault endpoints (https://<vault>.<suffix>/), documented in
    # learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers:
    # the only hosts a data-plane read (--keyvault-data-plane) sends a token to
    keyvault_suffix: str

    @property
    def scope(self) -> str:
        """The token audience for ARM (and Resource Graph, which shares it)."""
        return self.arm_endpoint.rstrip("/") + "/.default"


CLOUDS = {
    "AzurePublicCloud": Cloud("AzurePublicCloud", "https://management.azure.com", "login.microsoftonline.com",
                              "vault.azure.net"),
    "AzureUSGovernment": Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net", "login.microsoftonline.us",
                               "vault.usgovcloudapi.net"),
    "AzureChinaCloud": Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn", "login.chinacloudapi.cn",
                             "vault.azure.cn"),
}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str) -> str:
    if not is_https_url(url):
        raise InputError(f"--arm-endpoint {url}: expected an https:// URL")
    return url.rstrip("/")


def _unsigned_jwt(claims: dict[str, str]) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.x"


# JWT-shaped like a real access token (unsigned; the emulator does not check it), so a scan against
# the emulator records an operator as a live scan does
EMULATOR_TOKEN = _unsigned_jwt({"oid": "00000000-0000-4000-8000-0000000e0001", "upn": "emulator@vdcaudit.invalid",
                                "tid": "00000000-0000-4000-8000-0000000e0000"})


class StaticTokenCredential(TokenCredential):
    """A fixed dummy bearer token, for a local emulator only (the caller enforces loopback)."""

    def __init__(self, token: str = "") -> None:
        self._token = token or EMULATOR_TOKEN

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


def make_credential(kind: str, cloud: Cloud, endpoint: str, tenant: str | None) -> TokenCredential:
    if kind == "static-token":
        if not is_loopback(endpoint):
            raise InputError(f"--credential static-token is only allowed with a loopback --arm-endpoint "
                             f"(an emulator), not {endpoint}")
        return StaticTokenCredential()
    # Imported here: azure-identity is slow to import and not needed for the emulator
    from azure.identity import DefaultAzureCredential

    if not tenant:
        return DefaultAzureCredential(authority=cloud.authority_host)
    # DefaultAzureCredential takes no tenant_id of its own: each credential in its chain gets the
    # tenant, and every token request names it.
    chain = DefaultAzureCredential(
        authority=cloud.authority_host, additionally_allowed_tenants=[tenant],
        workload_identity_tenant_id=tenant, shared_cache_tenant_id=tenant,
        visual_studio_code_tenant_id=tenant, interactive_browser_tenant_id=tenant, broker_tenant_id=tenant)
    return TenantCredential(chain, tenant)


class TenantCredential(TokenCredential):
    """Asks the wrapped credential for tokens issued by one tenant (`--tenant`)."""

    def __init__(self, inner: TokenCredential, tenant: str) -> None:
        self._inner = inner
        self._tenant = tenant

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._inner.get_token(*scopes, **{**kwargs, "tenant_id": self._tenant})
