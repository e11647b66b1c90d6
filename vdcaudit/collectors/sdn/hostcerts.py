"""Certificate inventory of one Hyper-V host, from whichever form the operator could produce:

- `Get-ChildItem Cert:\\LocalMachine\\My | Select-Object Thumbprint,Subject,Issuer,NotBefore,NotAfter,
  HasPrivateKey,EnhancedKeyUsageList,DnsNameList | ConvertTo-Json` (Windows PowerShell 5.1 prints dates
  as `/Date(ms)/`, PowerShell 7 as ISO 8601; one certificate comes out as an object, not an array),
- the richer document of scripts/Get-VdcHostCertificates.ps1 (`My` and `Root` stores, raw DER in
  base64, which vdcaudit parses for key size and signature hash),
- PEM or DER certificate files (`.pem`, `.crt`, `.cer`, `.der`).

Every form becomes the same normalised record per certificate (see `normalise_certificate`).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from vdcaudit.armdata import ArmObject
from vdcaudit.errors import InputError
from vdcaudit.io.jsonfile import read_json
from vdcaudit.io.reads import read_input
from vdcaudit.timestamps import parse_datetime

HOST_CERT_TYPE = "Microsoft.SDN/hostCertificates"
SCRIPT_MARKER = "vdcauditHostInventory"  # top-level key written by Get-VdcHostCertificates.ps1
JSON_SUFFIXES = (".json",)
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
# Friendly names PowerShell prints when ConvertTo-Json's default depth turns EKU objects into text.
EKU_BY_NAME = {"server authentication": SERVER_AUTH, "client authentication": CLIENT_AUTH}

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_OID = re.compile(r"\b(\d+(?:\.\d+){3,})\b")
_THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")


def parse_date(value: Any) -> str | None:
    """ISO 8601 in UTC from `/Date(ms)/` (PowerShell 5.1) or an ISO string (PowerShell 7).

    Windows PowerShell 5.1 prints a DateTime that carries its extended-type members as an object,
    `{"value": "/Date(1700000000000)/", "DisplayHint": 2, "DateTime": "Tuesday, 14 November 2023 ..."}`:
    its `value` is the date (`DateTime` is display text in the printing machine's culture)."""
    if isinstance(value, dict):
        value = ArmObject(value).get("value")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"date {value!r} is not a string")
    match = _MS_DATE.match(value.strip())
    if match:
        # The milliseconds are UTC since the epoch; a +hhmm suffix only says which zone printed them.
        moment = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
    else:
        moment = parse_datetime(value, naive="utc")  # no offset printed: taken as UTC
    return moment.astimezone(timezone.utc).isoformat()


