"""`vdcaudit sdn` and the SDN parts of `vdcaudit scan` as a user runs them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "sdn"


def test_readme_example_on_the_demo_fabric(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sdn", "--snapshot", str(DEMO), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "SDN virtual network encryption" in result.output
    report = json.loads((tmp_path / "vdcaudit-findings.json").read_text())
    findings = findings_in(tmp_path)
    by_key = {(f["rule_id"], f["resource_name"]): f for f in findings}
    assert by_key[("VDC-SDN-001", "vnet-hr")]["status"] == "FAIL"
    assert by_key[("VDC-SDN-007", "hv01")]["status"] == "FAIL"  # the documented 1024-bit sample
    assert by_key[("VDC-SDN-003", "hv03")]["status"] == "UNKNOWN"  # no inventory for hv03
    boundary = by_key[("VDC-SDN-014", "vnet-finance/fin-app")]
    assert boundary["status"] == "FAIL" and boundary["evidence"]["rules opening the boundary"][0]["ports"] == "443"
    assert all(f["resource_id"].startswith("sdn://nc01.contoso.local/") for f in findings)
    html = (tmp_path / "vdcaudit-report.html").read_text()
    assert "On-premises SDN virtual network encryption" in html and "fin-app" in html


def test_demo_scan_includes_the_sdn_fabric(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--demo", "--out", str(tmp_path), "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "vdcaudit-findings.json").read_text())
    names = [v["name"] for v in report["sections"]["sdn"]["virtual_networks"]]
    assert names == ["vnet-finance", "vnet-hr", "vnet-lab", "vnet-ops"]
    assert any(f["rule_id"].startswith("VDC-SDN-") for f in findings_in(tmp_path))
    assert any(not f["rule_id"].startswith("VDC-SDN-") for f in findings_in(tmp_path))  # Azure beside it


def test_sdn_scan_warn_days_reach_the_checks(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--sdn-snapshot", str(DEMO), "--cert-warn-days", "36500",
                                      "--out", str(tmp_path), "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    findings = findings_in(tmp_path)
    assert {f["status"] for f in findings if f["rule_id"] == "VDC-SDN-004" and f["resource_name"] == "hv01"} == {"WARN"}


@pytest.mark.parametrize(("args", "message"), [
    (["sdn", "--snapshot", "no/such/dir"], "no/such/dir: no such folder"),
    (["sdn"], "give either --snapshot DIR or --nc URL"),
    (["sdn", "--snapshot", str(DEMO), "--save-snapshot", "x"], "--save-snapshot needs --nc"),
    (["sdn", "--nc", "http://nc.contoso.local"], "expected https://HOST"),
    (["sdn", "--nc", "https://nc.contoso.local", "--nc-auth", "cert"], "--nc-auth cert needs --nc-client-cert"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_bad_host_file_stops_before_any_report(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    (snap / "hosts").mkdir(parents=True)
    for name in ("virtualNetworks", "credentials", "servers", "accessControlLists", "networkInterfaces"):
        (snap / f"{name}.json").write_text((DEMO / f"{name}.json").read_text())
    (snap / "hosts" / "hv01.json").write_text("[{\"Thumbprint\": ")
    result = CliRunner().invoke(cli, ["sdn", "--snapshot", str(snap), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "hv01.json:1" in result.output and "malformed JSON" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(importlib.util.find_spec("requests_kerberos") is not None,
                    reason="the kerberos extra is installed")
def test_negotiate_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sdn", "--nc", "https://127.0.0.1:9", "--nc-auth", "negotiate",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2 and "pip install 'vdcaudit[kerberos]'" in result.output
