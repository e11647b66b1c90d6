"""Property-based fuzzing (Hypothesis) of every reader of user input: the snapshot, ARM template,
Terraform plan, vdcaudit.yaml / waiver and SDN snapshot readers, and the Network Controller
client's response handling. Whatever the file holds, the reader gives a result (which the engine
then judges and the JSON report renders) or one InputError / NcReadError; never another exception
(the CLI's exit 3). Documents are drawn from the shapes the readers expect (ARM resources, template
expressions, plan changes, waiver entries), with values of every JSON type in every place.

Examples are bounded (max_examples per reader, small collections, copy counts under 10) so the
suite stays fast; a hang guard fails an example that runs longer than EXAMPLE_SECONDS."""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.guards import hang_guard
from tests.raw_server import RawServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdcaudit.collectors.arm_template import load_template
from vdcaudit.collectors.sdn.fabric import COLLECTIONS, load_fabric_snapshot
from vdcaudit.collectors.sdn import ncclient
from vdcaudit.collectors.sdn.ncclient import NcClient, NcReadError, NcSettings
from vdcaudit.collectors.snapshot import load_snapshot
from vdcaudit.collectors.terraform import load_plan, mapping
from vdcaudit.config import load_config
from vdcaudit.context import ScanContext
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory
from vdcaudit.reports import RENDERERS
from vdcaudit.rulepack import Rule, load_rules
from vdcaudit.scan import scan
from vdcaudit.waivers import load_waivers_file

EXAMPLES = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
EXAMPLE_SECONDS = 20


@lru_cache(maxsize=1)
def rules() -> list[Rule]:
    return load_rules()


RESOURCE_TYPES = sorted({rule.resource_type for rule in load_rules()})
KEYS = ["id", "name", "type", "properties", "Properties", "location", "sku", "kind", "tags", "resources",
        "value", "data", "subscriptionId", "resourceGroup", "ResourceId", "ResourceType", "encryption",
        "minimumTlsVersion", "keySource", "enabled", "status", "state", "x_vdcaudit", "nextLink", "resourceRef",
        "resourceId", "copy", "count", "dependsOn", "condition", "parameters", "variables", "change", "after"]
EXPRESSIONS = ["[concat('a', 'b')]", "[parameters('p')]", "[variables('v')]", "[resourceId('Microsoft.Storage/"
               "storageAccounts', 'st')]", "[copyIndex()]", "[if(true(), 'x', 1)]", "[reference('x').y]",
               "[createArray(1, 2)]", "[union(createObject('a', 1), createObject('b', 2))]", "[length('abc')]",
               "[format('{0}-{1}', 1)]", "[[escaped", "[", "[)]", "[concat(]", "[utcNow()]", "[json('{}')]",
               "[string(parameters('p'))]", "[toLower(variables('v'))]", "[int('7')]", "[bool('true')]"]

scalars = (st.none() | st.booleans() | st.integers(-3, 9) | st.integers() | st.floats()
           | st.text(max_size=12) | st.sampled_from(["Enabled", "Disabled", "TLS1_0", "TLS1_2", "true", "false",
                                                     "1.2", "Microsoft.Keyvault", *EXPRESSIONS, *RESOURCE_TYPES]))
keys = st.sampled_from(KEYS) | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(keys, inner, max_size=5), max_leaves=25)


def arm_id(kind: str, name: str) -> str:
    return f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/{kind}/{name}"


@st.composite
def resources(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(RESOURCE_TYPES) | st.text(max_size=10))
    name = draw(st.text(min_size=1, max_size=8))
    resource = {"id": draw(st.just(arm_id(kind, name)) | scalars), "type": draw(st.just(kind) | scalars),
                "name": draw(st.just(name) | scalars)}
    resource.update(draw(st.dictionaries(keys, json_values, max_size=4)))
    if draw(st.booleans()):
        resource["properties"] = draw(st.dictionaries(keys, json_values, max_size=6) | json_values)
    return resource


snapshots = (st.lists(resources(), max_size=5)
             | st.fixed_dictionaries({"data": st.lists(resources(), max_size=5) | json_values})
             | st.fixed_dictionaries({"value": st.lists(resources(), max_size=5) | json_values})
             | json_values)


@st.composite
def template_resources(draw: st.DrawFn, depth: int = 0) -> Any:
    resource: dict[str, Any] = {
        "type": draw(st.sampled_from(RESOURCE_TYPES) | st.sampled_from(EXPRESSIONS) | scalars),
        "apiVersion": "2023-01-01",
        "name": draw(st.text(min_size=1, max_size=8) | st.sampled_from(EXPRESSIONS) | scalars),
        "properties": draw(json_values),
    }
    if draw(st.booleans()):
        resource["copy"] = draw(st.fixed_dictionaries({"name": st.text(max_size=4) | scalars,
                                                       "count": st.integers(-2, 8) | st.sampled_from(EXPRESSIONS)}))
    if depth < 2 and draw(st.booleans()):
        resource["resources"] = draw(st.lists(template_resources(depth + 1), max_size=2))
    resource.update(draw(st.dictionaries(keys, json_values, max_size=2)))
    return resource


templates = st.fixed_dictionaries(
    {"resources": st.lists(template_resources(), max_size=4) | json_values},
    optional={"$schema": st.just("https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"),
              "parameters": st.dictionaries(st.sampled_from(["p", "q"]) | st.text(max_size=4), st.fixed_dictionaries(
                  {"type": st.sampled_from(["string", "int", "bool", "object", "array", "securestring"]) | scalars},
                  optional={"defaultValue": json_values}) | json_values, max_size=3),
              "variables": st.dictionaries(st.sampled_from(["v", "w"]) | st.text(max_size=4),
                                           st.sampled_from(EXPRESSIONS) | json_values, max_size=3),
              "outputs": json_values}) | json_values

