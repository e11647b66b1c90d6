"""A local Azure Resource Manager: serves a fixture tenant on the real ARM REST paths so the
official azure-mgmt-* clients (pointed at it with `base_url=`) run unmodified.

The tenant is a set of snapshot files (what `vdcaudit scan --snapshot` reads); its subscriptions
are the ones named in the resource ids. Served:

- `GET /subscriptions`, `GET /subscriptions/{id}` (subscriptions you are refused are not listed)
- `GET /providers/Microsoft.Management/managementGroups/{mg}/descendants`
- `POST /providers/Microsoft.ResourceGraph/resources`: the `Resources` table with `where` filters
  on type / subscriptionId / resourceGroup / name (`==`, `=~`, `!=`, `in`, `in~`, `!in~`),
  `order by`, `$top` and `$skipToken` paging; subscriptions from the body. Like Resource Graph,
  it lower-cases types and leaves out child settings that ARM serves from separate calls (TDE,
  encryption protectors, role assignments, web app config, server parameters, file services, Front
  Door routes ...) and subscriptions you are refused.
- Key Vault's certificate endpoints of every vault (emulator/keyvault.py), under `/keyvault/<vault host>`
- `GET /subscriptions/{id}/resources`: the generic resource list (no `properties`, as in ARM)
- `GET /subscriptions/{id}/providers/{namespace}`: a provider's resource types and api-versions
- every other GET under `/subscriptions/`: a resource by id, or a collection — a type in a
  subscription (`/subscriptions/{s}/providers/{ns}/{type}`), in a resource group, children of a
  resource (`{parent id}/{child type}`) or role assignments at and under a scope.
- `GET /tenants` and `GET /subscriptions/{id}/locations`
- the default children ARM serves under every parent that the fixture lacks and vdcaudit does not
  judge (emulator/defaults.py), and the shape each api-version gives TDE (`status` / `state`)
Every api-version is accepted (each SDK sends its own). Lists page with `nextLink`
(`page_size` items a page). Anything else gets ARM's error shape. With `throttle` (a preset of
emulator/throttling.py or Limits) reads draw on ARM's token buckets and Resource Graph's quota,
with their headers and 429s.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vdcaudit.collectors.azure.keyvault_model import CERTIFICATE_TYPE, VAULT_TYPE
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.emulator.defaults import default_children, locations, shaped, tenant
from vdcaudit.emulator.httpserver import EmulatedService, EmulatorServer, Request, Response
from vdcaudit.emulator.keyvault import KeyVaultDataPlane
from vdcaudit.emulator.throttling import PRESETS, ArmLimiter, Limits
from vdcaudit.inventory import DATA_PLANE, META, Inventory, parse_scope, strip_annotations

DEFAULT_TENANT = "72f988bf-0000-4000-8000-0000000e4a70"
# The api-versions the provider route names (every version is accepted)
EMULATED_STABLE, EMULATED_PREVIEW = "2024-01-01", "2025-01-01-preview"

# Child and extension resources that ARM serves only from their own calls: not in Resource
# Graph's Resources table, not in the generic /resources list. Keyed by the last type segment.
NOT_LISTED = frozenset({
    "transparentdataencryption", "encryptionprotector", "keys", "secrets", "config", "roleassignments",
    "auditingsettings", "securityalertpolicies", "administrators", "vulnerabilityassessments",
    "diagnosticsettings", "privateendpointconnections", "firewallrules", "virtualnetworkrules",
    # issue 13, in transit: server parameters, file service settings, Front Door routes and domains
    "configurations", "fileservices", "routes", "customdomains",
    # default children every parent has (emulator.defaults)
    "blobservices", "queueservices", "tableservices", "backupshorttermretentionpolicies",
    # Elastic SAN volume groups (proxy resources, read under their SAN)
    "volumegroups",
    # application-layer children and the activity log's legacy export
    "apis", "backends", "namedvalues", "linkedservices", "variables", "logprofiles",
})
# Proxy children whose last segment is shared with a listed type (SQL databases are listed)
NOT_LISTED_TYPES = frozenset({"microsoft.cache/redisenterprise/databases",
                              # proxy children of the data platform
                              "microsoft.synapse/workspaces/dedicatedsqlminimaltlssettings",
                              "microsoft.storage/storageaccounts/encryptionscopes",
                              "microsoft.batch/batchaccounts/pools"})

# Columns of the Resources table (ARG), beside the ARM envelope
_GRAPH_COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId",
                  "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation")
_GENERIC_COLUMNS = ("id", "name", "type", "location", "tags", "sku", "kind", "managedBy", "identity",
                    "plan", "extendedLocation")


def type_from_id(resource_id: str) -> str:
    """The resource type as the id spells it: `Microsoft.Sql/servers/databases`."""
    lowered = resource_id.lower()
    cut = lowered.rfind("/providers/")
    tail = resource_id[cut + len("/providers/"):].strip("/").split("/")
    return "/".join([tail[0], *tail[1::2]])


def _collection_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[0].lower()


class GraphQueryError(ValueError):
    pass


def _kql_values(text: str) -> list[str]:
    values = re.findall(r"'([^']*)'|\"([^\"]*)\"", text)
    return [a or b for a, b in values]


_SUMMARY_COLUMNS = ("type", "subscriptionId", "resourceGroup", "location")


def _graph_filter(query: str) -> tuple[list[tuple[str, str, list[str]]], list[str] | None]:
    """The `where` clauses of a small KQL subset, [(column, operator, values)], and the columns of
    a final `summarize count() by ...` (None without one)."""
    stages = [s.strip() for s in query.split("|")]
    if not stages or stages[0].lower() != "resources":
        raise GraphQueryError("the emulator serves only the Resources table")
    clauses: list[tuple[str, str, list[str]]] = []
    for number, stage in enumerate(stages[1:], start=1):
        if re.fullmatch(r"order\s+by\s+\w+(\s+(asc|desc))?", stage, re.IGNORECASE):
            continue  # results are always in id order: stable paging
        summarize = re.fullmatch(r"summarize\s+count\(\)\s+by\s+([\w\s,]+)", stage, re.IGNORECASE)
        if summarize and number == len(stages) - 1:
            columns = [c.strip() for c in summarize.group(1).split(",")]
            if not all(c in _SUMMARY_COLUMNS for c in columns):
                raise GraphQueryError(f"unsupported summarize: {stage!r}")
            return clauses, columns
        where = re.fullmatch(r"where\s+(.+)", stage, re.IGNORECASE | re.DOTALL)
        if not where:
            raise GraphQueryError(f"unsupported query stage: {stage!r}")
        for condition in re.split(r"\s+and\s+", where.group(1), flags=re.IGNORECASE):
            match = re.fullmatch(r"(\w+)\s*(==|=~|!=|!~|!in~|in~|!in|in)\s*(.+)", condition.strip(), re.DOTALL)
            if not match or match.group(1) not in ("type", "subscriptionId", "resourceGroup", "name", "location"):
                raise GraphQueryError(f"unsupported condition: {condition.strip()!r}")
            clauses.append((match.group(1), match.group(2), _kql_values(match.group(3))))
    return clauses, None


def _summarized(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """`summarize count() by columns`: one row per distinct value, the count in `count_` (KQL's name)."""
    counts: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row.get(c) for c in columns)
        counts[key] = counts.get(key, 0) + 1
    return [{**dict(zip(columns, key)), "count_": n} for key, n in sorted(counts.items(), key=lambda kv: str(kv[0]))]


