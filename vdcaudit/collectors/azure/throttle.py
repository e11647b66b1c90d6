"""Throttling: the collector slows down, it does not give up.

Two pieces, both inside azure-core's pipeline of every client (clients.py puts them there):

- `ThrottleRetryPolicy`, azure-core's RetryPolicy with vdcaudit's rule for 429: a throttled
  request is asked again after the server's Retry-After (or a jittered exponential backoff when
  the answer names no time) for as long as the waits of that one request stay within the throttle
  budget (`--throttle-budget`, 120 s by default). Other failures (5xx, dropped connections,
  timeouts) keep azure-core's counted retries. A request still throttled when its budget is spent
  raises ThrottleBudgetSpent, which names the request and the time waited (a coverage gap).
- `Pacer`, which holds requests back before ARM has to refuse them. ARM throttles reads with a
  token bucket per subscription and per tenant (documented bucket 250, refill 25 reads per second
  for each: learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
  "Regional throttling and token bucket algorithm") and tells how many reads remain in
  `x-ms-ratelimit-remaining-subscription-reads` / `-tenant-reads`. The pacer keeps a copy of each
  bucket: set from the header whenever an answer carries one, drawn down by every request it lets
  through, refilled at a rate it measures from the headers themselves (starting from the
  documented rate). A request whose bucket is empty waits until the refill makes a token, so one
  busy subscription slows down alone. Resource Graph has its own per-user quota (15 queries per
  5 seconds: learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests),
  reported in `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (hh:mm:ss): at zero,
  queries wait for the reset.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import HTTPPolicy, RetryPolicy

from vdcaudit.collectors.azure import DEFAULT_BUDGET  # seconds of 429 waits one request may spend
from vdcaudit.retry_after import retry_after_seconds

# ARM's documented read bucket, per subscription and per tenant (the page above): the pacer's
# starting assumption, and what the emulator's `--throttle arm` serves
ARM_READ_BUCKET = 250
ARM_READ_REFILL = 25.0  # tokens per second
# Resource Graph's documented per-user quota: GRAPH_QUOTA queries per GRAPH_WINDOW seconds
GRAPH_QUOTA = 15
GRAPH_WINDOW = 5.0
# The longest a single request is held by the pacer (a refill estimate gone wrong must not hang a read)
MAX_HOLD = 60.0
# Refill estimates are measured over windows at least this long (shorter ones are noise)
MEASURE_WINDOW = 0.5
MIN_REFILL = 0.2  # tokens per second: the lowest rate the pacer will assume

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)(/|$)", re.IGNORECASE)
GRAPH_SCOPE = "resource-graph"
TENANT_SCOPE = "tenant"


def scope_of(url: str) -> str:
    """Which bucket a request (URL or path) draws on: its subscription's (the lower-case id), the
    tenant's (a request without a subscription id, such as the subscription list itself), or
    Resource Graph's quota."""
    path = urlsplit(url).path
    if path.lower().rstrip("/").endswith("/providers/microsoft.resourcegraph/resources"):
        return GRAPH_SCOPE
    match = _SUBSCRIPTION.match(path)
    return match.group(1).lower() if match else TENANT_SCOPE


class ThrottleBudgetSpent(HttpResponseError):
    """A request still throttled (429) after its waits used the whole throttle budget."""

    def __init__(self, read: str, waited: float, budget: float, response: Any) -> None:
        self.read = read
        self.waited = waited
        self.budget = budget
        # what the coverage gap says
        self.summary = f"throttled (429): {read} given up after waiting {waited:.1f} s (throttle budget {budget:g} s)"
        super().__init__(message=self.summary, response=response)


class ThrottleRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's retry policy, with 429 answers retried within a time budget instead of a count."""

    def __init__(self, budget: float = DEFAULT_BUDGET, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        if response.http_response.status_code == 429:
            return False  # send() below owns 429s
        return bool(super().is_retry(settings, response))

    def throttle_delay(self, response: Any, attempt: int) -> float:
        """The server's Retry-After, else exponential backoff with jitter (half fixed, half random,
        so that workers throttled together do not all come back together)."""
        after = self.get_retry_after(response)
        if after is not None and after > 0:
            return after
        step = min(float(self.backoff_max), max(self.backoff_factor, 0.01) * (2 ** attempt))
        return step / 2 + random.uniform(0, step / 2)

    def send(self, request: Any) -> Any:
        waited, attempt = 0.0, 0
        while True:
            response = super().send(request)
            if response.http_response.status_code != 429:
                return response
            delay = self.throttle_delay(response, attempt)
            if waited + delay > self.budget:
                http = request.http_request
                raise ThrottleBudgetSpent(f"{http.method} {urlsplit(http.url).path}", waited, self.budget,
                                          response.http_response)
            time.sleep(delay)
            waited += delay
            attempt += 1


@dataclass
class _Bucket:
    """The pacer's copy of one server-side token bucket."""

    refill: float  # tokens per second (0: Resource Graph's window, which resets whole)
    tokens: float | None = None  # None: not yet told by the server; requests go through
    at: float = 0.0  # when `tokens` was true
    hold_until: float = 0.0  # a 429's Retry-After, or Resource Graph's reset
    peak: int = 0  # the most remaining reads the server reported (near the bucket's size)
    # refill measurement: (time, header value) at the window's start, requests served since (a 429
    # took no token)
    anchor: tuple[float, int] | None = None
    served_since_anchor: int = 0
    in_flight: int = 0  # let through, not yet answered
    held: int = 0  # waiting here (their tokens are already taken from `tokens`)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def level(self, now: float) -> float | None:
        if self.tokens is None:
            return None
        return self.tokens + self.refill * max(now - self.at, 0.0)


class Pacer:
    """Holds each request until its bucket (subscription, tenant, Resource Graph) should have a
    token. Shared by every client of a collection; thread-safe. `waits` and `waited` count the
    holds, for tests and the benchmark."""

    def __init__(self, refill: float = ARM_READ_REFILL, reserve: int = 1) -> None:
        self.initial_refill = refill
        self.reserve = reserve  # tokens left untouched, for reads other principals make
        self.waits = 0
        self.waited = 0.0
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def bucket(self, scope: str) -> _Bucket:
        with self._lock:
            found = self._buckets.get(scope)
            if found is None:
                found = self._buckets[scope] = _Bucket(0.0 if scope == GRAPH_SCOPE else self.initial_refill)
            return found

    # -- around each attempt (Paced) -----------------------------------------------------------

    def before(self, pipeline_request: Any) -> None:
        bucket = self.bucket(scope_of(pipeline_request.http_request.url))
        hold = 0.0
        with bucket.lock:
            now = time.monotonic()
            level = bucket.level(now)
            # until the server's own hold ends (a 429's Retry-After, a quota reset), and as long as the
            # refill needs to make this request's token: the held requests leave one by one, not together
            hold = max(bucket.hold_until - now, 0.0)
            if level is not None and level < self.reserve + 1 and bucket.refill > 0:
                hold = max(hold, (self.reserve + 1 - level) / bucket.refill)
            hold = min(hold, MAX_HOLD)
            if level is not None:  # the token is taken now, so the next request queues behind this one
                bucket.tokens, bucket.at = level - 1, now
            bucket.held += 1
        if hold > 0:
            with self._lock:
                self.waits += 1
                self.waited += hold
            time.sleep(hold)
        with bucket.lock:
            bucket.held -= 1
            bucket.in_flight += 1

    def abandoned(self, pipeline_request: Any) -> None:
        """The attempt ended without an answer (a dropped connection, a timeout, a refused body)."""
        bucket = self.bucket(scope_of(pipeline_request.http_request.url))
        with bucket.lock:
            bucket.in_flight = max(bucket.in_flight - 1, 0)

    def after(self, pipeline_response: Any) -> None:
        scope = scope_of(pipeline_response.http_request.url)
        bucket = self.bucket(scope)
        headers = pipeline_response.http_response.headers
        now = time.monotonic()
        with bucket.lock:
            bucket.in_flight = max(bucket.in_flight - 1, 0)
            bucket.served_since_anchor += pipeline_response.http_response.status_code != 429
            if scope == GRAPH_SCOPE:
                self._graph_quota(bucket, headers, now)
            else:
                name = ("x-ms-ratelimit-remaining-tenant-reads" if scope == TENANT_SCOPE
                        else "x-ms-ratelimit-remaining-subscription-reads")
                remaining = _number(headers.get(name))
                if remaining is not None:
                    self._observe(bucket, remaining, now)
            if pipeline_response.http_response.status_code == 429:
                after = retry_after_seconds(headers.get("Retry-After"))
                bucket.tokens, bucket.at = float(-bucket.held - bucket.in_flight), now
                if bucket.refill > 0 and now >= bucket.hold_until:
                    # refused: the refill is slower than assumed (once per refusal spell; the
                    # measurement above corrects it either way)
                    bucket.refill = max(MIN_REFILL, bucket.refill / 2)
                if after:
                    bucket.hold_until = max(bucket.hold_until, now + after)

    def _observe(self, bucket: _Bucket, remaining: int, now: float) -> None:
        """A remaining-reads header: the bucket's level now, less the requests on their way or
        waiting here; and a refill measurement, over a window long enough and only while the
        bucket is well below full (a full bucket shows the request rate, not the refill)."""
        bucket.tokens, bucket.at = float(remaining - bucket.in_flight - bucket.held), now
        bucket.peak = max(bucket.peak, remaining)
        if bucket.anchor is None:
            bucket.anchor, bucket.served_since_anchor = (now, remaining), 0
            return
        started, level = bucket.anchor
        span = now - started
        if span < MEASURE_WINDOW:
            return
        low = 0.9 * bucket.peak
        if remaining < low and level < low and bucket.served_since_anchor > 0:
            measured = (remaining - level + bucket.served_since_anchor) / span
            if measured > 0:
                bucket.refill = max(MIN_REFILL, 0.5 * bucket.refill + 0.5 * measured)
        bucket.anchor, bucket.served_since_anchor = (now, remaining), 0

    @staticmethod
    def _graph_quota(bucket: _Bucket, headers: Any, now: float) -> None:
        """Resource Graph's window: queries left in it, and when it resets whole."""
        remaining = _number(headers.get("x-ms-user-quota-remaining"))
        if remaining is None:
            return
        left = float(remaining - bucket.in_flight - bucket.held)
        resets = _duration(headers.get("x-ms-user-quota-resets-after"))
        if left <= 0 and resets is not None:
            bucket.hold_until = max(bucket.hold_until, now + resets)
            bucket.tokens, bucket.at = float(GRAPH_QUOTA), now + resets
        else:
            bucket.tokens, bucket.at = left, now


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _duration(value: str | None) -> float | None:
    """'hh:mm:ss' as seconds."""
    try:
        hours, minutes, seconds = (value or "").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


class Paced(HTTPPolicy):  # type: ignore[type-arg]
    """The pacer around each attempt of one client's requests (a per-retry policy: a retried
    request is paced again). One per client: a pipeline links its policies to each other."""

    def __init__(self, pacer: Pacer) -> None:
        super().__init__()
        self.pacer = pacer

    def send(self, request: Any) -> Any:
        self.pacer.before(request)
        try:
            response = self.next.send(request)
        except BaseException:
            self.pacer.abandoned(request)
            raise
        self.pacer.after(response)
        return response
