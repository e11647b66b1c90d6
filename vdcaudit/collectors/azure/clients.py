"""The azure-mgmt-* clients the live collector uses, built once per (client class, subscription)
over one shared HTTP transport, and the one adapter from SDK models to the ARM wire shape.

Every client gets the same pipeline settings: the ARM endpoint and token scope, a CA bundle,
a per-request timeout, azure-core's retry policy with vdcaudit's rule for 429 (throttle.py:
Retry-After honoured within a time budget per request; transient 5xx and dropped connections
retried with exponential backoff), a read-only guard (a hook: only GET, plus Resource Graph's
query POST, ever leave the process) and, around each attempt, the shared pacer (throttle.py), which
holds a request while its subscription's, the tenant's or Resource Graph's budget is spent.

Every response body is read within limits (ArmSession): at most MAX_RESPONSE_BYTES, and JSON
nested at most jsonfile.MAX_DEPTH deep; a body past either is refused (ResponseRefused, not
retried) and the read becomes a coverage gap, never a crash or a partial read passed off as whole.
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import HTTPPolicy, SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from vdcaudit.collectors.azure.throttle import DEFAULT_BUDGET, Paced, Pacer, ThrottleRetryPolicy
from vdcaudit.endpoints import origin
from vdcaudit.io.httpbody import BodyTooLarge, read_body
from vdcaudit.io.jsonfile import MAX_DEPTH, TOO_DEEP, nested_deeper_than

GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
# The largest body read from ARM or Resource Graph. A page holds at most 1,000 resources or rows
# (a few MB even for the largest resources), so this is generous; a body past it is broken or
# hostile and is refused before it is read whole.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def wire(model: Any) -> dict[str, Any]:
    """An SDK model as ARM sends it on the wire (camelCase, nested `properties`).

    TypeSpec-generated models are dict-backed (MutableMapping) and `as_dict()` gives the wire
    JSON; msrest-generated models need `serialize(keep_readonly=True)` (plain `as_dict()` there
    would give Python attribute names). The installed packages mix both generations."""
    if isinstance(model, MutableMapping):
        return cast(Any, model).as_dict()  # an SDK model class, not a plain mapping
    return model.serialize(keep_readonly=True)


class ResponseRefused(Exception):
    """A response body past the limits (size, JSON depth). Deliberately not an AzureError: the
    retry policy must not ask again for the same oversized answer. `reason` is what the coverage
    record shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ArmSession(requests.Session):
    """The one HTTP session under every client: reads each body within limits, and reads the
    environment once instead of on every request.

    requests' `Session.request` re-reads the environment for every request (proxy variables,
    ~/.netrc, the CA bundle variables): about a quarter of the collector's CPU.
    Here the proxies for the ARM endpoint (HTTPS_PROXY / NO_PROXY) and REQUESTS_CA_BUNDLE /
    CURL_CA_BUNDLE are resolved at start, as requests would resolve them; ~/.netrc is not read
    (its credentials would replace the bearer token). Every request goes to this one endpoint
    (StayOnEndpoint), so one resolution serves all."""

    def __init__(self, endpoint: str, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        super().__init__()
        self.trust_env = False
        self.proxies.update(get_environ_proxies(endpoint))
        self.max_bytes = max_bytes
        self._env_ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """What azure-core's RequestsTransport calls (keywords only): prepare, send, read the body
        within limits. Session defaults (headers) apply as in requests; cookies are neither kept
        nor sent (ARM sets none that matter to a read)."""
        if args:
            raise TypeError("ArmSession.request takes keyword arguments only")
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(self.headers)
        headers.update(kwargs.get("headers") or {})
        prepared = requests.Request(method=str(method), url=str(url), headers=headers, data=kwargs.get("data"),
                                    files=kwargs.get("files"), params=kwargs.get("params")).prepare()
        verify = kwargs.get("verify", True)
        if verify is True and self._env_ca:
            verify = self._env_ca
        # Straight to the transport adapter: Session.send would add only cookie bookkeeping and
        # redirect handling, and azure-core's RedirectPolicy handles redirects
        response = self.get_adapter(prepared.url or "").send(
            prepared, stream=True, verify=verify, cert=kwargs.get("cert"), timeout=kwargs.get("timeout"),
            proxies={**self.proxies, **(kwargs.get("proxies") or {})})
        try:
            body = read_body(response, self.max_bytes)
            # Counting brackets first is enough for almost every body (a resource has a few dozen)
            if body.count(b"{") + body.count(b"[") > MAX_DEPTH and nested_deeper_than(
                    body.decode("utf-8", "replace"), MAX_DEPTH):
                raise ResponseRefused(f"response is {TOO_DEEP}")
        except BodyTooLarge as exc:
            response.close()
            raise ResponseRefused(str(exc)) from None
        except ResponseRefused:
            response.close()
            raise
        response._content = body
        response._content_consumed = True
        return response


class ReadOnlyViolation(RuntimeError):
    """vdcaudit tried to send something other than a read. A bug, never a user error."""


class LeftEndpoint(AzureError):
    """A request (a nextLink the server sent, say) would go to another scheme, host or port than
    the ARM endpoint: the bearer token must never go there. Not retried; the read fails."""


@dataclass
class Connection:
    endpoint: str
    credential: TokenCredential
    scope: str
    ca_bundle: str | None = None
    timeout: float = 30.0  # seconds, per request (connect and each read)
    concurrency: int = 8
    retries: int = 4
    backoff: float = 0.8  # azure-core's exponential backoff factor, seconds
    throttle_budget: float = DEFAULT_BUDGET  # seconds of 429 waits per request before it is given up
    max_response_bytes: int = MAX_RESPONSE_BYTES


def _read_only(pipeline_request: Any) -> None:
    request = pipeline_request.http_request
    path = urlsplit(request.url).path.lower().rstrip("/")
    if request.method == "GET" or (request.method == "POST" and path.endswith(GRAPH_PATH)):
        return
    raise ReadOnlyViolation(f"refusing to send {request.method} {urlsplit(request.url).path}: vdcaudit only reads")


class StayOnEndpoint(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Every request goes to the ARM endpoint's scheme, host and port, or not at all."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = origin(endpoint)

    def on_request(self, request: Any) -> None:
        url = request.http_request.url
        if origin(url) != self.endpoint:
            parts = urlsplit(url)
            raise LeftEndpoint(f"{parts.scheme}://{parts.netloc}")


class NoProviderRegistration(HTTPPolicy):  # type: ignore[type-arg]
    """Ends a 409 MissingSubscriptionRegistration answer as ResponseRefused (a coverage gap).

    ARM answers a read of a type whose resource provider the subscription has not registered with
    409 MissingSubscriptionRegistration; azure-mgmt-core's ARMAutoResourceProviderRegistrationPolicy
    then tries to register the provider — a POST, which the read-only guard refuses as a bug, and
    the whole scan would stop. Placed right after the retry policy, so inside that policy: it never
    sees the answer."""

    def send(self, request: Any) -> Any:
        response = self.next.send(request)
        http_response = response.http_response
        if http_response.status_code == 409:
            if hasattr(http_response, "read"):  # a streamed answer: the session already holds the body
                http_response.read()
            if "MissingSubscriptionRegistration" in http_response.text():
                raise ResponseRefused("409 MissingSubscriptionRegistration (resource provider not registered)")
        return response


def read_policies(connection: Connection, endpoint: str) -> dict[str, Any]:
    """The pipeline settings every client of a collection shares, ARM's and Key Vault's data plane's
    alike (fresh policy objects: a pipeline links each of its policies to the next one): the retry
    policy with vdcaudit's rule for 429, the read-only guard, and the endpoint the client may talk to."""
    c = connection
    return {
        "retry_policy": ThrottleRetryPolicy(c.throttle_budget, retry_total=c.retries,
                                            retry_backoff_factor=c.backoff, retry_backoff_max=30),
        "raw_request_hook": _read_only,
        # before the retry and authentication policies: an off-endpoint link is neither
        # retried nor given the token
        "per_call_policies": [StayOnEndpoint(endpoint)],
    }


class Clients:
    """Management clients over one pooled transport. Thread-safe; close() when done."""

    def __init__(self, connection: Connection, pacer: Pacer | None = None) -> None:
        self.connection = connection
        self.pacer = pacer or Pacer()
        session = ArmSession(connection.endpoint, connection.max_response_bytes)
        # Retries belong to azure-core's policy, not urllib3 (as azure-core itself sets it up);
        # the pool is as big as the number of workers that share it.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(connection.concurrency, 1) + 2,
                              max_retries=Retry(total=False, redirect=False, raise_on_status=False))
        session.mount("https://", adapter)
        self._session = session
        self.transport = RequestsTransport(session=session, session_owner=False,
                                           connection_timeout=connection.timeout,
                                           read_timeout=connection.timeout,
                                           connection_verify=connection.ca_bundle or True)
        self._cache: dict[tuple[type, str | None], Any] = {}
        self._lock = threading.Lock()

    def _options(self) -> dict[str, Any]:
        c = self.connection
        return {
            **read_policies(c, c.endpoint),
            "base_url": c.endpoint, "credential_scopes": [c.scope], "transport": self.transport,
            "per_retry_policies": [Paced(self.pacer), NoProviderRegistration()],
        }

    def get(self, client_class: type, subscription: str | None = None) -> Any:
        key = (client_class, subscription)
        with self._lock:
            client = self._cache.get(key)
            if client is None:
                args = (self.connection.credential,) + ((subscription,) if subscription else ())
                client = self._cache[key] = client_class(*args, **self._options())
        return client

    def close(self) -> None:
        self._session.close()
