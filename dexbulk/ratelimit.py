"""Run-wide request pacing: a fixed ``--rate`` cap plus AWS-style adaptive throttling.

The adaptive part follows the AWS SDKs' "adaptive" retry mode (botocore's
``retries/adaptive.py``): a token bucket whose fill rate is driven by a CUBIC controller. It is
off until the API first answers 429; from then on *every* worker takes a token before each
attempt, the rate drops to 70% of what was measured when the 429 came, and it climbs back along
a cubic curve while requests succeed. So one refused request slows the whole run down instead of
each worker hammering on in its own rhythm, and a long run recovers gradually.

Clock and sleeper are parameters so tests can drive time by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleeper = Callable[[float], None]

_MIN_FILL_RATE = 0.5
_BETA = 0.7
_SCALE = 0.4
_SMOOTHING = 0.8
_BUCKET_SECONDS = 0.5
_MAX_RATE_ADJUST_SCALE = 2.0


class _Cubic:
    """CUBIC congestion control applied to a request rate (requests per second)."""

    def __init__(self, start_rate: float, now: float) -> None:
        self.w_max = start_rate
        self.last_fail = now
        self.k = 0.0

    def success(self, now: float) -> float:
        return _SCALE * (now - self.last_fail - self.k) ** 3 + self.w_max

    def throttled(self, rate: float, now: float) -> float:
        self.w_max = rate
        self.k = (self.w_max * (1 - _BETA) / _SCALE) ** (1 / 3)
        self.last_fail = now
        return rate * _BETA


class _RateMeter:
    """Measures the run's sending rate, smoothed over half-second buckets."""

    def __init__(self, now: float) -> None:
        self.rate = 0.0
        self._count = 0
        self._bucket = math.floor(now / _BUCKET_SECONDS) * _BUCKET_SECONDS

    def record(self, now: float) -> float:
        self._count += 1
        bucket = math.floor(now / _BUCKET_SECONDS) * _BUCKET_SECONDS
        if bucket > self._bucket:
            current = self._count / (bucket - self._bucket)
            self.rate = current * _SMOOTHING + self.rate * (1 - _SMOOTHING)
            self._count = 0
            self._bucket = bucket
        return self.rate


class RateLimiter:
    """Shared by every worker of a run: call :meth:`acquire` before each attempt.

    ``max_rate`` is the user's ``--rate`` (requests per second) or ``None`` for no fixed cap.
    """

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleeper: Sleeper = time.sleep,
    ) -> None:
        self.max_rate = max_rate
        self._clock = clock
        self._sleep = sleeper
        self._lock = threading.Lock()
        now = clock()
        self._adaptive = False
        self._fill_rate = max_rate if max_rate is not None else math.inf
        self._tokens = 1.0
        self._last_refill = now
        self._cubic = _Cubic(self._fill_rate if max_rate else 0.0, now)
        self._meter = _RateMeter(now)
        self.throttles = 0

    @property
    def active(self) -> bool:
        """True once requests are being paced (a fixed rate, or after the first 429)."""
        return self._adaptive or self.max_rate is not None

    @property
    def current_rate(self) -> float | None:
        """The rate requests are paced at now, or ``None`` when unpaced."""
        return self._fill_rate if self.active else None

    def acquire(self) -> None:
        """Block until this worker may send its next attempt."""
        while True:
            with self._lock:
                if not self.active:
                    return
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1 - 1e-9:  # float error must not leave a sliver to wait for
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self._fill_rate
            self._sleep(wait)

    def on_response(self, *, throttled: bool) -> None:
        """Feed back the outcome of one attempt: ``throttled`` is True for a 429."""
        with self._lock:
            now = self._clock()
            measured = self._meter.record(now)
            if throttled:
                self.throttles += 1
                basis = measured if not self._adaptive else min(measured, self._fill_rate)
                if basis <= 0:
                    # Nothing measured yet (the very first requests were refused): start low.
                    basis = _MIN_FILL_RATE * 2
                new_rate = self._cubic.throttled(basis, now)
                self._adaptive = True
            elif self._adaptive:
                new_rate = self._cubic.success(now)
            else:
                return
            if measured > 0:
                new_rate = min(new_rate, _MAX_RATE_ADJUST_SCALE * measured)
            self._set_fill_rate(now, new_rate)

    def _set_fill_rate(self, now: float, rate: float) -> None:
        self._refill(now)
        if self.max_rate is not None:
            rate = min(rate, self.max_rate)
        self._fill_rate = max(rate, _MIN_FILL_RATE)

    def _refill(self, now: float) -> None:
        elapsed = now - self._last_refill
        self._last_refill = now
        if math.isinf(self._fill_rate):
            self._tokens = 1.0
            return
        # A bucket of one token: requests are spread evenly, never sent in bursts.
        self._tokens = min(1.0, self._tokens + elapsed * self._fill_rate)
