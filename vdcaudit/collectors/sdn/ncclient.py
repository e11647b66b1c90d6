"""Read-only client for the Network Controller northbound REST API (`https://NC/networking/v1/...`).

Only GET is ever sent. TLS is verified (the system store, or --nc-ca-bundle). Authentication is
what `Set-NetworkController -ClientAuthentication` allows: None, Kerberos (Negotiate; needs the
optional `kerberos` extra) or X509 (a client certificate). A collection that cannot be read is
reported to the caller with a short reason ("403 Forbidden", "timeout after 30s"), never raised.

A controller is not trusted to behave: each request has a total deadline (--nc-timeout covers the
whole request, so a server trickling a byte a second cannot hold the scan), a response body is
read up to MAX_RESPONSE_BYTES, a collection up to MAX_PAGES pages, and a nextLink must stay on
the same scheme, host and port (credentials never go elsewhere, never in plain text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from vdcaudit.deadline import DeadlineAdapter, DeadlinePassed, within
from vdcaudit.endpoints import check_certificates, check_private_key, is_https_url, origin
from vdcaudit.errors import InputError
from vdcaudit.io.httpbody import BodyTooLarge, read_body
from vdcaudit.io.jsonfile import TOO_DEEP, TooDeep, decode
from vdcaudit.untrusted import safe_text

API_ROOT = "/networking/v1"
DISCOVERY_PATH = "/networking/discovery"
MAX_PAGES = 1000  # a controller that keeps answering with nextLink is broken; stop rather than loop
# The largest fabric's biggest collection (thousands of NICs, a few KB each) is tens of MB.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
AUTH_MODES = ("none", "negotiate", "cert")


TLS_REFUSED = "TLS handshake ended by the controller (client certificate required or not accepted)"
NOT_TLS = "the controller did not answer with TLS (plain HTTP on that port?)"
# What OpenSSL says when the other end answers a ClientHello with something that is not TLS.
_NOT_TLS_SIGNS = ("wrong version number", "packet length too long", "record layer failure", "unknown protocol",
                  "http request", "record_layer_failure")


class NcReadError(Exception):
    """A request failed; `reason` is the one line the coverage record and the finding show."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class NcSettings:
    url: str
    auth: str = "none"
    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None
    timeout: float = 30.0
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or self.url


def _negotiate_auth() -> Any:
    """Kerberos/Negotiate through requests-kerberos, imported only when asked for."""
    try:
        from requests_kerberos import OPTIONAL, HTTPKerberosAuth  # type: ignore[import-not-found]
    except ImportError:
        raise InputError("--nc-auth negotiate needs requests-kerberos: "
                         "pip install 'vdcaudit[kerberos]'") from None
    return HTTPKerberosAuth(mutual_authentication=OPTIONAL)


def validate(settings: NcSettings) -> None:
    if not is_https_url(settings.url):
        raise InputError(f"--nc {safe_text(settings.url)}: expected https://HOST[:PORT] (the controller's REST endpoint)")
    if settings.auth not in AUTH_MODES:
        raise InputError(f"--nc-auth {settings.auth}: choose from {', '.join(AUTH_MODES)}")
    if settings.auth == "cert" and not settings.client_cert:
        raise InputError("--nc-auth cert needs --nc-client-cert PEM (and --nc-client-key PEM if the key is separate)")
    if settings.ca_bundle:
        check_certificates(settings.ca_bundle, "--nc-ca-bundle")
    if settings.auth == "cert" and settings.client_cert:
        check_certificates(settings.client_cert, "--nc-client-cert")
        # requests takes the key from the certificate file unless --nc-client-key names another
        check_private_key(settings.client_key or settings.client_cert,
                          "--nc-client-key" if settings.client_key else "--nc-client-cert")


