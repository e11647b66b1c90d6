"""Inventory: normalisation, case-insensitive types, parent/child linking."""

from __future__ import annotations

import pytest

from vdcaudit.inventory import META, Inventory, parent_id, parse_scope

SUB = "/subscriptions/s1/resourceGroups/rg1/providers"
SERVER = f"{SUB}/Microsoft.Sql/servers/sql1"
DB = f"{SERVER}/databases/app"
TDE = f"{DB}/transparentDataEncryption/current"
VAULT = f"{SUB}/Microsoft.KeyVault/vaults/kv1"


def test_parent_of_child_and_extension_resources() -> None:
    assert parent_id(TDE) == DB
    assert parent_id(DB) == SERVER
    assert parent_id(SERVER) is None
    assert parent_id(f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/ra1") == VAULT
    assert parent_id("/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/ra1") is None


def test_scope_from_id_is_case_insensitive() -> None:
    assert parse_scope("/SUBSCRIPTIONS/abc/RESOURCEGROUPS/Rg/providers/x/y/z") == ("abc", "Rg")
    assert parse_scope("/subscriptions/abc") == ("abc", None)


def test_types_compare_case_insensitively() -> None:
    inventory = Inventory()
    inventory.add({"id": SERVER, "type": "microsoft.sql/servers", "name": "sql1"}, "snapshot")
    assert [r["name"] for r in inventory.of_type("Microsoft.Sql/Servers")] == ["sql1"]
    # the original spelling is kept for display
    assert inventory.of_type("MICROSOFT.SQL/SERVERS")[0]["type"] == "microsoft.sql/servers"


def test_children_are_linked_to_parents_across_spellings() -> None:
    inventory = Inventory()
    inventory.add({"id": DB, "type": "Microsoft.Sql/servers/databases", "name": "app"}, "snapshot")
    inventory.add({"id": TDE.upper(), "type": "microsoft.sql/servers/databases/transparentdataencryption",
                   "name": "current", "properties": {"state": "Enabled"}}, "snapshot")
    inventory.add({"id": SERVER, "type": "Microsoft.Sql/servers", "name": "sql1"}, "snapshot")
    inventory.link_children()
    server = inventory.get(SERVER)
    db = inventory.get(DB)
    assert server is not None and db is not None
    assert [c["name"] for c in server[META]["children"]["databases"]] == ["app"]
    assert db[META]["children"]["transparentdataencryption"][0]["properties"]["state"] == "Enabled"
    assert db[META]["parent"] == SERVER


def test_flattened_az_cli_print_is_folded_into_properties() -> None:
    inventory = Inventory()
    inventory.add({"id": TDE, "name": "current", "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                   "resourceGroup": "rg1", "state": "Enabled"}, "snapshot")
    resource = inventory.get(TDE)
    assert resource is not None
    assert resource["properties"] == {"state": "Enabled"}
    assert resource["subscriptionId"] == "s1"
    assert resource["resourceGroup"] == "rg1"


def test_later_resource_with_same_id_wins_key_by_key() -> None:
    inventory = Inventory()
    inventory.add({"id": SERVER, "type": "Microsoft.Sql/servers", "properties": {"v": 1, "w": 1}}, "snapshot",
                  {"file": "a.json"})
    inventory.add({"id": SERVER.upper(), "type": "MICROSOFT.SQL/SERVERS", "properties": {"v": 2}}, "snapshot",
                  {"file": "b.json"})
    assert len(inventory) == 1
    [server] = inventory.of_type("microsoft.sql/servers")
    assert server["properties"] == {"v": 2, "w": 1}
    assert server["type"] == "MICROSOFT.SQL/SERVERS" and server[META]["origin"] == {"file": "b.json"}


def test_az_resource_list_does_not_erase_resource_graph_properties() -> None:
    """`az resource list` prints `properties: null`; read after a Resource Graph export of the same
    resource, it must not turn known values into unknown ones."""
    inventory = Inventory()
    inventory.add({"id": SERVER, "type": "microsoft.sql/servers", "properties": {"minimalTlsVersion": "1.2"}},
                  "snapshot")
    inventory.add({"id": SERVER, "type": "Microsoft.Sql/servers", "properties": None, "tags": {"env": "prod"}},
                  "snapshot")
    [server] = inventory.of_type("Microsoft.Sql/servers")
    assert server["properties"] == {"minimalTlsVersion": "1.2"} and server["tags"] == {"env": "prod"}


@pytest.mark.parametrize(("resource", "problem", "resource_type"), [
    ({"type": "Microsoft.Sql/servers"}, "has no 'id'", "Microsoft.Sql/servers"),
    ({"id": SERVER}, "has no 'type'", None),
    ({"id": "", "type": "x/y"}, "has no 'id'", "x/y"),
    ("not an object", "is not a JSON object", None),
])
def test_invalid_resources_are_entry_errors_with_file_and_index(resource: object, problem: str,
                                                                  resource_type: str | None) -> None:
    inventory = Inventory()
    inventory.extend([resource, {"id": SERVER, "type": "Microsoft.Sql/servers"}], "snapshot", {"file": "snap.json"})
    assert [r["id"] for r in inventory] == [SERVER]  # the other entry is judged
    [error] = inventory.coverage
    assert (error.scope, error.reason, error.resource_type, error.entry_error) == (
        "snap.json#0", f"the entry {problem}", resource_type, True)


def test_derived_views_are_built_once_and_rebuilt_after_a_change() -> None:
    inventory = Inventory()
    inventory.add({"id": SERVER, "type": "Microsoft.Sql/servers"}, "snapshot")
    builds: list[int] = []

    def count(inv: Inventory) -> int:
        builds.append(1)
        return len(inv)

    assert inventory.derived("size", count) == 1 and inventory.derived("size", count) == 1
    inventory.add({"id": DB, "type": "Microsoft.Sql/servers/databases"}, "snapshot")
    assert inventory.derived("size", count) == 2
    assert len(builds) == 2
