"""Regressions of issue 12 (a gate that cannot fail open, bounded work on hostile input, writes that
never damage files): each case asserts the exit code, the one error line and what was (not)
written or replaced. The Network Controller and Azure paging cases are in test_nc_hostile.py and
test_azure_paging.py, the per-format counts in reports/test_report_counts.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vdcaudit.findings_file import read_findings_file
from vdcaudit.io import atomic
from vdcaudit.io.atomic import FileSet
from vdcaudit.commands.cli import cli
from vdcaudit.errors import InputError
from vdcaudit.findings import TEXT_LIMIT
from vdcaudit.reports import RENDERERS
from tests.findings_json import findings_in

REPO = Path(__file__).resolve().parent.parent
SUB = "00000000-0000-0000-0000-000000000001"
STORAGE_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"


def storage(name: str, **properties: Any) -> dict[str, Any]:
    base = {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True, "allowBlobPublicAccess": False,
            "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
                           "services": {"blob": {"enabled": True}, "file": {"enabled": True}}}}
    return {"id": STORAGE_ID + name, "name": name, "type": "Microsoft.Storage/storageAccounts",
            "location": "westeurope", "properties": {**base, **properties}}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vdcaudit: error: "), result.output
    assert expected in lines[0], lines[0]


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under folder with its content (or what it is), to show nothing changed."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        found[key] = ("link:" + os.readlink(path) if path.is_symlink() else "dir" if path.is_dir()
                      else path.read_bytes())
    return found


# -- 1. ERROR fails the gate -------------------------------------------------------------------

@pytest.fixture
def ambiguous_snapshot(write_json) -> Path:
    """A storage account spelling one property twice in different case: every rule on it is ERROR
    (ST-001/002 high, ST-003/004 medium, ST-005 low)."""
    return write_json("snap.json", {"value": [storage("stamb", MinimumTlsVersion="TLS1_0")]})


def test_error_findings_fail_the_gate_by_default(ambiguous_snapshot: Path, tmp_path: Path) -> None:
    result = invoke("scan", "--snapshot", str(ambiguous_snapshot), "--out", str(tmp_path / "o"), "--format", "json",
                    "--fail-on", "high")
    assert result.exit_code == 1
    findings = read_findings_file(tmp_path / "o" / "vdcaudit-findings.json").findings  # rule fields restored
    errors = [f for f in findings if f["status"] == "ERROR"]
    high = [f for f in errors if f["severity"] in ("critical", "high")]
    assert errors == findings and high and len(high) < len(errors)  # every rule on it broke, some below high
    assert (f"gate failed: 0 FAIL and {len(high)} ERROR finding(s) at or above high (ERROR: the data could not be "
            "judged; --no-fail-on-error leaves those out of the gate)") in result.output
    assert f"{len(errors)} finding(s) could not be judged (ERROR)" in result.output  # the terminal summary says so


def test_no_fail_on_error_opts_out_and_severity_still_applies(ambiguous_snapshot: Path, tmp_path: Path) -> None:
    common = ["scan", "--snapshot", str(ambiguous_snapshot), "--out", str(tmp_path / "o"), "--format", "json", "-q"]
    assert invoke(*common, "--fail-on", "low", "--no-fail-on-error").exit_code == 0
    assert invoke(*common, "--fail-on", "critical").exit_code == 0  # no ERROR at critical
    assert invoke(*common, "--fail-on", "low").exit_code == 1


def test_a_waived_error_does_not_fail_the_gate(ambiguous_snapshot: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - {rule: 'VDC-*', resource: '*/stamb', justification: known export bug, "
                       "owner: me, expires: 2099-01-01}\n", encoding="utf-8")
    result = invoke("scan", "--snapshot", str(ambiguous_snapshot), "--out", str(tmp_path / "o"), "--format", "json",
                    "-q", "--fail-on", "low", "--waivers", str(waivers))
    assert result.exit_code == 0, result.output


# -- 3. a scan that judged nothing -------------------------------------------------------------

@pytest.mark.parametrize("document, what", [
    ({"data": []}, "the inventory is empty: no resource was read"),
    ({"value": [{"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/staticSites/s", "name": "s",
                 "type": "Microsoft.Web/staticSites"}]}, "none of the 1 resource(s) read is of a type any rule assesses"),
])
def test_an_empty_scan_is_not_a_pass(write_json, tmp_path: Path, document: Any, what: str) -> None:
    snapshot = write_json("empty.json", document)
    out = tmp_path / "out"
    result = invoke("scan", "--snapshot", str(snapshot), "--out", str(out), "--fail-on", "low")
    one_error_line(result, f"nothing was judged: {what} (--allow-empty accepts an empty scope)")
    assert not out.exists()
    allowed = invoke("scan", "--snapshot", str(snapshot), "--out", str(out), "--fail-on", "low", "--allow-empty", "-q")
    assert allowed.exit_code == 0 and (out / "vdcaudit-report.html").is_file()


# -- 5. YAML alias bombs -----------------------------------------------------------------------

BOMB = "".join(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}" if i else '"lol"'] * 9) + "]\n"
               for i in range(9))


@pytest.fixture
def bomb(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    return path


@pytest.mark.parametrize("option", ["--config", "--waivers"])
def test_an_alias_bomb_in_config_or_waivers_is_refused(bomb: Path, tmp_path: Path, option: str) -> None:
    before = tree(tmp_path)
    result = invoke("scan", "--demo", option, str(bomb), "--out", str(tmp_path / "out"))
    one_error_line(result, f"{bomb}: invalid YAML: aliases expand to more than 100,000 values")
    assert tree(tmp_path) == before


def test_an_alias_bomb_in_a_rule_file_is_refused(bomb: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    bomb.rename(rules / "VDC-X-001.yaml")
    result = invoke("rules", "validate", str(rules))
    assert result.exit_code == 2
    assert "VDC-X-001.yaml: invalid YAML: aliases expand to more than 100,000 values" in result.output
    one_error_line(invoke("rules", "list", "--rules", str(rules)), "aliases expand to more than 100,000 values")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("waivers: &w [*w]\n", encoding="utf-8")
    one_error_line(invoke("scan", "--demo", "--waivers", str(path), "--out", str(tmp_path / "o")),
                   "recursive alias")


# -- 7. JSON nested very deep ------------------------------------------------------------------

DEEP = '{"value": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize("option", ["--snapshot", "--template", "--terraform-plan", "--baseline"])
def test_deep_json_is_an_input_error_naming_the_file(write_json, tmp_path: Path, option: str) -> None:
    deep = write_json("deep.json", DEEP)
    source = ["--demo"] if option == "--baseline" else []
    result = invoke("scan", *source, option, str(deep), "--out", str(tmp_path / "out"))
    # a template's reader also names the line where the nesting goes too deep
    one_error_line(result, f"{deep}{':1' if option == '--template' else ''}: JSON nested deeper than 200 levels")
    assert not (tmp_path / "out").exists()


def test_deep_json_in_an_sdn_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "sdn"
    folder.mkdir()
    (folder / "virtualNetworks.json").write_text(DEEP, encoding="utf-8")
    one_error_line(invoke("sdn", "--snapshot", str(folder), "--out", str(tmp_path / "out")),
                   "virtualNetworks.json: JSON nested deeper than 200 levels")


# -- 9. evidence values are capped -------------------------------------------------------------

def test_a_huge_value_is_cut_in_the_evidence_with_a_marker(write_json, tmp_path: Path) -> None:
    huge = "TLS1_0" + "x" * 2_000_000
    snapshot = write_json("snap.json", {"value": [storage("sthuge", minimumTlsVersion=huge)]})
    out = tmp_path / "out"
    result = invoke("scan", "--snapshot", str(snapshot), "--out", str(out), "--format", "json,html,csv,md,sarif,junit",
                    "-q")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "vdcaudit-findings.json").read_text(encoding="utf-8"))
    [finding] = [f for f in findings_in(out) if f["rule_id"] == "VDC-ST-002"]
    value = finding["evidence"]["properties.minimumTlsVersion"]
    assert value == huge[:TEXT_LIMIT] + "… [cut by vdcaudit: kept 4,096 of 2,000,006 characters]"
    assert finding["status"] == "FAIL"  # judged on the whole value, only the evidence is cut
    # far below the 2 MB value: it is not copied (SARIF carries every rule's help, ~0.5 MB with the pack)
    assert all(path.stat().st_size < 1_000_000 for path in out.iterdir())


# -- 10, 11, 13. writing files -----------------------------------------------------------------

def test_out_on_a_device_node_is_refused(tmp_path: Path) -> None:
    one_error_line(invoke("scan", "--demo", "--out", "/dev/full"),
                   "/dev/full: is a character device, not a folder: cannot write files into it")
    one_error_line(invoke("rules", "docs", "--out", "/dev/null"),
                   "/dev/null: is a character device, not a regular file: refusing to replace it")
    # refused before any collection: no login is attempted
    one_error_line(invoke("snapshot", "--all-subscriptions", "--out", "/dev/full"),
                   "/dev/full: is a character device, not a regular file: refusing to replace it")
    assert Path("/dev/null").is_char_device() and Path("/dev/full").is_char_device()


@pytest.mark.parametrize("kind", ["symlink", "folder", "fifo"])
def test_a_report_path_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / RENDERERS["json"].filename
    (tmp_path / "victim.txt").write_text("keep me", encoding="utf-8")
    if kind == "symlink":
        target.symlink_to(tmp_path / "victim.txt")
    elif kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    before = tree(tmp_path) if kind != "fifo" else None
    names = {"symlink": "a symbolic link", "folder": "a folder", "fifo": "a FIFO"}
    one_error_line(invoke("scan", "--demo", "--out", str(out), "--format", "html,json"),
                   f"{target}: is {names[kind]}, not a regular file: refusing to replace it")
    if before is not None:
        assert tree(tmp_path) == before
    assert not (out / RENDERERS["html"].filename).exists()


def test_rules_docs_refuses_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "docs.md").symlink_to(victim)
    one_error_line(invoke("rules", "docs", "--out", str(tmp_path / "docs.md")), "is a symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep me"


def test_a_failed_write_keeps_every_old_report_and_leaves_no_temp(tmp_path: Path) -> None:
    """A file-size limit (what a full disk does to a write) hits the HTML: exit 2 naming it, the
    JSON written before it is not put in place, the old reports stay, no temporary file."""
    out = tmp_path / "out"
    assert invoke("scan", "--demo", "--out", str(out), "--format", "json,html", "-q").exit_code == 0
    (out / "vdcaudit-findings.json").write_text("old json", encoding="utf-8")
    (out / "vdcaudit-report.html").write_text("old html", encoding="utf-8")
    before = tree(tmp_path)
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000)); "
              "from vdcaudit.commands.cli import main; sys.argv = ['vdcaudit'] + sys.argv[1:]; main()")
    run = subprocess.run([sys.executable, "-c", script, "scan", "--demo", "--out", str(out), "--format", "md,json,html"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [f"vdcaudit: error: {out / 'vdcaudit-findings.json'}: cannot write: "
                                                "file too large"]
    assert tree(tmp_path) == before


def test_a_failed_rename_puts_back_what_was_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The renames come last; if one fails (a race, a full directory), the targets already
    replaced get their old content back and the new files are removed."""
    (tmp_path / "a.txt").write_text("old a", encoding="utf-8")
    (tmp_path / "c.txt").write_text("old c", encoding="utf-8")
    real_replace = os.replace
    calls: list[str] = []

    def third_rename_fails(source: Any, target: Any) -> None:
        calls.append(str(target))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", third_rename_fails)
    with pytest.raises(InputError) as raised:
        with FileSet(tmp_path) as files:
            files.write("a.txt", b"new a")
            files.write("b.txt", b"new b")
            files.write("c.txt", b"new c")
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert raised.value.one_line() == f"{tmp_path / 'c.txt'}: cannot write: no space left on device"
    assert tree(tmp_path) == {"a.txt": b"old a", "c.txt": b"old c"}


