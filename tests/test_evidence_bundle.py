"""Evidence bundles: `scan/merge --evidence`, `--sign-key`, `vdcaudit verify`, and the OpenSSL
commands docs/evidence.md gives for checking the signature without vdcaudit."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from vdcaudit.commands.cli import cli

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"
IAC = REPO / "fixtures" / "iac"
HUB = "11111111-1111-4111-8111-111111111111"
SPOKE2 = "33333333-3333-4333-8333-333333333333"


def invoke(*args: str) -> "object":
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def write_key(folder: Path, kind: str, name: str = "signer") -> tuple[Path, Path]:
    key = {"ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
           "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
           "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)}[kind]()
    private, public = folder / f"{name}-{kind}.pem", folder / f"{name}-{kind}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed demo scan with a config that names the organisation and engagement."""
    folder = tmp_path_factory.mktemp("bundle")
    config = folder / "vdcaudit.yaml"
    config.write_text((DEMO / "vdcaudit.yaml").read_text()
                      + "\nreport:\n  organisation: Contoso Ltd\n  engagement: FY27 encryption audit\n")
    key, _ = write_key(folder, "ed25519")
    result = invoke("scan", "--demo", "--config", config, "--out", folder / "reports", "--format", "json,sarif,html",
                    "--evidence", folder / "evidence", "--sign-key", key)
    assert result.exit_code == 0, result.output
    return folder / "evidence"


