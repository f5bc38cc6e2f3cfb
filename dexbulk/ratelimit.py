"""Run-wide request pacing: a fixed ``--rate`` cap plus AWS-style adaptive throttling.

The adaptive part follows the AWS SDKs' "adaptive" retry mode (botocore's
``retries/adaptive.py``): a token bucket whose fill rate is driven by a CUBIC controller. It is
off until the API first answers 429; from then on *every* worker takes a token before each
attempt, the rate drops to 70% of what was measured when the 429 came, and it climbs back along
a cubic curve while requests succeed. So one refused request slows the whole run down instead of
each worker hammering on in its own rhythm, and a long run recovers gradually.

Below 10 requests per second the curve is the same one, counted in requests instead of seconds
(see ``_FULL_SPEED_RATE``): botocore's constants probe 40% above a 1 req/s limit within two
requests, and against a bucket of one token every probe above the limit is refused at once. And
at those rates a 429 that comes just after the same pace was accepted pins the limit between
the two: the curve then levels off half way and the cut is shallower (``_PINNED_BETA``).

Two rules keep a 429 from costing more than it says (a fixed window of N per clock second,
a common gateway limit, refuses everything sent into a full window until it turns):

* One cut per overshoot. A 429 for a request sent before the last cut, or before the instant
  the server named (``retry_in``, from the transport), reports the overshoot already paid for:
  counted, no cut. A refused ``probe`` of that instant cuts nothing either.
* Count what the server accepted. At 10 req/s and above, a cut starts from at most the answers
  accepted in the last second: the sending rate counts refusals. The run's first 429 comes
  unpaced, several requests in flight (at a 10/s limit its meter reads 40/s): the cut is then to
  90% of that count when that is lower than 70% of the sending rate, and answers to requests
  already on their way add to the count. Met twice at the same count, a limit is known: the
  cut is 10% and the probing above it half as fast (``_CONFIRMED``).

Clock and sleeper are parameters so tests can drive time by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]
Sleeper = Callable[[float], None]

# Never slower than one request per 20 s: half the slowest limit we support (0.1/s, 6 a minute),
# so a cut from just above such a limit still lands below it instead of on a floor above it
# (botocore's 0.5/s floor sent 5x too fast at 0.1/s: a 429 for four requests in five).
_MIN_FILL_RATE = 0.05
# A first guess when a 429 comes before anything could be measured: the pace third-party Dex
# clients keep (bench/pacing.py), so the likeliest real limit.
_COLD_START_RATE = 1.0
# botocore's CUBIC constants: cut to 70% of the rate that was refused, grow back at 0.4 req/s
# per second cubed (at full speed, see _FULL_SPEED_RATE).
_BETA = 0.7
_SCALE = 0.4
# Below this rate the cubic's clock and its growth are both scaled by rate / _FULL_SPEED_RATE,
# so the curve is the one botocore draws at 10 req/s, in requests and in fractions of the rate:
# back to the refused rate after ~20 requests, 4% above it 10 requests later. 10/s is where the
# unscaled constants were measured to work (bench/pacing.py: ~104% of the limit, ~11 429s in
# 20 s); at and above it nothing changes.
_FULL_SPEED_RATE = 10.0
# Cut to 90% instead of 70% (at the lowest rates; in between, in proportion to how far the rate
# is below _FULL_SPEED_RATE) when the limit is pinned: a 429 that follows a pace just proven to
# pass, and the cut is then from the middle of the two. The 30% cut is for an overshoot of
# unknown size; here the overshoot is bounded. Below 10/s a 30% cut costs about 1.5 requests'
# worth of time (a quarter of the cut over the ~20 requests the curve takes to climb back), a
# 10% one about a third of a request: in a simulation of bench/pacing.py, 0.85-0.95 reach
# 87-94% of limits from 0.1 to 1 req/s, 0.8 and below 5-10 points less.
_PINNED_BETA = 0.9
# Answers accepted in this long before a 429 bound its cut (module docstring): about the limit
# whether the server counts a fixed window of N per second or drains a bucket (N to 2N).
_TRAILING_SECONDS = 1.0
# Two cuts in a row at the same count (within 10%): the limit is known. Cut 10% instead of 30%
# and probe above it at half botocore's pace: a fixed limit is not worth a 429 every 3 s.
_CONFIRMED = 0.1
_CONFIRMED_SPEED = 0.5
_SMOOTHING = 0.8
_BUCKET_SECONDS = 0.5
_MIN_SPAN_SECONDS = 0.25
_FIXED_RATE_BACKOFF = 0.95
_MAX_RATE_ADJUST_SCALE = 2.0


class _Cubic:
    """CUBIC congestion control applied to a request rate (requests per second).

    ``speed`` (at most 1) scales both the clock and the growth below ``_FULL_SPEED_RATE``, so a
    slow limit is probed per request as a 10 req/s one is, not per second.
    """

    def __init__(self, start_rate: float, now: float) -> None:
        self.w_max = start_rate
        self.last_fail = now
        self.k = 0.0
        self.speed = 1.0

    def success(self, now: float) -> float:
        t = (now - self.last_fail) * self.speed
        return _SCALE * self.speed * (t - self.k) ** 3 + self.w_max

    def throttled(
        self, rate: float, now: float, *, pinned: bool = False, beta: float | None = None,
        slow: float = 1.0,
    ) -> float:  # fmt: skip
        self.w_max = rate
        self.speed = min(1.0, max(rate, _MIN_FILL_RATE) / _FULL_SPEED_RATE) * slow
        if beta is None:
            beta = _BETA + (_PINNED_BETA - _BETA) * (1 - self.speed) if pinned else _BETA
        self.k = (self.w_max * (1 - beta) / (_SCALE * self.speed)) ** (1 / 3)
        self.last_fail = now
        return rate * beta


class _RateMeter:
    """Measures the run's sending rate, smoothed over half-second buckets.

    Unlike botocore's, the first bucket starts at the first answer (not when the limiter was
    made, before the journal and start-up) and is taken as measured, not blended with a rate of
    zero; before it is complete the partial count is used. A run's first 429 usually comes in
    its first second, when the server's burst runs out: a cold meter then read 1-5 req/s and
    the run crawled for seconds at a fraction of the limit.
    """

    def __init__(self, now: float) -> None:
        del now  # the first bucket starts at the first answer
        self.rate = 0.0
        self._count = 0
        self._since: float | None = None

    def record(self, now: float) -> float:
        self._count += 1
        if self._since is None:
            self._since = now
        elapsed = now - self._since
        if elapsed >= _BUCKET_SECONDS:
            current = self._count / elapsed
            smoothed = current * _SMOOTHING + self.rate * (1 - _SMOOTHING)
            self.rate = smoothed if self.rate else current
            self._count = 0
            self._since = now
        elif not self.rate:
            # No full bucket yet: the partial count, over at least a quarter of a second.
            return self._count / max(elapsed, _MIN_SPAN_SECONDS)
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
        self._asked_rate = max_rate or 0.0
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
        self._proven = 0.0
        """A rate the server was just seen to accept (0 when unknown or voided by a 429)."""
        self._last_success: float | None = None
        self._last_cut = -math.inf
        """When the rate was last cut."""
        self._quiet_until = -math.inf
        """429s of requests sent before this (the last cut, or the turn it named) cut nothing."""
        self._counted: float | None = None
        self._limit_seen: float | None = None
        """What the server accepted in the second before the last cut at full speed."""
        """Answers accepted in the second before the first 429, while late ones may add to it."""
        self._accepted_at: deque[float] = deque()
        """When the accepted answers (not 429s) of the last ``_TRAILING_SECONDS`` came."""
        self._sent = threading.local()
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
                now = self._clock()
                # Per thread: each worker sends what it acquired for, then reports its answer.
                self._sent.at = now
                if not self.active:
                    return
                self._refill(now)
                if self._tokens >= 1 - 1e-9:  # float error must not leave a sliver to wait for
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self._fill_rate
            self._sleep(wait)

    def on_response(
        self, *, throttled: bool, probe: bool = False, retry_in: float | None = None
    ) -> None:
        """Feed back the outcome of one attempt: ``throttled`` is True for a 429.

        Call it from the thread that called :meth:`acquire` for that attempt. For a 429,
        ``retry_in`` is the seconds until the server said it would accept again, when that is
        known more precisely than ``Retry-After`` (see :mod:`dexbulk.transport`); ``probe``
        marks an attempt sent at such an instant.
        """
        with self._lock:
            now = self._clock()
            measured = self._meter.record(now)
            sent_at: float | None = getattr(self._sent, "at", None)
            if throttled:
                self.throttles += 1
                if probe or (sent_at is not None and sent_at < self._quiet_until):
                    return  # the clocks disagree, or an overshoot already paid for
                new_rate = self._cut(now, measured)
                self._quiet_until = now + max(0.0, retry_in or 0.0)
            else:
                self._note_accepted(now)
                if not self._adaptive:
                    return
                new_rate = self._on_accepted(now, sent_at)
            if measured > 0:
                new_rate = min(new_rate, _MAX_RATE_ADJUST_SCALE * measured)
            self._set_fill_rate(now, new_rate)

    def _on_accepted(self, now: float, sent_at: float | None) -> float:
        """The new rate after an accepted answer, once pacing is on."""
        if self._counted is not None and sent_at is not None and sent_at < self._last_cut:
            # Accepted in the same second as those the first cut counted: count it too.
            self._counted += 1
            self._cubic.throttled(self._counted, self._last_cut, beta=_PINNED_BETA)
            return self._cubic.success(now)
        if self._last_success is not None and now > self._last_success:
            # The server's bucket had a token for this request and the one before, this far
            # apart (a 429 in between takes no token): it allows at least that pace. Never
            # more than the pace we were sending at: two answers close together (several in
            # flight) say nothing about a pace nobody tried.
            self._proven = min(self._fill_rate, 1 / (now - self._last_success))
        self._last_success = now
        return self._cubic.success(now)

    def _cut(self, now: float, measured: float) -> float:
        """The new rate after a 429 that reports a new overshoot."""
        if self.max_rate is not None:
            # A fixed --rate at the server's exact limit still collides: network jitter brings
            # some requests in a few ms early. Settle a little below it instead of climbing
            # back into it after every 429 (never below half of --rate).
            self.max_rate = max(self.max_rate * _FIXED_RATE_BACKOFF, self._asked_rate * 0.5)
        first = not self._adaptive
        self._adaptive = True
        self._last_cut = now
        self._counted = None
        if first:  # the count only ever makes the cut deeper (module docstring)
            counted = self._accepted_count(now)
            if 0 < counted * _PINNED_BETA < measured * _BETA:
                self._counted = counted
                return self._cubic.throttled(counted, now, beta=_PINNED_BETA)
        basis = measured if first else min(measured, self._fill_rate)
        if basis >= _FULL_SPEED_RATE:
            # Not a count under half the pace: the workers were then mostly waiting out a
            # Retry-After, and it says little about the limit.
            counted = self._accepted_count(now)
            if basis / 2 <= counted <= basis:
                basis = counted
                seen, self._limit_seen = self._limit_seen, counted
                if seen and abs(counted - seen) <= _CONFIRMED * seen:
                    self._proven = 0.0
                    return self._cubic.throttled(
                        counted, now, beta=_PINNED_BETA, slow=_CONFIRMED_SPEED
                    )
        if basis <= 0:
            # Nothing measured yet (the very first requests were refused): start low.
            basis = _COLD_START_RATE
        # A slow limit pinned between a pace just accepted and this refused one: level off half
        # way between them (bisection), not at the refused rate, which a bucket of one token
        # refuses again at once. At 10/s and above, where several requests are in flight and
        # the gaps between answers prove little, never.
        pinned = basis < _FULL_SPEED_RATE and self._proven > 0
        if pinned:
            basis = (basis + min(self._proven, basis)) / 2
        self._proven = 0.0
        return self._cubic.throttled(basis, now, pinned=pinned)

    def _note_accepted(self, now: float) -> None:
        """Remember an accepted answer, for :meth:`_accepted_count`."""
        self._accepted_at.append(now)
        while self._accepted_at[0] <= now - _TRAILING_SECONDS:
            self._accepted_at.popleft()

    def _accepted_count(self, now: float) -> float:
        """Answers accepted in the last ``_TRAILING_SECONDS``, per second."""
        return (
            sum(1 for at in self._accepted_at if at > now - _TRAILING_SECONDS) / _TRAILING_SECONDS
        )

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
