"""Key Vault certificates through Key Vault's data plane (`--keyvault-data-plane`): read-only and
metadata only.

For each vault, `GET {vault}/certificates` (paged by `nextLink`) names the certificates and
`GET {vault}/certificates/{name}` reads each one's attributes and policy (learn.microsoft.com/rest/api/keyvault/certificates/get-certificates
and .../get-certificate), through azure-keyvault-certificates' CertificateClient with the scan's
credential (its challenge authentication asks for the token Key Vault names in its 401). Never read:
private keys, the certificate's secret (the PFX/PEM with its key), any secret value; the only
verb is GET (the read-only guard of clients.py).

A certificate becomes a child resource of its vault, id `{vault id}/certificates/{name}`, type
CERTIFICATE_TYPE (Key Vault's management plane serves no such type; the name follows the vault's
own `keys` and `secrets` children), whose `properties` are the data-plane answer as Key Vault sends
it (snake_case: `attributes`, `policy.key_props`, `policy.x509_props`, `policy.issuer`,
`policy.lifetime_actions`, the public certificate `cer`), restricted to KEPT. The vault is marked
as read (x_vdcaudit.dataPlane.certificates: the api-version), which `vdcaudit snapshot` keeps: the
certificate rules tell a vault without certificates from one whose certificates were never read.

Where the token goes: only to `https://<vault>.<cloud's Key Vault DNS suffix>` named by the vault's
`properties.vaultUri`. Anything else (another host, http, a port, credentials or a path in the URI)
is refused before any request: a vaultUri is data from ARM, and a tampered one must not collect a
token. With a loopback ARM endpoint (the emulator) the same checked URI is served by the emulator
under EMULATOR_PREFIX/<vault host>.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.keyvault.certificates import CertificateClient

from vdcaudit.armdata import dig
from vdcaudit.collectors.azure.clients import ArmSession, Connection, read_policies
from vdcaudit.collectors.azure.clouds import is_loopback
from vdcaudit.collectors.azure.generic import json_object
from vdcaudit.collectors.azure.keyvault_model import CERTIFICATE_TYPE
from vdcaudit.endpoints import origin
from vdcaudit.untrusted import safe_text

# The Key Vault REST API version read with (GA; the emulator accepts any 7.x and later)
API_VERSION = "7.6"
# Where the emulator serves a vault's data plane: {loopback ARM endpoint}{EMULATOR_PREFIX}/{vault host}
EMULATOR_PREFIX = "/keyvault"
# Key Vault lists at most 25 certificates a page (`maxresults`, 1-25); 200 pages is 5,000 certificates
PAGE_SIZE = 25
MAX_PAGES = 200
MAX_CERTIFICATES = 5_000
# What is kept of a certificate's answer: metadata and the public certificate (its issuer's name is
# judged). `kid` and `sid` only name the key and the secret; they are left out with anything else.
KEPT = ("id", "x5t", "cer", "attributes", "policy", "tags")
# Vault names: 3-24 characters, letters, digits and hyphens, starting with a letter, ending with a
# letter or digit (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault)
VAULT_NAME = re.compile(r"[a-z][a-z0-9-]{1,22}[a-z0-9]")
# Object names in Key Vault: 1-127 letters, digits and hyphens
# (learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers)
OBJECT_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")


class Refused(Exception):
    """A vault whose certificates are not read, and why (a coverage gap)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def data_plane_url(vault_uri: Any, suffix: str, arm_endpoint: str) -> str:
    """The base URL to read the vault at, from its `properties.vaultUri` (Refused unless it is
    https://<vault name>.<suffix>[/] exactly)."""
    text = str(vault_uri or "")
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    name = host[:-len(suffix) - 1] if host.endswith("." + suffix.lower()) else ""
    if (parts.scheme.lower() != "https" or parts.username is not None or parts.password is not None
            or port not in (None, 443) or not VAULT_NAME.fullmatch(name) or parts.path not in ("", "/")
            or parts.query or parts.fragment):
        shown = safe_text(text) if text else "absent"
        raise Refused(f"properties.vaultUri {shown} is not https://<vault>.{suffix}/: not read "
                      "(a token goes only to the cloud's Key Vault endpoints)")
    if is_loopback(arm_endpoint):
        return f"{arm_endpoint.rstrip('/')}{EMULATOR_PREFIX}/{host}"
    return f"https://{host}"