def _eku_oids(value: Any) -> list[str] | None:
    """OIDs from EnhancedKeyUsageList: objects {FriendlyName, ObjectId}, or their text forms."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    oids: list[str] = []
    for item in items:
        if isinstance(item, dict):
            oid = item.get("ObjectId") or item.get("objectId") or ""
            name = str(item.get("FriendlyName") or item.get("friendlyName") or "").lower()
            oid = oid or EKU_BY_NAME.get(name, "")
        else:
            text = str(item)
            found = _OID.search(text)
            oid = found.group(1) if found else EKU_BY_NAME.get(text.strip().lower(), "")
        if oid:
            oids.append(oid)
    return oids


def _dns_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else ([] if value is None else [value])
    names = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("Unicode") or item.get("Punycode")
        if item:
            names.append(str(item))
    return names


def describe_certificate(cert: x509.Certificate) -> dict[str, Any]:
    """What the raw certificate says about its strength: key, signature hash, self-signed."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        algorithm, size = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        algorithm, size = "EC", key.curve.key_size
    elif isinstance(key, dsa.DSAPublicKey):
        algorithm, size = "DSA", key.key_size
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        algorithm, size = type(key).__name__.replace("PublicKey", ""), None
    else:
        algorithm, size = type(key).__name__, None
    hash_algorithm = cert.signature_hash_algorithm
    try:
        eku = [usage.dotted_string for usage in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        eku = []
    try:
        dns = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    return {
        "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(),  # what Windows calls the thumbprint
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "notBefore": cert.not_valid_before_utc.isoformat(),
        "notAfter": cert.not_valid_after_utc.isoformat(),
        "enhancedKeyUsage": eku,
        "dnsNames": list(dns),
        "keyAlgorithm": algorithm,
        "keySize": size,
        "signatureHash": hash_algorithm.name if hash_algorithm is not None else None,
        "selfSigned": cert.subject == cert.issuer,
        "rawParsed": True,
    }


def normalise_certificate(entry: Any, store: str) -> dict[str, Any]:
    """One PowerShell certificate object as vdcaudit's record. Values PowerShell printed win for the
    fields the store knows better (HasPrivateKey); the raw DER, when present, adds key strength."""
    if not isinstance(entry, dict):
        raise ValueError("a certificate entry is not a JSON object")
    entry = ArmObject(entry)  # PowerShell's member names, read in any case
    dates, date_problem = _validity_dates(entry)
    record: dict[str, Any] = {
        "store": store,
        "thumbprint": str(entry.get("Thumbprint") or "").upper() or None,
        "subject": entry.get("Subject"),
        "issuer": entry.get("Issuer"),
        **dates,
        **({"dateProblem": date_problem} if date_problem else {}),
        "hasPrivateKey": entry.get("HasPrivateKey") if isinstance(entry.get("HasPrivateKey"), bool) else None,
        "enhancedKeyUsage": _eku_oids(entry.get("EnhancedKeyUsageList")),
        "dnsNames": _dns_names(entry.get("DnsNameList")),
        "rawParsed": False,
    }
    raw = entry.get("RawData")
    if raw:
        try:
            der = base64.b64decode(raw, validate=True)
            parsed = describe_certificate(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"RawData of certificate {record['thumbprint']} is not a DER certificate "
                             f"in base64 ({exc})") from None
        for key, value in parsed.items():
            if key in ("subject", "issuer"):
                continue  # keep Windows' spelling of names (CN=..., O=...) for display
            record[key] = value
        record.pop("dateProblem", None)  # the certificate itself gave the dates
    if not record["thumbprint"]:
        raise ValueError("a certificate entry has no Thumbprint")
    return record


def _validity_dates(entry: ArmObject) -> tuple[dict[str, str | None], str | None]:
    """notBefore/notAfter; a date that cannot be read leaves both unknown with the reason, so only
    this certificate's validity is UNKNOWN (the raw DER, when present, still supplies them)."""
    try:
        return {"notBefore": parse_date(entry.get("NotBefore")), "notAfter": parse_date(entry.get("NotAfter"))}, None
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        return {"notBefore": None, "notAfter": None}, f"NotBefore/NotAfter cannot be read: {exc}"


def _certificates_from_json(document: Any) -> tuple[dict[str, list[dict[str, Any]] | None], str, dict[str, Any]]:
    """(stores, format, extra facts) from a Select-Object print or a script document."""
    if isinstance(document, dict) and SCRIPT_MARKER in document:
        stores_in = document.get("stores")
        if not isinstance(stores_in, dict):
            raise ValueError("the script document has no 'stores' object")
        stores: dict[str, list[dict[str, Any]] | None] = {"My": None, "Root": None}
        for name, entries in stores_in.items():
            entries = entries if isinstance(entries, list) else ([] if entries is None else [entries])
            stores[name] = [normalise_certificate(e, name) for e in entries]
        extra = {k: document[k] for k in ("computerName", "collected") if k in document}
        return stores, "Get-VdcHostCertificates.ps1", extra
    # A Select-Object print: an array, or a lone object when the store holds one certificate.
    entries = document if isinstance(document, list) else [document]
    return {"My": [normalise_certificate(e, "My") for e in entries], "Root": None}, "Select-Object", {}


def _certificates_from_file(path: Path) -> dict[str, list[dict[str, Any]] | None]:
    data = read_input(path)
    certs: list[x509.Certificate]
    keys: list[Any] = []
    if b"-----BEGIN" in data:
        certs = x509.load_pem_x509_certificates(data) if b"CERTIFICATE-----" in data else []
        for block in re.findall(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", data, re.S):
            try:
                keys.append(serialization.load_pem_private_key(block, password=None).public_key())
            except (ValueError, TypeError):
                continue  # an encrypted key: cannot tell which certificate it belongs to
    else:
        certs = [x509.load_der_x509_certificate(data)]
    if not certs:
        raise ValueError("no certificate in the file")
    records = []
    for cert in certs:
        record = {"store": "My", "hasPrivateKey": None, **describe_certificate(cert)}
        public = cert.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        if any(k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public
               for k in keys):
            record["hasPrivateKey"] = True  # the file carries the matching key
        records.append(record)
    return {"My": records, "Root": None}


def is_host_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in JSON_SUFFIXES + CERT_SUFFIXES


def load_host_inventory(path: Path) -> dict[str, Any]:
    """`properties` of a host certificate record, from one file. Bad content is an InputError."""
    try:
        if path.suffix.lower() in JSON_SUFFIXES:
            stores, form, extra = _certificates_from_json(read_json(path))
        else:
            stores, form, extra = _certificates_from_file(path), "certificate file", {}
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a host certificate inventory: {exc}", path) from None
    return {"host": path.stem, "format": form, "stores": stores, **extra}


def load_host_inventories(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Host name (file stem) -> properties; several files for one host (a PEM and a JSON, say)
    are merged store by store."""
    hosts: dict[str, dict[str, Any]] = {}
    for path in sorted(paths):
        properties = load_host_inventory(path)
        name = properties["host"]
        if name.lower() not in hosts:
            hosts[name.lower()] = properties
            continue
        merged = hosts[name.lower()]
        merged["format"] = f"{merged['format']} + {properties['format']}"
        for store, records in properties["stores"].items():
            if records is not None:
                merged["stores"][store] = (merged["stores"].get(store) or []) + records
    return hosts


def looks_like_thumbprint(value: Any) -> bool:
    return isinstance(value, str) and bool(_THUMBPRINT.match(normalise_thumbprint(value)))


def normalise_thumbprint(value: str) -> str:
    """Thumbprints copied from certlm.msc carry spaces and sometimes an invisible mark in front."""
    return re.sub(r"[\s:\u200e\u200f\ufeff]", "", value).upper() if isinstance(value, str) else ""
