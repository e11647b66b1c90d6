"""The one reader of an HTTP Retry-After header, for every client vdcaudit has (the Azure
collectors' pacer, the webhook notifier).

RFC 9110, section 10.2.3 gives two forms: delay-seconds (whole seconds) or an HTTP-date. A
fractional number is read too, as azure-core's own retry policy reads it. A server is not trusted
to answer sanely: the result is always within [0, LONGEST] seconds, and anything else (garbage,
"inf", "nan", an unparsable date) is None, for the caller's own backoff to decide.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

LONGEST = 86_400.0  # a day: no answer makes a client wait longer
# delay-seconds, signed or fractional; ASCII digits only (str.isdigit takes "²", float() does not);
# the length cap keeps a 5,000-digit value from ever reaching a number conversion
_NUMBER = re.compile(r"[+-]?[0-9]{1,32}(\.[0-9]{1,32})?", re.ASCII)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from `now` (default: the current time), bounded to [0, LONGEST];
    None when absent or not a number or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.lstrip("+-").isdigit() and len(value) > 32:
        return 0.0 if value.startswith("-") else LONGEST  # too long to be meant, and bounded either way
    if _NUMBER.fullmatch(value):
        return _bounded(float(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # an HTTP-date is GMT by definition
        moment = moment.replace(tzinfo=timezone.utc)
    return _bounded((moment - (now or datetime.now(timezone.utc))).total_seconds())


def _bounded(seconds: float) -> float:
    return min(max(seconds, 0.0), LONGEST)
