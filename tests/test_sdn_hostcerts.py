"""Host certificate inventories in every accepted form, parsed into one record shape."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tests.sdn_certs import key, make_cert, ps_entry, script_document, thumbprint

from vdcaudit.collectors.sdn.fabric import load_fabric_snapshot
from vdcaudit.collectors.sdn.hostcerts import load_host_inventory, parse_date
from vdcaudit.errors import InputError
from vdcaudit.inventory import Inventory


def test_dates_from_both_powershell_editions() -> None:
    assert parse_date("/Date(1735689600000)/") == "2025-01-01T00:00:00+00:00"
    assert parse_date("/Date(1735689600000+0100)/") == "2025-01-01T00:00:00+00:00"  # ms are UTC anyway
    assert parse_date("2025-01-01T01:00:00+01:00") == "2025-01-01T00:00:00+00:00"
    assert parse_date("2025-01-01T00:00:00Z") == "2025-01-01T00:00:00+00:00"


def test_windows_powershell_51_select_object_print(tmp_path: Path) -> None:
    cert = make_cert()
    text = json.dumps([ps_entry(cert, ps51=True)], indent=2).replace("/Date(", "\\/Date(").replace(")/", ")\\/")
    path = tmp_path / "hv01.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # Out-File writes a BOM
    props = load_host_inventory(path)
    [record] = props["stores"]["My"]
    assert props["host"] == "hv01" and props["format"] == "Select-Object"
    assert props["stores"]["Root"] is None  # not listed: checks that need it say UNKNOWN
    assert record["thumbprint"] == thumbprint(cert)
    assert record["notAfter"] == "2036-01-01T00:00:00+00:00"
    assert record["enhancedKeyUsage"] == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]
    assert record["dnsNames"] == ["sdn-encryption"] and record["rawParsed"] is False


def test_powershell_7_lone_object_in_utf16(tmp_path: Path) -> None:
    entry = ps_entry(make_cert())
    path = tmp_path / "hv02.contoso.local.json"
    path.write_bytes(json.dumps(entry).encode("utf-16"))  # a lone certificate prints as an object
    [record] = load_host_inventory(path)["stores"]["My"]
    assert record["notBefore"] == "2025-01-01T00:00:00+00:00"
    assert load_host_inventory(path)["host"] == "hv02.contoso.local"


def test_eku_printed_as_text_at_default_depth(tmp_path: Path) -> None:
    entry = ps_entry(make_cert())
    entry["EnhancedKeyUsageList"] = ["Server Authentication (1.3.6.1.5.5.7.3.1)", "Client Authentication"]
    path = tmp_path / "h.json"
    path.write_text(json.dumps([entry]))
    [record] = load_host_inventory(path)["stores"]["My"]
    assert record["enhancedKeyUsage"] == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]


def test_script_document_parses_raw_certificates(tmp_path: Path) -> None:
    weak = make_cert("Weak", bits=1024, hash_name="sha1")
    strong = make_cert("Strong", issuer="Contoso Issuing CA")
    doc = script_document("HV01", [ps_entry(weak, raw=True), ps_entry(strong, raw=True)], [ps_entry(weak, raw=True)])
    path = tmp_path / "hv01.json"
    path.write_text(json.dumps(doc))
    props = load_host_inventory(path)
    weak_record, strong_record = props["stores"]["My"]
    assert (weak_record["keyAlgorithm"], weak_record["keySize"], weak_record["signatureHash"]) == ("RSA", 1024, "sha1")
    assert weak_record["selfSigned"] is True and weak_record["rawParsed"] is True
    assert (strong_record["keySize"], strong_record["signatureHash"], strong_record["selfSigned"]) == (2048, "sha256", False)
    assert [c["thumbprint"] for c in props["stores"]["Root"]] == [thumbprint(weak)]
    assert props["computerName"] == "HV01"


def test_pem_and_der_files(tmp_path: Path) -> None:
    cert = make_cert()
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key(2048).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    (tmp_path / "a.pem").write_bytes(pem)
    (tmp_path / "b.pem").write_bytes(pem + key_pem)
    (tmp_path / "c.cer").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    assert load_host_inventory(tmp_path / "a.pem")["stores"]["My"][0]["hasPrivateKey"] is None
    assert load_host_inventory(tmp_path / "b.pem")["stores"]["My"][0]["hasPrivateKey"] is True
    der = load_host_inventory(tmp_path / "c.cer")["stores"]["My"][0]
    assert der["thumbprint"] == thumbprint(cert) and der["keySize"] == 2048


@pytest.mark.parametrize(("content", "problem"), [
    ('[{"Subject": "CN=x"}]', "no Thumbprint"),
    ('{"vdcauditHostInventory": 1}', "no 'stores'"),
    ('[{"Thumbprint": "AB", "RawData": "!!"}]', "not a DER certificate"),
])
def test_bad_inventory_is_one_clear_error(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "hv.json"
    path.write_text(content)
    with pytest.raises(InputError) as error:
        load_host_inventory(path)
    assert problem in error.value.one_line() and str(path) in error.value.one_line()


def test_snapshot_missing_collection_is_a_coverage_gap(tmp_path: Path) -> None:
    (tmp_path / "virtualNetworks.json").write_text('{"value": []}')
    inventory = Inventory()
    load_fabric_snapshot(tmp_path, inventory)
    missing = sorted(c.resource_type for c in inventory.coverage)
    assert missing == ["Microsoft.SDN/accessControlLists", "Microsoft.SDN/credentials",
                       "Microsoft.SDN/networkInterfaces", "Microsoft.SDN/servers"]


def test_secret_credential_values_are_never_kept(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"value": [
        {"resourceId": "admin", "properties": {"type": "UsernamePassword", "userName": "u", "value": "P@ssw0rd"}}]}))
    inventory = Inventory()
    load_fabric_snapshot(tmp_path, inventory)
    [credential] = inventory.of_type("Microsoft.SDN/credentials")
    assert "P@ssw0rd" not in json.dumps(credential)
    assert credential["id"] == f"sdn://{tmp_path.name}/credentials/admin"


def test_demo_fabric_certificates_stay_valid_for_years() -> None:
    demo = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "sdn" / "hosts" / "hv01.contoso.local.json"
    for record in load_host_inventory(demo)["stores"]["My"]:
        assert datetime.fromisoformat(record["notAfter"]) >= datetime(2036, 1, 1, tzinfo=timezone.utc)
