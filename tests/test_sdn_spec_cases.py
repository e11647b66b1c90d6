"""SDN verdicts on data written from Microsoft's own descriptions, through `vdcaudit sdn --snapshot`.

Each case builds a snapshot folder from the schemas of [MS-NCNBI] (Network Controller Northbound
Interface: accessControlLists 3.1.5.1 and aclRules 3.1.5.1.2, virtualNetworks 3.1.5.18, subnets
3.1.5.18.2, credentials 3.1.5.2) or from the examples of the Windows Server SDN pages on Microsoft
Learn, runs the command line with `--fail-on high` and reads the exit code and the verdict. Every
case runs twice: in the REST body shape ({"value": [...]}, camelCase) and in the shape the
NetworkController cmdlets print (`Get-NetworkController* | ConvertTo-Json -Depth 20`: PascalCase,
a bare array), since an auditor may hold either.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.findings_json import findings_in
from tests.test_sdn_cmdlet_dump import pascal
from vdcaudit.commands.cli import cli

SHAPES = ["rest", "cmdlet"]
THUMBPRINT = "5C1AD829B6D4F313EC479EB210C79F45B06DF0C9"


def rule(name: str, kind: str | None, action: str | None, priority: str, source: str | None,
         destination: str | None, protocol: str | None = "All") -> dict[str, Any]:
    """One aclRules entry; None leaves the field out (each is Required in [MS-NCNBI] 3.1.5.1.2)."""
    properties = {"protocol": protocol, "sourcePortRange": "0-65535", "destinationPortRange": "0-65535",
                  "action": action, "sourceAddressPrefix": source, "destinationAddressPrefix": destination,
                  "priority": priority, "type": kind, "logging": "Enabled"}
    return {"resourceId": name, "properties": {k: v for k, v in properties.items() if v is not None}}


def deny_rest(first_priority: int = 4000) -> list[dict[str, Any]]:
    return [rule("DenyAllIn", "Inbound", "Deny", str(first_priority), "*", "*"),
            rule("DenyAllOut", "Outbound", "Deny", str(first_priority + 1), "*", "*")]


def within(prefix: str) -> list[dict[str, Any]]:
    """Allow only traffic inside the subnet: the shape VDC-SDN-014's remediation recommends."""
    return [rule("AllowSubnetIn", "Inbound", "Allow", "100", prefix, "*"),
            rule("AllowSubnetOut", "Outbound", "Allow", "101", "*", prefix)]


