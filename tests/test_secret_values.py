"""Secret values never enter the inventory, whichever source prints them (vdcaudit/secret_values.py)."""

from __future__ import annotations

import json

from vdcaudit.inventory import Inventory
from vdcaudit.secret_values import MAX_DEPTH, mask_connection_string

FACTORY = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DataFactory/factories/adf1"


def _added(resource: dict) -> dict:
    inventory = Inventory()
    inventory.add(resource, "snapshot")
    found = inventory.get(resource["id"])
    assert found is not None
    return found


def test_connection_strings_keep_their_keys_and_lose_their_credentials():
    text = "Server=tcp:s1;User ID=u;Password=p@ss;AccountKey=abc==;SharedAccessKey=k;EndpointSuffix=core.windows.net"
    assert mask_connection_string(text) == ("Server=tcp:s1;User ID=u;Password=***;AccountKey=***;SharedAccessKey=***;"
                                            "EndpointSuffix=core.windows.net")


def test_values_of_named_values_and_variables_are_dropped_in_any_spelling():
    for kind in ("Microsoft.ApiManagement/service/namedValues", "microsoft.automation/automationaccounts/variables"):
        kept = _added({"id": f"/subscriptions/s1/resourceGroups/rg/providers/{kind}/x", "type": kind,
                       "Properties": {"Value": "s3cret", "secret": True}})
        assert "s3cret" not in json.dumps(kept) and kept["Properties"]["secret"] is True


def test_linked_service_secrets_are_masked_where_they_are_nested():
    kept = _added({"id": f"{FACTORY}/linkedservices/ls1", "type": "Microsoft.DataFactory/factories/linkedservices",
                   "properties": {"type": "Odbc", "typeProperties": {
                       "connectionString": {"type": "SecureString", "value": "Driver=x;PWD=s3cret"},
                       "credential": {"type": "SecureString", "value": "s3cret"},
                       "nested": {"sasUri": "https://st.blob.core.windows.net/?sig=s3cret", "encryptedCredential": "s3cret"},
                       "servicePrincipalKey": {"type": "AzureKeyVaultSecret", "secretName": "spn-key",
                                               "store": {"referenceName": "kv", "type": "LinkedServiceReference"}}}}})
    text = json.dumps(kept)
    assert "s3cret" not in text
    assert kept["properties"]["typeProperties"]["credential"] == {"type": "SecureString"}
    assert kept["properties"]["typeProperties"]["servicePrincipalKey"]["secretName"] == "spn-key"


def test_deeply_nested_type_properties_are_cut_not_walked():
    deep: dict = {"password": "s3cret"}
    for _ in range(MAX_DEPTH + 5):
        deep = {"inner": deep}
    kept = _added({"id": f"{FACTORY}/linkedservices/deep", "type": "Microsoft.DataFactory/factories/linkedservices",
                   "properties": {"type": "Custom", "typeProperties": deep}})
    assert "s3cret" not in json.dumps(kept)
