"""The one Retry-After reader (vdcaudit.retry_after), which the Azure pacer and the webhook
notifier both use: both RFC 9110 forms, and a server's nonsense bounded or refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from vdcaudit.collectors.azure import throttle
from vdcaudit.history import notify
from vdcaudit.retry_after import LONGEST, retry_after_seconds

NOW = datetime(2026, 12, 8, 0, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("value", "seconds"), [
    ("7", 7.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5),           # delay-seconds (and azure-core's fractions)
    ("Tue, 08 Dec 2026 00:00:30 GMT", 30.0),                       # IMF-fixdate
    ("Tuesday, 08-Dec-26 00:01:00 GMT", 60.0),                     # obsolete RFC 850 form
    ("Tue Dec  8 00:00:05 2026", 5.0),                             # obsolete asctime form (GMT)
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),                        # in the past: now
    ("-5", 0.0), ("-" + "9" * 5000, 0.0),                          # negative: now
    ("90000", LONGEST), ("9" * 5000, LONGEST),                     # huge: a day at most
    ("Fri, 31 Dec 9999 23:59:59 GMT", LONGEST),
])
def test_both_forms_bounded(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "inf", "nan", "-inf", "1e3", "\u00b2", "\u0663",
                                   "Tue, 99 Dec 2026 00:00:30 GMT", "0x10"])
def test_garbage_is_none(value: str | None) -> None:
    assert retry_after_seconds(value, NOW) is None


def test_pacer_and_notifier_read_it_alike() -> None:
    assert throttle.retry_after_seconds is notify.retry_after_seconds is retry_after_seconds
