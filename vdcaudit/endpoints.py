"""Connection inputs named on the command line (endpoint URLs, CA bundles, client certificates and
keys), checked before any connection: a wrong one would otherwise surface later as a vague TLS or
connection failure, or as an exception from deep inside the HTTP stack."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from vdcaudit.errors import InputError

_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def is_https_url(url: str) -> bool:
    """https://HOST[:PORT] with a port in range."""
    try:
        parts = urlsplit(url)  # raises on an unclosed IPv6 literal ("https://[::1")
        _ = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the default port filled in: a link may be followed only when
    this is the same as the endpoint's (no other host, no plain HTTP on the same one)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _read(path: str, option: str) -> bytes:
    file = Path(path)
    if not file.is_file():  # checked before opening: opening a FIFO blocks until a writer comes
        raise InputError(f"{option}: " + ("not a regular file" if file.exists() else "no such file"), path)
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InputError(f"{option}: cannot read: {exc.strerror or exc}", path) from None


def check_certificates(path: str, option: str) -> None:
    """The file holds at least one PEM certificate (a CA bundle, or a client certificate)."""
    try:
        x509.load_pem_x509_certificates(_read(path, option))
    except ValueError:
        raise InputError(f"{option}: not a PEM certificate file (no valid -----BEGIN CERTIFICATE----- block)",
                         path) from None


def check_private_key(path: str, option: str) -> None:
    """The file holds a PEM private key (requests loads it only when it connects)."""
    if not _PRIVATE_KEY.search(_read(path, option)):
        raise InputError(f"{option}: no PEM private key (-----BEGIN ... PRIVATE KEY-----) in the file", path)