def test_reports_of_an_earlier_scan_are_kept_and_marked_stale_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("scan", "--demo", "--out", str(out), "--format", "json,html,csv", "-q").exit_code == 0
    first = json.loads((out / ".vdcaudit-manifest.json").read_text(encoding="utf-8"))
    (out / "vdcaudit-findings.csv").write_text("edited by hand", encoding="utf-8")
    (out / "vdcaudit-junit.xml").write_text("not written by vdcaudit", encoding="utf-8")
    result = invoke("scan", "--demo", "--out", str(out), "--format", "md")
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [".vdcaudit-manifest.json", "vdcaudit-findings.csv",
                                                     "vdcaudit-findings.json", "vdcaudit-junit.xml",
                                                     "vdcaudit-report.html", "vdcaudit-summary.md"]
    for kept in ("vdcaudit-findings.json", "vdcaudit-report.html"):
        assert f"stale: {out / kept} is an earlier scan's report, kept" in result.output
    for unknown in ("vdcaudit-findings.csv", "vdcaudit-junit.xml"):
        assert f"stale: {out / unknown} is not from this scan" in result.output
    manifest = json.loads((out / ".vdcaudit-manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["files"]) == ["vdcaudit-summary.md"]
    assert sorted(manifest["stale"]) == ["vdcaudit-findings.json", "vdcaudit-report.html"]
    assert manifest["stale"]["vdcaudit-report.html"]["scan_started"] == first["scan_started"]
    # a third scan carries the stale entries on while the files stay unchanged, and rewrites one
    again = invoke("scan", "--demo", "--out", str(out), "--format", "json", "-q")
    assert again.exit_code == 0
    third = json.loads((out / ".vdcaudit-manifest.json").read_text(encoding="utf-8"))
    assert sorted(third["files"]) == ["vdcaudit-findings.json"]
    assert sorted(third["stale"]) == ["vdcaudit-report.html", "vdcaudit-summary.md"]
    assert third["stale"]["vdcaudit-report.html"]["scan_started"] == first["scan_started"]


def test_a_failed_azure_login_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("AZURE_", "IDENTITY_", "MSI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", str(tmp_path))  # no az, pwsh or azd to ask
    monkeypatch.setenv("HOME", str(tmp_path))  # no token cache
    result = invoke("scan", "--subscription", SUB, "--out", str(tmp_path / "out"))
    one_error_line(result, "cannot get an Azure token: DefaultAzureCredential failed to retrieve a token")


# -- 12. control characters --------------------------------------------------------------------

def test_control_characters_are_escaped_in_html_csv_and_markdown(write_json, tmp_path: Path) -> None:
    account = storage("st\x00nul", minimumTlsVersion="TLS1_0\x1b[31m\x07")
    account["name"] = "st\x00nul\x01"
    snapshot = write_json("snap.json", {"value": [account]})
    out = tmp_path / "out"
    assert invoke("scan", "--snapshot", str(snapshot), "--out", str(out), "--format", "html,csv,md", "-q").exit_code == 0
    # shown as \uXXXX (Markdown escapes the backslash so that it renders as one)
    for name, shown in (("vdcaudit-report.html", "st\\u0000nul\\u0001"), ("vdcaudit-findings.csv", "st\\u0000nul\\u0001"),
                        ("vdcaudit-summary.md", "st\\\\u0000nul\\\\u0001")):
        text = (out / name).read_bytes().decode("utf-8-sig")
        assert not any(ch in text for ch in "\x00\x01\x07\x1b"), name
        assert shown in text, name


def test_a_yaml_value_pyyaml_cannot_build_is_one_line(tmp_path: Path) -> None:
    """Found by the fuzz test: `!!int` with no digits made PyYAML raise IndexError (exit 3)."""
    path = tmp_path / "w.yaml"
    path.write_text("waivers: !!int \n", encoding="utf-8")
    one_error_line(invoke("scan", "--demo", "--waivers", str(path), "--out", str(tmp_path / "o")),
                   f"{path}: invalid YAML: a value cannot be built (IndexError")


def test_a_message_quoting_a_huge_value_is_cut_too(builtin_rules: dict[str, Any]) -> None:
    from vdcaudit.findings import finding_for
    from vdcaudit.model import Status

    finding = finding_for(builtin_rules["VDC-ST-002"], storage("st"), Status.ERROR, "cannot judge: " + "y" * 100_000,
                          {"list": list(range(1_000)), "nested": [[[[[[[[[["deep"]]]]]]]]]]})
    assert finding.message.endswith("… [cut by vdcaudit: kept 4,096 of 100,014 characters]")
    assert finding.evidence["list"][-1] == "[cut by vdcaudit: kept 100 of 1,000 items]"
    assert "nested deeper than 8 levels" in json.dumps(finding.evidence["nested"])


# -- a read that failed is not a pass ------------------------------------------------------------

def test_a_scope_that_could_not_be_read_fails_the_gate(write_json, tmp_path: Path) -> None:
    """A snapshot carrying a coverage gap (403 on one subscription) beside a compliant resource:
    the gate fails on the gap's UNKNOWN findings; --no-fail-on-error opts out, as for ERROR."""
    document = {"vdcaudit_snapshot": {"coverage": [
        {"source": "azure", "scope": "00000000-0000-0000-0000-00000000dead", "reason": "403 Forbidden"}]},
        "value": [storage("stok", minimumTlsVersion="TLS1_2")]}
    snapshot = write_json("gap.json", document)
    common = ["scan", "--snapshot", str(snapshot), "--out", str(tmp_path / "o"), "--format", "json"]
    result = invoke(*common, "--fail-on", "high")
    findings = read_findings_file(tmp_path / "o" / "vdcaudit-findings.json").findings  # rule fields restored
    gaps = [f for f in findings if f["resource_id"].endswith("dead")]
    assert gaps and all(f["status"] == "UNKNOWN" for f in gaps)
    assert result.exit_code == 1, result.output
    assert "UNKNOWN (a read failed)" in result.output
    assert not [f for f in findings if f["status"] == "FAIL" and f["severity"] in ("critical", "high")]
    opted_out = invoke(*common, "--fail-on", "high", "--no-fail-on-error")
    assert opted_out.exit_code == 0, opted_out.output
