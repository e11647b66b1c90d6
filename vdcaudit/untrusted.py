"""The one way to print text that came from input (ids, types, names, URLs, server replies).

`safe_text(value)` gives a single line that is safe on a terminal, in a CI log and in a message:
- control characters (C0, DEL, C1: the ESC and CSI that start terminal escape sequences, CR and LF
  that would forge a second log line) and the Unicode bidirectional overrides (which make text read
  differently from what it is) are written as Python-style escapes (`\\x1b`, `\\u202e`);
- credentials in URLs are masked: the userinfo (`https://user:pass@host` -> `https://***@host`) and
  the values of the query parameters that carry a secret by convention (`token`, `sig` (SAS
  signatures, Logic Apps and Power Automate workflow URLs), `code` (Azure Functions keys, OAuth codes),
  `password`, `pwd`, `secret`, `key`, `access_token`): `?token=***`.

It never raises and never parses a URL strictly (a malformed URL is masked as text), so quoting a
bad value cannot itself fail. Every message that quotes input goes through it.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_PARAMETERS = ("token", "sig", "code", "password", "pwd", "passwd", "secret", "key", "access_token",
                     "sslpassword", "client_secret")
MASK = "***"

# scheme://userinfo@ : the userinfo ends at the last '@' before the path, query or fragment
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*@)")
_SECRET_QUERY = re.compile(r"(?P<name>[?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)(?P<value>[^&#\s]*)",
                           re.IGNORECASE)
# C0 controls, DEL, C1 controls, and the bidirectional embeddings/overrides/isolates
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def mask_credentials(text: str) -> str:
    """`text` with the userinfo of every URL and the values of secret query parameters masked."""
    text = _USERINFO.sub(_mask_userinfo, text)
    return _SECRET_QUERY.sub(lambda m: m.group("name") + (MASK if m.group("value") else ""), text)


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    if userinfo.endswith(":" + MASK + "@") and MASK not in userinfo[:-len(MASK) - 2]:
        return match.group(0)  # already masked by its reader ("user:***@", SQLAlchemy's form): keep the user
    return match.group("scheme") + MASK + "@"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: Any, limit: int | None = 500) -> str:
    """`value` (any object; str() of it) as one printable line: control characters escaped, URL
    credentials masked, and at most `limit` characters (None: no limit) with an ellipsis."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a hostile __str__ must not break the message that quotes it
        text = f"<{type(value).__name__}>"
    if limit is not None and len(text) > limit * 4:
        text = text[:limit * 4]  # bound the work before the regular expressions
    text = _CONTROL.sub(_escape, mask_credentials(text))
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text
