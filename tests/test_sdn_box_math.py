"""The boundary check's arithmetic, differential-tested: address sets rendered as the fewest CIDR
networks (worked out on integers) against the standard library's ipaddress.summarize_address_range,
in both address families; box intersection against the per-dimension maximum and minimum."""

from __future__ import annotations

import ipaddress
import random

from vdcaudit.checks.sdnacl import V6_BASE, _to_networks, intersect


def _reference(lo: int, hi: int) -> list[str]:
    nets: list[str] = []
    if lo < V6_BASE:
        last = ipaddress.IPv4Address(min(hi, V6_BASE - 1))
        nets += map(str, ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), last))
    if hi >= V6_BASE:
        first, last6 = ipaddress.IPv6Address(max(lo, V6_BASE) - V6_BASE), ipaddress.IPv6Address(hi - V6_BASE)
        nets += map(str, ipaddress.summarize_address_range(first, last6))
    return nets


def test_networks_are_what_the_standard_library_summarises() -> None:
    rng = random.Random(25)
    cases = [(0, 2**32 - 1), (0, 0), (2**32 - 1, 2**32 - 1), (V6_BASE, V6_BASE + 2**128 - 1),
             (V6_BASE - 3, V6_BASE + 3), (167772160, 167772415)]  # 10.0.0.0/24
    for _ in range(500):
        first = rng.randrange(2**32)
        cases.append((first, rng.randrange(first, 2**32)))
        cases.append((first, min(first + rng.randrange(600), 2**32 - 1)))
        first6 = rng.randrange(2**128)
        cases.append((V6_BASE + first6, V6_BASE + rng.randrange(first6, 2**128)))
    for lo, hi in cases:
        assert _to_networks(lo, hi) == _reference(lo, hi), (lo, hi)


def test_boxes_intersect_as_a_loop_over_their_dimensions_says() -> None:
    rng = random.Random(14)

    def box() -> tuple:
        ends = [sorted((rng.randrange(20), rng.randrange(20))) for _ in range(5)]
        return tuple((lo, hi) for lo, hi in ends)

    for _ in range(3000):
        a, b = box(), box()
        dims = [(max(alo, blo), min(ahi, bhi)) for (alo, ahi), (blo, bhi) in zip(a, b)]
        expected = None if any(lo > hi for lo, hi in dims) else tuple(dims)
        assert intersect(a, b) == expected, (a, b)
