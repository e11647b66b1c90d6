"""Live collection from Azure: subscriptions -> inventory (Resource Graph or SDK lists) -> the
child data Resource Graph lacks (per-resource SDK calls), with bounded concurrency.

Whatever cannot be read becomes a CoverageRecord (scope: the subscription; resource type: what
was missing) so the rules report UNKNOWN there; a failed read is never left looking like an
empty, compliant scope.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError,
    ServiceResponseError, ServiceResponseTimeoutError, ServiceRequestTimeoutError,
)
from azure.mgmt.managementgroups import ManagementGroupsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vdcaudit.collectors.azure import catalog, generic, keyvault_data
from vdcaudit.collectors.azure.catalog import Call
from vdcaudit.collectors.azure.clients import Clients, LeftEndpoint, ReadOnlyViolation, ResponseRefused, wire
from vdcaudit.collectors.azure.keyvault_model import CERTIFICATE_TYPE, VAULT_TYPE, unread_detail
from vdcaudit.collectors.azure.throttle import ThrottleBudgetSpent
from vdcaudit.errors import InputError
from vdcaudit.inventory import API_VERSION, DATA_PLANE, META, UNREAD, Inventory, meta, parse_scope
from vdcaudit.model import CoverageRecord

SOURCE = "azure"
GRAPH_QUERY = "Resources | order by id asc"
# Resources of the types nothing reads are only counted (for the report's not-assessed list): one
# summarize per batch, then pages of the wanted types only.
COUNT_QUERY = "Resources | summarize count() by subscriptionId, type"
CONNECTION_FAILED = "connection failed (retries exhausted)"
# Pages of one list (ARM nextLink) or one Resource Graph query ($skipToken). ARM pages hold up to
# 1,000 items and a Resource Graph page up to 1,000 rows, so this is millions of resources; a
# server that keeps sending links past it (or repeats one) is broken: the read fails instead of
# running forever.
MAX_PAGES = 10_000
COUNTED = "x_vdcaudit_counted"  # marks a count row from COUNT_QUERY among the graph rows


def read_with(version: str, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record the API version each resource was read with (x_vdcaudit.apiVersion): defaults that
    changed with the API are judged by it (rules' absent_default_api_basis), and `vdcaudit snapshot`
    keeps it. Typed SDK clients pick their version themselves and are not recorded."""
    for resource in resources:
        if isinstance(resource, dict) and version:
            resource.setdefault(META, {})[API_VERSION] = version
    return resources


def _unread(inventory: Inventory, sub: str, reason: str, child_type: str, detail: str, parent_id: str) -> None:
    """A child read that failed: a coverage gap, and a mark on the parent so the rules that read
    this child (named by the type's last segment) judge it UNKNOWN with the reason."""
    inventory.add_coverage(CoverageRecord(SOURCE, sub, reason, child_type, detail))
    parent = inventory.get(parent_id)
    if parent is not None:
        meta(parent).setdefault(UNREAD, {})[child_type.rsplit("/", 1)[-1].lower()] = reason


@dataclass
class Settings:
    subscriptions: list[str] = field(default_factory=list)
    all_subscriptions: bool = False
    management_group: str | None = None
    use_graph: bool = True
    graph_page_size: int = 1000  # Resource Graph's maximum
    graph_batch: int = 1000  # subscriptions per Resource Graph query
    progress: bool = False
    # Types some loaded rule targets: without Resource Graph they must be read in full, never
    # from the generic list (which has no properties).
    assessed_types: set[str] = field(default_factory=set)
    # Types Resource Graph is asked for (rules' types, what checks read, parents of the child data
    # the catalog reads); None asks for every resource.
    graph_types: set[str] | None = None
    # --keyvault-data-plane: read each vault's certificates (keyvault_data.py), on this DNS suffix only
    keyvault_data_plane: bool = False
    keyvault_suffix: str = "vault.azure.net"


class ReadFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason_for(exc: BaseException, timeout: float) -> str:
    """A short reason for a coverage record. Never includes tokens or response bodies."""
    if isinstance(exc, (ServiceResponseTimeoutError, ServiceRequestTimeoutError)):
        return f"timeout after {timeout:g}s (retries exhausted)"
    if isinstance(exc, ThrottleBudgetSpent):
        return exc.summary
    if isinstance(exc, ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        return f"authentication failed: {exc.message if hasattr(exc, 'message') else exc}"
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        if status == 403:
            return "403 Forbidden"
        if status == 401:
            return "401 Unauthorized"
        if status == 429:
            return "throttled (429), retries exhausted"
        if status and status >= 500:
            return f"{status} server error, retries exhausted"
        return f"HTTP {status}"
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        text = str(exc).lower()
        if "timed out" in text or "timeout" in text:
            return f"timeout after {timeout:g}s (retries exhausted)"
        return CONNECTION_FAILED
    return f"{type(exc).__name__}: {exc}"


def every_item(paged: Any) -> list[Any]:
    """The items of an SDK list (ItemPaged), page by page: at most MAX_PAGES pages, and a
    continuation (nextLink) that repeats an earlier one ends the read (it would loop)."""
    if not hasattr(paged, "by_page"):  # an operation that returns a plain list
        return list(paged)
    pages = paged.by_page()
    items: list[Any] = []
    seen: set[str] = set()
    for count, page in enumerate(pages, start=1):
        items.extend(page)
        token = getattr(pages, "continuation_token", None)
        if not token:
            continue
        if count >= MAX_PAGES:
            raise ReadFailed(f"more than {MAX_PAGES} pages")
        if token in seen:
            raise ReadFailed("nextLink repeats an earlier page")
        seen.add(token)
    return items


def by_turns(tasks: Sequence[tuple[Any, Callable[[], Any]]]) -> list[tuple[Any, Callable[[], Any]]]:
    """The tasks (keyed by a tuple starting with the subscription) one subscription after another in
    turn: ARM limits reads per subscription, so the workers spread over every subscription's
    budget instead of queuing on one subscription's at a time."""
    queues: dict[Any, list[tuple[Any, Callable[[], Any]]]] = {}
    for task in tasks:
        queues.setdefault(task[0][0], []).append(task)
    return [task for turn in itertools.zip_longest(*queues.values()) for task in turn if task is not None]


class AzureCollector:
    def __init__(self, clients: Clients, settings: Settings) -> None:
        self.clients = clients
        self.settings = settings
        self.timeout = clients.connection.timeout
        self._progress: Progress | None = None
        self.subscription_names: dict[str, str] = {}  # id -> display name, where the listing gave one

    # -- helpers -------------------------------------------------------------------------------

    def _read(self, fn: Callable[[], Any]) -> Any:
        """Run one SDK read; every failure becomes ReadFailed with a reason (auth failures, which
        the user must fix first, and bugs propagate)."""
        try:
            return fn()
        except ReadOnlyViolation:
            raise
        except LeftEndpoint as exc:
            raise ReadFailed(f"nextLink leaves the ARM endpoint ({exc.message})") from None
        except ResponseRefused as exc:  # too large or too deeply nested: the answer is not read at all
            raise ReadFailed(exc.reason) from None
        except ClientAuthenticationError as exc:
            if getattr(exc, "status_code", None) is None:  # no token at all: nothing can be read
                raise InputError(f"cannot get an Azure token: {str(exc).splitlines()[0]} "
                                 "(sign in with az login, or set a service principal's AZURE_* variables)") from None
            raise ReadFailed(reason_for(exc, self.timeout)) from None
        except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
            raise ReadFailed(reason_for(exc, self.timeout)) from None

    def _run(self, label: str, tasks: Sequence[tuple[Any, Callable[[], Any]]]) -> list[tuple[Any, Any]]:
        """Run (key, fn) tasks on `concurrency` worker threads; (key, result or ReadFailed) in
        completion order. The workers take tasks from one shared iterator: no Future, no waiter
        and no wake-up of the main thread per task (at thousands of child reads those cost more
        CPU than the reads' own bookkeeping). Anything but ReadFailed (a bug, a refused write, no
        token at all) stops every worker and is raised here."""
        if not tasks:
            return []
        task_id = self._progress.add_task(label, total=len(tasks)) if self._progress else None
        results: list[tuple[Any, Any]] = []
        pending = iter(tasks)
        take = threading.Lock()
        broken: list[BaseException] = []

        def work() -> None:
            while not broken:
                with take:
                    key, fn = next(pending, (None, None))
                if fn is None:
                    return
                try:
                    results.append((key, self._read(fn)))  # list.append is atomic
                except ReadFailed as failed:
                    results.append((key, failed))
                except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                    broken.append(exc)
                    return
                if self._progress is not None and task_id is not None:
                    self._progress.advance(task_id)

        workers = [threading.Thread(target=work, name=f"vdcaudit-azure-{n}", daemon=True)
                   for n in range(min(max(1, self.clients.connection.concurrency), len(tasks)))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if broken:
            raise broken[0]
        return results

    def _call(self, call: Call, subscription: str, args: Iterable[str] = (),
              target: str | None = None) -> Callable[[], list[dict[str, Any]]]:
        """One catalog call. `args` are the typed operation's arguments; a generic call (one with
        an api-version) reads `target` instead: the parent's or the resource's own ARM id."""
        def run() -> list[dict[str, Any]]:
            try:
                if call.api_version:
                    return self._generic(call, subscription, target)
                group_name, method = call.operation.split(".")
                operation = getattr(getattr(self.clients.get(call.client, subscription), group_name), method)
                result = operation(*args)
                return [wire(result)] if call.single else [wire(item) for item in every_item(result)]
            except ResourceNotFoundError:
                if catalog.always_present(call):
                    raise ReadFailed(f"404 Not Found, though ARM serves {call.segment} for every "
                                     f"{call.parent}") from None
                return []  # the child does not exist: nothing to read, nothing missed
        return run

    def _generic(self, call: Call, subscription: str, target: str | None) -> list[dict[str, Any]]:
        version = call.api_version or ""
        if call.scope == "subscription":
            path = f"/subscriptions/{subscription}/providers/{call.type}"
        elif call.scope == "each" and target:
            return read_with(version, [generic.get_resource(self.clients, subscription, target, version)])
        elif call.scope == "parent" and target:
            path = f"{target}/{call.segment}"
            if call.single:
                return read_with(version, [generic.get_resource(self.clients, subscription, path, version)])
        else:
            raise ValueError(f"catalog call for {call.type}: scope {call.scope!r} needs a target id")
        return read_with(version, generic.list_collection(self.clients, subscription, path, version))

    # -- subscriptions -------------------------------------------------------------------------

    def subscriptions(self, inventory: Inventory) -> list[str]:
        s = self.settings
        client = self.clients.get(SubscriptionClient)
        if s.all_subscriptions:
            try:
                listed = self._read(lambda: every_item(client.subscriptions.list()))
                found = [sub.subscription_id for sub in listed]
                self._name(listed, "subscription_id")
            except ReadFailed as failed:
                raise InputError(f"cannot list subscriptions: {failed.reason}", self.clients.connection.endpoint) from None
        elif s.management_group:
            group = s.management_group
            mg_client = self.clients.get(ManagementGroupsMgmtClient)
            try:
                items = self._read(lambda: every_item(mg_client.management_groups.get_descendants(group)))
            except ReadFailed as failed:
                raise InputError(f"cannot list management group {group}: {failed.reason}",
                                 self.clients.connection.endpoint) from None
            subscriptions = [item for item in items if str(item.type or "").lower().endswith("/subscriptions")]
            found = [item.name for item in subscriptions]
            self._name(subscriptions, "name")
        else:
            found = []
            checks = [(sub, partial(client.subscriptions.get, sub)) for sub in s.subscriptions]
            results = sorted(self._run("subscriptions", checks))
            failures = [result for _, result in results if isinstance(result, ReadFailed)]
            if failures and len(failures) == len(results) and all(f.reason == CONNECTION_FAILED for f in failures):
                # nothing answers at the endpoint (a wrong URL or port): an input error, as with
                # --all-subscriptions, not one coverage gap per subscription
                raise InputError(f"cannot read subscription {results[0][0]}: {CONNECTION_FAILED}",
                                 self.clients.connection.endpoint)
            for sub, result in results:
                if isinstance(result, ReadFailed):
                    inventory.add_coverage(CoverageRecord(SOURCE, sub, result.reason))
                else:
                    found.append(sub)
                    self._name([result], "subscription_id")
        return list(dict.fromkeys(found))

    def _name(self, items: Iterable[Any], id_attribute: str) -> None:
        """Keep the display names the subscription listing gave (the report prints them by the ids)."""
        for item in items:
            ident, name = getattr(item, id_attribute, None), getattr(item, "display_name", None)
            if ident and isinstance(name, str) and name:
                self.subscription_names[str(ident)] = name

    # -- inventory -----------------------------------------------------------------------------

    def wanted(self, resource_type: str) -> bool:
        """Whether Resource Graph rows of this type are read (not only counted): a type in
        `graph_types`, or a child type of one (peerings of a virtual network, say)."""
        types = self.settings.graph_types
        kind = resource_type.lower()
        return types is None or any(kind == t.lower() or kind.startswith(t.lower() + "/") for t in types)

    def graph(self, subscriptions: list[str]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
        """(rows, subscriptions read, subscriptions whose query failed) via Resource Graph. With
        `graph_types`, each batch is first counted by type (one summarize); only the wanted types
        present are then read, the others are returned as COUNTED rows (for the not-assessed list)."""
        size = self.settings.graph_batch
        batches = [tuple(subscriptions[i:i + size]) for i in range(0, len(subscriptions), size)]

        def query(batch: tuple[str, ...], text: str) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            skip: str | None = None
            seen: set[str] = set()
            for _ in range(MAX_PAGES):
                page = generic.query_graph(self.clients, list(batch), text, self.settings.graph_page_size, skip)
                skip = page.get("$skipToken") or None
                data = page.get("data")
                if not isinstance(data, list) or not all(isinstance(row, dict) for row in data) \
                        or not isinstance(skip, (str, type(None))):
                    raise ReadFailed("Resource Graph answered without a list of row objects")
                if str(page.get("resultTruncated")).lower() == "true" and not skip:
                    # Resource Graph cut the result and offers no way to page on: a partial
                    # inventory must not pass for a whole one, so read this batch through the SDK.
                    raise ReadFailed("Resource Graph truncated the result")
                rows.extend(data)
                if not skip:
                    return rows
                if skip in seen:
                    raise ReadFailed("Resource Graph repeated a $skipToken")
                seen.add(skip)
            raise ReadFailed(f"Resource Graph query ran past {MAX_PAGES} pages")

        failed: list[str] = []
        texts: dict[tuple[str, ...], str] = {batch: GRAPH_QUERY for batch in batches}
        counted: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        if self.settings.graph_types is not None:
            texts = {}
            for batch, result in self._run("resource counts", [(b, partial(query, b, COUNT_QUERY)) for b in batches]):
                if isinstance(result, ReadFailed):
                    failed.extend(batch)
                    continue
                present = sorted({str(row.get("type") or "").lower() for row in result if self.wanted(str(row.get("type") or ""))})
                counted[batch] = [{COUNTED: True, "subscriptionId": row.get("subscriptionId"), "type": row.get("type"),
                                   "count": int(row.get("count_") or 0)}
                                  for row in result if not self.wanted(str(row.get("type") or ""))]
                if present:
                    listed = ", ".join("'" + t.replace("'", "") + "'" for t in present)
                    texts[batch] = f"Resources | where type in~ ({listed}) | order by id asc"
        rows: list[dict[str, Any]] = []
        read: list[str] = []
        results = dict(self._run("resource graph", [(b, partial(query, b, text)) for b, text in texts.items()]))
        for batch in batches:
            if batch in failed:
                continue
            result = results.get(batch, [])
            if isinstance(result, ReadFailed):
                failed.extend(batch)  # counted but not read: the whole batch goes to the SDK
                continue
            rows.extend(result)
            rows.extend(counted.get(batch, []))
            read.extend(batch)
        return rows, read, failed

    def sdk(self, subscriptions: list[str], inventory: Inventory) -> list[dict[str, Any]]:
        """Every resource through the SDK: the generic list per subscription, then the typed list
        of each type present (in full, with properties)."""
        listed: dict[str, list[dict[str, Any]]] = {}

        def list_resources(sub: str) -> list[dict[str, Any]]:
            return [wire(r) for r in every_item(self.clients.get(ResourceManagementClient, sub).resources.list())]

        tasks = [(sub, partial(list_resources, sub)) for sub in subscriptions]
        for sub, result in self._run("resource lists", tasks):
            if isinstance(result, ReadFailed):
                inventory.add_coverage(CoverageRecord(SOURCE, sub, result.reason))
            else:
                listed[sub] = result
        typed_tasks: list[tuple[Any, Callable[[], Any]]] = []
        for sub, items in listed.items():
            present = {r["type"].lower(): r for r in items}
            groups: dict[str, set[str]] = {}
            for item in items:
                groups.setdefault(item["type"].lower(), set()).add(parse_scope(item["id"])[1] or "")
            for call in catalog.LISTINGS:
                kind = call.type.lower()
                if call.scope == "subscription" and kind in present:
                    typed_tasks.append(((sub, call), self._call(call, sub)))
                elif call.scope == "resource_group":
                    for group in sorted(groups.get(kind, ())):
                        typed_tasks.append(((sub, call), self._call(call, sub, [group])))
                elif call.scope == "parent" and call.parent:
                    for parent in (r for r in items if r["type"].lower() == call.parent.lower()):
                        args = [parse_scope(parent["id"])[1] or "", *catalog.parent_names(parent["id"])]
                        typed_tasks.append(((sub, call), self._call(call, sub, args, parent["id"])))
                elif call.scope == "each":
                    for item in (r for r in items if r["type"].lower() == kind):
                        typed_tasks.append(((sub, call), self._call(call, sub, (), item["id"])))
        resources: list[dict[str, Any]] = []
        unread: set[tuple[str, str]] = set()
        for (sub, call), result in self._run("typed lists", by_turns(typed_tasks)):
            if isinstance(result, ReadFailed):
                if (sub, call.type.lower()) not in unread:
                    unread.add((sub, call.type.lower()))
                    inventory.add_coverage(CoverageRecord(SOURCE, sub, result.reason, call.type))
            else:
                resources.extend(result)
        assessed = {t.lower() for t in self.settings.assessed_types}
        versions = generic.ApiVersions(self.clients)
        whole: list[tuple[Any, Callable[[], Any]]] = []
        for sub, items in listed.items():
            for item in items:
                kind = item["type"].lower()
                if kind in catalog.LISTED_TYPES:
                    continue  # read in full above (or recorded as unread)
                if kind in assessed:
                    # a rule reads its properties, which the generic list lacks: GET it whole
                    whole.append(((sub, item["type"]), partial(self._whole, sub, item, versions)))
                    continue
                resources.append(item)  # no rule reads its properties: the generic entry will do
        for (sub, spelling), result in self._run("generic reads", by_turns(whole)):
            if isinstance(result, ReadFailed):
                if (sub, spelling.lower()) not in unread:
                    unread.add((sub, spelling.lower()))
                    inventory.add_coverage(CoverageRecord(SOURCE, sub, result.reason, spelling,
                                                          "read by id through the generic ARM client"))
            elif result is not None:
                resources.append(result)
        return resources

    def _whole(self, sub: str, item: dict[str, Any], versions: generic.ApiVersions) -> dict[str, Any] | None:
        try:
            version = versions.for_type(sub, item["type"])
        except LookupError as exc:
            raise ReadFailed(str(exc)) from None
        try:
            return read_with(version, [generic.get_resource(self.clients, sub, item["id"], version)])[0]
        except ResourceNotFoundError:
            return None  # deleted since the list was read: nothing to judge

    def children(self, inventory: Inventory, subscriptions: list[str]) -> list[dict[str, Any]]:
        """Per-resource reads of what Resource Graph does not carry."""
        tasks: list[tuple[Any, Callable[[], Any]]] = []
        for resource in list(inventory):
            for call in catalog.children_of(resource["type"], resource.get("kind")):
                sub, group = parse_scope(resource["id"])
                if sub:
                    args = [group or "", *catalog.parent_names(resource["id"])]
                    tasks.append(((sub, call, resource["id"]), self._call(call, sub, args, resource["id"])))
        for trigger, call in catalog.SUBSCRIPTION_EXTRAS:
            holding = {parse_scope(r["id"])[0] for r in inventory.of_type(trigger)} if trigger else set(subscriptions)
            for sub in subscriptions:
                if sub in holding:
                    tasks.append(((sub, call, f"/subscriptions/{sub}"), self._call(call, sub)))
        found: list[dict[str, Any]] = []
        for (sub, call, parent), result in self._run("child data", by_turns(tasks)):
            if isinstance(result, ReadFailed):
                _unread(inventory, sub, result.reason, call.type, f"for {parent}", parent)
            else:
                found.extend(result)
        return found

    def certificates(self, inventory: Inventory) -> list[dict[str, Any]]:
        """Every vault's certificates through Key Vault's data plane. A vault that cannot be read
        (403, 401, timeout, unreachable behind a private endpoint, a refused vaultUri) is a coverage
        gap naming it; the others are read all the same."""
        reader = keyvault_data.CertificateReader(self.clients.connection, self.settings.keyvault_suffix)

        def read(vault: dict[str, Any]) -> list[dict[str, Any]]:
            try:
                return reader.read(vault)
            except keyvault_data.Refused as refused:
                raise ReadFailed(refused.reason) from None

        vaults = inventory.of_type(VAULT_TYPE)
        tasks = [((parse_scope(v["id"])[0] or "", v["id"]), partial(read, v)) for v in vaults]
        found: list[dict[str, Any]] = []
        for (sub, vault_id), result in self._run("key vault certificates", by_turns(tasks)):
            if isinstance(result, ReadFailed):
                _unread(inventory, sub, result.reason, CERTIFICATE_TYPE, unread_detail(vault_id), vault_id)
            else:
                vault = inventory.get(vault_id)
                if vault is not None:
                    meta(vault).setdefault(DATA_PLANE, {})["certificates"] = keyvault_data.API_VERSION
                found.extend(result)
        return found

    # -- the whole collection ------------------------------------------------------------------

    def collect(self, inventory: Inventory) -> None:
        console = Console(stderr=True)
        show = self.settings.progress and console.is_terminal
        progress = Progress(TextColumn("{task.description:>16}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True, disable=not show)
        with progress:
            self._progress = progress if show else None
            subscriptions = self.subscriptions(inventory)
            method = "resource-graph" if self.settings.use_graph else "sdk"
            if self.settings.use_graph:
                rows, _, failed = self.graph(subscriptions)
                if failed:  # Resource Graph refused or failed: read those through the SDK instead
                    rows.extend(self.sdk(failed, inventory))
                    method = f"resource-graph (sdk fallback for {len(failed)} subscription(s))"
            else:
                rows = self.sdk(subscriptions, inventory)
            for row in (r for r in rows if r.get(COUNTED)):
                inventory.count_uncollected(str(row["subscriptionId"] or ""), str(row["type"]), row["count"])
            inventory.extend((r for r in rows if not r.get(COUNTED)), SOURCE)
            children = self.children(inventory, subscriptions)
            if self.settings.keyvault_data_plane:
                children.extend(self.certificates(inventory))
            inventory.extend(children, SOURCE)
        # The inventory counts more than `resources`: the child resources read per parent (a
        # server's databases, a vault's role assignments) and, with Resource Graph, resources of
        # types no rule reads, counted but not read.
        inventory.sources.append({"kind": SOURCE, "location": self.clients.connection.endpoint,
                                  "resources": sum(1 for r in rows if not r.get(COUNTED)),
                                  "children": len(children),
                                  "counted_only": sum(int(r["count"]) for r in rows if r.get(COUNTED)),
                                  "subscriptions": len(subscriptions), "method": method,
                                  "subscription_names": dict(sorted(self.subscription_names.items())),
                                  # who Azure accepted (token claims: object id, UPN, tenant)
                                  "principal": getattr(self.clients.connection.credential, "principal", None) or {}})