def copy_of(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


def test_bundle_holds_inputs_settings_rules_reports_and_a_full_manifest(demo_bundle: Path) -> None:
    manifest = json.loads((demo_bundle / "manifest.json").read_text())
    roles = {entry["role"] for entry in manifest["files"].values()}
    assert roles == {"input", "config", "rule", "report"}
    assert {"reports/vdcaudit-findings.json", "reports/vdcaudit.sarif", "reports/vdcaudit-report.html",
            "config/vdcaudit.yaml"} <= set(manifest["files"])
    assert sum(1 for e in manifest["files"].values() if e["role"] == "rule") >= 100
    for name, entry in manifest["files"].items():
        assert len(entry["sha256"]) == 64 and (demo_bundle / name).stat().st_size == entry["bytes"]
    assert len(manifest["rulepack"]["sha256"]) == 64
    assert manifest["rulepack"]["shown_as"].endswith(manifest["rulepack"]["sha256"])  # reports show it whole
    assert manifest["organisation"] == "Contoso Ltd" and manifest["engagement"] == "FY27 encryption audit"
    assert manifest["operator"]["kind"] == "local" and "@" in manifest["operator"]["name"]
    assert manifest["command"].startswith("vdcaudit scan --demo")
    assert manifest["started"] <= manifest["finished"]
    assert manifest["signature"]["algorithm"] == "ed25519"


def test_bundle_verifies(demo_bundle: Path) -> None:
    result = invoke("verify", demo_bundle)
    assert result.exit_code == 0, result.output
    findings = json.loads((demo_bundle / "reports" / "vdcaudit-findings.json").read_text(encoding="utf-8"))
    assert "verified" in result.output
    assert f"{findings['summary']['findings']} finding(s) re-judged, all the same" in result.output


@pytest.mark.parametrize("member", ["inputs/1-demo-azure/hub-az-resource-list.json", "inputs/2-demo-sdn/hosts/hv01.contoso.local.json",
                                   "reports/vdcaudit.sarif", "reports/vdcaudit-report.html", "config/vdcaudit.yaml",
                                   "rules/builtin/VDC-AA-001.yaml", "reports/vdcaudit-findings.json"])
def test_one_changed_byte_fails_verify_naming_the_file(demo_bundle: Path, tmp_path: Path, member: str) -> None:
    bundle = copy_of(demo_bundle, tmp_path)
    target = bundle / member
    content = bytearray(target.read_bytes())
    content[len(content) // 2] ^= 0x01
    target.write_bytes(bytes(content))
    result = invoke("verify", bundle)
    assert result.exit_code == 1
    assert f"{target.relative_to(bundle).as_posix()}: sha256 differs" in result.output


def test_a_changed_manifest_fails_its_signature(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_of(demo_bundle, tmp_path)
    manifest = bundle / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"Contoso Ltd", b"Contoso Lte"))
    result = invoke("verify", bundle)
    assert result.exit_code == 1 and "manifest.json: signature does not verify" in result.output


def test_one_changed_byte_of_an_unsigned_manifest_fails_verify(tmp_path: Path) -> None:
    result = invoke("scan", "--template", IAC / "transit.template.json", "--out", tmp_path / "r", "--format", "json",
                    "--evidence", tmp_path / "b")
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "b" / "manifest.json"
    assert invoke("verify", tmp_path / "b").exit_code == 0
    manifest.write_bytes(manifest.read_bytes().replace(b'"scan"', b'"scam"', 1))
    result = invoke("verify", tmp_path / "b")
    assert result.exit_code == 1 and "manifest.json: sha256 differs from manifest.json.sha256" in result.output
    checked = subprocess.run(["sha256sum", "-c", "manifest.json.sha256"], cwd=tmp_path / "b", capture_output=True)
    assert checked.returncode != 0  # the same check with coreutils


def test_an_extra_file_fails_verify(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_of(demo_bundle, tmp_path)
    (bundle / "reports" / "extra.txt").write_text("added later")
    result = invoke("verify", bundle)
    assert result.exit_code == 1 and "reports/extra.txt: not listed in manifest.json" in result.output


def test_a_bundle_signed_by_another_key_fails_with_trust(demo_bundle: Path, tmp_path: Path) -> None:
    _, other = write_key(tmp_path, "ed25519", "other")
    result = invoke("verify", demo_bundle, "--trust", other)
    assert result.exit_code == 1 and "signature does not verify with the trusted key" in result.output
    trusted = demo_bundle / "signer.pub.pem"
    assert invoke("verify", demo_bundle, "--trust", trusted).exit_code == 0


def test_a_re_signed_forgery_fails_with_trust(demo_bundle: Path, tmp_path: Path) -> None:
    """Whoever rewrites the findings and re-signs with their own key passes the hashes, not --trust."""
    from vdcaudit.bundle import signing

    bundle = copy_of(demo_bundle, tmp_path)
    forger, _ = write_key(tmp_path, "ed25519", "forger")
    key = signing.load_private_key(forger)
    (bundle / "manifest.json.sig").write_bytes(signing.sign(key, (bundle / "manifest.json").read_bytes()))
    (bundle / "signer.pub.pem").write_bytes(signing.public_pem(key))
    assert invoke("verify", bundle).exit_code == 0  # self-consistent...
    result = invoke("verify", bundle, "--trust", demo_bundle / "signer.pub.pem")
    assert result.exit_code == 1  # ...but not signed by the trusted key


def forge_one_fail_as_pass(bundle: Path) -> None:
    """Rewrite the bundle's findings (its last FAIL as PASS) and its manifest to match, as whoever
    holds an unsigned bundle can."""
    from vdcaudit.io.atomic import file_digest

    for name in ("manifest.json.sig", "signer.pub.pem"):
        (bundle / name).unlink(missing_ok=True)
    findings = bundle / "reports" / "vdcaudit-findings.json"
    text = findings.read_text()
    last_fail = text.rindex('"status":"FAIL"')  # in the findings, one per line at the end
    findings.write_text(text[:last_fail] + '"status":"PASS"' + text[last_fail + len('"status":"FAIL"'):])
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["reports/vdcaudit-findings.json"]["sha256"] = file_digest(findings)
    manifest.pop("signature", None)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (bundle / "manifest.json.sha256").write_text(f"{file_digest(bundle / 'manifest.json')}  manifest.json\n")


def test_changed_findings_with_matching_hashes_fail_the_re_judging(demo_bundle: Path, tmp_path: Path) -> None:
    """An unsigned bundle whose findings and manifest were both rewritten: the hashes agree, the
    re-judged findings do not."""
    bundle = copy_of(demo_bundle, tmp_path)
    forge_one_fail_as_pass(bundle)
    result = invoke("verify", bundle)
    assert result.exit_code == 1
    assert "bundled PASS, re-judged FAIL" in result.output
    assert invoke("verify", bundle, "--require-signed").exit_code == 1


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_signature_verifies_with_the_documented_openssl_command(tmp_path: Path, kind: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to check the documented signature commands")
        pytest.skip("openssl not installed")
    key, public = write_key(tmp_path, kind)
    result = invoke("scan", "--template", IAC / "transit.template.json", "--out",
                    tmp_path / "r", "--format", "json", "--evidence", tmp_path / "b", "--sign-key", key)
    assert result.exit_code == 0, result.output
    command = ("openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in manifest.json -sigfile manifest.json.sig"
               if kind == "ed25519" else
               "openssl dgst -sha256 -verify pub.pem -signature manifest.json.sig manifest.json")
    assert command in (REPO / "docs" / "evidence.md").read_text()  # the page that documents the check
    shutil.copy(public, tmp_path / "b" / "pub.pem")
    checked = subprocess.run(command.split(), cwd=tmp_path / "b", capture_output=True, text=True)
    assert checked.returncode == 0 and "Verified" in checked.stdout, checked.stdout + checked.stderr
    manifest = tmp_path / "b" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"scan"', b'"scam"', 1))
    forged = subprocess.run(command.split(), cwd=tmp_path / "b", capture_output=True, text=True)
    assert forged.returncode != 0


def test_zip_bundle_verifies_and_a_changed_member_fails(tmp_path: Path) -> None:
    result = invoke("scan", "--demo", "--out", tmp_path / "r", "--format", "json", "--evidence", tmp_path / "e.zip")
    assert result.exit_code == 0, result.output
    assert invoke("verify", tmp_path / "e.zip").exit_code == 0
    with zipfile.ZipFile(tmp_path / "e.zip") as original, zipfile.ZipFile(tmp_path / "bad.zip", "w") as changed:
        for item in original.infolist():
            data = original.read(item)
            changed.writestr(item, data + b" " if item.filename == "config/vdcaudit.yaml" else data)
    result = invoke("verify", tmp_path / "bad.zip")
    assert result.exit_code == 1 and "config/vdcaudit.yaml: sha256 differs" in result.output


def test_zip_with_an_escaping_name_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("manifest.json", "{}")
        archive.writestr("../outside.txt", "x")
    result = invoke("verify", tmp_path / "evil.zip")
    assert result.exit_code == 2 and "unsafe name" in result.output
    assert not (tmp_path.parent / "outside.txt").exists()


def test_a_failed_scan_leaves_no_bundle(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    result = invoke("scan", "--demo", "--out", tmp_path / "r", "--evidence", tmp_path / "b", "--sign-key",
                    tmp_path / "bad.pem")
    assert result.exit_code == 2 and "not a PEM private key" in result.output
    result = invoke("scan", "--snapshot", tmp_path / "missing.json", "--out", tmp_path / "r", "--evidence", tmp_path / "b")
    assert result.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pem"]


def test_evidence_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    result = invoke("scan", "--demo", "--out", tmp_path / "r", "--evidence", tmp_path / "b")
    assert result.exit_code == 2 and "holds no evidence bundle" in result.output
    assert (tmp_path / "b" / "notes.txt").read_text() == "mine"


def test_command_line_credentials_are_masked(tmp_path: Path) -> None:
    from vdcaudit.bundle.writer import masked_command

    line = masked_command(["scan", "--history", "postgresql://auditor:s3cret@db.example/vdc", "--demo",
                           "--notify-webhook", "slack+https://hooks.slack.com/services/T0/B0/k3y",
                           "--notify-webhook=https://u:pw@example.webhook.office.com/w/k3y2?sig=x"])
    assert "s3cret" not in line and "auditor" in line and "k3y" not in line and "sig=" not in line and "pw" not in line
    assert "slack+https://hooks.slack.com/***" in line and "--notify-webhook=https://example.webhook.office.com/***" in line


def shard(folder: Path, template: str, key: Path | None) -> Path:
    folder.mkdir(exist_ok=True)
    args = ["scan", "--template", IAC / template, "--out", folder / "reports", "--format", "json",
            "--evidence", folder / "bundle"]
    result = invoke(*args, *(["--sign-key", key] if key else []))
    assert result.exit_code == 0, result.output
    return folder / "bundle"


def test_merge_require_signed_accepts_only_bundles_signed_by_the_trusted_key(tmp_path: Path) -> None:
    key, public = write_key(tmp_path, "ecdsa")
    other, _ = write_key(tmp_path, "ecdsa", "other")
    signed = shard(tmp_path / "signed", "main.json", key)
    unsigned = shard(tmp_path / "unsigned", "transit.template.json", None)
    foreign = shard(tmp_path / "foreign", "transit.template.json", other)
    out = tmp_path / "merged"
    common = ["merge", "--require-signed", "--trust", public, "--out", out, "--format", "json"]
    assert invoke(*common, signed, "--evidence", tmp_path / "merged-bundle").exit_code == 0
    refused = invoke(*common, signed, unsigned)
    assert refused.exit_code == 2 and "not signed" in refused.output and "unsigned" in refused.output
    refused = invoke(*common, signed, foreign)
    assert refused.exit_code == 2 and "signature does not verify with the trusted key" in refused.output
    plain = invoke(*common, tmp_path / "signed" / "reports" / "vdcaudit-findings.json")
    assert plain.exit_code == 2 and "not a signed shard bundle" in plain.output
    # the merge's own bundle holds the shard bundles and re-judges the merge
    result = invoke("verify", tmp_path / "merged-bundle")
    assert result.exit_code == 0, result.output


def test_live_scan_bundle_re_judges_offline_with_the_same_findings(tmp_path: Path) -> None:
    """A live scan through the real SDK clients against the ARM emulator, with a 403 on one
    subscription: the bundle's collected snapshot, judged again offline, gives the same findings
    (the unreadable subscription's UNKNOWNs included), and the operator is the token's principal."""
    from vdcaudit.emulator.arm import ArmEmulator
    from vdcaudit.emulator.httpserver import Fault

    arm = ArmEmulator([DEMO / "azure"], page_size=5)
    with arm:
        arm.add_fault(Fault.forbidden(f"/subscriptions/{SPOKE2}"))
        result = invoke("scan", "--subscription", HUB, "--subscription", SPOKE2, "--arm-endpoint", arm.url, "--ca-bundle", arm.ca_path,
                        "--credential", "static-token", "--config", DEMO / "vdcaudit.yaml", "--out", tmp_path / "r",
                        "--format", "json,sarif", "--evidence", tmp_path / "live.zip", "--quiet")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "live.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        snapshot = json.loads(archive.read("inputs/azure-snapshot.json"))
    assert manifest["operator"] == {"kind": "azure", "oid": "00000000-0000-4000-8000-0000000e0001",
                                    "upn": "emulator@vdcaudit.invalid", "tid": "00000000-0000-4000-8000-0000000e0000"}
    from vdcaudit.collectors.azure.clouds import EMULATOR_TOKEN

    with zipfile.ZipFile(tmp_path / "live.zip") as archive:  # the token itself is nowhere
        assert not any(EMULATOR_TOKEN.split(".")[1].encode() in archive.read(name) for name in archive.namelist())
    assert manifest["rejudge"]["options"]["snapshot"] == ["inputs/azure-snapshot.json"]
    assert len(snapshot["value"]) > 30
    assert [c["scope"] for c in snapshot["vdcaudit_snapshot"]["coverage"]] == [SPOKE2]
    verified = invoke("verify", tmp_path / "live.zip")  # the emulator is gone: offline
    assert verified.exit_code == 0, verified.output
    findings = json.loads((tmp_path / "r" / "vdcaudit-findings.json").read_text())["findings"]
    assert f"{len(findings)} finding(s) re-judged" in verified.output
    assert {"PASS", "FAIL", "UNKNOWN"} <= {f["status"] for f in findings}


def test_what_a_bundle_cannot_hold_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    result = invoke("scan", "--nc", "https://nc.contoso.local", "--out", tmp_path / "r", "--evidence", tmp_path / "b")
    assert result.exit_code == 2 and "--save-snapshot" in result.output
    key, _ = write_key(tmp_path, "ed25519")
    result = invoke("scan", "--demo", "--out", tmp_path / "r", "--sign-key", key)
    assert result.exit_code == 2 and "give --evidence PATH too" in result.output
    assert not (tmp_path / "b").exists() and not any(p.name.startswith(".b.") for p in tmp_path.iterdir())


def test_merge_judges_a_shard_bundle_again_and_refuses_changed_findings(tmp_path: Path) -> None:
    """A shard bundle whose findings were rewritten (and its manifest with them, as an unsigned
    bundle allows) passes the hashes but not the re-judging."""
    bundle = shard(tmp_path / "s", "main.json", None)
    forge_one_fail_as_pass(bundle)
    result = invoke("merge", bundle, "--out", tmp_path / "m", "--format", "json")
    assert result.exit_code == 2 and "shard bundle rejected" in result.output and "re-judged FAIL" in result.output


def test_verify_never_reads_live_whatever_the_manifest_says(tmp_path: Path) -> None:
    from vdcaudit.io.atomic import file_digest

    bundle = shard(tmp_path / "s", "transit.template.json", None)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["rejudge"]["options"].update({"nc": "https://127.0.0.1:9", "all_subscriptions": True,
                                           "arm_endpoint": "https://127.0.0.1:9", "credential": "static-token"})
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (bundle / "manifest.json.sha256").write_text(f"{file_digest(bundle / 'manifest.json')}  manifest.json\n")
    result = invoke("verify", bundle)
    assert result.exit_code == 0, result.output  # judged from the bundled template only


def test_a_bundle_judged_as_of_a_day_is_re_judged_as_of_that_day(tmp_path: Path) -> None:
    """--as-of decides verdicts (platform floors): verify must judge the evidence as of the same day,
    or a scan of old evidence could never verify, and one of today's could not be told apart."""
    bundle = tmp_path / "bundle"
    made = invoke("scan", "--snapshot", DEMO / "azure", "--as-of", "2024-06-01", "--out", tmp_path / "out",
                  "--format", "json", "--quiet", "--evidence", bundle)
    assert made.exit_code == 0, made.output
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rejudge"]["as_of"] == "2024-06-01"
    verified = invoke("verify", bundle)
    assert verified.exit_code == 0, verified.output
    # the same evidence judged today gives other verdicts (the floors apply): the day is what verify used
    today = invoke("scan", "--snapshot", DEMO / "azure", "--out", tmp_path / "today", "--format", "json", "--quiet")
    assert today.exit_code == 0
    then = json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text(encoding="utf-8"))["summary"]
    now = json.loads((tmp_path / "today" / "vdcaudit-findings.json").read_text(encoding="utf-8"))["summary"]
    assert then["by_status"] != now["by_status"]


def test_manifest_and_report_show_an_input_by_the_same_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An auditor matches the bundle's manifest against the report's provenance: an input outside
    the scan's folder is shown by the same relative path in both (not by its bare name), and the
    demo's shipped files as <vdcaudit>/demo/..."""
    (tmp_path / "data").mkdir()
    (tmp_path / "work").mkdir()
    shutil.copy(DEMO / "azure" / "spoke3-arm-list.json", tmp_path / "data" / "estate.json")
    monkeypatch.chdir(tmp_path / "work")
    result = invoke("scan", "--snapshot", "../data/estate.json", "--out", "r", "--format", "html",
                    "--evidence", "bundle", "--quiet")
    assert result.exit_code in (0, 1), result.output
    manifest = json.loads((tmp_path / "work" / "bundle" / "manifest.json").read_text())
    shown = [entry["from"] for entry in manifest["files"].values() if entry["role"] == "input"]
    assert shown == ["../data/estate.json"]
    assert "../data/estate.json" in (tmp_path / "work" / "r" / "vdcaudit-report.html").read_text()
    rules = [entry["from"] for entry in manifest["files"].values() if entry["role"] == "rule"]
    assert rules and all(shown.startswith("<vdcaudit>/rules/") for shown in rules)


def _rewritten_before_each_read(monkeypatch: pytest.MonkeyPatch, contents: list[bytes]) -> None:
    """The snapshot collector's reads see the file rewritten just before each of them (an export
    still being written, a file swapped under the scan): the n-th read finds contents[n]."""
    from vdcaudit.collectors import snapshot as snapshot_source

    original = snapshot_source.read_json

    def rewrite_then_read(path: Path, *args: Any) -> Any:
        path.write_bytes(contents.pop(0) if len(contents) > 1 else contents[0])
        return original(path, *args)

    monkeypatch.setattr(snapshot_source, "read_json", rewrite_then_read)


def test_the_bundle_and_the_report_hash_the_bytes_the_scan_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file changes between the command starting and the scan reading it: the bundle's copy,
    its manifest digest and the report's provenance are all of what was scanned, and verify
    re-judges those bytes to the same findings."""
    snapshot = tmp_path / "estate.json"
    snapshot.write_text("[]", encoding="utf-8")  # what a copy taken before the read would hold
    scanned = (DEMO / "azure" / "spoke3-arm-list.json").read_bytes()
    _rewritten_before_each_read(monkeypatch, [scanned])
    result = invoke("scan", "--snapshot", snapshot, "--out", tmp_path / "r", "--format", "json,html",
                    "--evidence", tmp_path / "bundle", "--quiet")
    assert result.exit_code in (0, 1), result.output
    digest = hashlib.sha256(scanned).hexdigest()
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    inputs = {name: entry for name, entry in manifest["files"].items() if entry["role"] == "input"}
    assert [entry["sha256"] for entry in inputs.values()] == [digest]
    assert (tmp_path / "bundle" / next(iter(inputs))).read_bytes() == scanned
    assert not any(name.startswith(".reads") for name in manifest["files"])
    assert digest in (tmp_path / "r" / "vdcaudit-report.html").read_text()
    findings = json.loads((tmp_path / "r" / "vdcaudit-findings.json").read_text())["findings"]
    assert findings  # the scanned bytes held resources; "[]" holds none
    monkeypatch.undo()
    verified = invoke("verify", tmp_path / "bundle")
    assert verified.exit_code == 0, verified.output


def test_a_file_read_twice_with_different_bytes_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = tmp_path / "estate.json"
    snapshot.write_text("[]", encoding="utf-8")
    _rewritten_before_each_read(monkeypatch, [b"[]", (DEMO / "azure" / "spoke3-arm-list.json").read_bytes()])
    result = invoke("scan", "--snapshot", snapshot, "--snapshot", snapshot, "--out", tmp_path / "r",
                    "--evidence", tmp_path / "bundle", "--quiet")
    assert result.exit_code == 2
    assert "changed while the scan was reading it" in result.output
    assert not (tmp_path / "bundle").exists() and not list(tmp_path.glob(".bundle.*"))
