"""Generic read-only ARM access through azure-mgmt-resource, for every resource type that has no
typed SDK listing in catalog.py: one client for all services instead of one per service.

ARM's generic list (`GET /subscriptions/{id}/resources`, `ResourceManagementClient.resources.list`)
names every resource but never carries `properties` (its `$expand` adds only createdTime,
changedTime and provisioningState), so a resource a rule reads is fetched whole with
`resources.get_by_id(id, api_version)`. ARM requires the api-version of the resource's provider:
API_VERSIONS holds one known-good version per type; for a type not in it, the provider's own list
of versions (`GET /subscriptions/{id}/providers/{namespace}`) gives the newest stable one.

`list_collection` GETs a child collection by path (e.g. a flexible server's `configurations`)
and follows `nextLink`, with a page limit. Everything goes through the shared clients, so the
read-only guard (GET only) and the rate gate apply.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from vdcaudit.collectors.azure.clients import Clients, wire

# ARM type (lower-case) -> api-version (stable versions documented in the REST reference of each
# provider, learn.microsoft.com/rest/api/<service>).
API_VERSIONS: dict[str, str] = {
    "microsoft.documentdb/databaseaccounts": "2024-11-15",
    "microsoft.dbforpostgresql/flexibleservers": "2024-08-01",
    "microsoft.dbformysql/flexibleservers": "2023-12-30",
    "microsoft.eventhub/namespaces": "2024-01-01",
    "microsoft.containerregistry/registries": "2023-07-01",
    "microsoft.recoveryservices/vaults": "2024-04-01",
    "microsoft.dataprotection/backupvaults": "2024-04-01",
    "microsoft.kusto/clusters": "2023-08-15",
    "microsoft.synapse/workspaces": "2021-06-01",
    "microsoft.databricks/workspaces": "2024-05-01",
    "microsoft.datafactory/factories": "2018-06-01",
    "microsoft.cognitiveservices/accounts": "2024-10-01",
    "microsoft.machinelearningservices/workspaces": "2024-04-01",
    "microsoft.appconfiguration/configurationstores": "2024-05-01",
    "microsoft.automation/automationaccounts": "2023-11-01",
    "microsoft.batch/batchaccounts": "2024-07-01",
    "microsoft.containerservice/managedclusters": "2024-09-01",
    "microsoft.keyvault/managedhsms": "2023-07-01",
    "microsoft.sql/managedinstances/databases": "2021-11-01",
    # in-transit kinds (issue 13's other half) read the same way
    "microsoft.eventgrid/topics": "2022-06-15",
    "microsoft.eventgrid/domains": "2022-06-15",
    "microsoft.devices/iothubs": "2023-06-30",
    "microsoft.cache/redisenterprise": "2023-11-01",
    "microsoft.cdn/profiles": "2024-02-01",
    "microsoft.network/frontdoors": "2021-06-01",
    "microsoft.apimanagement/service": "2022-08-01",
    "microsoft.app/containerapps": "2024-03-01",
    "microsoft.web/hostingenvironments": "2023-12-01",
    "microsoft.netapp/netappaccounts/capacitypools/volumes": "2024-03-01",
    "microsoft.network/vpngateways": "2024-01-01",
}
STABLE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PAGES = 200  # a child collection longer than this is cut off and reported, never read forever


class ApiVersions:
    """The api-version to read each type with: the table, else the provider's newest stable version
    (looked up once per namespace and subscription)."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._providers: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def for_type(self, subscription: str, resource_type: str) -> str:
        known = API_VERSIONS.get(resource_type.lower())
        if known:
            return known
        namespace, _, rest = resource_type.partition("/")
        key = (subscription, namespace.lower())
        with self._lock:
            types = self._providers.get(key)
        if types is None:
            provider = self.clients.get(ResourceManagementClient, subscription).providers.get(namespace)
            types = {str(t.resource_type or "").lower(): list(t.api_versions or []) for t in provider.resource_types or []}
            with self._lock:
                self._providers[key] = types
        versions = types.get(rest.lower()) or []
        stable = [v for v in versions if STABLE.fullmatch(v)]  # no -preview, -beta, ... suffix
        if not (stable or versions):
            raise LookupError(f"provider {namespace} lists no api-version for {resource_type}")
        return max(stable or versions)  # ISO dates: the newest sorts last


def get_by_id(clients: Clients, subscription: str, resource_id: str, api_version: str) -> dict[str, Any]:
    """One resource, whole (with `properties`), as ARM serves it."""
    resource = clients.get(ResourceManagementClient, subscription).resources.get_by_id(
        resource_id, api_version=api_version)
    return wire(resource)


def list_collection(clients: Clients, subscription: str, path: str, api_version: str) -> list[dict[str, Any]]:
    """Every item of an ARM collection (`{parent id}/{child type}`), following nextLink."""
    client = clients.get(ResourceManagementClient, subscription)
    url: str | None = f"{path}?api-version={api_version}"
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return items
        response = client.send_request(HttpRequest("GET", url))
        response.raise_for_status()
        body = response.json() or {}
        items.extend(body.get("value") or [])
        url = body.get("nextLink")
        if url and urlsplit(url).netloc and urlsplit(url).netloc != urlsplit(clients.connection.endpoint).netloc:
            raise HttpResponseError(f"nextLink leaves the ARM endpoint: {urlsplit(url).netloc}")
    raise HttpResponseError(f"{path}: more than {MAX_PAGES} pages")