def _keeps(row: dict[str, Any], clauses: list[tuple[str, str, list[str]]]) -> bool:
    for column, operator, values in clauses:
        value = str(row.get(column) or "")
        insensitive = operator.endswith("~")
        found = (value.lower() in [v.lower() for v in values]) if insensitive else value in values
        if found == operator.startswith("!"):
            return False
    return True


# The ARM envelope's names as ARM spells them on the wire.
WIRE_NAMES = {name.lower(): name for name in (
    "id", "name", "type", "location", "tags", "sku", "kind", "identity", "plan", "zones", "etag", "managedBy",
    "properties", "extendedLocation", "systemData", "subscriptionId", "resourceGroup", "tenantId")}


class ArmEmulator(EmulatedService):
    """The fixture tenant behind an EmulatorServer. Use as a context manager, or start()/stop()."""

    def __init__(self, fixtures: list[Path] | None = None, resources: list[dict[str, Any]] | None = None,
                 page_size: int = 50, management_groups: dict[str, list[str]] | None = None,
                 tenant_id: str = DEFAULT_TENANT, throttle: str | Limits | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        inventory = Inventory()
        for fixture in fixtures or []:
            load_snapshot(Path(fixture), inventory, source="emulator")
        self.tenant_id = tenant_id
        self.page_size = page_size
        # Fault injection: answer Resource Graph with at most this many rows, resultTruncated
        # "true" and no $skipToken (what Resource Graph does to queries it cannot page).
        self.graph_truncate_at: int | None = None
        self._resources: dict[str, dict[str, Any]] = {}
        # Key Vault certificates are data-plane objects: served by self.keyvault, never by ARM
        certificates: list[dict[str, Any]] = []
        # vaults whose certificates the fixture records (x_vdcaudit.dataPlane); the others answer 403
        recorded = {str(r["id"]).lower() for r in [*inventory, *(resources or [])]
                    if "certificates" in (r.get(META, {}).get(DATA_PLANE) or {})}
        for resource in [*(strip_annotations(r) for r in inventory), *(resources or [])]:
            if str(resource.get("type") or "").lower() == CERTIFICATE_TYPE.lower():
                certificates.append(resource)
            else:
                self._add(resource)
        # the default children ARM serves under every parent (not part of the tenant's resources)
        have = set(self._resources)
        self._defaults = {child["id"].lower(): child for parent in self._resources.values()
                          for child in default_children(parent, have)}
        self._index()
        self.subscriptions = sorted({sub for r in self._resources.values() if (sub := parse_scope(r["id"])[0]) is not None})
        # Without a hierarchy every subscription sits under the tenant root group (named after the
        # tenant, as in Azure).
        self.management_groups = management_groups or {tenant_id: list(self.subscriptions)}
        self.server = EmulatorServer(host, port)
        # ARM's read limits (a preset name of throttling.PRESETS, or Limits); None: unlimited
        limits = PRESETS[throttle] if isinstance(throttle, str) else throttle
        self.limiter = ArmLimiter(limits) if limits else None
        self.server.limiter = self.limiter
        self._routes()
        self.keyvault = KeyVaultDataPlane(self.server, tenant_id, page_size)
        self._serve_certificates(certificates, recorded)

    # -- data ----------------------------------------------------------------------------------

    def _add(self, resource: dict[str, Any]) -> None:
        # ARM serves its envelope in its own spelling, whatever the fixture printed (an Az PowerShell
        # export says `Properties`, `Sku: {Name: ...}`): the SDK's deserialisers match names exactly.
        resource = {WIRE_NAMES.get(str(k).lower(), k): v for k, v in resource.items()}
        if isinstance(resource.get("sku"), dict):
            resource["sku"] = {str(k)[:1].lower() + str(k)[1:]: v for k, v in resource["sku"].items()}
        served = {k: v for k, v in resource.items() if k not in ("subscriptionId", "resourceGroup", "tenantId")}
        served["type"] = type_from_id(resource["id"])  # ARM's spelling, whatever the fixture printed
        if "/" in str(served.get("name") or ""):  # Az PowerShell names a child "parent/child"; ARM, "child"
            served["name"] = resource["id"].rstrip("/").rsplit("/", 1)[-1]
        self._resources[resource["id"].lower()] = served

    def _serve_certificates(self, certificates: list[dict[str, Any]], recorded: set[str]) -> None:
        """Every vault's data plane, with the fixture's certificates. A vault whose certificates the
        fixture does not record answers 403: an empty list would be evidence nobody collected."""
        hosts = {}
        for key, resource in self._resources.items():
            if resource["type"].lower() == VAULT_TYPE.lower():
                properties = resource.get("properties")
                host = self.keyvault.add_vault(properties.get("vaultUri") if isinstance(properties, dict) else None)
                if host:
                    hosts[key] = host
                    if key not in recorded:
                        self.keyvault.forbidden.add(host)
        for certificate in certificates:
            host = hosts.get(certificate["id"].rsplit("/", 2)[0].lower())
            if host and isinstance(certificate.get("properties"), dict):
                self.keyvault.add_certificate(host, certificate["id"].rsplit("/", 1)[-1], certificate["properties"])

    def _index(self) -> None:
        self._collections: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key in sorted(self._defaults):
            self._collections[_collection_of(key)].append(self._defaults[key])
        for key in sorted(self._resources):
            resource = self._resources[key]
            self._collections[_collection_of(resource["id"])].append(resource)
            subscription, group = parse_scope(resource["id"])
            kind = resource["type"].rsplit("/", 1)[-1].lower()
            if kind == "roleassignments" and subscription:
                # Listing role assignments on a subscription returns those at every scope in it
                scope_list = f"/subscriptions/{subscription}/providers/microsoft.authorization/roleassignments"
                if _collection_of(resource["id"]) != scope_list:
                    self._collections[scope_list].append(resource)
            elif group and resource["type"].count("/") == 1:
                # a top-level type is also listed per subscription
                self._collections[f"/subscriptions/{subscription}/providers/{resource['type']}".lower()].append(resource)

    def listed(self, resource: dict[str, Any]) -> bool:
        kind = resource["type"].lower()
        return kind.rsplit("/", 1)[-1] not in NOT_LISTED and kind not in NOT_LISTED_TYPES

    def resources(self) -> list[dict[str, Any]]:
        return list(self._resources.values())

    # -- routes --------------------------------------------------------------------------------

    def _routes(self) -> None:
        add = self.server.add_route
        add("GET", r"/subscriptions/?", self._list_subscriptions)
        add("GET", r"/tenants/?", self._tenants)
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/locations/?", self._locations)
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/?", self._get_subscription)
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/resources/?", self._generic_list)
        add("GET", r"/providers/Microsoft\.Management/managementGroups/(?P<mg>[^/]+)/descendants/?",
            self._descendants)
        add("POST", r"/providers/Microsoft\.ResourceGraph/resources/?", self._graph)
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/(?P<ns>[^/]+)/?", self._provider)
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/.+", self._resource_or_collection)

    def _page(self, request: Request, items: list[dict[str, Any]], subscription: str | None = None) -> Response:
        try:
            start = int(request.param("$skiptoken") or 0)
        except ValueError:
            return Response.error(400, "InvalidSkipToken", "bad $skiptoken")
        page = items[start:start + self.page_size]
        body: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            version = quote(request.api_version or "", safe="")
            body["nextLink"] = (f"{request.server.url}{quote(request.path)}?api-version={version}"
                                f"&$skiptoken={start + self.page_size}")
        return Response.json(body)

    def _subscription(self, subscription: str) -> dict[str, Any]:
        return {"id": f"/subscriptions/{subscription}", "subscriptionId": subscription,
                "displayName": f"subscription {subscription[:8]}", "state": "Enabled",
                "tenantId": self.tenant_id}

    def _list_subscriptions(self, request: Request) -> Response:
        visible = [self._subscription(s) for s in self.subscriptions
                   if not request.server.is_forbidden(f"/subscriptions/{s}")]
        return self._page(request, visible)

    def _tenants(self, request: Request) -> Response:
        return self._page(request, [tenant(self.tenant_id)])

    def _locations(self, request: Request) -> Response:
        known = self._known(request.match["sub"])
        if known is None:
            return Response.error(404, "SubscriptionNotFound", f"The subscription '{request.match['sub']}' could not be found.")
        used = {str(r.get("location") or "") for r in self._resources.values()}
        return self._page(request, locations(known, used))

    def _known(self, subscription: str) -> str | None:
        return next((s for s in self.subscriptions if s.lower() == subscription.lower()), None)

    def _get_subscription(self, request: Request) -> Response:
        known = self._known(request.match["sub"])
        if known is None:
            return Response.error(404, "SubscriptionNotFound", f"The subscription '{request.match['sub']}' could not be found.")
        return Response.json(self._subscription(known))

    def _generic_list(self, request: Request) -> Response:
        sub = request.match["sub"]
        if self._known(sub) is None:
            return Response.error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        prefix = f"/subscriptions/{sub}/".lower()
        items = [{k: r[k] for k in _GENERIC_COLUMNS if k in r} for key, r in sorted(self._resources.items())
                 if key.startswith(prefix) and self.listed(r)]
        return self._page(request, items, sub)

    def _descendants(self, request: Request) -> Response:
        group = next((g for g in self.management_groups if g.lower() == request.match["mg"].lower()), None)
        if group is None:
            return Response.error(404, "NotFound", f"management group {request.match['mg']} not found")
        found: list[dict[str, Any]] = []

        def walk(name: str) -> None:
            parent = {"id": f"/providers/Microsoft.Management/managementGroups/{name}"}
            for member in self.management_groups.get(name, []):
                if member in self.management_groups:
                    found.append({"id": f"/providers/Microsoft.Management/managementGroups/{member}",
                                  "type": "Microsoft.Management/managementGroups", "name": member,
                                  "properties": {"displayName": member, "parent": parent}})
                    walk(member)
                else:
                    found.append({"id": f"/subscriptions/{member}", "type": "/subscriptions", "name": member,
                                  "properties": {"displayName": f"subscription {member[:8]}", "parent": parent}})
        walk(group)
        return self._page(request, found)

    def _provider(self, request: Request) -> Response:
        """A resource provider and its types, each with the api-versions it serves (the emulator
        serves every version; it names one stable and one preview, newest first, as ARM lists them)."""
        sub, namespace = request.match["sub"], request.match["ns"]
        if self._known(sub) is None:
            return Response.error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        types = sorted({r["type"].split("/", 1)[1] for r in self._resources.values()
                        if r["type"].split("/", 1)[0].lower() == namespace.lower()})
        if not types:
            return Response.error(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
        body = {"id": f"/subscriptions/{sub}/providers/{namespace}", "namespace": namespace,
                "registrationState": "Registered",
                "resourceTypes": [{"resourceType": t, "apiVersions": [EMULATED_PREVIEW, EMULATED_STABLE]} for t in types]}
        return Response.json(body)

    def _resource_or_collection(self, request: Request) -> Response:
        sub = request.match["sub"]
        if self._known(sub) is None:
            return Response.error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        path = request.path.rstrip("/")
        resource = self._resources.get(path.lower()) or self._defaults.get(path.lower())
        if resource is not None:
            return Response.json(shaped(resource, request.api_version))
        items = self._collections.get(path.lower())
        if items is not None:
            return self._page(request, [shaped(item, request.api_version) for item in items], sub)
        # An empty collection is a list of nothing; a missing single resource is a 404. A
        # collection path has an odd number of segments after the last /providers/.
        tail = path[path.lower().rfind("/providers/") + len("/providers/"):].split("/") if "/providers/" in path.lower() else []
        if len(tail) % 2 == 0 and tail:
            return self._page(request, [], sub)
        if path.lower().endswith("/resourcegroups") or path.lower().endswith("/providers"):
            return self._page(request, [], sub)
        return Response.error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")

    def _graph(self, request: Request) -> Response:
        try:
            body = request.json() or {}
            clauses, summary_columns = _graph_filter(str(body.get("query", "")))
        except (ValueError, GraphQueryError) as exc:
            return Response.error(400, "BadRequest", f"invalid query: {exc}")
        options = body.get("options") or {}
        wanted = {s.lower() for s in body.get("subscriptions") or self.subscriptions}
        readable = {s.lower() for s in wanted if not request.server.is_forbidden(f"/subscriptions/{s}")}
        rows = []
        for key in sorted(self._resources):
            resource = self._resources[key]
            subscription, group = parse_scope(resource["id"])
            if (subscription or "").lower() not in readable or not self.listed(resource):
                continue
            row = {k: resource[k] for k in _GRAPH_COLUMNS if k in resource}
            row.update(type=resource["type"].lower(), tenantId=self.tenant_id, subscriptionId=subscription,
                       resourceGroup=(group or "").lower())
            if _keeps(row, clauses):
                rows.append(row)
        if summary_columns is not None:
            rows = _summarized(rows, summary_columns)
        top = min(int(options.get("$top") or 1000), 1000)
        start = int(options.get("$skipToken") or options.get("$skip") or 0)
        page = rows[start:start + top]
        document: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "data": page, "facets": [],
                                    "resultTruncated": "false"}
        if self.graph_truncate_at is not None and len(rows) > self.graph_truncate_at:
            document.update(data=rows[:self.graph_truncate_at], count=self.graph_truncate_at, resultTruncated="true")
        elif start + top < len(rows):
            document["$skipToken"] = str(start + top)
        return Response.json(document)