def snapshot(folder: Path, shape: str, prefix: str, acl_rules: list[dict[str, Any]] | None,
             vnet_space: str | None = None, configuration: dict[str, Any] | None = None,
             nic_acl_rules: list[dict[str, Any]] | None = None) -> Path:
    """One virtual network with one encrypted subnet `prefix` (its ACL: acl_rules; None: no ACL),
    one NIC in it (its own ACL: nic_acl_rules; None: none) on host hv01."""
    subnet: dict[str, Any] = {"resourceRef": "/virtualNetworks/vnet1/subnets/app", "resourceId": "app",
                              "properties": {"addressPrefix": prefix, "encryptionEnabled": True}}
    acls = []
    if acl_rules is not None:
        subnet["properties"]["accessControlList"] = {"resourceRef": "/accessControlLists/acl1"}
        acls.append({"resourceRef": "/accessControlLists/acl1", "resourceId": "acl1",
                     "properties": {"provisioningState": "Succeeded", "aclRules": acl_rules}})
    ipconfig: dict[str, Any] = {"privateIPAddress": prefix.split("/")[0],
                                "subnet": {"resourceRef": "/virtualNetworks/vnet1/subnets/app"}}
    if nic_acl_rules is not None:
        ipconfig["accessControlList"] = {"resourceRef": "/accessControlLists/nicacl"}
        acls.append({"resourceRef": "/accessControlLists/nicacl", "resourceId": "nicacl",
                     "properties": {"provisioningState": "Succeeded", "aclRules": nic_acl_rules}})
    collections = {
        "virtualNetworks": [{"resourceRef": "/virtualNetworks/vnet1", "resourceId": "vnet1", "properties": {
            "provisioningState": "Succeeded",
            "configurationState": configuration or {"status": "Success", "detailedInfo": []},
            "addressSpace": {"addressPrefixes": [vnet_space or prefix]},
            "encryptionCredential": {"resourceRef": "/credentials/enc"}, "subnets": [subnet]}}],
        "credentials": [{"resourceRef": "/credentials/enc", "resourceId": "enc",
                         "properties": {"provisioningState": "Succeeded", "type": "X509Certificate",
                                        "value": THUMBPRINT}}],
        "servers": [{"resourceRef": "/servers/hv01", "resourceId": "hv01", "properties": {
            "provisioningState": "Succeeded", "connections": [{"managementAddresses": ["hv01.contoso.local"]}]}}],
        "accessControlLists": acls,
        "networkInterfaces": [{"resourceRef": "/networkInterfaces/vm1-nic", "resourceId": "vm1-nic", "properties": {
            "provisioningState": "Succeeded", "server": {"resourceRef": "/servers/hv01"},
            "ipConfigurations": [{"resourceId": "ipconfig1", "properties": ipconfig}]}}],
    }
    folder.mkdir(parents=True)
    for name, entries in collections.items():
        document: Any = {"value": entries} if shape == "rest" else pascal(copy.deepcopy(entries))
        (folder / f"{name}.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return folder


def scan(tmp_path: Path, folder: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """Exit code of `vdcaudit sdn --snapshot DIR --fail-on high`, and its findings by rule id (for the
    subnet app, or the virtual network for VDC-SDN-010)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["sdn", "--snapshot", str(folder), "--format", "json", "--out", str(out),
                                      "--fail-on", "high", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    wanted = {"VDC-SDN-014": "virtualnetworks/vnet1/subnets/app", "VDC-SDN-010": "virtualnetworks/vnet1"}
    found = {f["rule_id"]: f for f in findings_in(out)
             if f["rule_id"] in wanted and f["resource_id"].lower().endswith(wanted[f["rule_id"]])}
    return result.exit_code, found


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind, named", [(None, "type None is"), ("Sideways", "type 'Sideways' is")])
def test_a_rule_without_a_readable_type_is_unknown_naming_it(tmp_path: Path, shape: str, kind: str | None,
                                                             named: str) -> None:
    # [MS-NCNBI] 3.1.5.1.2 aclRules: `type` (Inbound or Outbound) is Required. Without a readable
    # one, the rule below lets the subnet reach 0.0.0.0/0 if it is Outbound, and only the subnet in
    # if Inbound: read both ways, neither PASS nor FAIL follows.
    rules = within("10.10.1.0/24") + [rule("Untyped", kind, "Allow", "150", "10.10.1.0/24", "0.0.0.0/0")] + deny_rest()
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", rules, "10.10.0.0/16"))
    assert found["VDC-SDN-014"]["status"] == "UNKNOWN" and code == 0
    assert f"acl1/Untyped: {named} neither Inbound nor Outbound" in found["VDC-SDN-014"]["message"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_rule_without_protocol_or_prefix_is_unknown_naming_it(tmp_path: Path, shape: str) -> None:
    # [MS-NCNBI] 3.1.5.1.2: protocol and both address prefixes are Required; absent is not "*".
    rules = within("10.10.1.0/24") + [rule("NoProtocol", "Inbound", "Allow", "150", "10.20.0.0/16", "*", None),
                                      rule("NoSource", "Inbound", "Allow", "160", None, "*")] + deny_rest()
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", rules))
    message = found["VDC-SDN-014"]["message"]
    assert found["VDC-SDN-014"]["status"] == "UNKNOWN" and code == 0
    assert "acl1/NoProtocol: protocol is absent" in message and "acl1/NoSource: sourceAddressPrefix is absent" in message


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("prefix, remote, expected, code", [
    ("10.10.1.0/24", "::/0", "PASS", 0), ("fd00:10:1::/64", "0.0.0.0/0", "PASS", 0),
    ("fd00:10:1::/64", "::/0", "FAIL", 1), ("10.10.1.0/24", "0.0.0.0/0", "FAIL", 1)])
def test_only_a_remote_prefix_of_the_subnets_family_can_cross(tmp_path: Path, shape: str, prefix: str, remote: str,
                                                              expected: str, code: int) -> None:
    # [MS-NCNBI] 3.1.5.18.2 subnets: one addressPrefix; an IPv4 packet never comes from an IPv6
    # address. Allowing the other family's whole space in and out opens nothing; the own family's does.
    rules = within(prefix) + [rule("RemoteIn", "Inbound", "Allow", "150", remote, "*"),
                              rule("RemoteOut", "Outbound", "Allow", "151", "*", remote)] + deny_rest()
    exit_code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, prefix, rules))
    assert found["VDC-SDN-014"]["status"] == expected and exit_code == code, found["VDC-SDN-014"]["message"]
    assert ("acl1/RemoteIn (priority 150) allows inbound" in found["VDC-SDN-014"]["message"]) == (expected == "FAIL")


@pytest.mark.parametrize("shape", SHAPES)
def test_no_acl_anywhere_fails_on_the_documented_outbound_default(tmp_path: Path, shape: str) -> None:
    # Learn, "Configure Datacenter Firewall ACLs" (removing an ACL): "The default set of rules allows
    # all outbound traffic but blocks all inbound traffic."
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", None))
    message = found["VDC-SDN-014"]["message"]
    assert found["VDC-SDN-014"]["status"] == "FAIL" and code == 1
    assert "allow all outbound traffic (and block inbound)" in message and "to and from any address" not in message


@pytest.mark.parametrize("shape", SHAPES)
def test_an_empty_rule_list_is_unknown_not_pass(tmp_path: Path, shape: str) -> None:
    # [MS-NCNBI] 3.1.5.1 accessControlLists allows aclRules: []; no Microsoft page says what the
    # controller does with traffic no rule matches.
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", []))
    message = found["VDC-SDN-014"]["message"]
    assert found["VDC-SDN-014"]["status"] == "UNKNOWN" and code == 0
    assert "acl1 has no inbound rule" in message and "documents no default" in message


@pytest.mark.parametrize("shape", SHAPES)
def test_unmatched_traffic_without_a_closing_deny_warns(tmp_path: Path, shape: str) -> None:
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", within("10.10.1.0/24")))
    assert found["VDC-SDN-014"]["status"] == "WARN" and code == 0
    assert "end the ACL with explicit Deny rules" in found["VDC-SDN-014"]["message"]


@pytest.mark.parametrize("shape", SHAPES)
def test_in_subnet_rules_with_a_closing_deny_pass(tmp_path: Path, shape: str) -> None:
    rules = within("10.10.1.0/24") + deny_rest()
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", rules))
    assert found["VDC-SDN-014"]["status"] == "PASS" and code == 0


def allow_all_example() -> list[dict[str, Any]]:
    """Learn, "Use Access Control Lists (ACLs) to Manage Datacenter Network Traffic Flow", "Example:
    Create an ACL": AllowAll_Inbound (priority 100) and AllowAll_Outbound (priority 110)."""
    return [rule("AllowAll_Inbound", "Inbound", "Allow", "100", "*", "*"),
            rule("AllowAll_Outbound", "Outbound", "Allow", "110", "*", "*")]


def limit_subnet_example() -> list[dict[str, Any]]:
    """The same page, "Use ACLs to limit traffic on a subnet" (ACL Subnet-192-168-0-0, its table)."""
    return [rule("AllowRouter_Inbound", "Inbound", "Allow", "100", "192.168.0.1", "*"),
            rule("AllowRouter_Outbound", "Outbound", "Allow", "101", "*", "192.168.0.1"),
            rule("DenySubnet_Inbound", "Inbound", "Deny", "102", "192.168.0.0/24", "*"),
            rule("DenySubnet_Outbound", "Outbound", "Deny", "103", "*", "192.168.0.0/24"),
            rule("AllowAll_Inbound", "Inbound", "Allow", "104", "*", "*"),
            rule("AllowAll_Outbound", "Outbound", "Allow", "105", "*", "*")]


@pytest.mark.parametrize("shape", SHAPES)
def test_microsofts_allow_all_example_acl_fails_on_an_encrypted_subnet(tmp_path: Path, shape: str) -> None:
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "10.10.1.0/24", allow_all_example()))
    message = found["VDC-SDN-014"]["message"]
    assert found["VDC-SDN-014"]["status"] == "FAIL" and code == 1
    assert "acl1/AllowAll_Inbound (priority 100)" in message and "acl1/AllowAll_Outbound (priority 110)" in message


