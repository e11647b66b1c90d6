"""vdcaudit.yaml `ipsec.allowed`: the algorithms a tenant mandates, applied beside the built-in weak
list by the gateway connection rules and the Virtual WAN checks alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vdcaudit.commands.cli import cli
from vdcaudit.config import load_config
from vdcaudit.errors import InputError
from vdcaudit.ipsec import allowing, weak_choices

POLICY = {"ipsecEncryption": "AES256", "ipsecIntegrity": "SHA256", "ikeEncryption": "AES256",
          "ikeIntegrity": "SHA384", "dhGroup": "DHGroup14", "pfsGroup": "PFS2048"}


def test_the_allow_list_holds_only_while_a_scan_runs() -> None:
    assert weak_choices([POLICY]) == []
    with allowing({"ipsecEncryption": frozenset({"gcmaes256"})}):
        assert weak_choices([POLICY]) == ["policy[0].ipsecEncryption=AES256 (not in ipsec.allowed)"]
    assert weak_choices([POLICY]) == []


def test_the_config_names_properties_as_arm_does(tmp_path: Path) -> None:
    path = tmp_path / "vdcaudit.yaml"
    path.write_text("ipsec:\n  allowed:\n    IPsecEncryption: [GCMAES256]\n", encoding="utf-8")
    with pytest.raises(InputError, match="allowed"):
        load_config(path)  # the schema knows the six IpsecPolicy properties, in ARM's spelling
    path.write_text("ipsec:\n  allowed:\n    ipsecEncryption: [GCMAES256, gcmaes128]\n", encoding="utf-8")
    assert load_config(path).ipsec_allowed == {"ipsecEncryption": frozenset({"gcmaes256", "gcmaes128"})}


def test_an_empty_list_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "vdcaudit.yaml"
    path.write_text("ipsec:\n  allowed:\n    dhGroup: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", "--demo", "--config", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "vdcaudit.yaml" in result.output
    assert len(result.output.strip().splitlines()) == 1
