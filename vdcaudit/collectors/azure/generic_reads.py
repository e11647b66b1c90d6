"""Read-only ARM GETs for resource types that have no typed azure-mgmt-* client installed
(PostgreSQL/MySQL flexible server parameters, Front Door routes, Redis Enterprise databases, ...):
one generic path through azure-mgmt-resource's ResourceManagementClient.send_request, so the
request runs the same pipeline as every other client (token, retry policy, read-only guard, rate
gate, timeouts), with the api-version the catalog names for the type.

`list_collection` follows ARM's `nextLink` paging within limits (pages, items) and only on the
endpoint it started from: a nextLink pointing elsewhere would carry the bearer token away, so it
is refused (the read fails and becomes a coverage gap, never a silently short list).
(Overlaps the generic reads of the at-rest work; to be folded into one module.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

MAX_PAGES = 200  # x ARM's page size (usually 100-1000): far more than any real collection
MAX_ITEMS = 50_000


class UnsafeNextLink(HttpResponseError):
    """A page pointed its nextLink at another host or scheme."""


def _get(client: Any, url: str, api_version: str | None) -> dict[str, Any]:
    request = HttpRequest("GET", url, params={"api-version": api_version} if api_version else None)
    response = client.send_request(request)
    if response.status_code == 404:
        raise ResourceNotFoundError(response=response)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise HttpResponseError(message=f"GET {urlsplit(url).path}: the response is not a JSON object")
    return body


def get_resource(client: Any, path: str, api_version: str) -> dict[str, Any]:
    """One resource by its ARM path (ResourceNotFoundError when it does not exist)."""
    return _get(client, path, api_version)


def list_collection(client: Any, path: str, api_version: str, endpoint: str) -> list[dict[str, Any]]:
    """Every item of an ARM collection (`{"value": [...], "nextLink": ...}`), page by page;
    `endpoint` is the ARM endpoint the client talks to (nextLinks must stay on it)."""
    items: list[dict[str, Any]] = []
    body = _get(client, path, api_version)
    base = urlsplit(endpoint)
    origin = (base.scheme, base.netloc)
    for _ in range(MAX_PAGES):
        page = body.get("value")
        if not isinstance(page, list):
            raise HttpResponseError(message=f"GET {path}: the response has no 'value' list")
        items.extend(item for item in page if isinstance(item, dict))
        if len(items) > MAX_ITEMS:
            raise HttpResponseError(message=f"GET {path}: more than {MAX_ITEMS} items")
        link = body.get("nextLink")
        if not link:
            return items
        parts = urlsplit(str(link))
        if (parts.scheme, parts.netloc) != origin:
            raise UnsafeNextLink(message=f"GET {path}: nextLink points at {parts.scheme}://{parts.netloc}, "
                                         "not the ARM endpoint; refused")
        body = _get(client, str(link), None)  # a nextLink carries its own api-version
    raise HttpResponseError(message=f"GET {path}: more than {MAX_PAGES} pages")
