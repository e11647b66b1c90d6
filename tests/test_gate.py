"""CI gate: --fail-on with waivers (applied, expired, stale, globs) and baselines (new, fixed), exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from tests.findings_json import findings_in
from tests import evidence_day

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iac"
TEMPLATE = ["--template", str(FIXTURES / "main.json"), "--parameters", str(FIXTURES / "main.parameters.json"),
            "--config", str(FIXTURES / "vdcaudit.yaml")]


def _run(tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scan", *TEMPLATE, *evidence_day.CLI, "--format", "json", "--out", str(out), *extra])
    report = out / "vdcaudit-findings.json"
    document = {**json.loads(report.read_text()), "findings": findings_in(report)} if report.exists() else {}
    return result.exit_code, result.output + (result.stderr if hasattr(result, "stderr") else ""), document


def _waivers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


def test_fail_on_gate_exit_codes(tmp_path: Path) -> None:
    assert _run(tmp_path, "--fail-on", "high")[0] == 1
    assert _run(tmp_path)[0] == 0


def test_waivers_applied_expired_stale_and_glob(tmp_path: Path) -> None:
    waivers = _waivers(tmp_path, """\
waivers:
  - rule: VDC-*
    resource: "*/storageAccounts/stlogs*"
    justification: Log shipper needs TLS 1.0 until CHG-1234 replaces it
    owner: platform-team@contoso.com
    expires: 2099-12-31
  - rule: VDC-SQL-001
    resource: "*/databases/reportdb"
    justification: expired exception
    owner: dba@contoso.com
    expires: 2020-01-31
  - rule: vdc-sb-001
    resource: /subscriptions/*/namespaces/retired-namespace
    justification: the namespace was deleted
    owner: msg-team@contoso.com
    expires: 2099-01-01
""")
    code, output, document = _run(tmp_path, "--waivers", str(waivers))
    assert code == 0
    waived = [f for f in document["findings"] if f["waiver"]]
    # the glob matched every non-passing rule on the account; statuses are unchanged, nothing hidden
    assert {(f["rule_id"], f["status"]) for f in waived} >= {("VDC-ST-002", "FAIL")}
    assert all(f["resource_name"].startswith("stlogs") and f["status"] != "PASS" for f in waived)
    assert waived[0]["waiver"]["owner"] == "platform-team@contoso.com"
    assert document["summary"]["waived"] == len(waived)
    assert [w["rule"] for w in document["waivers"]["expired"]] == ["VDC-SQL-001"]
    assert [w["rule"] for w in document["waivers"]["stale"]] == ["vdc-sb-001"]
    assert document["waivers"]["stale"][0]["location"] == f"{waivers}:12"
    reportdb = next(f for f in document["findings"] if f["rule_id"] == "VDC-SQL-001" and f["resource_name"] == "reportdb")
    assert reportdb["waiver"] is None and reportdb["status"] == "FAIL"  # an expired waiver no longer applies
    assert "waiver expired" in output and "waiver stale" in output


def test_waived_findings_do_not_fail_the_gate(tmp_path: Path) -> None:
    # every rule on every resource of the template's subscription (a blanket `*` on `*` is refused)
    everything = _waivers(tmp_path, "waivers:\n  - {rule: '*', resource: '/subscriptions/*', justification: test, "
                                    "owner: me, expires: 2099-01-01}\n")
    code, _, document = _run(tmp_path, "--waivers", str(everything), "--fail-on", "low")
    assert code == 0
    assert all(f["waiver"] for f in document["findings"] if f["status"] == "FAIL")


def test_waivers_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "vdcaudit.yaml"
    config.write_text((FIXTURES / "vdcaudit.yaml").read_text() + "waivers:\n  - rule: VDC-ST-002\n"
                      "    resource: '*stlogs*'\n    justification: x\n    owner: y\n    expires: 2099-01-01\n")
    code, _, document = _run(tmp_path, "--config", str(config))
    assert code == 0 and document["waivers"]["applied"][0]["findings"] == 1


@pytest.mark.parametrize("text, message", [
    ("waivers:\n  - rule: VDC-ST-002\n    resource: '*'\n    owner: me\n    expires: 2099-01-01\n", "justification"),
    ("waivers:\n  - rule: VDC-ST-002\n    resource: '*'\n    justification: j\n    owner: me\n    expires: soon\n",
     ":2: waiver expires: 'soon' is not a date"),
    ("waivers: [\n", "invalid YAML"),
])
def test_bad_waivers_are_usage_errors_and_write_nothing(tmp_path: Path, text: str, message: str) -> None:
    code, output, document = _run(tmp_path, "--waivers", str(_waivers(tmp_path, text)))
    assert code == 2 and message in output and not document


def test_baseline_gate_fails_only_on_new_failures_and_lists_fixed(tmp_path: Path) -> None:
    _run(tmp_path)
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes((tmp_path / "out" / "vdcaudit-findings.json").read_bytes())
    code, _, same = _run(tmp_path, "--baseline", str(baseline), "--fail-on", "high")
    assert code == 0 and same["baseline"]["new"] == [] and same["baseline"]["fixed"] == []

    # the template changes: one account is fixed, one new failure appears
    template = json.loads((FIXTURES / "main.json").read_text())
    storage = template["resources"][0]["properties"]
    storage["supportsHttpsTrafficOnly"] = False        # new FAIL (VDC-ST-001, high)
    (tmp_path / "main.json").write_text(json.dumps(template, indent=2))
    params = json.loads((FIXTURES / "main.parameters.json").read_text())
    params["parameters"]["storageMinTls"]["value"] = "TLS1_2"   # fixes VDC-ST-002 on the same account
    (tmp_path / "params.json").write_text(json.dumps(params))
    out = tmp_path / "out2"
    run = CliRunner().invoke(cli, ["scan", "--template", str(tmp_path / "main.json"), "--parameters",
                                   str(tmp_path / "params.json"), "--config", str(FIXTURES / "vdcaudit.yaml"),
                                   *evidence_day.CLI, "--format", "json", "--out", str(out), "--baseline", str(baseline),
                                   "--fail-on", "high"])
    document = json.loads((out / "vdcaudit-findings.json").read_text())
    assert run.exit_code == 1
    assert [n["rule_id"] for n in document["baseline"]["new"]] == ["VDC-ST-001"]
    assert [f["rule_id"] for f in document["baseline"]["fixed"]] == ["VDC-ST-002"]
    assert "fixed: VDC-ST-002" in run.output


def test_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text('{"not": "findings"}')
    code, output, document = _run(tmp_path, "--baseline", str(bad))
    assert code == 2 and "not a vdcaudit findings file" in output and not document


def test_terraform_plan_gate(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--terraform-plan", str(FIXTURES / "plan.json"), "--format", "json",
                                      "--out", str(tmp_path), "--fail-on", "critical", "-q"])
    assert result.exit_code == 0
    result = CliRunner().invoke(cli, ["scan", "--terraform-plan", str(FIXTURES / "plan.json"), "--format", "json",
                                      "--out", str(tmp_path), "--fail-on", "high", "-q"])
    assert result.exit_code == 1


def test_parameters_without_template_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", "--parameters", str(FIXTURES / "main.parameters.json"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--parameters needs --template" in result.output


def test_sarif_results_from_templates_carry_file_and_line(tmp_path: Path) -> None:
    out = tmp_path / "sarif"
    result = CliRunner().invoke(cli, ["scan", *TEMPLATE, *evidence_day.CLI, "--format", "sarif", "--out", str(out), "-q"])
    assert result.exit_code == 0
    results = json.loads((out / "vdcaudit.sarif").read_text())["runs"][0]["results"]
    lines = {r["locations"][0]["logicalLocations"][0]["name"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
             for r in results if r.get("ruleId") in ("VDC-SQL-001", "VDC-SQL-002")}
    # failing and unknown results (passes are not listed): the SQL server's region is the line of the
    # property its verdict read (minimalTlsVersion); the database's TDE state is not in the template,
    # so its region is the resource's opening line
    assert lines == {"reportdb": 181, "vdc-prod-sql": 150}
    assert '"minimalTlsVersion"' in (FIXTURES / "main.json").read_text().splitlines()[149]


def test_the_finding_fingerprint_format_is_pinned() -> None:
    """Baselines, SARIF partialFingerprints and history match findings by this value across versions:
    sha256 of 'rule id|resource id', lower-cased, first 32 hex digits. Changing it orphans every
    baseline and history people keep, so a change must be deliberate (and this value updated)."""
    from vdcaudit.model import fingerprint

    resource = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-Logs/providers/Microsoft.Storage/storageAccounts/stLogs"
    assert fingerprint("VDC-ST-002", resource) == "21ff0d9a963e192a98defab482fa078b"
    assert fingerprint("vdc-st-002", resource.upper()) == "21ff0d9a963e192a98defab482fa078b"
