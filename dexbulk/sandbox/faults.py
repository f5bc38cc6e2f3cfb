"""The faults the sandbox can play: dropped connections, latency, rate limiting, random 5xx.

Rate limiting is a token bucket or a fixed window (``--rate-limiter``); both answer with whole
seconds for ``Retry-After``.

Dex publishes none of these limits (dex-api.md), so dexbulk must survive all of them; the sandbox
makes each one reproducible. Randomness comes from one ``random.Random(seed)`` behind a lock:
with probability 0 or 1 a fault is fully deterministic, in between it is seeded but its order
depends on thread scheduling.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

from dexbulk.sandbox.options import SandboxOptions

FAIL_STATUSES = (500, 502, 503)


class RateLimiter(Protocol):
    """Decides whether one more request fits under the rate limit."""

    def take(self) -> int | None:
        """None if allowed, else the whole seconds for ``Retry-After`` (at least 1)."""


class TokenBucket:
    """``rate`` requests per second with a burst of ``max(1, rate)``, starting full."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Take a token: None if allowed, else the whole seconds to wait (at least 1)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            # Retry-After is whole seconds (RFC 9110); round up so obeying it always works.
            return max(1, math.ceil((1.0 - self._tokens) / self.rate))


class FixedWindow:
    """At most ``floor(rate)`` requests in each whole second of ``clock`` (``rate`` >= 1).

    Windows are aligned to the clock's whole seconds (wall-clock by default), as a gateway
    that counts per epoch second does, so a burst that straddles two windows passes twice
    (what tells a fixed window from a token bucket). Over the limit, ``Retry-After`` is the
    whole seconds until the window ends: always 1 here.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = max(1, int(rate))
        self._clock = clock
        self._window: int | None = None
        self._count = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Count a request: None if it fits in this window, else the seconds until it ends."""
        with self._lock:
            now = self._clock()
            window = math.floor(now)
            if window != self._window:
                self._window, self._count = window, 0
            if self._count < self.limit:
                self._count += 1
                return None
            return max(1, math.ceil(window + 1 - now))


def rate_limiter(
    options: SandboxOptions, clock: Callable[[], float] | None = None
) -> RateLimiter | None:
    """The limiter ``--rate-limit`` and ``--rate-limiter`` ask for, or None without a limit."""
    if options.rate_limit is None:
        return None
    if options.rate_limiter == "window":
        return FixedWindow(options.rate_limit, clock or time.time)
    return TokenBucket(options.rate_limit, clock or time.monotonic)


class Faults:
    """Decides, per request, which configured fault (if any) hits it."""

    def __init__(
        self,
        options: SandboxOptions,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._options = options
        self._rng = random.Random(options.seed)
        self._lock = threading.Lock()
        self._sleep = sleep
        self._limiter = rate_limiter(options, clock)

    def _chance(self, probability: float) -> bool:
        if probability <= 0.0:
            return False
        if probability >= 1.0:
            return True
        with self._lock:
            return self._rng.random() < probability

    def should_drop(self) -> bool:
        """True when this request's connection should be closed without an answer."""
        return self._chance(self._options.drop_rate)

    def delay(self) -> None:
        """Sleep the configured latency with ±20% jitter."""
        if self._options.latency_ms > 0:
            with self._lock:
                factor = self._rng.uniform(0.8, 1.2)
            self._sleep(self._options.latency_ms * factor / 1000.0)

    def retry_after(self) -> int | None:
        """Seconds for ``Retry-After`` when this request is over the rate limit, else None."""
        return self._limiter.take() if self._limiter else None

    def failure_status(self) -> int | None:
        """A random 500/502/503 when this request should fail, else None."""
        if not self._chance(self._options.fail_rate):
            return None
        with self._lock:
            return self._rng.choice(FAIL_STATUSES)