@pytest.mark.parametrize("shape", SHAPES)
def test_microsofts_limit_a_subnet_example_fails_where_it_allows_outside_traffic(tmp_path: Path, shape: str) -> None:
    # The example keeps VMs of 192.168.0.0/24 from talking to each other "while still allowing the
    # VMs to receive requests from outside of the subnet": exactly the unencrypted path.
    code, found = scan(tmp_path, snapshot(tmp_path / "snap", shape, "192.168.0.0/24", limit_subnet_example(),
                                          "192.168.0.0/16"))
    message = found["VDC-SDN-014"]["message"]
    assert found["VDC-SDN-014"]["status"] == "FAIL" and code == 1
    assert "acl1/AllowAll_Inbound (priority 104)" in message and "acl1/AllowRouter_Inbound" not in message


@pytest.mark.parametrize("shape", SHAPES)
def test_a_nic_acl_applies_with_the_subnet_acl(tmp_path: Path, shape: str) -> None:
    # Learn, "Configure Datacenter Firewall ACLs": with ACLs on the virtual subnet and the network
    # interface "both ACLs are applied": the NIC's allow-all cannot open what the subnet ACL closes.
    folder = snapshot(tmp_path / "snap", shape, "10.10.1.0/24", within("10.10.1.0/24") + deny_rest(),
                      nic_acl_rules=allow_all_example())
    code, found = scan(tmp_path, folder)
    assert found["VDC-SDN-014"]["status"] == "PASS" and code == 0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("status, expected, code", [
    ("Success", "PASS", 0), ("Uninitialized", "WARN", 0), ("InProgress", "WARN", 0), ("Warning", "WARN", 0),
    ("Failure", "FAIL", 0), ("Pending", "UNKNOWN", 0)])
def test_configuration_state_is_judged_as_microsofts_diagnostics_judge_it(tmp_path: Path, shape: str, status: str,
                                                                          expected: str, code: int) -> None:
    # microsoft/SdnDiagnostics, Test-SdnResourceConfigurationState (formerly
    # Test-ResourceConfigurationState): Failure fails; Warning, InProgress and Uninitialized warn.
    # VDC-SDN-010 is of medium severity, so `--fail-on high` passes whatever its verdict.
    folder = snapshot(tmp_path / "snap", shape, "10.10.1.0/24", within("10.10.1.0/24") + deny_rest(),
                      configuration={"status": status, "detailedInfo": []})
    exit_code, found = scan(tmp_path, folder)
    assert found["VDC-SDN-010"]["status"] == expected and exit_code == code, found["VDC-SDN-010"]["message"]
