"""The one reader of ISO 8601 / RFC 3339 date-times as the tools print them: `Z` for UTC
("2026-12-01T02:00:00Z", az CLI and ARM), up to seven fraction digits ("…47.0000000Z", ARM's
.NET round-trip format), `+hh:mm` offsets, or no zone at all (PowerShell's ConvertTo-Json, a hand
written file).

Python 3.10's datetime.fromisoformat reads only what isoformat() writes (no `Z`, exactly 3 or 6
fraction digits); 3.11 reads more. The text is normalised first, so every supported Python reads
the same inputs the same way.

What a time without a zone means is the caller's decision, made explicit by `naive`:
- "refuse": it cannot be ordered against other times (a shard's scan times): ValueError.
- "utc": taken as UTC (an ARM template function, a certificate dump, a history record).
- "keep": returned as written, without a zone (only its calendar day is used).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal

Naive = Literal["refuse", "utc", "keep"]

# date, time to the second, then an optional fraction: the fraction is padded or cut to 6 digits
_FRACTION = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})[.,](\d+)")
_LONGEST = 64  # characters: no date-time is longer; a longer text is refused before any parsing


def parse_datetime(value: object, *, naive: Naive) -> datetime:
    """The date-time `value` (a string, or already a datetime) states. ValueError, with a message
    that reads after the value ("is not an ISO 8601 date-time", "has no time zone"), when it does
    not parse or has no zone and `naive` is "refuse"."""
    moment = value if isinstance(value, datetime) else _parse(str(value))
    if moment.tzinfo is not None or naive == "keep":
        return moment
    if naive == "utc":
        return moment.replace(tzinfo=timezone.utc)
    raise ValueError("has no time zone")


def _parse(text: str) -> datetime:
    text = text.strip()
    if len(text) > _LONGEST:
        raise ValueError("is not an ISO 8601 date-time")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: f"{m.group(1)}.{(m.group(2) + '00000')[:6]}", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not an ISO 8601 date-time") from None
