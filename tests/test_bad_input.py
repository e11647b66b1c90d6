"""Bad input never gives a traceback: every case below ends with one line on stderr naming the file
(and the JSON/YAML position where there is one) and the problem, or click's usage error, exit code
2, and nothing written. Network targets are loopback only; 127.0.0.1:9 (discard) is a closed port."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from tests.guards import hang_guard
from tests.sdn_certs import make_cert

from vdcaudit.commands.cli import cli
from vdcaudit.collectors import azure as azure_source
from tests.findings_json import findings_in

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SDN = FIXTURES / "demo" / "sdn"
CLOSED = "https://127.0.0.1:9"
LIVE_ARM = ["--arm-endpoint", CLOSED, "--credential", "static-token"]
BAD_DATE_WAIVER = 'waivers:\n  - rule: VDC-ST-002\n    resource: "*"\n    justification: x\n    owner: me\n' \
                  "    expires: 2025-13-45\n"


def _sdn_snapshot(folder: Path, replace: dict[str, str]) -> None:
    """The demo SDN snapshot, with some of its files (relative path -> text) replaced."""
    shutil.copytree(SDN, folder)
    for name, text in replace.items():
        (folder / name).write_text(text, encoding="utf-8")


def _make_inputs(root: Path) -> None:
    (root / "binary.json").write_bytes(bytes(range(128, 256)))
    (root / "empty.json").write_text("", encoding="utf-8")
    os.mkfifo(root / "fifo.json")  # opening it would block until a writer comes
    (root / "dangling.json").symlink_to(root / "no-such-target.json")
    (root / "existing_file").write_text("", encoding="utf-8")
    (root / "emptydir").mkdir()
    shutil.copy(FIXTURES / "iac" / "plan.json", root / "plan.json")
    shutil.copy(FIXTURES / "iac" / "main.json", root / "template.json")
    (root / "snapshot.json").write_text('{"value": []}', encoding="utf-8")
    (root / "notpem.pem").write_text("not a certificate\n", encoding="utf-8")
    cert = make_cert("client")  # a real certificate, but no private key beside it
    (root / "cert-only.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "bad-date.yaml").write_text(BAD_DATE_WAIVER, encoding="utf-8")
    for name, text in {"plan-changes-text.json": {"format_version": "1.2", "resource_changes": "x"},
                       "plan-change-number.json": {"format_version": "1.2", "resource_changes": [{"change": 5}]},
                       "plan-config-number.json": {"format_version": "1.2", "resource_changes": [],
                                                   "configuration": 5}}.items():
        (root / name).write_text(json.dumps(text), encoding="utf-8")
    for folder in ("rules-binary", "rules-date", "rules-fifo"):
        (root / folder).mkdir()
    (root / "rules-binary" / "VDC-X-001.yaml").write_bytes(bytes(range(128, 256)))
    (root / "rules-date" / "VDC-X-001.yaml").write_text("id: VDC-X-001\ntitle: 2025-13-45\n", encoding="utf-8")
    os.mkfifo(root / "rules-fifo" / "VDC-X-001.yaml")
    _sdn_snapshot(root / "sdn-bad-host", {"hosts/hv01.contoso.local.json": '{"Thumbprint": '})
    _sdn_snapshot(root / "sdn-pem-host", {"hosts/hv02.pem": "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"})


CASES = [
    # wrong, empty, binary and unreadable files for each source
    (["scan", "--template", "plan.json"], "plan.json:1: not an ARM template"),
    (["scan", "--snapshot", "template.json"], "template.json: not an Azure snapshot"),
    (["scan", "--terraform-plan", "snapshot.json"], "snapshot.json:1: not a Terraform plan"),
    (["scan", "--snapshot", "empty.json"], "empty.json:1:1: malformed JSON"),
    (["scan", "--terraform-plan", "binary.json"], "binary.json: not UTF-8 text"),
    (["scan", "--snapshot", "fifo.json"], "fifo.json: not a regular file"),
    (["scan", "--snapshot", "dangling.json"], "dangling.json: no such file or folder"),
    (["scan", "--sdn-snapshot", "plan.json"], "'plan.json' is a file"),
    (["scan", "--template", "emptydir"], "'emptydir' is a directory"),
    (["scan", "--demo", "--out", "existing_file"], "'existing_file' is a file"),
    (["emulator", "--fixture", "fifo.json"], "fifo.json: not a regular file"),
    # Terraform plans whose sections have the wrong shape
    (["scan", "--terraform-plan", "plan-changes-text.json"], "'resource_changes' must be an array"),
    (["scan", "--terraform-plan", "plan-change-number.json"], "resource_changes[0] must be an object"),
    (["scan", "--terraform-plan", "plan-config-number.json"], "'configuration' must be an object"),
    # vdcaudit.yaml, waivers, rule files: binary, FIFO, a date PyYAML cannot build
    (["scan", "--demo", "--config", "binary.json"], "binary.json: not UTF-8 text"),
    (["scan", "--demo", "--config", "fifo.json"], "fifo.json: not a regular file"),
    (["scan", "--demo", "--config", "bad-date.yaml"], "bad-date.yaml:6: invalid YAML: '2025-13-45' is not a valid date"),
    (["scan", "--demo", "--waivers", "bad-date.yaml"], "bad-date.yaml:6: invalid YAML: '2025-13-45' is not a valid date"),
    (["scan", "--demo", "--waivers", "binary.json"], "binary.json: not UTF-8 text"),
    (["scan", "--demo", "--waivers", "fifo.json"], "fifo.json: not a regular file"),
    (["scan", "--demo", "--baseline", "snapshot.json"], "snapshot.json: not a vdcaudit findings file"),
    (["rules", "list", "--rules", "rules-binary"], "VDC-X-001.yaml: not UTF-8 text"),
    (["rules", "list", "--rules", "rules-fifo"], "VDC-X-001.yaml: not a regular file"),
    (["rules", "show", "VDC-ST-002", "--rules", "rules-date"], "VDC-X-001.yaml:2: invalid YAML: '2025-13-45'"),
    (["rules", "validate", "emptydir"], "emptydir: no rule files"),
    (["rules", "list", "--framework", "nist"], "unknown framework nist (choose from cis, mcsb, nist-800-53)"),
    # option values
    (["scan", "--demo", "--format", ","], "no format given"),
    (["sdn", "--snapshot", str(SDN), "--format", ""], "no format given"),
    # SDN host inventories
    (["sdn", "--snapshot", "sdn-bad-host"], "hv01.contoso.local.json:1:16: malformed JSON"),
    (["sdn", "--snapshot", "sdn-pem-host"], "hv02.pem: not a host certificate inventory"),
    # Network Controller: not a URL, a port out of range, a closed port, PEM files that are not what they say
    (["sdn", "--nc", "https://127.0.0.1:99999"], "--nc https://127.0.0.1:99999: expected https://HOST[:PORT]"),
    (["sdn", "--nc", "https://[::1"], "--nc https://[::1: expected https://HOST[:PORT]"),
    (["sdn", "--nc", CLOSED], f"{CLOSED}: cannot connect to the Network Controller"),
    (["scan", "--nc", CLOSED], f"{CLOSED}: cannot connect to the Network Controller"),
    (["sdn", "--nc", CLOSED, "--nc-ca-bundle", "notpem.pem"], "notpem.pem: --nc-ca-bundle: not a PEM certificate"),
    (["sdn", "--nc", CLOSED, "--nc-ca-bundle", "fifo.json"], "fifo.json: --nc-ca-bundle: not a regular file"),
    (["sdn", "--nc", CLOSED, "--nc-auth", "cert", "--nc-client-cert", "no-such.pem"],
     "no-such.pem: --nc-client-cert: no such file"),
    (["sdn", "--nc", CLOSED, "--nc-auth", "cert", "--nc-client-cert", "notpem.pem"],
     "notpem.pem: --nc-client-cert: not a PEM certificate"),
    (["sdn", "--nc", CLOSED, "--nc-auth", "cert", "--nc-client-cert", "cert-only.pem"],
     "cert-only.pem: --nc-client-cert: no PEM private key"),
    (["sdn", "--nc", CLOSED, "--nc-auth", "cert", "--nc-client-cert", "cert-only.pem", "--nc-client-key",
      "notpem.pem"], "notpem.pem: --nc-client-key: no PEM private key"),
    # live Azure: a garbled endpoint, a closed port, a CA bundle that is not PEM
    (["scan", "--all-subscriptions", "--arm-endpoint", "https://[::1"], "--arm-endpoint https://[::1: expected"),
    (["scan", "--all-subscriptions", "--arm-endpoint", "https://127.0.0.1:abc"], "expected an https:// URL"),
    (["scan", "--all-subscriptions", *LIVE_ARM], f"{CLOSED}: cannot list subscriptions: connection failed"),
    (["scan", "--subscription", "s1", *LIVE_ARM], f"{CLOSED}: cannot read subscription s1: connection failed"),
    (["snapshot", "--all-subscriptions", *LIVE_ARM, "--ca-bundle", "notpem.pem", "--out", "out/azure.json"],
     "notpem.pem: --ca-bundle: not a PEM certificate"),
]
REPORTING = {"scan", "sdn"}  # the commands that take --out DIR


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    _make_inputs(root)
    return root


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """Opening a FIFO blocks until a writer comes: a command that does so fails its case instead of
    hanging the suite."""
    with hang_guard(10, "the command blocked"):
        yield


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live collector retries a closed port with backoff; the verdict is the same without waiting."""
    build = azure_source.build
    monkeypatch.setattr(azure_source, "build", lambda params: build({**params, "retry_backoff": 0}))


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(args) for args, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(inputs: Path, monkeypatch: pytest.MonkeyPatch,
                                                        args: list[str], expected: str) -> None:
    monkeypatch.chdir(inputs)
    before = _tree(inputs)
    extra = ["--out", "out"] if args[0] in REPORTING and "--out" not in args else []
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    one_line = len(lines) == 1 and lines[0].startswith("vdcaudit: error: ")
    usage = lines[0].startswith("Usage: ") and lines[-1].startswith("Error: ")
    assert one_line or usage, result.output
    assert expected in lines[-1]
    assert _tree(inputs) == before  # no report, no half-written file, no temporary file


