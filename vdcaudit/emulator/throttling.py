"""ARM's and Resource Graph's request limits, as the emulator enforces them.

ARM throttles reads with a token bucket per subscription and one per tenant (a request without
a subscription id is a tenant request): each read takes a token, tokens come back at the refill
rate up to the bucket's size, an empty bucket answers 429 with Retry-After (whole seconds until a
token is back). Every read's answer says how many remain, in
`x-ms-ratelimit-remaining-subscription-reads` or `x-ms-ratelimit-remaining-tenant-reads`.
Documented limits (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
"Regional throttling and token bucket algorithm"): reads, bucket 250, refill 25 per second, for a
subscription and for a tenant.

Resource Graph allows each user a number of queries per window (15 per 5 seconds), reports the
rest in `x-ms-user-quota-remaining` and the time to the window's reset in
`x-ms-user-quota-resets-after` (hh:mm:ss), and answers 429 when the window's quota is spent
(learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests).
The emulator serves one user (its dummy token), so it keeps one window.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from vdcaudit.collectors.azure.throttle import (
    ARM_READ_BUCKET, ARM_READ_REFILL, GRAPH_QUOTA, GRAPH_SCOPE, GRAPH_WINDOW, TENANT_SCOPE, scope_of,
)
from vdcaudit.emulator.httpserver import Response


@dataclass(frozen=True)
class Limits:
    bucket: int  # reads a subscription's (and the tenant's) bucket holds
    refill: float  # reads per second that come back
    graph_quota: int  # Resource Graph queries per window
    graph_window: float  # seconds


# `--throttle arm`: ARM's documented limits; `tight`: five times tighter (Azure may lower the limits,
# and principals of one tenant share them)
PRESETS: dict[str, Limits] = {
    "arm": Limits(ARM_READ_BUCKET, ARM_READ_REFILL, GRAPH_QUOTA, GRAPH_WINDOW),
    "tight": Limits(ARM_READ_BUCKET // 5, ARM_READ_REFILL / 5, GRAPH_QUOTA // 5, GRAPH_WINDOW),
}


class TokenBucket:
    def __init__(self, size: int, refill: float, now: float) -> None:
        self.size = size
        self.refill = refill
        self.tokens = float(size)
        self.at = now

    def take(self, now: float) -> tuple[bool, int, float]:
        """(granted, whole tokens left, seconds until the next token when refused)."""
        self.tokens = min(float(self.size), self.tokens + (now - self.at) * self.refill)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0.0
        return False, 0, (1 - self.tokens) / self.refill


class QuotaWindow:
    """A fixed window: `quota` requests from the first one, whole again `window` seconds later."""

    def __init__(self, quota: int, window: float) -> None:
        self.quota = quota
        self.window = window
        self.used = 0
        self.ends = 0.0

    def take(self, now: float) -> tuple[bool, int, float]:
        """(granted, requests left in the window, seconds to its reset)."""
        if now >= self.ends:
            self.used, self.ends = 0, now + self.window
        if self.used >= self.quota:
            return False, 0, self.ends - now
        self.used += 1
        return True, self.quota - self.used, self.ends - now


def _hhmmss(seconds: float) -> str:
    whole = max(math.ceil(seconds), 0)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class ArmLimiter:
    """Admits or throttles each request (EmulatorServer's limiter): (a 429 answer or None, the
    headers to add to the answer)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._buckets: dict[str, TokenBucket] = {}
        self._graph = QuotaWindow(limits.graph_quota, limits.graph_window)
        self._lock = threading.Lock()
        self.throttled = 0  # 429s answered

    def __call__(self, method: str, path: str) -> tuple[Response | None, dict[str, str]]:
        now = time.monotonic()
        scope = scope_of(path)
        if method == "POST" and scope == GRAPH_SCOPE:
            with self._lock:
                granted, left, resets = self._graph.take(now)
                self.throttled += not granted
            headers = {"x-ms-user-quota-remaining": str(left), "x-ms-user-quota-resets-after": _hhmmss(resets)}
            if granted:
                return None, headers
            return self._too_many(resets, "the Resource Graph query quota of this user is spent", headers), {}
        if method != "GET":
            return None, {}
        tenant = scope == TENANT_SCOPE
        header = "x-ms-ratelimit-remaining-tenant-reads" if tenant else "x-ms-ratelimit-remaining-subscription-reads"
        with self._lock:
            bucket = self._buckets.get(scope)
            if bucket is None:
                bucket = self._buckets[scope] = TokenBucket(self.limits.bucket, self.limits.refill, now)
            granted, left, wait = bucket.take(now)
            self.throttled += not granted
        if granted:
            return None, {header: str(left)}
        what = "the tenant" if tenant else f"subscription {scope}"
        return self._too_many(wait, f"the read limit of {what} is reached", {header: "0"}), {}

    @staticmethod
    def _too_many(seconds: float, why: str, headers: dict[str, str]) -> Response:
        # ARM sends Retry-After in whole seconds
        return Response.error(429, "TooManyRequests", f"Too many requests: {why}. Retry after the time in Retry-After.",
                              {**headers, "Retry-After": str(max(math.ceil(seconds), 1))})
