"""The one ISO 8601 reader (vdcaudit.timestamps): the forms the tools print, and each caller's
choice about a time without a zone, stated by `naive`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vdcaudit.timestamps import parse_datetime

UTC = timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T02:00:00Z", datetime(2026, 12, 1, 2, tzinfo=UTC)),                      # az CLI, RFC 3339
    ("2021-08-24T10:24:47.0000000Z", datetime(2021, 8, 24, 10, 24, 47, tzinfo=UTC)),     # ARM: 7 fraction digits
    ("2021-08-24T10:24:47.1234567Z", datetime(2021, 8, 24, 10, 24, 47, 123456, tzinfo=UTC)),
    ("2021-08-24T10:24:47.5+01:00", datetime(2021, 8, 24, 10, 24, 47, 500000, tzinfo=timezone(timedelta(hours=1)))),
    (" 2026-12-01T02:00:00+00:00 ", datetime(2026, 12, 1, 2, tzinfo=UTC)),                # Python's isoformat()
])
def test_forms_with_a_zone(text: str, expected: datetime) -> None:
    for naive in ("refuse", "utc", "keep"):
        assert parse_datetime(text, naive=naive) == expected  # type: ignore[arg-type]


def test_a_time_without_a_zone_is_what_the_caller_says() -> None:
    text = "2026-12-01T02:00:00"
    with pytest.raises(ValueError, match="has no time zone"):
        parse_datetime(text, naive="refuse")
    assert parse_datetime(text, naive="utc") == datetime(2026, 12, 1, 2, tzinfo=UTC)
    assert parse_datetime(text, naive="keep") == datetime(2026, 12, 1, 2)
    assert parse_datetime(datetime(2026, 12, 1), naive="utc").tzinfo is UTC


@pytest.mark.parametrize("text", ["", "last tuesday", "2026-13-01T00:00:00Z", "Z", "2026-12-01T02:00:00" + "0" * 100, "None"])
def test_garbage_is_refused_with_one_message(text: str) -> None:
    with pytest.raises(ValueError, match="^is not an ISO 8601 date-time$"):
        parse_datetime(text, naive="keep")