@pytest.mark.parametrize(("name", "text", "odd"), [
    ("virtualNetworks.json", '{"value": [{"resourceId": "v", "properties": {"subnets": 5, "addressSpace": 3}}]}', "v"),
    ("networkInterfaces.json", '{"value": [{"resourceId": "n", "properties": {"ipConfigurations": [5]}}]}', "n"),
    # hv01 hosts NICs of encrypted subnets, so the overview looks up its management addresses
    ("servers.json", '{"value": [{"resourceId": "hv01", "properties": {"connections": 7}}]}', "hv01"),
])
def test_odd_values_in_controller_data_do_not_crash_the_sdn_overview(tmp_path: Path, name: str, text: str,
                                                                      odd: str) -> None:
    """Values of the wrong JSON type inside well-formed controller responses are data to assess
    (the rules that need them cannot pass), not an internal error."""
    _sdn_snapshot(tmp_path / "snap", {name: text})
    result = CliRunner().invoke(cli, ["sdn", "--snapshot", str(tmp_path / "snap"), "--out", str(tmp_path / "out"),
                                      "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((tmp_path / "out" / "vdcaudit-findings.json").read_text(encoding="utf-8"))
    assert report["sections"]["sdn"]["virtual_networks"]
    judged = [f for f in findings_in(tmp_path / "out") if f["resource_name"] == odd]
    assert judged, f"no rule looked at {odd}"
    assert all(f["status"] in ("UNKNOWN", "ERROR", "FAIL") for f in judged), \
        [(f["rule_id"], f["status"]) for f in judged]
