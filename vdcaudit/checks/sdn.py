"""On-premises SDN virtual network encryption (rules VDC-SDN-0xx).

DTLS between Hyper-V hosts works only when an encrypted subnet's virtual network names an
X509Certificate credential whose value is the thumbprint of a certificate installed (with its
private key, Server and Client Authentication EKUs, trusted) on every host that runs a NIC of that
subnet. These checks follow that chain; missing data gives UNKNOWN, never PASS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from vdcaudit.armdata import dig, props
from vdcaudit.checks import ResourceJudge, judge_each, register
from vdcaudit.checks import sdnacl
from vdcaudit.checks.sdnfabric import (ACL, CREDENTIAL, NIC, VNET, FabricView, Subnet, certificates, fabric_view,
                                       ref_of)
from vdcaudit.collectors.sdn.hostcerts import CLIENT_AUTH, SERVER_AUTH
from vdcaudit.context import ScanContext
from vdcaudit.findings import finding_for, scope_finding
from vdcaudit.inventory import Inventory
from vdcaudit.model import Finding, Status
from vdcaudit.rulepack import Rule
from vdcaudit.timestamps import parse_datetime

DEFAULT_CERT_WARN_DAYS = 30
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_HASHES = {"sha1", "md5", "md2", "md4"}
# Worst first: a host with two required certificates reports the worse of the two verdicts.
WORST = [Status.ERROR, Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS]


def _worst(statuses: list[Status]) -> Status:
    return min(statuses, key=WORST.index)


def _gap_findings(rule: Rule, view: FabricView, *types: str) -> list[Finding]:
    """UNKNOWN for data the rule depends on that could not be read, when the engine's own coverage
    findings (which follow the rule's resource type) would not already say so; and ERROR for each
    resource of those types whose data is malformed, since what it holds could change this rule's
    verdicts (an unreadable NIC may run on a host that lacks the certificate)."""
    found = []
    for resource_type in types:
        gap = view.gap(resource_type)
        if gap is not None and resource_type.lower() != rule.resource_type.lower():
            found.append(scope_finding(rule, gap.scope, Status.UNKNOWN,
                                       f"cannot assess: {resource_type} could not be read ({gap.reason})", "sdn"))
        for resource, why in view.malformed_of(resource_type):
            if resource_type.lower() != rule.resource_type.lower():
                found.append(finding_for(rule, resource, Status.ERROR,
                                         f"cannot judge what depends on this resource: TypeError: {why}"))
    return found


def _each(rule: Rule, inventory: Inventory, context: ScanContext, resources: list[dict[str, Any]],
          judge: ResourceJudge) -> Iterator[Finding]:
    """Judge the fabric's resources one by one: a malformed one gets ERROR naming it (see judge_each)."""
    view = fabric_view(inventory)

    def checked(rule: Rule, resource: dict[str, Any], inventory: Inventory, context: ScanContext) -> Any:
        return judge(rule, view.readable(resource), inventory, context)
    return judge_each(rule, inventory, context, checked, resources)


# -- virtual networks and credentials -----------------------------------------------------------

def _vnet_check(name: str) -> Callable[[ResourceJudge], ResourceJudge]:
    """Register a check judging each SDN virtual network on its own."""
    def decorate(judge: ResourceJudge) -> ResourceJudge:
        register(name)(lambda rule, inventory, context: _each(
            rule, inventory, context, fabric_view(inventory).of_type(VNET), judge))
        return judge
    return decorate


@_vnet_check("sdn_encrypted_subnet_credential")
def encrypted_subnet_credential(rule: Rule, vnet: dict[str, Any], inventory: Inventory,
                                context: ScanContext) -> Finding | None:
    encrypted = [s.name for s in fabric_view(inventory).subnets_of(vnet) if s.encrypted]
    if not encrypted:
        return None
    ref = ref_of(props(vnet).get("encryptionCredential"))
    evidence = {"encrypted subnets": encrypted, "properties.encryptionCredential": ref}
    if ref is None:
        return finding_for(rule, vnet, Status.FAIL,
                           f"Subnets {', '.join(encrypted)} are marked encryptionEnabled but the virtual network "
                           "has no encryptionCredential: their traffic is not encrypted", evidence)
    return finding_for(rule, vnet, Status.PASS, f"Encrypted subnets use credential {ref}", evidence)


@_vnet_check("sdn_encryption_credential_valid")
def encryption_credential_valid(rule: Rule, vnet: dict[str, Any], inventory: Inventory,
                                context: ScanContext) -> Finding | None:
    state = fabric_view(inventory).credential_state(vnet)
    if state.ref is None:
        return None  # no credential: VDC-SDN-001 (encrypted subnets) or nothing to check
    cp = props(state.resource or {})
    evidence = {"properties.encryptionCredential": state.ref, "credential.type": cp.get("type"),
                "credential.value": cp.get("value") if state.resource else None}
    if state.problem is None:
        return finding_for(rule, vnet, Status.PASS,
                           f"{state.ref} is an X509Certificate credential with thumbprint {state.thumbprint}", evidence)
    status = Status.UNKNOWN if state.unreadable else Status.FAIL
    return finding_for(rule, vnet, status, ("cannot assess: " if state.unreadable else "") + state.problem, evidence)


@_vnet_check("sdn_credential_without_encrypted_subnet")
def credential_without_encrypted_subnet(rule: Rule, vnet: dict[str, Any], inventory: Inventory,
                                        context: ScanContext) -> Finding | None:
    ref = ref_of(props(vnet).get("encryptionCredential"))
    if ref is None:
        return None
    subnets = fabric_view(inventory).subnets_of(vnet)
    encrypted = [s.name for s in subnets if s.encrypted]
    evidence = {"properties.encryptionCredential": ref, "subnets": [s.name for s in subnets],
                "encrypted subnets": encrypted}
    if encrypted:
        return finding_for(rule, vnet, Status.PASS, f"Credential {ref} is used by {', '.join(encrypted)}", evidence)
    return finding_for(rule, vnet, Status.WARN,
                       f"The virtual network has encryption credential {ref} but no subnet with "
                       "encryptionEnabled: none of its traffic is encrypted", evidence)


@_vnet_check("sdn_inconsistent_subnets")
def inconsistent_subnets(rule: Rule, vnet: dict[str, Any], inventory: Inventory,
                         context: ScanContext) -> Finding | None:
    subnets = fabric_view(inventory).subnets_of(vnet)
    encrypted = [s.name for s in subnets if s.encrypted]
    if not encrypted:
        return None
    plain = [s.name for s in subnets if not s.encrypted]
    evidence = {"encrypted subnets": encrypted, "unencrypted subnets": plain}
    if plain:
        return finding_for(rule, vnet, Status.WARN,
                           f"Mixed posture: {', '.join(encrypted)} encrypted, {', '.join(plain)} not; traffic "
                           "between them, and inside the unencrypted ones, is sent in clear", evidence)
    return finding_for(rule, vnet, Status.PASS, "Every subnet of the virtual network is encrypted", evidence)


@register("sdn_health")
def health(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    return _each(rule, inventory, context, fabric_view(inventory).of_type(rule.resource_type), _health)


# provisioningState and configurationState.status judged as Microsoft's own diagnostics judge them
# (microsoft/SdnDiagnostics, src/modules/SdnDiag.Health.psm1: Test-SdnResourceProvisioningState fails
# Failed and warns on Updating; Test-SdnResourceConfigurationState, formerly
# Test-ResourceConfigurationState, skips configurationState unless provisioningState is Succeeded,
# fails Failure, warns on Warning, InProgress and Uninitialized, except Uninitialized on a resource
# whose state is Redundant, which it passes). Values neither names (none in [MS-NCNBI]) are UNKNOWN
# here: that tool lets them pass silently, an audit cannot.
PROVISIONING = {"succeeded": Status.PASS, "failed": Status.FAIL, "updating": Status.WARN, "deleting": Status.WARN}
CONFIGURATION = {"success": Status.PASS, "failure": Status.FAIL, "warning": Status.WARN,
                 "inprogress": Status.WARN, "uninitialized": Status.WARN}


_ABSENT = object()


def _property_or_top(resource: dict[str, Any], p: dict[str, Any], name: str) -> Any:
    """properties.<name>, else <name> at the top of the resource (read only when needed: looking up
    an absent name costs several times a present one, and a fabric has 80,000 NICs)."""
    found = p.get(name, _ABSENT)
    return resource.get(name) if found is _ABSENT else found


def _health(rule: Rule, resource: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
    """provisioningState Succeeded and configurationState.status Success: otherwise the controller
    has not (fully) pushed the configuration to the hosts, whatever the resource says."""
    p = props(resource)
    provisioning, configuration = (_property_or_top(resource, p, name)
                                   for name in ("provisioningState", "configurationState"))
    status_text = configuration.get("status") if isinstance(configuration, dict) else None
    details = [d for d in (configuration.get("detailedInfo") or [])
               if isinstance(d, dict)] if isinstance(configuration, dict) else []
    evidence = {"properties.provisioningState": provisioning,
                "properties.configurationState.status": status_text,
                "properties.configurationState.detailedInfo": details or None}
    if provisioning is None:
        return finding_for(rule, resource, Status.UNKNOWN,
                           "cannot assess: properties.provisioningState absent from the resource data", evidence)
    info = "; ".join(f"{d.get('code') or d.get('source') or 'detail'}: {d.get('message')}" for d in details)
    suffix = f" ({info})" if info else ""
    provisioned = PROVISIONING.get(str(provisioning).strip().lower())
    if provisioned is None:
        return finding_for(rule, resource, Status.UNKNOWN,
                           f"cannot assess: provisioningState {provisioning!r} is not a value Microsoft documents "
                           "(Succeeded, Updating, Deleting, Failed)", evidence)
    if provisioned is not Status.PASS:
        # Microsoft's diagnostics do not read configurationState until provisioning has succeeded.
        return finding_for(rule, resource, provisioned, f"provisioningState is {provisioning}" + suffix, evidence)
    if status_text is None:
        return finding_for(rule, resource, Status.PASS, "Provisioned (no configurationState reported)", evidence)
    key = str(status_text).strip().lower()
    if key == "uninitialized" and str(p.get("state") or "").strip().lower() == "redundant":
        return finding_for(rule, resource, Status.PASS,
                           "Provisioned; configurationState Uninitialized on a Redundant resource, as expected",
                           evidence)
    configured = CONFIGURATION.get(key)
    if configured is None:
        return finding_for(rule, resource, Status.UNKNOWN,
                           f"cannot assess: configurationState {status_text!r} is not a value Microsoft's diagnostics "
                           "judge (Success, Failure, Warning, InProgress, Uninitialized)", evidence)
    if configured is Status.PASS:
        return finding_for(rule, resource, Status.PASS, "Provisioned and configured", evidence)
    why = {"uninitialized": ": the controller has not yet pushed the configuration to the hosts",
           "inprogress": ": the controller is still pushing the configuration"}.get(key, "")
    return finding_for(rule, resource, configured, f"configurationState is {status_text}{why}" + suffix, evidence)


# -- host certificates --------------------------------------------------------------------------

CertVerdict = tuple[Status, str]
CertJudge = Callable[[dict[str, Any], dict[str, Any], ScanContext], CertVerdict]


def _host_findings(rule: Rule, inventory: Inventory, context: ScanContext, judge: CertJudge,
                   missing_cert: Status = Status.UNKNOWN) -> Iterator[Finding]:
    """For every server that runs a NIC of an encrypted subnet: find the certificate each of its
    encrypted subnets needs in the host's LocalMachine\\My store and let `judge` decide on it.
    Each host is judged on its own: one whose data breaks the judge gets ERROR naming it."""
    view = fabric_view(inventory)
    yield from _gap_findings(rule, view, NIC, VNET, CREDENTIAL)
    hosting, orphans = view.encrypted_hosts()
    for nic, subnet, why in orphans:
        yield finding_for(rule, nic, Status.UNKNOWN,
                          f"cannot assess: NIC {nic['name']} in encrypted subnet {subnet.vnet['name']}/{subnet.name} "
                          f"{why}, so its host's certificate cannot be checked", {"properties.server": why})
    servers = [inventory.get(server_id) for server_id in hosting]

    def host(rule: Rule, server: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding | None:
        return _host_finding(rule, view, server, hosting[server["id"].lower()], context, judge, missing_cert)
    yield from _each(rule, inventory, context, [s for s in servers if s is not None], host)


def _host_finding(rule: Rule, view: FabricView, server: dict[str, Any], subnets: list[Subnet],
                  context: ScanContext, judge: CertJudge, missing_cert: Status) -> Finding | None:
    # Messages name the host as the report's tables do (the server's resourceId); the inventory file
    # may be filed under any of its management addresses too.
    name = server["name"]
    names = view.host_names(server)
    record = view.host_inventory(server)
    evidence: dict[str, Any] = {"host": name, "encrypted subnets": [f"{s.vnet['name']}/{s.name}" for s in subnets]}
    if record is None:
        return finding_for(rule, server, Status.UNKNOWN,
                           f"cannot assess: no certificate inventory for host {name} (expected hosts/NAME.json, "
                           f"NAME one of {', '.join(names)}; see scripts/Get-VdcHostCertificates.ps1)", evidence)
    personal = certificates(record, "My") or []
    verdicts: list[CertVerdict] = []
    seen: set[str] = set()
    for subnet in subnets:
        state = view.credential_state(subnet.vnet)
        if state.ref is None:
            continue  # no credential at all: nothing is encrypted there (VDC-SDN-001 fails the vnet)
        if state.thumbprint is None:
            verdicts.append((Status.UNKNOWN, f"the certificate subnet {subnet.vnet['name']}/{subnet.name} needs "
                                             f"is unknown: {state.problem}"))
            continue
        if state.thumbprint in seen:
            continue
        seen.add(state.thumbprint)
        cert = next((c for c in personal if str(c.get("thumbprint", "")).upper() == state.thumbprint), None)
        evidence.setdefault("thumbprints", []).append(state.thumbprint)
        if cert is None:
            verdicts.append((missing_cert, f"host {name} has no certificate {state.thumbprint} "
                                           f"(credential {state.ref}) in LocalMachine\\My"))
            continue
        evidence.setdefault("certificates", []).append(
            {k: cert.get(k) for k in ("thumbprint", "subject", "notAfter", "hasPrivateKey", "enhancedKeyUsage",
                                      "keyAlgorithm", "keySize", "signatureHash") if k in cert})
        verdicts.append(judge(cert, record, context))
    if not verdicts:
        return None
    status = _worst([v[0] for v in verdicts])
    message = "; ".join(text for st, text in verdicts if st is status)
    return finding_for(rule, server, status, message, evidence)


@register("sdn_host_certificate_present")
def host_certificate_present(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context,
                              lambda cert, record, ctx: (Status.PASS, f"certificate {cert['thumbprint']} is installed"),
                              missing_cert=Status.FAIL)


def _validity(cert: dict[str, Any], record: dict[str, Any], context: ScanContext) -> CertVerdict:
    tp = cert["thumbprint"]
    if not cert.get("notBefore") or not cert.get("notAfter"):
        why = cert.get("dateProblem") or "NotBefore/NotAfter absent from the inventory"
        return Status.UNKNOWN, f"certificate {tp}: {why}"
    not_before = parse_datetime(cert["notBefore"], naive="utc")
    not_after = parse_datetime(cert["notAfter"], naive="utc")
    days = int(context.options.get("cert_warn_days", DEFAULT_CERT_WARN_DAYS) or 0)
    if context.now < not_before:
        return Status.FAIL, f"certificate {tp} is not valid before {cert['notBefore']}"
    if context.now >= not_after:
        return Status.FAIL, f"certificate {tp} expired on {cert['notAfter']}"
    left = not_after - context.now
    if left <= timedelta(days=days):
        return Status.WARN, f"certificate {tp} expires in {left.days} day(s), on {cert['notAfter']} (warning at {days})"
    return Status.PASS, f"certificate {tp} is valid until {cert['notAfter']}"


@register("sdn_host_certificate_validity")
def host_certificate_validity(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context, _validity)


def _private_key(cert: dict[str, Any], record: dict[str, Any], context: ScanContext) -> CertVerdict:
    has_key = cert.get("hasPrivateKey")
    if has_key is None:
        return Status.UNKNOWN, f"certificate {cert['thumbprint']}: HasPrivateKey not in the inventory"
    if has_key:
        return Status.PASS, f"certificate {cert['thumbprint']} has its private key"
    return Status.FAIL, f"certificate {cert['thumbprint']} has no private key on the host: DTLS cannot use it"


@register("sdn_host_certificate_private_key")
def host_certificate_private_key(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context, _private_key)


def _eku(cert: dict[str, Any], record: dict[str, Any], context: ScanContext) -> CertVerdict:
    eku = cert.get("enhancedKeyUsage")
    if eku is None:
        return Status.UNKNOWN, f"certificate {cert['thumbprint']}: EnhancedKeyUsageList not in the inventory"
    missing = [name for oid, name in ((SERVER_AUTH, "Server Authentication"), (CLIENT_AUTH, "Client Authentication"))
               if oid not in eku]
    if missing:
        return Status.FAIL, (f"certificate {cert['thumbprint']} lacks the {' and '.join(missing)} enhanced key "
                             f"usage (has: {', '.join(eku) or 'none'})")
    return Status.PASS, f"certificate {cert['thumbprint']} has Server and Client Authentication EKUs"


@register("sdn_host_certificate_eku")
def host_certificate_eku(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context, _eku)


def _strength(cert: dict[str, Any], record: dict[str, Any], context: ScanContext) -> CertVerdict:
    tp = cert["thumbprint"]
    if not cert.get("rawParsed"):
        return Status.UNKNOWN, (f"certificate {tp}: key size and signature need the raw certificate "
                                "(collect with scripts/Get-VdcHostCertificates.ps1, or add the .cer file)")
    problems = []
    algorithm, size = cert.get("keyAlgorithm"), cert.get("keySize")
    if algorithm == "RSA" and (size or 0) < MIN_RSA_BITS:
        problems.append(f"RSA key of {size} bits (minimum {MIN_RSA_BITS})")
    if algorithm == "EC" and (size or 0) < MIN_EC_BITS:
        problems.append(f"EC key of {size} bits (minimum {MIN_EC_BITS})")
    if algorithm == "DSA":
        problems.append("DSA key")
    if str(cert.get("signatureHash") or "").lower() in WEAK_HASHES:
        problems.append(f"{str(cert['signatureHash']).upper()} signature")
    if problems:
        return Status.FAIL, f"certificate {tp}: " + ", ".join(problems)
    return Status.PASS, f"certificate {tp}: {algorithm} {size} bits, {cert.get('signatureHash')} signature"


@register("sdn_host_certificate_strength")
def host_certificate_strength(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context, _strength)


def _self_signed(cert: dict[str, Any]) -> bool | None:
    if "selfSigned" in cert:
        return bool(cert["selfSigned"])
    subject, issuer = cert.get("subject"), cert.get("issuer")
    if subject is None or issuer is None:
        return None
    return " ".join(str(subject).lower().split()) == " ".join(str(issuer).lower().split())


def _trusted(cert: dict[str, Any], record: dict[str, Any], context: ScanContext) -> CertVerdict:
    tp = cert["thumbprint"]
    self_signed = _self_signed(cert)
    if self_signed is None:
        return Status.UNKNOWN, f"certificate {tp}: subject/issuer not in the inventory"
    if not self_signed:
        return Status.PASS, f"certificate {tp} is issued by {cert.get('issuer')} (not self-signed)"
    root = certificates(record, "Root")
    if root is None:
        return Status.UNKNOWN, (f"certificate {tp} is self-signed and LocalMachine\\Root was not listed "
                                "(collect with scripts/Get-VdcHostCertificates.ps1)")
    if any(str(c.get("thumbprint", "")).upper() == tp for c in root):
        return Status.PASS, f"self-signed certificate {tp} is in LocalMachine\\Root"
    return Status.FAIL, (f"self-signed certificate {tp} is not in LocalMachine\\Root: peers cannot trust it and "
                         "DTLS fails")


@register("sdn_host_certificate_trusted")
def host_certificate_trusted(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    yield from _host_findings(rule, inventory, context, _trusted)


@register("sdn_credential_certificate_consistent")
def credential_certificate_consistent(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    """One credential, one certificate: every host holds that exact certificate, and no host holds
    several certificates with its subject (the renewal left behind, or a copy on the wrong host)."""
    view = fabric_view(inventory)
    yield from _gap_findings(rule, view, NIC, VNET)
    hosting, _ = view.encrypted_hosts()
    by_credential: dict[str, tuple[str, set[str]]] = {}  # credential id -> (thumbprint, server ids)
    for server_id, subnets in hosting.items():
        for subnet in subnets:
            try:
                state = view.credential_state(subnet.vnet)
            except TypeError as exc:  # the credential's data is malformed: say so on the network using it
                yield finding_for(rule, subnet.vnet, Status.ERROR, f"cannot judge its credential: TypeError: {exc}")
                continue
            if state.thumbprint and state.resource is not None:
                by_credential.setdefault(state.resource["id"].lower(), (state.thumbprint, set()))[1].add(server_id)
    credentials = [inventory.get(credential_id) for credential_id in by_credential]

    def consistent(rule: Rule, credential: dict[str, Any], inventory: Inventory, context: ScanContext) -> Finding:
        thumbprint, server_ids = by_credential[credential["id"].lower()]
        return _credential_consistency(rule, view, credential, thumbprint, server_ids)
    yield from _each(rule, inventory, context, [c for c in credentials if c is not None], consistent)


def _credential_consistency(rule: Rule, view: FabricView, credential: dict[str, Any], thumbprint: str,
                            server_ids: set[str]) -> Finding:
    stores: dict[str, list[dict[str, Any]]] = {}
    no_inventory = []
    for server_id in sorted(server_ids):
        server = view.inventory.get(server_id)
        if server is None:  # server_ids were read from this inventory
            raise KeyError(f"host {server_id} is not in the inventory")
        record = view.host_inventory(server)
        if record is None:
            no_inventory.append(server["name"])
        else:
            stores[server["name"]] = certificates(record, "My") or []
    subjects = {c.get("subject") for certs in stores.values() for c in certs
                if str(c.get("thumbprint", "")).upper() == thumbprint}
    evidence: dict[str, Any] = {"properties.value": thumbprint, "hosts": sorted(stores) + no_inventory}
    if not subjects:
        return finding_for(rule, credential, Status.UNKNOWN,
                           f"cannot assess: certificate {thumbprint} is on none of the inventoried hosts, so its "
                           "subject is unknown", evidence)
    same_subject = {host: sorted({str(c.get("thumbprint")).upper() for c in certs if c.get("subject") in subjects})
                    for host, certs in stores.items()}
    evidence["thumbprints with the same subject"] = same_subject
    problems = [f"{host} holds {len(tps)} certificates with subject {', '.join(map(str, subjects))}: {', '.join(tps)}"
                for host, tps in same_subject.items() if len(tps) > 1]
    different = sorted(host for host, tps in same_subject.items() if tps and thumbprint not in tps)
    if different:
        problems.append(f"{', '.join(different)} hold(s) a different certificate for the credential than {thumbprint}")
    if problems:
        return finding_for(rule, credential, Status.FAIL, "; ".join(problems), evidence)
    if no_inventory:
        return finding_for(rule, credential, Status.UNKNOWN,
                           f"cannot assess: no certificate inventory for {', '.join(no_inventory)}", evidence)
    return finding_for(rule, credential, Status.PASS,
                       f"All {len(stores)} host(s) hold the one certificate {thumbprint}", evidence)


# -- encryption boundary ------------------------------------------------------------------------

def _nic_acl(ipconfig: dict[str, Any]) -> str | None:
    return ref_of(props(ipconfig).get("accessControlList"))


@register("sdn_encrypted_subnet_boundary")
def encrypted_subnet_boundary(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    """A leak is traffic to or from an address outside the subnet that every applicable ACL (the
    subnet's and the NIC's) allows: the ACLs' allowed traffic is intersected exactly (see sdnacl).
    Each ACL is evaluated once per subnet boundary, and each distinct (subnet ACL, NIC ACL) pair
    once, whatever the number of NICs sharing it."""
    view = fabric_view(inventory)
    yield from _gap_findings(rule, view, VNET, NIC)
    boundaries = _Boundaries(view)
    yield from _each_subnet(rule, inventory, context, lambda subnet, resource: _boundary_finding(
        rule, view, boundaries, subnet, resource))


def _each_subnet(rule: Rule, inventory: Inventory, context: ScanContext,
                 judge: Callable[[Subnet, dict[str, Any]], Finding]) -> Iterator[Finding]:
    """Judge each encrypted subnet on its own (a subnet lives inside its virtual network, so its
    finding is about a stand-in resource with the subnet's id)."""
    subnets = {subnet.id.lower(): subnet for subnet in fabric_view(inventory).encrypted_subnets()}
    resources = [subnet.as_resource() for subnet in subnets.values()]
    yield from _each(rule, inventory, context, resources,
                     lambda rule, resource, inventory, context: judge(subnets[resource["id"].lower()], resource))


Crossing = list[tuple[sdnacl.Box, list[dict[str, Any]]]]


class _Boundaries:
    """ACL evaluations and (subnet ACL, NIC ACL) intersections of one scan, computed once each:
    subnets of one prefix share them (an ACL is usually applied to many NICs)."""

    def __init__(self, view: FabricView) -> None:
        self.view = view
        self._whole: dict[tuple[Any, ...], sdnacl.Evaluation] = {}
        self._evaluations: dict[tuple[Any, ...], sdnacl.Evaluation] = {}
        self._pairs: dict[tuple[Any, ...], Crossing] = {}

    def evaluation(self, acl: dict[str, Any], vnet_space: list[sdnacl.Interval] | None, prefix: str,
                   worst_case: bool) -> sdnacl.Evaluation:
        """The ACL evaluated once over all traffic, then cut to this subnet's boundary."""
        whole = (acl["id"].lower(), tuple(vnet_space) if vnet_space is not None else None, worst_case)
        key = whole + (prefix,)
        if key not in self._evaluations:
            if whole not in self._whole:
                self._whole[whole] = sdnacl.evaluate(sdnacl.read_acl(acl, vnet_space, worst_case), [sdnacl.FULL])
            self._evaluations[key] = sdnacl.clip(self._whole[whole], sdnacl.boundary_region(prefix))
        return self._evaluations[key]

    def default(self, prefix: str) -> sdnacl.Evaluation:
        """The documented default rules (no ACL on subnet or NIC), cut to this boundary."""
        key = ("(default)", prefix)
        if key not in self._evaluations:
            self._evaluations[key] = sdnacl.default_evaluation(sdnacl.boundary_region(prefix))
        return self._evaluations[key]

    def crossing(self, subnet_acl: sdnacl.Evaluation | None, nic_acl: sdnacl.Evaluation | None,
                 direction: str) -> Crossing:
        """What the subnet's ACL and one NIC's ACL (None: absent, the other decides) both let cross.
        Keyed by the evaluations themselves (each is cached above for one ACL, reading and
        boundary, and lives as long as this object), so a pair is intersected once."""
        pair = (id(subnet_acl), id(nic_acl), direction)
        if pair not in self._pairs:
            self._pairs[pair] = sdnacl.boundary_leaks(
                [None if ev is None else ev.allowed[direction] for ev in (subnet_acl, nic_acl)], direction)
        return self._pairs[pair]


def _boundary_finding(rule: Rule, view: FabricView, boundaries: _Boundaries, subnet: Subnet,
                      resource: dict[str, Any]) -> Finding:
    nic_acls = [(nic["name"], _nic_acl(ipc)) for nic, ipc in subnet.nics]
    refs = ([subnet.acl_ref] if subnet.acl_ref else []) + [ref for _, ref in nic_acls if ref]
    evidence: dict[str, Any] = {"properties.addressPrefix": subnet.prefix, "subnet ACL": subnet.acl_ref,
                                "NICs by ACL": dict(Counter(ref or "none" for _, ref in nic_acls))}
    nic_gap = view.gap(NIC)
    if nic_gap is not None and not subnet.acl_ref:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: the subnet has no ACL and its NICs' ACLs "
                           f"could not be read ({nic_gap.reason})", evidence)
    if not refs:
        return finding_for(rule, resource, Status.FAIL,
                           "No ACL on the subnet or its NICs, so the controller's default rules apply: they allow "
                           "all outbound traffic (and block inbound), so traffic to any address outside the subnet "
                           "leaves it unencrypted", evidence)
    if not subnet.prefix:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: the subnet has no addressPrefix", evidence)
    prefix = subnet.prefix
    try:
        sdnacl.boundary_region(prefix)
    except ValueError:
        return finding_for(rule, resource, Status.UNKNOWN,
                           f"cannot assess: addressPrefix {subnet.prefix!r} is not an address prefix", evidence)
    vnet_space = sdnacl.vnet_intervals(dig(subnet.vnet, "properties.addressSpace.addressPrefixes"))
    acls: dict[str, dict[str, Any]] = {}
    for ref in dict.fromkeys(refs):
        acl = view.resolve(subnet.vnet, ref)
        if acl is None:
            gap = view.gap(ACL)
            why = f"accessControlLists could not be read ({gap.reason})" if gap else f"ACL {ref} is not in the inventory"
            return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {why}", evidence)
        acls[ref] = acl

    def reading(worst_case: bool) -> dict[str | None, sdnacl.Evaluation]:
        evaluations: dict[str | None, sdnacl.Evaluation] = {
            ref: boundaries.evaluation(acl, vnet_space, prefix, worst_case) for ref, acl in acls.items()}
        evaluations[None] = boundaries.default(prefix)
        return evaluations

    try:
        strict = reading(False)
    except sdnacl.Ambiguous as exc:
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {exc}", evidence)
    crossing = _leaks(boundaries, subnet, nic_acls, strict)
    certain = [leak for leak in crossing if not leak.unmatched]
    evidence["rules opening the boundary"] = _evidence(certain, subnet.prefix) or None
    if certain:
        return finding_for(rule, resource, Status.FAIL,
                           f"Traffic can cross the encrypted subnet's boundary ({subnet.prefix}) and is sent "
                           "unencrypted: " + _described(certain, subnet.prefix), evidence)
    notes = [n for ev in strict.values() for n in ev.notes]
    # Only when some field is unclear can the permissive reading differ (the same rule order, so no
    # Ambiguous here that the strict reading did not raise).
    possible = [leak for leak in _leaks(boundaries, subnet, nic_acls, reading(True))
                if not leak.unmatched] if notes else []
    if possible:
        evidence["rules possibly opening the boundary"] = _evidence(possible, subnet.prefix)
        return finding_for(rule, resource, Status.UNKNOWN,
                           "cannot assess: whether traffic crosses the boundary depends on ACL fields vdcaudit cannot "
                           "interpret (" + "; ".join(dict.fromkeys(notes)) + ")", evidence)
    if crossing:
        return _unmatched_finding(rule, resource, subnet.prefix, crossing, evidence)
    return finding_for(rule, resource, Status.PASS,
                       f"The ACLs allow traffic only within {subnet.prefix}", evidence)


def _unmatched_finding(rule: Rule, resource: dict[str, Any], prefix: str, crossing: list[sdnacl.Leak],
                       evidence: dict[str, Any]) -> Finding:
    """Only traffic no ACL rule matches could cross: Microsoft documents no default for it, so the
    verdict says so (UNKNOWN when an ACL has no rule at all for that direction, else WARN)."""
    evidence["traffic no rule decides"] = _evidence(crossing, prefix)
    empty = any(r.get("empty") for leak in crossing for r in leak.rules)
    reasons = _described(crossing, prefix)
    undocumented = ("Microsoft documents no default for traffic that no rule of an applied ACL matches "
                    "([MS-NCNBI] accessControlLists; Learn, \"Use Access Control Lists (ACLs) to Manage Datacenter "
                    "Network Traffic Flow\")")
    if empty:
        return finding_for(rule, resource, Status.UNKNOWN, f"cannot assess: {reasons}; {undocumented}", evidence)
    return finding_for(rule, resource, Status.WARN,
                       f"No rule lets traffic cross the boundary ({prefix}), but {reasons}, and {undocumented}: "
                       "end the ACL with explicit Deny rules for all inbound and all outbound traffic", evidence)


# A finding's message names the first crossings and its evidence a few more: findings are capped
# in size anyway (vdcaudit.findings), so rendering hundreds of crossings would be wasted work.
MESSAGE_CROSSINGS = 10
EVIDENCE_CROSSINGS = 20


def _described(leaks: list[sdnacl.Leak], prefix: str) -> str:
    text = "; ".join(leak.describe(prefix) for leak in leaks[:MESSAGE_CROSSINGS])
    more = len(leaks) - MESSAGE_CROSSINGS
    return text + (f"; and {more} more (see the evidence)" if more > 0 else "")


def _evidence(leaks: list[sdnacl.Leak], prefix: str) -> list[dict[str, Any]]:
    shown = [leak.as_dict(prefix) for leak in leaks[:EVIDENCE_CROSSINGS]]
    more = len(leaks) - EVIDENCE_CROSSINGS
    return shown + ([{"more crossings not shown": more}] if more > 0 else [])


def _leaks(boundaries: _Boundaries, subnet: Subnet, nic_acls: list[tuple[str, str | None]],
           readings: dict[str | None, sdnacl.Evaluation]) -> list[sdnacl.Leak]:
    """Boundary-crossing traffic every applicable ACL allows, grouped by direction and deciding
    rules; NICs sharing an ACL are computed once."""
    # Without NICs yet, the subnet ACL alone decides.
    by_acl: dict[str | None, list[str]] = {None: []} if not nic_acls else {}
    for nic_name, nic_ref in nic_acls:
        by_acl.setdefault(nic_ref, []).append(nic_name)
    grouped: dict[tuple[Any, ...], sdnacl.Leak] = {}
    named: set[tuple[Any, ...]] = set()  # (leak key, NIC ACL) whose NICs the leak already names
    for direction in sdnacl.DIRECTIONS:
        for nic_ref, nic_names in by_acl.items():
            if subnet.acl_ref is None and nic_ref is None:  # neither: the default rules
                crossing = boundaries.crossing(readings[None], None, direction)
            else:
                crossing = boundaries.crossing(readings[subnet.acl_ref] if subnet.acl_ref else None,
                                               readings[nic_ref] if nic_ref else None, direction)
            for box, rules in crossing:
                key = (direction,) + tuple((r["acl"], r["rule"]) for r in rules)
                leak = grouped.get(key)
                if leak is None:
                    leak = grouped[key] = sdnacl.Leak(direction=direction.capitalize(), rules=rules)
                leak.remote.append(box[0])
                leak.protocol.append(box[2])
                leak.remote_ports.append(box[3])
                leak.local_ports.append(box[4])
                if nic_names and (nic_ref or not subnet.acl_ref) and (key, nic_ref) not in named:
                    named.add((key, nic_ref))
                    leak.nics.extend(nic_names)
    return list(grouped.values())


@register("sdn_encrypted_subnet_acl")
def encrypted_subnet_acl(rule: Rule, inventory: Inventory, context: ScanContext) -> Iterator[Finding]:
    view = fabric_view(inventory)
    yield from _gap_findings(rule, view, VNET, NIC)
    yield from _each_subnet(rule, inventory, context, lambda subnet, resource: _acl_finding(
        rule, view, subnet, resource))


def _acl_finding(rule: Rule, view: FabricView, subnet: Subnet, resource: dict[str, Any]) -> Finding:
    unguarded = [nic["name"] for nic, ipc in subnet.nics if not _nic_acl(ipc)]
    evidence = {"subnet ACL": subnet.acl_ref, "NICs without an ACL": unguarded}
    if subnet.acl_ref:
        return finding_for(rule, resource, Status.PASS, f"The subnet has ACL {subnet.acl_ref}", evidence)
    if view.gap(NIC) is not None:
        return finding_for(rule, resource, Status.UNKNOWN, "cannot assess: the subnet has no ACL and its NICs "
                           "could not be read", evidence)
    if subnet.nics and not unguarded:
        return finding_for(rule, resource, Status.PASS, "Every NIC in the subnet has an ACL", evidence)
    who = f" (NICs without one: {', '.join(unguarded)})" if unguarded else ""
    return finding_for(rule, resource, Status.WARN,
                       "No ACL keeps applications inside the encrypted subnet" + who + ": if they must only "
                       "talk encrypted, apply an ACL that allows traffic within the subnet only", evidence)


from vdcaudit.checks import sdnsection  # noqa: E402,F401  (registers the report section)
