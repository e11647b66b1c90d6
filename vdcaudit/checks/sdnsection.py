"""The report's SDN section: per virtual network, its subnets (encrypted or not), the credential,
the certificate status of each host that runs its encrypted subnets, and the boundary findings;
an at-a-glance picture of where traffic is and is not encrypted. Rendered by
reports/templates/_section_sdn.html.j2 and included as-is in the JSON report."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from vdcaudit.armdata import dig, props
from vdcaudit.checks.sdnfabric import VNET, CredentialState, fabric_view
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.sections import register_section

HOST_RULES = ("VDC-SDN-003", "VDC-SDN-004", "VDC-SDN-005", "VDC-SDN-006", "VDC-SDN-007", "VDC-SDN-008")
BOUNDARY_RULES = ("VDC-SDN-014", "VDC-SDN-015")
_ORDER = [Status.ERROR, Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS]


def _summary(findings: list[Finding]) -> dict[str, Any]:
    if not findings:
        return {"status": None, "problems": []}
    worst = min((f.status for f in findings), key=_ORDER.index)
    problems = [{"rule_id": f.rule_id, "status": f.status.value, "message": f.message}
                for f in sorted(findings, key=lambda f: (_ORDER.index(f.status), f.rule_id)) if f.status is not Status.PASS]
    return {"status": worst.value, "problems": problems}


@register_section("sdn")
def sdn_section(inventory: Inventory, findings: list[Finding]) -> dict[str, Any] | None:
    view = fabric_view(inventory)
    vnets = view.of_type(VNET)
    gaps = [c.to_dict() for c in inventory.coverage if c.source == "sdn"]
    if not vnets and not gaps:
        return None  # no SDN source in this scan
    by_resource: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.rule_id.startswith("VDC-SDN-"):
            by_resource[(finding.resource_id.lower(), finding.rule_id)].append(finding)

    def about(resource_id: str, rules: tuple[str, ...]) -> list[Finding]:
        return [f for rule in rules for f in by_resource.get((resource_id.lower(), rule), [])]

    hosting, _ = view.encrypted_hosts()
    networks = []
    for vnet in sorted(vnets, key=lambda v: v["id"].lower()):
        malformed = view.malformed.get(vnet["id"].lower())
        try:
            state = view.credential_state(vnet) if malformed is None else CredentialState(None, None, malformed)
        except TypeError as exc:  # the credential's data is malformed; its findings say ERROR
            state = CredentialState(None, None, f"malformed credential data: {exc}")
        subnets = []
        host_ids: list[str] = []
        for subnet in view.subnets_of(vnet):
            hosts = []
            for nic, _ in subnet.nics:
                server = view.server_of(nic)
                if server is not None and server["id"] not in hosts:
                    hosts.append(server["id"])
            if subnet.encrypted:
                host_ids.extend(h for h in hosts if h not in host_ids)
            subnets.append({
                "name": subnet.name, "prefix": subnet.prefix, "encrypted": subnet.encrypted,
                "acl": subnet.acl_ref, "nics": [nic["name"] for nic, _ in subnet.nics],
                "hosts": [inventory.get(h)["name"] for h in hosts],  # type: ignore[index]
                "boundary": _summary(about(subnet.id, BOUNDARY_RULES)) if subnet.encrypted else None,
            })
        hosts_out = []
        for host_id in host_ids:
            server = inventory.get(host_id)
            if server is None:  # host_ids were read from this inventory
                raise KeyError(f"host {host_id} is not in the inventory")
            try:
                record = view.host_inventory(server)
            except TypeError:
                record = None  # the server's data is malformed; its certificate findings say ERROR
            hosts_out.append({"name": server["name"], "inventory": props(record).get("format") if record else None,
                              **_summary(about(host_id, HOST_RULES))})
        try:
            address_space = dig(vnet, "properties.addressSpace.addressPrefixes")
        except TypeError:
            address_space = None  # malformed: the network's findings say ERROR
        networks.append({
            "name": vnet["name"], "id": vnet["id"],
            "address_space": address_space,
            "credential": {"ref": state.ref, "thumbprint": state.thumbprint, "problem": state.problem},
            "encrypted_subnets": sum(1 for s in subnets if s["encrypted"]), "subnets": subnets, "hosts": hosts_out,
            "findings": _summary(about(vnet["id"], tuple(f"VDC-SDN-{n:03d}" for n in (1, 2, 10, 13, 16)))),
        })
    return {"virtual_networks": networks, "coverage": gaps,
            "hosts_inventoried": len(view.of_type("Microsoft.SDN/hostCertificates")),
            "hosts_with_encrypted_subnets": len(hosting)}
