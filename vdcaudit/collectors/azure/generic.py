"""Generic read-only ARM access through azure-mgmt-resource, for every resource type that has no
typed azure-mgmt-* client installed or no typed listing in catalog.py, for all child data (catalog
CHILDREN) and for Resource Graph's pages: one client for all services instead of one per service,
so every request runs the same pipeline as every other client (token, retry policy, read-only
guard, rate gate, timeouts), and answers stay the JSON ARM sent (no SDK models parsed only to be
turned back into JSON).

ARM's generic list (`GET /subscriptions/{id}/resources`, `ResourceManagementClient.resources.list`)
names every resource but never carries `properties` (its `$expand` adds only createdTime,
changedTime and provisioningState), so a resource a rule reads is fetched whole with
`get_resource(..., its id, api-version)`. ARM requires the api-version of the resource's provider:
API_VERSIONS is the one table of known-good versions per type (catalog.py's generic Calls take
theirs from it through `api_version`); for a type not in it, the provider's own list of versions
(`GET /subscriptions/{id}/providers/{namespace}`) gives the newest stable one.

`list_collection` GETs a collection by path (a flexible server's `configurations`, a type's
subscription-wide list) and follows ARM's `nextLink` within limits (pages, items) and only on the
endpoint the clients talk to: a nextLink pointing elsewhere (another scheme, host or port, or a
relative one) would carry the bearer token away, so it is refused (the read fails and becomes a
coverage gap, never a silently short list).
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient

from vdcaudit.collectors.azure.clients import Clients
from vdcaudit.io.jsonfile import fast_loads

# ARM type (lower-case) -> api-version (stable versions documented in the REST reference of each
# provider, learn.microsoft.com/rest/api/<service>). The one table of versions: GETs by id of types
# without a typed listing, and catalog.py's generic Calls (lists, per-resource GETs, child collections).
API_VERSIONS: dict[str, str] = {
    "microsoft.documentdb/databaseaccounts": "2024-11-15",
    "microsoft.dbforpostgresql/flexibleservers": "2024-08-01",
    "microsoft.dbforpostgresql/flexibleservers/configurations": "2024-08-01",
    "microsoft.dbformysql/flexibleservers": "2023-12-30",
    "microsoft.dbformysql/flexibleservers/configurations": "2023-12-30",
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
    # child data (catalog.CHILDREN): the versions the typed clients sent before (azure-mgmt-sql 4.0.0,
    # -keyvault 14.1.0, -web 11.0.1, -storage 25.3.0, -authorization 4.0.0 defaults)
    "microsoft.sql/servers/databases/transparentdataencryption": "2025-01-01",
    "microsoft.sql/servers/encryptionprotector": "2025-01-01",
    "microsoft.sql/managedinstances/encryptionprotector": "2025-01-01",
    "microsoft.keyvault/vaults/keys": "2026-05-15",
    "microsoft.keyvault/vaults/secrets": "2026-05-15",
    "microsoft.web/sites/config": "2025-05-01",
    "microsoft.web/sites/slots/config": "2025-05-01",
    "microsoft.storage/storageaccounts/fileservices": "2026-09-01",
    "microsoft.authorization/roleassignments": "2022-04-01",
    "microsoft.sql/managedinstances/databases/transparentdataencryption": "2021-11-01",
    # in-transit kinds (issue 13)
    "microsoft.eventgrid/topics": "2025-02-15",
    "microsoft.eventgrid/domains": "2025-02-15",
    "microsoft.devices/iothubs": "2023-06-30",
    "microsoft.cache/redisenterprise": "2025-04-01",
    "microsoft.cache/redisenterprise/databases": "2025-04-01",
    "microsoft.cdn/profiles": "2024-02-01",
    "microsoft.cdn/profiles/customdomains": "2024-09-01",
    "microsoft.cdn/profiles/afdendpoints": "2024-09-01",
    "microsoft.cdn/profiles/afdendpoints/routes": "2024-09-01",
    "microsoft.cdn/profiles/endpoints": "2024-09-01",
    "microsoft.network/frontdoors": "2021-06-01",
    "microsoft.apimanagement/service": "2024-05-01",
    "microsoft.app/containerapps": "2025-01-01",
    "microsoft.web/hostingenvironments": "2024-04-01",
    "microsoft.netapp/netappaccounts/capacitypools/volumes": "2024-09-01",
    "microsoft.network/vpngateways": "2024-05-01",
    "microsoft.network/vpnserverconfigurations": "2024-05-01",
    # customer-managed keys of the remaining data services
    "microsoft.healthcareapis/services": "2024-03-31",
    "microsoft.healthcareapis/workspaces/fhirservices": "2024-03-31",
    "microsoft.healthcareapis/workspaces/dicomservices": "2024-03-31",
    "microsoft.loadtestservice/loadtests": "2022-12-01",
    "microsoft.containerinstance/containergroups": "2023-05-01",
    "microsoft.elasticsan/elasticsans/volumegroups": "2024-05-01",
    "microsoft.fluidrelay/fluidrelayservers": "2022-06-01",
    "microsoft.healthbot/healthbots": "2023-05-01",
    "microsoft.deviceupdate/accounts": "2023-07-01",
    "microsoft.search/searchservices": "2023-11-01",
    "microsoft.storagecache/caches": "2023-05-01",
    "microsoft.streamanalytics/streamingjobs": "2020-03-01",
    # data platform: Synapse pools and settings, HDInsight, Service Fabric, Domain Services, Batch
    # pools, storage encryption scopes
    "microsoft.synapse/workspaces/sqlpools": "2021-06-01",
    "microsoft.synapse/workspaces/sqlpools/transparentdataencryption": "2021-06-01",
    "microsoft.synapse/workspaces/dedicatedsqlminimaltlssettings": "2021-06-01",
    "microsoft.hdinsight/clusters": "2021-06-01",
    "microsoft.servicefabric/clusters": "2021-06-01",
    "microsoft.aad/domainservices": "2022-12-01",
    "microsoft.batch/batchaccounts/pools": "2024-07-01",
    "microsoft.storage/storageaccounts/encryptionscopes": "2023-05-01",
    # application-layer secrets and monitoring (learn.microsoft.com/rest/api/apimanagement,
    # /datafactory, /automation, /botservice, /monitor)
    "microsoft.apimanagement/service/apis": "2024-05-01",
    "microsoft.apimanagement/service/backends": "2024-05-01",
    "microsoft.apimanagement/service/namedvalues": "2024-05-01",
    "microsoft.datafactory/factories/linkedservices": "2018-06-01",
    "microsoft.automation/automationaccounts/variables": "2023-11-01",
    "microsoft.botservice/botservices": "2022-09-15",
    "microsoft.insights/scheduledqueryrules": "2023-12-01",
    # subscription diagnostic settings exist only in a preview api-version
    # (learn.microsoft.com/rest/api/monitor/subscription-diagnostic-settings/list)
    "microsoft.insights/diagnosticsettings": "2021-05-01-preview",
    "microsoft.insights/logprofiles": "2016-03-01",
}
# Resource Graph's query API (learn.microsoft.com/rest/api/azureresourcegraph/resourcegraph/resources/resources)
GRAPH_API_VERSION = "2021-03-01"
GRAPH_QUERY_PATH = "/providers/Microsoft.ResourceGraph/resources"
STABLE = re.compile(r"\d{4}-\d{2}-\d{2}")
# ARM pages hold 100-1000 items, but Key Vault lists secrets in pages as small as 25 (its data plane's
# default, learn.microsoft.com/rest/api/keyvault/secrets/get-secrets/get-secrets): 2,000 pages is
# 50,000 secrets in one vault, far more than any real collection.
MAX_PAGES = 2_000
MAX_ITEMS = 100_000


def api_version(resource_type: str) -> str:
    """The table's api-version for a type (KeyError when it has none): catalog.py's generic Calls
    read theirs here, so a type is read with one version whichever path reads it."""
    return API_VERSIONS[resource_type.lower()]


class UnsafeNextLink(HttpResponseError):
    """A page pointed its nextLink at another scheme, host or port than the ARM endpoint."""


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


def get_resource(clients: Clients, subscription: str, path: str, api_version: str | None) -> dict[str, Any]:
    """One resource (or one page) by its ARM path or URL, whole, as ARM serves it
    (ResourceNotFoundError when it does not exist). No api-version: the URL carries its own."""
    client = clients.get(ResourceManagementClient, subscription)
    request = HttpRequest("GET", path, params={"api-version": api_version} if api_version else None)
    return json_object(client.send_request(request, stream=True), f"GET {urlsplit(path).path}")


def query_graph(clients: Clients, subscriptions: list[str], query: str, top: int, skip_token: str | None) -> dict[str, Any]:
    """One page of a Resource Graph query, rows as objects, as the service sends it (`data`,
    `$skipToken`, `resultTruncated`): plain JSON, not SDK models walked row by row."""
    options: dict[str, Any] = {"$top": top, "resultFormat": "objectArray"}
    if skip_token:
        options["$skipToken"] = skip_token
    request = HttpRequest("POST", GRAPH_QUERY_PATH, params={"api-version": GRAPH_API_VERSION},
                          json={"subscriptions": subscriptions, "query": query, "options": options})
    # this (msrest-generation) client names its raw send `_send_request`; newer ones `send_request`
    client = clients.get(ResourceGraphClient)
    return json_object(client._send_request(request, stream=True), "Resource Graph query")


def json_object(response: Any, what: str) -> dict[str, Any]:
    """The response's JSON object; an error status, or a body that is not a JSON object, raises
    (HttpResponseError, so the read becomes a coverage gap). Sent with stream=True only so that
    azure-core does not parse the JSON a second time (ContentDecodePolicy): the clients' session
    has already read the whole body within limits (size, depth)."""
    response.read()
    if response.status_code == 404:
        raise ResourceNotFoundError(response=response)
    response.raise_for_status()
    try:
        body = fast_loads(response.content)
    except ValueError:
        raise HttpResponseError(message=f"{what}: the response is not JSON") from None
    if not isinstance(body, dict):
        raise HttpResponseError(message=f"{what}: the response is not a JSON object")
    return body


def list_collection(clients: Clients, subscription: str, path: str, api_version: str) -> list[dict[str, Any]]:
    """Every item of an ARM collection (`{"value": [...], "nextLink": ...}`), page by page;
    nextLinks must stay on the clients' ARM endpoint (same scheme, host and port)."""
    items: list[dict[str, Any]] = []
    body = get_resource(clients, subscription, path, api_version)
    base = urlsplit(clients.connection.endpoint)
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
        body = get_resource(clients, subscription, str(link), None)  # a nextLink carries its own api-version
    raise HttpResponseError(message=f"GET {path}: more than {MAX_PAGES} pages")
