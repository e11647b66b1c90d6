"""Synthetic SDN fabric for `vdcaudit sdn --snapshot`, and its timing.

The fabric is a snapshot folder in the Network Controller REST shape ({"value": [...]} per
collection, hosts/NAME.json certificate inventories). At scale 1: 200 hosts, 50 virtual networks,
400 subnets (8 per network, 6 of them encrypted), 20,000 NICs (50 per subnet, half with a NIC ACL of
their own; 4 hosts per network), 400 ACLs (one per subnet) of --rules rules each: allow inside the subnet, a few allows
from the virtual network and the corporate range, denies, and padding rules of the kind ACLs grow
(one port opened per rule), ending with deny-all both ways.

    python benchmarks/sdn_fabric.py --scale 1 --rules 20 --out /tmp/sdn-1x
    python benchmarks/sdn_fabric.py --scale 4 --rules 20 --out /tmp/sdn-4x --runs 3

With --runs N the script then runs `python -m vdcaudit sdn --snapshot DIR --format json` N times
under /usr/bin/time -v and prints min and median of wall seconds, CPU seconds (user + system) and
peak RSS (MiB), with the load average at each start (the machine may be shared). --root TREE...
times other source trees too (an earlier version unpacked with `git archive`), alternating runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EKUS = [{"FriendlyName": "Server Authentication", "ObjectId": "1.3.6.1.5.5.7.3.1"},
        {"FriendlyName": "Client Authentication", "ObjectId": "1.3.6.1.5.5.7.3.2"}]


def _ref(path: str) -> dict[str, str]:
    return {"resourceRef": path}


def _state() -> dict[str, Any]:
    return {"provisioningState": "Succeeded",
            "configurationState": {"status": "Success", "detailedInfo": [], "lastUpdatedTime": "2026-01-10T08:00:00Z"}}


def _thumbprint(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest().upper()


def _rule(name: str, kind: str, action: str, priority: int, source: str, destination: str,
          protocol: str = "All", port: str = "0-65535") -> dict[str, Any]:
    return {"resourceRef": name, "resourceId": name.rsplit("/", 1)[-1],
            "properties": {"protocol": protocol, "sourcePortRange": "0-65535", "destinationPortRange": port,
                           "action": action, "sourceAddressPrefix": source, "destinationAddressPrefix": destination,
                           "priority": str(priority), "type": kind, "logging": "Disabled"}}


def acl(name: str, subnet: str, vnet_space: str, rules: int) -> dict[str, Any]:
    """An ACL of `rules` rules (at least 8) guarding `subnet`."""
    base = f"/accessControlLists/{name}/aclRules"
    fixed = [
        _rule(f"{base}/AllowSubnetIn", "Inbound", "Allow", 100, subnet, "*"),
        _rule(f"{base}/AllowSubnetOut", "Outbound", "Allow", 101, "*", subnet),
        _rule(f"{base}/AllowHttpsFromVnet", "Inbound", "Allow", 110, vnet_space, "*", "TCP", "443"),
        _rule(f"{base}/DenyRdpFromCorp", "Inbound", "Deny", 120, "172.16.0.0/12", "*", "TCP", "3389"),
        _rule(f"{base}/AllowDnsOut", "Outbound", "Allow", 130, "*", "10.255.0.10", "UDP", "53"),
        _rule(f"{base}/DenyInternetOut", "Outbound", "Deny", 140, "*", "Internet"),
    ]
    padding = [_rule(f"{base}/AllowApp{i}", "Inbound" if i % 2 else "Outbound", "Allow", 200 + i,
                     "172.16.0.0/12" if i % 2 else "*", "*" if i % 2 else "172.16.0.0/12", "TCP", str(8000 + i))
               for i in range(max(rules - len(fixed) - 2, 0))]
    closing = [_rule(f"{base}/DenyAllIn", "Inbound", "Deny", 4000, "*", "*"),
               _rule(f"{base}/DenyAllOut", "Outbound", "Deny", 4001, "*", "*")]
    return {"resourceRef": f"/accessControlLists/{name}", "resourceId": name,
            "properties": {**_state(), "aclRules": fixed + padding + closing}}


def generate(out: Path, scale: int, rules: int) -> dict[str, int]:
    hosts, vnets_n, subnets_per_vnet, nics_per_subnet = 200 * scale, 50 * scale, 8, 50
    out.mkdir(parents=True, exist_ok=True)
    (out / "hosts").mkdir(exist_ok=True)
    credentials, vnets, acls, nics = [], [], [], []
    servers = [{"resourceRef": f"/servers/hv{h:04d}", "resourceId": f"hv{h:04d}",
                "properties": {**_state(), "connections": [{"managementAddresses": [f"hv{h:04d}.contoso.local"],
                                                             "credentialType": "UsernamePassword"}]}}
               for h in range(hosts)]
    thumbprints = []
    nic_index = 0
    for v in range(vnets_n):
        space = f"10.{v // 4}.{(v % 4) * 64}.0/18"  # 4 networks per /16: up to 1,024 networks
        third = (v % 4) * 64
        credential = f"vnet{v:04d}-cert"
        thumbprint = _thumbprint(credential)
        thumbprints.append(thumbprint)
        credentials.append({"resourceRef": f"/credentials/{credential}", "resourceId": credential,
                            "properties": {"provisioningState": "Succeeded", "type": "X509Certificate",
                                           "value": thumbprint}})
        subnets = []
        for s in range(subnets_per_vnet):
            prefix = f"10.{v // 4}.{third + s}.0/24"
            subnet_name = f"subnet{s}"
            acl_name = f"acl-v{v:04d}-s{s}"
            acls.append(acl(acl_name, prefix, space, rules))
            subnet_ref = f"/virtualNetworks/vnet{v:04d}/subnets/{subnet_name}"
            subnets.append({"resourceRef": subnet_ref, "resourceId": subnet_name,
                            "properties": {"provisioningState": "Succeeded", "addressPrefix": prefix,
                                           "encryptionEnabled": s < 6,
                                           "accessControlList": _ref(f"/accessControlLists/{acl_name}")}})
            for n in range(nics_per_subnet):
                ipconfig: dict[str, Any] = {"privateIPAddress": f"10.{v // 4}.{third + s}.{n + 4}",
                                            "privateIPAllocationMethod": "Static", "subnet": _ref(subnet_ref)}
                if n % 2:  # half the NICs carry the neighbouring subnet's ACL as their own
                    ipconfig["accessControlList"] = _ref(f"/accessControlLists/acl-v{v:04d}-s{(s + 1) % subnets_per_vnet}")
                name = f"nic{nic_index:06d}"
                nics.append({"resourceRef": f"/networkInterfaces/{name}", "resourceId": name,
                             "properties": {**_state(), "server": _ref(f"/servers/hv{(v * 4 + n % 4) % hosts:04d}"),
                                            "ipConfigurations": [{"resourceRef": f"/networkInterfaces/{name}/ipConfigurations/ipconfig1",
                                                                  "resourceId": "ipconfig1", "properties": ipconfig}]}})
                nic_index += 1
        vnets.append({"resourceRef": f"/virtualNetworks/vnet{v:04d}", "resourceId": f"vnet{v:04d}",
                      "properties": {**_state(), "addressSpace": {"addressPrefixes": [space]},
                                     "encryptionCredential": _ref(f"/credentials/{credential}"), "subnets": subnets}})
    meta = {"x_vdcaudit": {"fabric": "nc.bench.local"}}
    for name, value in (("virtualNetworks", vnets), ("credentials", credentials), ("servers", servers),
                        ("accessControlLists", acls), ("networkInterfaces", nics)):
        (out / f"{name}.json").write_text(json.dumps({"value": value, **meta}))
    for h in range(hosts):  # host h runs NICs of network h // 4 (4 hosts per network)
        certificate = {"Thumbprint": thumbprints[h // 4], "Subject": f"CN=SDN Encryption {h // 4}",
                       "Issuer": "CN=Contoso Issuing CA", "NotBefore": "2025-01-01T00:00:00+00:00",
                       "NotAfter": "2036-01-01T00:00:00+00:00", "HasPrivateKey": True, "EnhancedKeyUsageList": EKUS}
        (out / "hosts" / f"hv{h:04d}.contoso.local.json").write_text(json.dumps(
            {"vdcauditHostInventory": 1, "computerName": f"HV{h:04d}", "collected": "2026-01-01T00:00:00Z",
             "stores": {"My": [certificate], "Root": []}}))
    return {"hosts": hosts, "virtual networks": vnets_n, "subnets": len(acls), "NICs": len(nics),
            "ACLs": len(acls), "rules per ACL": len(acls[0]["properties"]["aclRules"])}


def _timed_run(snapshot: Path, out: Path, root: Path) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds (user + system, the command and its worker), peak RSS MiB, exit
    code) of one `vdcaudit sdn` run from the source tree `root`, from /usr/bin/time -v."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "vdcaudit", "sdn", "--snapshot", str(snapshot),
               "--format", "json", "--out", str(out), "--quiet"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr) for kind in ("User", "System")]
    if not wall or not rss or not all(cpu):
        raise SystemExit(f"could not read /usr/bin/time output:\n{done.stderr[-2000:]}")
    hours, minutes, seconds = int(wall.group(1) or 0), int(wall.group(2)), float(wall.group(3))
    return (hours * 3600 + minutes * 60 + seconds, sum(float(m.group(1)) for m in cpu if m),
            int(rss.group(1)) / 1024, done.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rules", type=int, default=20, help="rules per ACL (at least 8)")
    parser.add_argument("--out", type=Path, required=True, help="snapshot folder to write")
    parser.add_argument("--runs", type=int, default=0, help="time this many `vdcaudit sdn` runs")
    parser.add_argument("--root", type=Path, nargs="+", default=[ROOT], metavar="TREE",
                        help="time vdcaudit from these source trees (another version, to compare); with "
                             "several, their runs alternate")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.scale, args.rules)))
    if args.runs:
        with tempfile.TemporaryDirectory() as reports:
            runs: dict[Path, list[tuple[float, float, float, int]]] = {root: [] for root in args.root}
            loads = []
            for _ in range(args.runs):
                for root in args.root:
                    loads.append(os.getloadavg()[0])
                    runs[root].append(_timed_run(args.out, Path(reports), root))
        print(f"load average at each start: {min(loads):.1f} to {max(loads):.1f} ({os.cpu_count()} cores)")
        for root, timed in runs.items():
            walls, cpus, peaks = ([r[i] for r in timed] for i in range(3))
            print(f"{root}: exit codes {sorted({r[3] for r in timed})}; wall s min {min(walls):.2f} median "
                  f"{statistics.median(walls):.2f}; CPU s min {min(cpus):.2f} median {statistics.median(cpus):.2f}; "
                  f"peak RSS MiB min {min(peaks):.0f} median {statistics.median(peaks):.0f}")


if __name__ == "__main__":
    main()
