"""Real X.509 certificates for the SDN tests, made with `cryptography`, and the host inventory
documents PowerShell would print for them."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_CLIENT = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
_KEYS: dict[int, rsa.RSAPrivateKey] = {}  # RSA key generation is the slow part: one key per size


def key(bits: int = 2048) -> rsa.RSAPrivateKey:
    if bits not in _KEYS:
        _KEYS[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[bits]


def make_cert(subject: str = "SDN Encryption", *, bits: int = 2048, hash_name: str = "sha256",
              not_before: datetime = datetime(2025, 1, 1, tzinfo=timezone.utc),
              not_after: datetime = datetime(2036, 1, 1, tzinfo=timezone.utc),
              eku: list[x509.ObjectIdentifier] | None = None, issuer: str | None = None,
              serial: int | None = None) -> x509.Certificate:
    """A certificate signed by its own key (self-signed) unless `issuer` names another CN."""
    private = key(bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]) if issuer else name
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(private.public_key())
               .serial_number(serial or x509.random_serial_number()).not_valid_before(not_before)
               .not_valid_after(not_after))
    usages = SERVER_CLIENT if eku is None else eku
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if hash_name == "sha1":
        return _resign_sha1(builder.sign(private, hashes.SHA256()), private)
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[hash_name]
    return builder.sign(private, algorithm)


# sha256WithRSAEncryption and sha1WithRSAEncryption differ only in the OID's last byte.
_SHA256_RSA = bytes.fromhex("2a864886f70d01010b")
_SHA1_RSA = bytes.fromhex("2a864886f70d010105")


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _resign_sha1(cert: x509.Certificate, private: rsa.RSAPrivateKey) -> x509.Certificate:
    """A SHA-1-signed copy of `cert`. cryptography refuses to sign certificates with SHA-1, but
    real hosts still carry them (the documented sample makes them), so the test builds the DER:
    the same TBSCertificate with the SHA-1 algorithm identifier, signed with PKCS#1 v1.5 over SHA-1."""
    tbs = cert.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA)
    signature = private.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    algorithm = bytes([0x30, 0x0D, 0x06, 0x09]) + _SHA1_RSA + bytes([0x05, 0x00])
    bits = b"\x00" + signature
    body = tbs + algorithm + bytes([0x03]) + _der_length(len(bits)) + bits
    return x509.load_der_x509_certificate(bytes([0x30]) + _der_length(len(body)) + body)


def thumbprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def _ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def ps_entry(cert: x509.Certificate, *, has_private_key: bool = True, ps51: bool = False,
             raw: bool = False) -> dict[str, Any]:
    """One certificate as `Select-Object Thumbprint,Subject,...| ConvertTo-Json` prints it."""
    try:
        oids = [u.dotted_string for u in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        oids = []
    names = {"1.3.6.1.5.5.7.3.1": "Server Authentication", "1.3.6.1.5.5.7.3.2": "Client Authentication"}
    date = _ms_date if ps51 else (lambda m: m.astimezone(timezone.utc).isoformat())
    entry: dict[str, Any] = {
        "Thumbprint": thumbprint(cert),
        "Subject": "CN=" + cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        "Issuer": "CN=" + cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        "NotBefore": date(cert.not_valid_before_utc),
        "NotAfter": date(cert.not_valid_after_utc),
        "HasPrivateKey": has_private_key,
        "EnhancedKeyUsageList": [{"FriendlyName": names.get(o, ""), "ObjectId": o} for o in oids],
        "DnsNameList": [{"Punycode": "sdn-encryption", "Unicode": "sdn-encryption"}],
    }
    if raw:
        entry["RawData"] = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
    return entry


def script_document(computer: str, my: list[dict[str, Any]], root: list[dict[str, Any]]) -> dict[str, Any]:
    """What scripts/Get-VdcHostCertificates.ps1 prints."""
    return {"vdcauditHostInventory": 1, "computerName": computer, "collected": "2026-01-01T00:00:00Z",
            "stores": {"My": my, "Root": root}}