def on_certificate_list(link: str, base: str) -> bool:
    """Whether a nextLink stays on the vault's certificate list (same origin, same path): Key Vault
    writes its links with an explicit :443, which origin() treats as the default port it is."""
    return origin(link) == origin(base) and urlsplit(link).path.rstrip("/") == urlsplit(base).path + "/certificates"


def _name_of(item: Any) -> str:
    """The certificate name a list item's id names: https://<vault>/certificates/<name>."""
    ident = str(item.get("id") or "") if isinstance(item, dict) else ""
    segments = urlsplit(ident).path.strip("/").split("/")
    if len(segments) != 2 or segments[0].lower() != "certificates" or not OBJECT_NAME.fullmatch(segments[1]):
        raise Refused(f"the certificate list names {safe_text(ident) or 'an item without an id'}, "
                      "not https://<vault>/certificates/<name>")
    return segments[1]


class CertificateReader:
    """Reads one vault's certificates at a time (thread-safe: each read has its own client)."""

    def __init__(self, connection: Connection, suffix: str) -> None:
        self.connection = connection
        self.suffix = suffix

    def read(self, vault: dict[str, Any]) -> list[dict[str, Any]]:
        """The vault's certificates as child resources (Refused, or the SDK's errors, when they
        cannot all be read: a partial list must not pass for the whole)."""
        try:
            uri = dig(vault, "properties.vaultUri")
        except TypeError:
            raise Refused("the vault's properties are not an object: no vaultUri to read") from None
        base = data_plane_url(uri, self.suffix, self.connection.endpoint)
        session = ArmSession(base, self.connection.max_response_bytes)
        transport = RequestsTransport(session=session, session_owner=False,
                                      connection_timeout=self.connection.timeout,
                                      read_timeout=self.connection.timeout,
                                      connection_verify=self.connection.ca_bundle or True)
        # The SDK checks that the resource Key Vault's challenge names is the request's domain; a
        # loopback emulator cannot be under vault.azure.net, and data_plane_url already admitted it.
        client = CertificateClient(base, self.connection.credential, api_version=API_VERSION, transport=transport,
                                   verify_challenge_resource=not is_loopback(base),
                                   **read_policies(self.connection, base))
        try:
            get = client.send_request
            return [certificate for name in self._names(get, base)
                    if (certificate := self._certificate(get, vault["id"], name)) is not None]
        finally:
            client.close()
            session.close()

    def _names(self, send: Callable[..., Any], base: str) -> list[str]:
        request = HttpRequest("GET", "/certificates", params={"maxresults": PAGE_SIZE})
        names: list[str] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = json_object(send(request, stream=True), "GET /certificates")
            page = body.get("value")
            if not isinstance(page, list):
                raise Refused("the certificate list has no 'value' list")
            names.extend(_name_of(item) for item in page)
            if len(names) > MAX_CERTIFICATES:
                raise Refused(f"more than {MAX_CERTIFICATES} certificates in the vault")
            link = body.get("nextLink")
            if not link:
                return names
            if not isinstance(link, str) or not on_certificate_list(link, base):
                raise Refused(f"nextLink {safe_text(str(link))} leaves the vault's certificate list; refused")
            if link in seen:
                raise Refused("nextLink repeats an earlier page")
            seen.add(link)
            request = HttpRequest("GET", link)  # a nextLink carries its own api-version
        raise Refused(f"the certificate list runs past {MAX_PAGES} pages")

    @staticmethod
    def _certificate(send: Callable[..., Any], vault_id: str, name: str) -> dict[str, Any] | None:
        try:
            body = json_object(send(HttpRequest("GET", f"/certificates/{name}"), stream=True),
                               f"GET /certificates/{name}")
        except ResourceNotFoundError:
            return None  # deleted since the list was read: nothing to judge
        return {"id": f"{vault_id}/certificates/{name}", "name": name, "type": CERTIFICATE_TYPE,
                "properties": {key: body[key] for key in KEPT if key in body}}
