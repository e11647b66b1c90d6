"""A read-only view of an SDN fabric in the inventory: references resolved, encrypted subnets, the
NICs in each subnet, the hosts those NICs run on, and each host's certificate inventory.

Network Controller references (`{"resourceRef": "/credentials/x"}`) are relative to one controller;
inventory ids are `sdn://<fabric><resourceRef>`, so a reference resolves within its own fabric.

Data is read through vdcaudit.armdata (names match case-insensitively, as the controller's do: the
REST body and a `Get-NetworkController* | ConvertTo-Json` dump print the same resource with
different case). A virtual network or NIC whose data is malformed (a string where an object
belongs) is recorded in `FabricView.malformed`: the checks give it ERROR naming it, and the rules
whose verdict it could change (the hosts of its subnets, say) give an ERROR naming it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vdcaudit.armdata import as_bool, objects, props
from vdcaudit.checks import shared_view
from vdcaudit.collectors.sdn.fabric import SOURCE, sdn_id
from vdcaudit.collectors.sdn.hostcerts import HOST_CERT_TYPE, looks_like_thumbprint, normalise_thumbprint
from vdcaudit.inventory import META, Inventory
from vdcaudit.model import CoverageRecord

VNET = "Microsoft.SDN/virtualNetworks"
CREDENTIAL = "Microsoft.SDN/credentials"
ACL = "Microsoft.SDN/accessControlLists"
NIC = "Microsoft.SDN/networkInterfaces"
SUBNET = "Microsoft.SDN/virtualNetworks/subnets"  # findings about one subnet (subnets live inside vnets)


def ref_of(value: Any) -> str | None:
    """The resourceRef of a reference object, or None when there is no reference."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"a reference is a {type(value).__name__}, not an object with a resourceRef")
    ref = value.get("resourceRef")
    return ref if isinstance(ref, str) and ref else None


def fabric_of(resource: dict[str, Any]) -> str:
    return resource["id"].split("://", 1)[-1].split("/", 1)[0]


@dataclass
class CredentialState:
    """What a virtual network's encryptionCredential leads to."""

    ref: str | None
    resource: dict[str, Any] | None
    problem: str | None  # why no usable thumbprint follows from it; None when it is fine
    thumbprint: str | None = None
    unreadable: bool = False  # the problem is missing data (UNKNOWN), not a misconfiguration (FAIL)


@dataclass
class Subnet:
    vnet: dict[str, Any]
    entry: dict[str, Any]
    ref: str
    name: str
    prefix: str | None
    encrypted: bool
    acl_ref: str | None
    nics: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (nic, ipConfiguration)

    @property
    def id(self) -> str:
        return sdn_id(fabric_of(self.vnet), self.ref)

    def as_resource(self) -> dict[str, Any]:
        """A stand-in resource for findings about this subnet (it is not an inventory entry)."""
        return {"id": self.id, "name": f"{self.vnet.get('name')}/{self.name}", "type": SUBNET,
                "properties": props(self.entry),
                META: {"source": SOURCE, **({"origin": self.vnet[META]["origin"]}
                                            if "origin" in self.vnet.get(META, {}) else {})}}


