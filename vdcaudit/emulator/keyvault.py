"""Key Vault's certificate endpoints for the fixture tenant's vaults, on the ARM emulator's server.

A vault `https://<name>.vault.azure.net/` is served under `/keyvault/<name>.vault.azure.net`
(collectors/azure/keyvault_data.EMULATOR_PREFIX: with a loopback ARM endpoint the collector reads
each vault there, after checking its vaultUri as against Azure). As Key Vault does
(learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses):

- a request without a bearer token is answered 401 with the challenge
  `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>", resource="https://vault.azure.net"`,
  which azure-keyvault-* clients need before they send their token;
- `GET /certificates` lists the current certificates (`id` without version, `x5t`, `attributes`,
  `tags`), `maxresults` (at most 25) a page, with `nextLink`;
- `GET /certificates/<name>` answers the certificate bundle, `GET /certificates/<name>/policy` its
  policy; an unknown name is 404 CertificateNotFound;
- a vault in `forbidden` answers 403 Forbidden (the caller lacks certificates list/get).

The certificates are the fixture's Microsoft.KeyVault/vaults/certificates entries (what
`vdcaudit snapshot --keyvault-data-plane` records), their `properties` being the bundle.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from vdcaudit.collectors.azure.keyvault_data import EMULATOR_PREFIX, PAGE_SIZE
from vdcaudit.emulator.httpserver import EmulatorServer, Request, Response

HOST = r"(?P<host>[^/]+)"
NAME = r"(?P<name>[^/]+)"


class KeyVaultDataPlane:
    """Vault host -> certificate name (lower-case) -> the bundle Key Vault answers."""

    def __init__(self, server: EmulatorServer, tenant_id: str, page_size: int) -> None:
        self.server = server
        self.tenant_id = tenant_id
        self.page_size = min(page_size, PAGE_SIZE)
        self.vaults: dict[str, dict[str, dict[str, Any]]] = {}
        self.forbidden: set[str] = set()  # vault hosts that answer 403
        prefix = EMULATOR_PREFIX + "/" + HOST + "/certificates"
        server.add_route("GET", prefix + "/?", self._list)
        server.add_route("GET", prefix + "/" + NAME + "/policy/?", self._policy)
        server.add_route("GET", prefix + "/" + NAME + "/?", self._get)

    def add_vault(self, vault_uri: Any) -> str | None:
        """A vault of the tenant (its vaultUri); its host, or None without one."""
        host = (urlsplit(str(vault_uri or "")).hostname or "").lower()
        if host:
            self.vaults.setdefault(host, {})
        return host or None

    def add_certificate(self, host: str, name: str, bundle: dict[str, Any]) -> None:
        self.vaults.setdefault(host, {})[name.lower()] = bundle

    def forbid(self, vault_name: str) -> None:
        """Every data-plane read of the vault named so answers 403."""
        self.forbidden.update(host for host in self.vaults if host.split(".", 1)[0] == vault_name.lower())

    # -- answers -------------------------------------------------------------------------------

    def _admit(self, request: Request) -> tuple[dict[str, dict[str, Any]] | None, Response | None]:
        """(the vault's certificates, None), or (None, the error answer)."""
        if not str(request.headers.get("Authorization") or "").lower().startswith("bearer "):
            challenge = (f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
                         'resource="https://vault.azure.net"')
            return None, Response.error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                                        {"WWW-Authenticate": challenge})
        host = request.match["host"].lower()
        if host not in self.vaults:
            return None, Response.error(404, "VaultNotFound", f"No vault is served at {host}")
        if host in self.forbidden:
            return None, Response.error(403, "Forbidden", "The user, group or application does not have "
                                        f"certificates list/get permission on key vault '{host.split('.')[0]}'.")
        return self.vaults[host], None

    def _list(self, request: Request) -> Response:
        certificates, refused = self._admit(request)
        if certificates is None:
            return refused or Response.error(500, "EmulatorError", "no answer")
        try:
            start = int(request.param("$skiptoken") or 0)
            size = min(int(request.param("maxresults") or self.page_size), self.page_size)
        except ValueError:
            return Response.error(400, "BadParameter", "bad $skiptoken or maxresults")
        items = [_item(bundle) for _, bundle in sorted(certificates.items())]
        body: dict[str, Any] = {"value": items[start:start + size], "nextLink": None}
        if start + size < len(items):
            version = quote(request.api_version or "", safe="")
            body["nextLink"] = (f"{request.server.url}{quote(request.path)}?api-version={version}"
                                f"&$skiptoken={start + size}&maxresults={size}")
        return Response.json(body)

    def _bundle(self, request: Request) -> tuple[dict[str, Any] | None, Response]:
        certificates, refused = self._admit(request)
        if certificates is None:
            return None, refused or Response.error(500, "EmulatorError", "no answer")
        bundle = certificates.get(request.match["name"].lower())
        if bundle is None:
            return None, Response.error(404, "CertificateNotFound",
                                        f"A certificate with (name/id) {request.match['name']} was not found in this key vault.")
        return bundle, Response.json(bundle)

    def _get(self, request: Request) -> Response:
        return self._bundle(request)[1]

    def _policy(self, request: Request) -> Response:
        bundle, answer = self._bundle(request)
        return answer if bundle is None else Response.json(bundle.get("policy") or {})


def _item(bundle: dict[str, Any]) -> dict[str, Any]:
    """A certificate's entry in the list (CertificateItem): its id without the version."""
    ident = str(bundle.get("id") or "")
    path = urlsplit(ident).path.strip("/").split("/")
    unversioned = ident.rsplit("/", 1)[0] if len(path) == 3 else ident
    kept: dict[str, Any] = {k: bundle[k] for k in ("x5t", "attributes", "tags") if k in bundle}
    return {"id": unversioned, **kept}
