"""The host certificate rules against snapshot folders holding real certificates made with
`cryptography`: one small fabric per scenario, read from disk like any user's snapshot."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from tests.sdn_certs import make_cert, ps_entry, script_document, thumbprint

from vdcaudit.collectors.sdn.fabric import load_fabric_snapshot
from vdcaudit.context import ScanContext
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules

HOST_RULES = ["VDC-SDN-003", "VDC-SDN-004", "VDC-SDN-005", "VDC-SDN-006", "VDC-SDN-007", "VDC-SDN-008"]
NOW = datetime.now(timezone.utc)
SDN_RULES = [r for r in load_rules() if "sdn" in r.sources]


def write_fabric(folder: Path, credential_value: str, host_document: Any | None) -> None:
    """One vnet with an encrypted subnet, one NIC on host hv01, and hv01's inventory."""
    def body(entries: list[dict[str, Any]]) -> str:
        return json.dumps({"value": entries, "x_vdcaudit": {"fabric": "nc.test"}})
    ok = {"provisioningState": "Succeeded"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "virtualNetworks.json").write_text(body([{"resourceId": "vnet1", "resourceRef": "/virtualNetworks/vnet1",
        "properties": {**ok, "encryptionCredential": {"resourceRef": "/credentials/enc"}, "subnets": [
            {"resourceId": "app", "resourceRef": "/virtualNetworks/vnet1/subnets/app",
             "properties": {"addressPrefix": "10.1.1.0/24", "encryptionEnabled": True}}]}}]))
    (folder / "credentials.json").write_text(body([{"resourceId": "enc", "resourceRef": "/credentials/enc",
        "properties": {**ok, "type": "X509Certificate", "value": credential_value}}]))
    (folder / "servers.json").write_text(body([{"resourceId": "hv01", "resourceRef": "/servers/hv01",
        "properties": {**ok, "connections": [{"managementAddresses": ["hv01.contoso.local", "192.0.2.11"]}]}}]))
    (folder / "networkInterfaces.json").write_text(body([{"resourceId": "vm1", "resourceRef": "/networkInterfaces/vm1",
        "properties": {**ok, "server": {"resourceRef": "/servers/hv01"}, "ipConfigurations": [
            {"resourceId": "ip1", "properties": {"subnet": {"resourceRef": "/virtualNetworks/vnet1/subnets/app"}}}]}}]))
    (folder / "accessControlLists.json").write_text(body([]))
    if host_document is not None:
        (folder / "hosts").mkdir(exist_ok=True)
        (folder / "hosts" / "192.0.2.11.json").write_text(json.dumps(host_document))  # filed under an IP address


def statuses(folder: Path, now: datetime = NOW, **options: Any) -> dict[str, str]:
    inventory = Inventory()
    load_fabric_snapshot(folder, inventory)
    findings = run(SDN_RULES, inventory, ScanContext(now=now, options=options)).findings
    return {f.rule_id: f.status.value for f in findings if f.rule_id in HOST_RULES and f.resource_name == "hv01"}


def script(cert: x509.Certificate, *, in_root: bool = True, has_private_key: bool = True) -> dict[str, Any]:
    entry = ps_entry(cert, raw=True, has_private_key=has_private_key)
    return script_document("HV01", [entry], [entry] if in_root else [])


VALID = make_cert()
EXPECTED_PASS = dict.fromkeys(HOST_RULES, "PASS")
SCENARIOS = {
    "valid": (VALID, script(VALID), {}),
    "expired": (c := make_cert(not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=1)), script(c),
                {"VDC-SDN-004": "FAIL"}),
    "not yet valid": (c := make_cert(not_before=NOW + timedelta(days=2), not_after=NOW + timedelta(days=900)), script(c),
                      {"VDC-SDN-004": "FAIL"}),
    "expiring in 10 days": (c := make_cert(not_before=NOW - timedelta(days=300), not_after=NOW + timedelta(days=10)),
                            script(c), {"VDC-SDN-004": "WARN"}),
    "no EKU": (c := make_cert(eku=[]), script(c), {"VDC-SDN-006": "FAIL"}),
    "server authentication only": (c := make_cert(eku=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), script(c),
                                   {"VDC-SDN-006": "FAIL"}),
    "no private key": (VALID, script(VALID, has_private_key=False), {"VDC-SDN-005": "FAIL"}),
    "1024-bit key": (c := make_cert(bits=1024), script(c), {"VDC-SDN-007": "FAIL"}),
    "SHA-1 signature": (c := make_cert(hash_name="sha1"), script(c), {"VDC-SDN-007": "FAIL"}),
    "self-signed, not in Root": (VALID, script(VALID, in_root=False), {"VDC-SDN-008": "FAIL"}),
    "CA-issued, not in Root": (c := make_cert(issuer="Contoso Issuing CA"), script(c, in_root=False), {}),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_host_certificate_rules(tmp_path: Path, scenario: str) -> None:
    cert, document, deviations = SCENARIOS[scenario]
    write_fabric(tmp_path / "snap", thumbprint(cert), document)
    assert statuses(tmp_path / "snap") == {**EXPECTED_PASS, **deviations}


def test_wrong_thumbprint_fails_presence_and_names_the_host(tmp_path: Path) -> None:
    write_fabric(tmp_path, thumbprint(make_cert("Other", bits=1024)), script(VALID))
    result = statuses(tmp_path)
    assert result["VDC-SDN-003"] == "FAIL"
    assert {result[r] for r in HOST_RULES[1:]} == {"UNKNOWN"}  # nothing to judge: never PASS


def test_host_without_inventory_is_unknown_never_pass(tmp_path: Path) -> None:
    write_fabric(tmp_path, thumbprint(VALID), None)
    assert statuses(tmp_path) == dict.fromkeys(HOST_RULES, "UNKNOWN")


def test_select_object_print_without_raw_data(tmp_path: Path) -> None:
    """Strength and Root trust need the script's richer form; the basic print leaves them UNKNOWN."""
    write_fabric(tmp_path, thumbprint(VALID), [ps_entry(VALID, ps51=True)])
    assert statuses(tmp_path) == {**EXPECTED_PASS, "VDC-SDN-007": "UNKNOWN", "VDC-SDN-008": "UNKNOWN"}


def test_cert_warn_days_option(tmp_path: Path) -> None:
    cert = make_cert(not_before=NOW - timedelta(days=300), not_after=NOW + timedelta(days=10))
    write_fabric(tmp_path, thumbprint(cert), script(cert))
    assert statuses(tmp_path, cert_warn_days=5)["VDC-SDN-004"] == "PASS"
    assert statuses(tmp_path, cert_warn_days=30)["VDC-SDN-004"] == "WARN"


def test_a_certificate_with_exactly_the_warning_window_left_warns(tmp_path: Path) -> None:
    """The window's last moment is inside it: 30 days left with --cert-warn-days 30 is WARN, one second
    more is PASS. (Certificate times have whole seconds, so the clock is set to whole seconds too.)"""
    now = NOW.replace(microsecond=0)
    cert = make_cert(not_before=now - timedelta(days=300), not_after=now + timedelta(days=30))
    write_fabric(tmp_path, thumbprint(cert), script(cert))
    assert statuses(tmp_path, now=now, cert_warn_days=30)["VDC-SDN-004"] == "WARN"
    assert statuses(tmp_path, now=now - timedelta(seconds=1), cert_warn_days=30)["VDC-SDN-004"] == "PASS"
