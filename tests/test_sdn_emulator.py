"""The Network Controller collector's real HTTP code against the local NC emulator (HTTPS on
loopback): paging, TLS verification, faults becoming coverage records and UNKNOWN findings,
GET only, and --save-snapshot round-tripping to the same verdicts as the snapshot scan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.collectors.sdn.fabric import load_fabric_snapshot
from vdcaudit.collectors.sdn.live import collect_live
from vdcaudit.collectors.sdn.ncclient import TLS_REFUSED, NcSettings
from vdcaudit.context import ScanContext
from vdcaudit.emulator.httpserver import Fault, make_certificate
from vdcaudit.emulator.nc import NcEmulator
from vdcaudit.engine import run
from vdcaudit.inventory import Inventory
from vdcaudit.rulepack import load_rules
from tests.findings_json import findings_in

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "sdn"
SDN_RULES = [r for r in load_rules() if "sdn" in r.sources]


@pytest.fixture
def nc() -> Iterator[NcEmulator]:
    with NcEmulator(DEMO, page_size=2) as emulator:
        yield emulator


def verdicts(inventory: Inventory) -> dict[tuple[str, str], str]:
    findings = run(SDN_RULES, inventory, ScanContext()).findings
    return {(f.rule_id, f.resource_name): f.status.value for f in findings}


def collect(nc: NcEmulator, **settings: object) -> Inventory:
    inventory = Inventory()
    collect_live(NcSettings(url=nc.url, ca_bundle=nc.ca_path, **settings), inventory, DEMO / "hosts")  # type: ignore[arg-type]
    return inventory


def test_live_collection_matches_the_snapshot(nc: NcEmulator) -> None:
    live = collect(nc)
    from_snapshot = Inventory()
    load_fabric_snapshot(DEMO, from_snapshot)
    assert live.coverage == []
    expected = verdicts(from_snapshot)
    # two empty results would be equal too: the demo fabric has verdicts of every kind
    assert len(expected) > 20 and {"PASS", "FAIL"} <= set(expected.values())
    assert verdicts(live) == expected
    assert nc.log.methods() == {"GET"}
    # 5 vnets/ACLs/... paged two at a time: every collection needed several pages
    assert nc.log.count(r"/networking/v1/networkInterfaces$") == 3
    assert nc.log.count(r"^/networking/discovery$") == 1


def test_forbidden_collection_becomes_unknown(nc: NcEmulator) -> None:
    nc.add_fault(Fault.error(403, times=None, path=r"/credentials$", code="Forbidden"))
    inventory = collect(nc)
    [gap] = inventory.coverage
    assert (gap.resource_type, gap.reason) == ("Microsoft.SDN/credentials", "403 Forbidden")
    result = verdicts(inventory)
    assert result[("VDC-SDN-002", "vnet-finance")] == "UNKNOWN"  # not FAIL: the credential was unreadable
    assert result[("VDC-SDN-003", "hv01")] == "UNKNOWN"
    assert result[("VDC-SDN-011", "sdn://127.0.0.1")] == "UNKNOWN"


def test_unauthorized_stops_after_the_first_refusal(nc: NcEmulator) -> None:
    nc.add_fault(Fault.error(401, times=None, code="Unauthorized"))
    inventory = collect(nc)
    assert len(inventory.coverage) == 5 and {c.reason for c in inventory.coverage} == {"401 Unauthorized"}
    assert len(nc.log) == 1  # discovery refused: the collections are not asked for
    assert {status for status in verdicts(inventory).values()} == {"UNKNOWN"}


def test_server_error_and_timeout(nc: NcEmulator) -> None:
    nc.add_fault(Fault.error(500, times=None, path=r"/servers$", code="InternalServerError"))
    # The stalled read never answers (until the emulator stops); every other read has the whole
    # timeout, far above its usual milliseconds, so a loaded machine times out nothing else.
    nc.add_fault(Fault.stall(3600, times=None, path=r"/accessControlLists$"))
    inventory = collect(nc, timeout=3)
    reasons = {c.resource_type: c.reason for c in inventory.coverage}
    assert reasons == {"Microsoft.SDN/servers": "500 Internal Server Error",
                       "Microsoft.SDN/accessControlLists": "timeout after 3s"}
    result = verdicts(inventory)
    assert result[("VDC-SDN-014", "vnet-finance/fin-app")] == "UNKNOWN"


def test_latency_is_tolerated(nc: NcEmulator) -> None:
    nc.add_fault(Fault.latency(0.05, path=r"/virtualNetworks"))
    assert collect(nc).coverage == []


def test_tls_is_verified_by_default(nc: NcEmulator) -> None:
    inventory = Inventory()
    collect_live(NcSettings(url=nc.url), inventory)  # the emulator's CA is not trusted
    assert {c.reason for c in inventory.coverage} == {"TLS verification failed"}


def test_client_certificate_authentication(tmp_path: Path) -> None:
    """A controller set to -ClientAuthentication X509: the collector presents its certificate."""
    cert, key, client_ca = make_certificate("vdcaudit-auditor", client=True)
    (tmp_path / "client.pem").write_bytes(cert)
    (tmp_path / "client.key").write_bytes(key)
    with NcEmulator(DEMO, client_ca=client_ca) as controller:
        without = collect(controller)
        assert {c.reason for c in without.coverage} == {TLS_REFUSED}
        assert not without.of_type("Microsoft.SDN/virtualNetworks")
        with_cert = collect(controller, auth="cert", client_cert=str(tmp_path / "client.pem"),
                            client_key=str(tmp_path / "client.key"))
        assert with_cert.coverage == []
        assert len(with_cert.of_type("Microsoft.SDN/virtualNetworks")) == 4
        assert controller.log.methods() == {"GET"}


def test_cli_save_snapshot_round_trip(nc: NcEmulator, tmp_path: Path) -> None:
    runner = CliRunner()
    saved = tmp_path / "snap"
    live = runner.invoke(cli, ["sdn", "--nc", nc.url, "--nc-ca-bundle", nc.ca_path, "--hosts", str(DEMO / "hosts"),
                               "--save-snapshot", str(saved), "--out", str(tmp_path / "r1"), "--format", "json"])
    assert live.exit_code == 0, live.output
    assert sorted(p.name for p in saved.iterdir()) == ["accessControlLists.json", "credentials.json", "hosts",
                                                       "networkInterfaces.json", "servers.json", "virtualNetworks.json"]
    offline = runner.invoke(cli, ["sdn", "--snapshot", str(saved), "--out", str(tmp_path / "r2"), "--format", "json"])
    assert offline.exit_code == 0, offline.output
    first = findings_in(tmp_path / "r1")
    second = findings_in(tmp_path / "r2")
    # same controller name recorded in the snapshot: same ids, so the same fingerprints
    assert len(first) > 20 and {f["status"] for f in first} >= {"PASS", "FAIL"}
    assert [(f["fingerprint"], f["status"]) for f in first] == [(f["fingerprint"], f["status"]) for f in second]


def test_scan_takes_nc_next_to_other_sources(nc: NcEmulator, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--nc", nc.url, "--nc-ca-bundle", nc.ca_path,
                                      "--sdn-hosts", str(DEMO / "hosts"), "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "vdcaudit-findings.json").read_text())
    assert report["sections"]["sdn"]["virtual_networks"][0]["name"] == "vnet-finance"


def test_unreadable_nics_leave_unguarded_subnets_unknown(nc: NcEmulator) -> None:
    nc.add_fault(Fault.error(403, times=None, path=r"/networkInterfaces$", code="Forbidden"))
    result = verdicts(collect(nc))
    assert result[("VDC-SDN-014", "vnet-hr/hr-app")] == "UNKNOWN"  # no subnet ACL; NIC ACLs unknown
    assert result[("VDC-SDN-014", "vnet-finance/fin-db")] == "PASS"  # the subnet ACL alone confines it
    assert result[("VDC-SDN-003", "sdn://127.0.0.1")] == "UNKNOWN"  # which hosts matter is unknown