class NcClient:
    def __init__(self, settings: NcSettings) -> None:
        validate(settings)
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or netrc credentials picked up behind the user's back
        self.session.verify = settings.ca_bundle or True
        self.adapter = DeadlineAdapter()
        self.session.mount("https://", self.adapter)
        self.session.headers.update({"Accept": "application/json", **settings.extra_headers})
        if settings.auth == "negotiate":
            self.session.auth = _negotiate_auth()
        elif settings.auth == "cert" and settings.client_cert:  # validate() requires client_cert for cert
            self.session.cert = ((settings.client_cert, settings.client_key) if settings.client_key
                                 else settings.client_cert)

    def close(self) -> None:
        self.session.close()

    def _get(self, url: str) -> Any:
        """GET url within the total deadline (vdcaudit.deadline: it holds whatever the server does,
        headers or body a byte at a time); the JSON body."""
        try:
            return within(self.settings.timeout, lambda: self._request(url), self.adapter)
        except DeadlinePassed:
            raise NcReadError(f"timeout after {self.settings.timeout:g}s") from None  # for the whole request
        except NcReadError:
            raise
        except Exception as exc:  # the abort of a late request, say
            raise NcReadError("request failed", _first_line(exc)) from None

    def _request(self, url: str) -> Any:
        try:
            response = self.session.get(url, timeout=self.settings.timeout, allow_redirects=False, stream=True)
        except requests.exceptions.SSLError as exc:
            text = str(exc).lower()
            if "verify failed" in text or "hostname" in text:
                raise NcReadError("TLS verification failed", _first_line(exc)) from None
            if any(sign in text for sign in _NOT_TLS_SIGNS):
                raise NcReadError(NOT_TLS, _first_line(exc)) from None
            # Not our verification of the controller: the controller ended the handshake (a TLS
            # alert or, as often under TLS 1.3, a closed connection) — it wants a client certificate
            # (-ClientAuthentication X509) or did not accept the one presented.
            raise NcReadError(TLS_REFUSED, _first_line(exc)) from None
        except requests.exceptions.Timeout:
            raise NcReadError(f"timeout after {self.settings.timeout:g}s") from None
        except requests.exceptions.ConnectionError as exc:
            raise NcReadError("cannot connect", _socket_error(exc)) from None
        except OSError as exc:  # e.g. the client certificate file cannot be read
            raise NcReadError("request failed", _first_line(exc)) from None
        with response:
            body = _read_body(response)
            if response.status_code != 200:
                raise NcReadError(f"{response.status_code} {response.reason or ''}".strip(), _error_text(body))
        try:
            return decode(body.decode("utf-8-sig"))
        except TooDeep:
            raise NcReadError(f"response is {TOO_DEEP}") from None
        except ValueError:  # malformed JSON, or not UTF-8
            raise NcReadError("response is not JSON") from None

    def discovery(self) -> Any:
        return self._get(self.base + DISCOVERY_PATH)

    def list(self, collection: str) -> list[Any]:
        """Every entry of a collection, following nextLink on the same controller only."""
        url = f"{self.base}{API_ROOT}/{collection}"
        entries: list[Any] = []
        seen = {url}
        for _ in range(MAX_PAGES):
            body = self._get(url)
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise NcReadError("unexpected response shape (no 'value' array)")
            entries.extend(body["value"])
            next_link = body.get("nextLink")
            if not next_link:
                return entries
            if not isinstance(next_link, str):
                raise NcReadError("unexpected response shape (nextLink is not a string)")
            url = urljoin(url, next_link)
            if origin(url) != origin(self.base):
                # never send the credentials to another host, nor in plain text to the same one
                raise NcReadError("nextLink leaves the controller (another scheme, host or port)", url[:300])
            if url in seen:
                raise NcReadError("nextLink repeats an earlier page", url[:300])
            seen.add(url)
        raise NcReadError(f"more than {MAX_PAGES} pages")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _socket_error(exc: BaseException) -> str:
    """The operating system's reason ("[Errno 111] Connection refused") from inside the text of
    requests' and urllib3's wrappers, which is mostly the repr of a connection pool."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    return found.group(0) if found else _first_line(exc)


def _read_body(response: requests.Response) -> bytes:
    """The body, refusing one past MAX_RESPONSE_BYTES (as declared or as read) before reading it all."""
    try:
        return read_body(response, MAX_RESPONSE_BYTES)
    except BodyTooLarge as exc:
        raise NcReadError(str(exc)) from None
    except requests.exceptions.RequestException as exc:
        raise NcReadError("connection lost while reading the response", _first_line(exc)) from None


def _error_text(body: bytes) -> str:
    """The controller's error message, if its body carries one (shortened)."""
    try:
        parsed = decode(body[:65536].decode("utf-8-sig"))
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if not isinstance(parsed, dict):
        return ""
    error = parsed.get("error")
    if isinstance(error, dict):  # {"error": {"code", "message"}}
        return str(error.get("message") or error.get("code") or "")[:200]
    return str(parsed.get("message") or error or "")[:200]
