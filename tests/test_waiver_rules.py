"""Waivers a reviewer must not accept are refused (exit 2, one line naming the file and line, nothing
written): a blanket waiver (every rule on every resource), a waiver naming a rule that does not
exist, one created after it expires or in the future, and with `waivers.max_days` in vdcaudit.yaml
one without a `created` date or lasting longer than the cap. A waiver applies on its last day."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.model import Category, Finding, Severity, Status
from vdcaudit.waivers import WaiverEntry, apply_waivers

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iac"
CONFIG = (FIXTURES / "vdcaudit.yaml").read_text()
STLOGS = "{rule: VDC-ST-002, resource: '*stlogs*', justification: j, owner: o"


def _scan(tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", "--template", str(FIXTURES / "main.json"), "--parameters",
                                      str(FIXTURES / "main.parameters.json"), "--format", "json", "--out", str(out),
                                      *extra])
    return result.exit_code, result.output, out / "vdcaudit-findings.json"


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("rule, resource", [("'*'", "'*'"), ("'**'", "'*'"), ("'?*'", "'*?'"), ("VDC-*", "'*'"),
                                            ("'*'", "'[!x]*'"), ("'[vV]*'", "'**'"),
                                            ("'*'", "'*[!:]*'")])
def test_a_waiver_on_every_rule_and_every_resource_is_refused(tmp_path: Path, rule: str, resource: str) -> None:
    waivers = _file(tmp_path, "w.yaml", "waivers:\n  - {rule: VDC-ST-002, resource: '*stlogs*', justification: j, "
                    f"owner: o, expires: 2099-01-01}}\n  - {{rule: {rule}, resource: {resource}, justification: j, "
                    "owner: o, expires: 2099-01-01}\n")
    code, output, report = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 2, output
    assert f"{waivers}:3: waiver" in output and "matches every rule and every resource" in output
    assert not report.exists()


@pytest.mark.parametrize("rule", ["VDC-ST-999", "VDC-NOPE-*", "ST-002"])
def test_a_waiver_naming_no_rule_is_an_error_not_stale(tmp_path: Path, rule: str) -> None:
    waivers = _file(tmp_path, "w.yaml", f"waivers:\n  - {{rule: {rule}, resource: '*stlogs*', justification: j, "
                    "owner: o, expires: 2099-01-01}\n")
    code, output, report = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 2 and f"{waivers}:2: waiver {rule}" in output and "names no rule of the loaded rule pack" in output
    assert not report.exists()


def test_a_narrow_waiver_still_waives(tmp_path: Path) -> None:
    """The refusals above leave the ordinary waiver alone: approver and created are carried to the report."""
    waivers = _file(tmp_path, "w.yaml", f"waivers:\n  - {STLOGS}, approver: ciso@contoso.com, created: 2026-01-05, "
                    "expires: 2099-01-01}\n")
    code, output, report = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 0, output
    document = json.loads(report.read_text())
    waived = [f["waiver"] for f in document["findings"] if "waiver" in f]
    assert waived == [{"rule": "VDC-ST-002", "resource": "*stlogs*", "justification": "j", "owner": "o",
                       "expires": "2099-01-01", "approver": "ciso@contoso.com", "created": "2026-01-05"}]
    assert document["waivers"]["applied"][0]["approver"] == "ciso@contoso.com"


def test_a_waiver_applies_on_its_last_day_and_not_the_day_after(tmp_path: Path) -> None:
    today = datetime.now(timezone.utc).date()
    waivers = _file(tmp_path, "w.yaml", f"waivers:\n  - {STLOGS}, expires: {today.isoformat()}}}\n")
    code, output, _ = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 0 and "1 finding(s) waived" in output, output
    yesterday = _file(tmp_path, "y.yaml", f"waivers:\n  - {STLOGS}, expires: {(today - timedelta(days=1)).isoformat()}}}\n")
    code, output, _ = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", yesterday)
    assert code == 0 and "0 finding(s) waived" in output and "waiver expired" in output


def test_the_expiry_day_is_the_last_day_a_waiver_applies() -> None:
    """The same boundary on a fixed clock: the expiry day included, the next day not."""
    finding = Finding(rule_id="VDC-ST-002", title="t", resource_id="/subscriptions/s/x/stlogs", resource_name="stlogs",
                      resource_type="Microsoft.Storage/storageAccounts", status=Status.FAIL, severity=Severity.HIGH,
                      category=Category.IN_TRANSIT, message="m")
    waiver = WaiverEntry(rule="VDC-ST-002", resource="*stlogs", justification="j", owner="o",
                         expires=date(2026, 6, 30), file="w.yaml")
    assert apply_waivers([finding], [waiver], date(2026, 6, 30))["applied"] and finding.waiver is not None
    finding.waiver = None
    section = apply_waivers([finding], [waiver], date(2026, 7, 1))
    assert section["expired"] and not section["applied"] and finding.waiver is None


@pytest.mark.parametrize("dates, message", [
    ("created: 2026-01-01, expires: 2027-06-01", "lasts 516 days (created 2026-01-01, expires 2027-06-01), longer than "
                                                 "waivers.max_days: 365"),
    ("expires: 2026-12-31", "has no 'created' date, and waivers.max_days (365) caps how long a waiver lasts"),
])
def test_waivers_max_days_caps_a_waivers_lifetime(tmp_path: Path, dates: str, message: str) -> None:
    config = _file(tmp_path, "c.yaml", CONFIG + f"waivers:\n  max_days: 365\n  list:\n    - {STLOGS}, {dates}}}\n")
    code, output, report = _scan(tmp_path, "--config", config)
    assert code == 2 and f"{config}:" in output and message in output, output
    assert not report.exists()


def test_the_cap_of_the_config_applies_to_a_waivers_file(tmp_path: Path) -> None:
    config = _file(tmp_path, "c.yaml", CONFIG + "waivers: {max_days: 90}\n")
    long = _file(tmp_path, "w.yaml", f"waivers:\n  - {STLOGS}, created: 2026-01-01, expires: 2099-01-01}}\n")
    code, output, _ = _scan(tmp_path, "--config", config, "--waivers", long)
    assert code == 2 and "longer than waivers.max_days: 90" in output
    short = _file(tmp_path, "s.yaml", f"waivers:\n  - {STLOGS}, created: 2026-01-01, expires: 2026-03-31}}\n")
    code, output, _ = _scan(tmp_path, "--config", config, "--waivers", short)
    assert code == 0 and "longer than" not in output  # 89 days: accepted (expired or not, by today's date)


def test_a_waivers_file_cannot_set_its_own_cap(tmp_path: Path) -> None:
    waivers = _file(tmp_path, "w.yaml", f"waivers:\n  max_days: 100000\n  list:\n    - {STLOGS}, expires: 2099-01-01}}\n")
    code, output, _ = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 2 and "waivers.max_days is read from --config (vdcaudit.yaml) only" in output


@pytest.mark.parametrize("dates, message", [
    ("created: 2026-05-01, expires: 2026-04-01", "created 2026-05-01 after it expires (2026-04-01)"),
    ("created: 2098-01-01, expires: 2099-01-01", "created 2098-01-01, a date after today"),
])
def test_impossible_creation_dates_are_refused(tmp_path: Path, dates: str, message: str) -> None:
    waivers = _file(tmp_path, "w.yaml", f"waivers:\n  - {STLOGS}, {dates}}}\n")
    code, output, _ = _scan(tmp_path, "--config", _file(tmp_path, "c.yaml", CONFIG), "--waivers", waivers)
    assert code == 2 and message in output, output


def test_a_refused_waiver_stops_the_scan_before_any_source_is_read(tmp_path: Path) -> None:
    waivers = _file(tmp_path, "w.yaml", "waivers:\n  - {rule: '*', resource: '*', justification: j, owner: o, "
                    "expires: 2099-01-01}\n")
    result = CliRunner().invoke(cli, ["scan", "--snapshot", str(tmp_path / "not-read.json"), "--waivers", waivers,
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "matches every rule and every resource" in result.output
    assert "not-read.json" not in result.output
