"""The detached signature of an evidence bundle's manifest.json, made with `cryptography` in the
formats plain OpenSSL checks (docs/evidence.md gives the commands):

- Ed25519: the raw 64-byte signature of the file's bytes (PureEdDSA), checked with
  `openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in manifest.json -sigfile manifest.json.sig`
- ECDSA (P-256/384/521) and RSA (PKCS#1 v1.5): a SHA-256 signature (DER for ECDSA), checked with
  `openssl dgst -sha256 -verify signer.pub.pem -signature manifest.json.sig manifest.json`
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from vdcaudit.errors import InputError

SIGNATURE = "manifest.json.sig"
SIGNER = "signer.pub.pem"  # the signer's public key, for convenience: trust comes from --trust
MIN_RSA_BITS = 2048

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def openssl_command(algorithm: str, public_key: str = SIGNER, manifest: str = "manifest.json",
                    signature: str = SIGNATURE) -> list[str]:
    """The OpenSSL command that checks a signature of this algorithm (run in the bundle folder)."""
    if algorithm == "ed25519":
        return ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public_key, "-rawin",
                "-in", manifest, "-sigfile", signature]
    return ["openssl", "dgst", "-sha256", "-verify", public_key, "-signature", signature, manifest]


def load_private_key(path: Path) -> PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the signing key: {(exc.strerror or str(exc)).lower()}", path) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError("the signing key is encrypted: give an unencrypted PEM (keep it in a secret store)",
                         path) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("not a PEM private key (Ed25519, ECDSA or RSA)", path) from None
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise InputError(f"RSA key of {key.key_size} bits: at least {MIN_RSA_BITS} are needed", path)
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise InputError(f"unsupported key type {type(key).__name__} (Ed25519, ECDSA or RSA)", path)
    return key


def load_public_key(path: Path) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read the public key: {(exc.strerror or str(exc)).lower()}", path) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("not a PEM public key (Ed25519, ECDSA or RSA)", path) from None
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise InputError(f"unsupported key type {type(key).__name__} (Ed25519, ECDSA or RSA)", path)
    return key


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    return "ecdsa-sha256" if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) \
        else "rsa-pkcs1v15-sha256"


def public_pem(key: PrivateKey | PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey,
                                                   rsa.RSAPrivateKey)) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(key: PrivateKey | PublicKey) -> str:
    """sha256 of the public key's DER (SubjectPublicKeyInfo): `openssl pkey -pubin -outform DER | sha256sum`."""
    public = serialization.load_pem_public_key(public_pem(key))
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def is_valid(key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