class FabricView:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._of_type: dict[str, list[dict[str, Any]]] = {}  # type (lower-case) -> the fabric's resources of it
        self.subnets: list[Subnet] = []
        self.malformed: dict[str, str] = {}  # resource id (lower-case) -> why its data cannot be read
        self._subnet_by_id: dict[str, Subnet] = {}
        for vnet in self.of_type(VNET):
            try:
                found = self._subnets_in(vnet)
            except TypeError as exc:
                self.malformed[vnet["id"].lower()] = str(exc)
                continue
            for subnet in found:
                self.subnets.append(subnet)
                self._subnet_by_id[subnet.id.lower()] = subnet
        for nic in self.of_type(NIC):
            try:
                targets = [(ipconfig, ref_of(props(ipconfig).get("subnet")))
                           for ipconfig in objects(props(nic).get("ipConfigurations"), "properties.ipConfigurations")]
                ref_of(props(nic).get("server"))
            except TypeError as exc:
                self.malformed[nic["id"].lower()] = str(exc)
                continue
            for ipconfig, target in targets:
                attached = self._subnet_by_id.get(sdn_id(fabric_of(nic), target).lower()) if target else None
                if attached is not None:
                    attached.nics.append((nic, ipconfig))
        self._by_vnet: dict[int, list[Subnet]] = {}
        for subnet in self.subnets:
            self._by_vnet.setdefault(id(subnet.vnet), []).append(subnet)
        self._encrypted_hosts: tuple[dict[str, list[Subnet]], list[tuple[dict[str, Any], Subnet, str]]] | None = None
        self._credentials: dict[int, CredentialState] = {}  # id(virtual network) -> its credential's state
        self._hosts: dict[tuple[str, str], dict[str, Any]] = {}
        for record in self.of_type(HOST_CERT_TYPE):
            self._hosts.setdefault((fabric_of(record), record["name"].lower()), record)

    @staticmethod
    def _subnets_in(vnet: dict[str, Any]) -> list[Subnet]:
        found = []
        for index, entry in enumerate(objects(props(vnet).get("subnets"), "properties.subnets")):
            sp = props(entry)
            name = str(entry.get("resourceId") or f"subnet{index}")
            ref = entry.get("resourceRef") or f"{vnet.get('resourceRef') or '/virtualNetworks/' + vnet['name']}/subnets/{name}"
            encrypted = sp.get("encryptionEnabled")
            found.append(Subnet(vnet=vnet, entry=entry, ref=ref, name=name, prefix=sp.get("addressPrefix"),
                                encrypted=as_bool(encrypted) is True, acl_ref=ref_of(sp.get("accessControlList"))))
        return found

    def readable(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The resource, or TypeError naming why its data could not be read (the checks give ERROR)."""
        reason = self.malformed.get(str(resource.get("id", "")).lower())
        if reason is not None:
            raise TypeError(reason)
        return resource

    def malformed_of(self, *types: str) -> list[tuple[dict[str, Any], str]]:
        """(resource, why) for the malformed resources of these types."""
        if not self.malformed:
            return []
        return [(resource, self.malformed[resource["id"].lower()]) for t in types for resource in self.of_type(t)
                if resource["id"].lower() in self.malformed]

    # -- lookups -------------------------------------------------------------------------------
    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        """The fabric's resources of one type (listed once per view; callers only read the list)."""
        kind = resource_type.lower()
        if kind not in self._of_type:
            self._of_type[kind] = [r for r in self.inventory.of_type(resource_type)
                                   if r.get(META, {}).get("source") == SOURCE]
        return self._of_type[kind]

    def resolve(self, origin: dict[str, Any], ref: str | None) -> dict[str, Any] | None:
        return self.inventory.get(sdn_id(fabric_of(origin), ref)) if ref else None

    def gap(self, resource_type: str) -> CoverageRecord | None:
        """The coverage record saying this type could not be read, if any."""
        return next((c for c in self.inventory.coverage
                     if c.source == SOURCE and c.resource_type and c.resource_type.lower() == resource_type.lower()), None)

    def subnets_of(self, vnet: dict[str, Any]) -> list[Subnet]:
        return self._by_vnet.get(id(vnet), [])

    def encrypted_subnets(self) -> list[Subnet]:
        return [s for s in self.subnets if s.encrypted]

    # -- credentials ---------------------------------------------------------------------------
    def credential_state(self, vnet: dict[str, Any]) -> CredentialState:
        """What the virtual network's credential leads to; worked out once per network (every host
        check asks for each subnet it runs). Malformed data raises TypeError each time."""
        state = self._credentials.get(id(vnet))
        if state is None:
            state = self._credentials[id(vnet)] = self._credential_state(vnet)
        return state

    def _credential_state(self, vnet: dict[str, Any]) -> CredentialState:
        ref = ref_of(props(vnet).get("encryptionCredential"))
        if ref is None:
            return CredentialState(None, None, "the virtual network has no encryptionCredential")
        credential = self.resolve(vnet, ref)
        if credential is None:
            gap = self.gap(CREDENTIAL)
            if gap is not None:
                return CredentialState(ref, None, f"credentials could not be read ({gap.reason})", unreadable=True)
            return CredentialState(ref, None, f"encryptionCredential {ref} does not resolve to a credential")
        cp = props(credential)
        kind = cp.get("type")
        if kind is None:
            return CredentialState(ref, credential, f"credential {ref} has no type in the data", unreadable=True)
        if str(kind).lower() != "x509certificate":
            return CredentialState(ref, credential, f"credential {ref} has type {kind}, not X509Certificate")
        value = cp.get("value")
        if value is None:
            return CredentialState(ref, credential, f"credential {ref} has no value in the data", unreadable=True)
        if not looks_like_thumbprint(value):
            return CredentialState(ref, credential, f"credential {ref} value {value!r} is not a certificate "
                                                    "thumbprint (40 hex digits)")
        return CredentialState(ref, credential, None, normalise_thumbprint(value))

    # -- hosts ---------------------------------------------------------------------------------
    def host_names(self, server: dict[str, Any]) -> list[str]:
        """Names a host inventory may be filed under: management addresses, then the resourceId."""
        names: list[str] = []
        for connection in objects(props(server).get("connections"), "properties.connections"):
            addresses = connection.get("managementAddresses") or []
            if not isinstance(addresses, list):
                raise TypeError("managementAddresses is not an array")
            names.extend(str(a) for a in addresses if a)
        names.append(server["name"])
        return list(dict.fromkeys(names))

    def host_inventory(self, server: dict[str, Any]) -> dict[str, Any] | None:
        fabric = fabric_of(server)
        for name in self.host_names(server):
            record = self._hosts.get((fabric, name.lower()))
            if record is not None:
                return record
        return None

    def server_of(self, nic: dict[str, Any]) -> dict[str, Any] | None:
        return self.resolve(nic, ref_of(props(nic).get("server")))

    def encrypted_hosts(self) -> tuple[dict[str, list[Subnet]], list[tuple[dict[str, Any], Subnet, str]]]:
        """Server id -> encrypted subnets it hosts NICs of; and NICs whose host is unknown (nic, subnet, why).
        Built once per scan (the host checks and the report section all ask); callers only read it."""
        if self._encrypted_hosts is None:
            self._encrypted_hosts = self._find_encrypted_hosts()
        return self._encrypted_hosts

    def _find_encrypted_hosts(self) -> tuple[dict[str, list[Subnet]], list[tuple[dict[str, Any], Subnet, str]]]:
        hosting: dict[str, list[Subnet]] = {}
        orphans: list[tuple[dict[str, Any], Subnet, str]] = []
        for subnet in self.encrypted_subnets():
            for nic, _ in subnet.nics:
                ref = ref_of(props(nic).get("server"))
                server = self.server_of(nic)
                if server is None:
                    why = (f"names server {ref}, which is not in the inventory" if ref
                           else "names no server (properties.server)")
                    orphans.append((nic, subnet, why))
                    continue
                subnets = hosting.setdefault(server["id"].lower(), [])
                if not any(known is subnet for known in subnets):  # identity: == would compare whole subnets
                    subnets.append(subnet)
        return hosting, orphans


def certificates(record: dict[str, Any], store: str) -> list[dict[str, Any]] | None:
    """The certificates of one store of a host record; None when that store was not listed."""
    stores = props(record).get("stores") or {}
    if not isinstance(stores, dict):
        raise TypeError("the host inventory's stores is not an object")
    value = stores.get(store)
    return value if isinstance(value, list) else None


@shared_view
def fabric_view(inventory: Inventory) -> FabricView:
    """The SDN fabric of the inventory, built once and shared by the SDN checks and the report section."""
    return inventory.derived("sdn-fabric", FabricView)