TF_TYPES = sorted(mapping())
plans = st.fixed_dictionaries(
    {"format_version": st.just("1.2") | scalars},
    optional={"resource_changes": st.lists(st.fixed_dictionaries(
        {"address": st.text(max_size=10), "type": st.sampled_from(TF_TYPES) | scalars,
         "name": st.text(max_size=6) | scalars,
         "change": st.fixed_dictionaries({"actions": st.just(["create"]) | json_values},
                                         optional={"after": st.dictionaries(keys, json_values, max_size=6) | json_values,
                                                   "after_unknown": json_values}) | json_values}),
        max_size=4) | json_values,
        "planned_values": json_values, "configuration": json_values}) | json_values

waiver_entries = st.fixed_dictionaries(
    {"rule": st.sampled_from(["VDC-*", "VDC-ST-002", "*"]) | scalars, "resource": st.just("*") | scalars,
     "justification": st.text(max_size=10) | scalars, "owner": st.text(max_size=6) | scalars,
     "expires": st.sampled_from(["2099-01-01", "2020-01-01", "2025-13-45", "soon"]) | st.dates() | scalars})
configs = st.fixed_dictionaries({}, optional={
    "waivers": st.lists(waiver_entries, max_size=3) | json_values,
    "key_owners": st.lists(st.text(max_size=8) | st.fixed_dictionaries({"id": scalars}), max_size=2) | json_values,
}) | json_values

yaml_texts = st.lists(st.sampled_from([*"&*!|>-:[]{}?,'\"# \n\tab01", "waivers:", "\n  - ", "&a ", "*a", "!!int ",
                                       "2025-13-45", "rule: x"]), max_size=30).map("".join)


def judged(read: Callable[[Inventory], None]) -> None:
    """Read, then judge and render what was read: a result, or one InputError."""
    with hang_guard(EXAMPLE_SECONDS, "an example ran"):
        inventory = Inventory()
        try:
            read(inventory)
        except InputError as error:
            assert error.one_line() and "\n" not in error.one_line()
            return
        json.loads(RENDERERS["json"].render(scan(inventory, rules(), ScanContext())))


def as_file(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    if isinstance(document, bytes):
        path.write_bytes(document)
    else:
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


@EXAMPLES
@given(document=snapshots | st.binary(max_size=40) | st.text(max_size=40))
def test_snapshot_reader(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = as_file(Path(folder), "snap.json", document)
        judged(lambda inventory: load_snapshot(path, inventory))


@EXAMPLES
@given(document=templates, parameters=st.none() | st.fixed_dictionaries({"parameters": json_values}) | json_values)
def test_template_reader(document: Any, parameters: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = as_file(Path(folder), "main.json", document)
        given_parameters = as_file(Path(folder), "p.json", parameters) if parameters is not None else None
        judged(lambda inventory: load_template(path, inventory, given_parameters))


@EXAMPLES
@given(document=plans)
def test_plan_reader(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = as_file(Path(folder), "plan.json", document)
        judged(lambda inventory: load_plan(path, inventory))


@EXAMPLES
@given(text=configs.map(lambda doc: yaml.safe_dump(doc, default_flow_style=False, allow_unicode=True)) | yaml_texts)
def test_config_and_waiver_readers(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = as_file(Path(folder), "vdcaudit.yaml", text)
        with hang_guard(EXAMPLE_SECONDS, "an example ran"):
            for read in (load_config, load_waivers_file):
                try:
                    read(path)
                except InputError as error:
                    assert "\n" not in error.one_line()


@EXAMPLES
@given(files=st.dictionaries(st.sampled_from(sorted(COLLECTIONS)),
                             st.fixed_dictionaries({"value": st.lists(json_values, max_size=4)}) | json_values,
                             max_size=5),
       host=st.none() | json_values)
def test_sdn_snapshot_reader(files: dict[str, Any], host: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, document in files.items():
            as_file(root, f"{name}.json", document)
        if host is not None:
            (root / "hosts").mkdir()
            as_file(root / "hosts", "hv01.json", host)
        judged(lambda inventory: load_fabric_snapshot(root, inventory))


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, list[bytes]]]:
    """A raw TLS server that answers every request with the body last put in the list."""
    body: list[bytes] = [b"{}"]

    def answer(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body[0])).encode() + b"\r\n\r\n" + body[0])

    server = RawServer(answer, tmp_path_factory.mktemp("nc"))
    pages, ncclient.MAX_PAGES = ncclient.MAX_PAGES, 20  # a relative nextLink that grows never repeats
    yield server, body
    ncclient.MAX_PAGES = pages
    server.close()


@EXAMPLES
@given(document=st.fixed_dictionaries({"value": st.lists(json_values, max_size=4)},
                                      optional={"nextLink": scalars}) | json_values | st.binary(max_size=30))
def test_network_controller_responses(controller: tuple[RawServer, list[bytes]], document: Any) -> None:
    server, body = controller
    body[0] = document if isinstance(document, bytes) else json.dumps(document).encode()
    client = NcClient(NcSettings(url=server.url, ca_bundle=str(server.ca_path), timeout=5))
    try:
        with hang_guard(EXAMPLE_SECONDS, "an example ran"):
            client.list("virtualNetworks")
    except NcReadError as error:
        assert error.reason and "\n" not in error.reason
    finally:
        client.close()
