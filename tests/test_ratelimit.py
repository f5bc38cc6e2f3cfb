"""The run-wide pacing: a fixed --rate, and adaptive slow-down after 429s."""

from __future__ import annotations

import pytest

from dexbulk.ratelimit import RateLimiter
from tests.fakes import FakeTime


def make(rate: float | None = None) -> tuple[RateLimiter, FakeTime]:
    t = FakeTime()
    return RateLimiter(rate, clock=t.clock, sleeper=t.sleep), t


def test_unpaced_until_the_first_throttle() -> None:
    limiter, t = make()
    for _ in range(100):
        limiter.acquire()
        limiter.on_response(throttled=False)
    assert t.slept == []
    assert not limiter.active
    assert limiter.current_rate is None


@pytest.mark.parametrize("rate", [1.0, 5.0, 20.0])
def test_fixed_rate_spaces_requests_evenly(rate: float) -> None:
    limiter, t = make(rate)
    start = t.now
    for _ in range(50):
        limiter.acquire()
    # One token is there at the start; the other 49 each take 1/rate seconds.
    assert t.now - start == pytest.approx(49 / rate)
    assert max(t.slept) <= 1 / rate + 1e-9


def answered(limiter: RateLimiter, t: FakeTime, count: int, gap: float) -> None:
    """``count`` successful answers, ``gap`` seconds apart."""
    for _ in range(count):
        limiter.on_response(throttled=False)
        t.now += gap


def test_a_429_turns_pacing_on_below_the_measured_rate() -> None:
    limiter, t = make()
    # 20 requests per second for two seconds, then a 429.
    for _ in range(40):
        limiter.acquire()
        limiter.on_response(throttled=False)
        t.now += 0.05
    limiter.on_response(throttled=True)
    assert limiter.active
    assert limiter.throttles == 1
    rate = limiter.current_rate
    assert rate is not None
    assert rate < 20 * 0.8, "the rate drops below what was being sent"
    assert rate >= 0.5


def test_rate_recovers_gradually_after_throttling() -> None:
    limiter, t = make()
    answered(limiter, t, 40, 0.05)
    limiter.on_response(throttled=True)
    after_throttle = limiter.current_rate
    assert after_throttle is not None
    rates = []
    for _ in range(40):
        limiter.acquire()
        limiter.on_response(throttled=False)
        rates.append(limiter.current_rate)
    assert all(r is not None for r in rates)
    last = rates[-1]
    assert last is not None
    assert last > after_throttle, "successes raise the rate again"


def test_fixed_rate_is_a_ceiling_even_when_recovering() -> None:
    limiter, t = make(3.0)
    for _ in range(10):
        limiter.acquire()
        limiter.on_response(throttled=False)
    limiter.on_response(throttled=True)
    for _ in range(200):
        limiter.acquire()
        limiter.on_response(throttled=False)
        t.now += 1.0
    current = limiter.current_rate
    assert current is not None
    assert current <= 3.0


def test_repeated_throttles_keep_lowering_the_rate() -> None:
    limiter, t = make()
    answered(limiter, t, 40, 0.05)
    seen = []
    for _ in range(3):
        limiter.on_response(throttled=True)
        seen.append(limiter.current_rate)
        t.now += 0.5
    assert seen[0] is not None
    assert seen[2] is not None
    assert seen[2] < seen[0]
    assert limiter.throttles == 3


def test_a_429_early_in_a_run_uses_the_real_sending_rate() -> None:
    limiter, t = make()
    t.now += 0.37  # the limiter is made before the journal and the first request
    for _ in range(21):  # 35 req/s for 0.6 s, then the server's burst runs out
        limiter.on_response(throttled=False)
        t.now += 1 / 35
    limiter.on_response(throttled=True)
    rate = limiter.current_rate
    assert rate is not None
    assert rate >= 0.7 * 35 * 0.9, "cut to 70% of what was really sent, not of a cold meter"


def test_a_429_at_a_fixed_rate_settles_slightly_below_it() -> None:
    limiter, _ = make(10.0)
    limiter.on_response(throttled=True)
    assert limiter.max_rate is not None
    assert 5.0 <= limiter.max_rate < 10.0


def _throttle_at_one_per_second() -> tuple[RateLimiter, FakeTime, float]:
    """Five answers a second apart, then a 429: returns the limiter, its clock, the refused rate."""
    limiter, t = make()
    answered(limiter, t, 5, 1.0)
    limiter.on_response(throttled=True)
    rate = limiter.current_rate
    assert rate is not None
    return limiter, t, rate / 0.7


def _paced_answers(limiter: RateLimiter, t: FakeTime, count: int) -> list[float]:
    """``count`` requests, each sent when the limiter allows and answered 50 ms later."""
    rates = []
    for _ in range(count):
        limiter.acquire()
        t.now += 0.05
        limiter.on_response(throttled=False)
        rate = limiter.current_rate
        assert rate is not None
        rates.append(rate)
    return rates


def test_a_slow_limit_is_probed_per_request_not_per_second() -> None:
    # Against 1 req/s, botocore's curve (in seconds) was back above the refused rate after two
    # requests, and a bucket of one token refuses anything above its rate at once.
    limiter, t, refused = _throttle_at_one_per_second()
    assert refused == pytest.approx(1.0, rel=0.1)
    rates = _paced_answers(limiter, t, 15)
    assert max(rates) <= refused, "no probing above the refused rate for 15 requests"
    assert rates[-1] > rates[0] > 0.7 * refused, "but it does climb back towards it"
    assert rates[-1] > 0.95 * refused


def test_a_fast_limit_recovers_along_botocores_curve() -> None:
    # At 10 req/s and above the adaptive mode is botocore's, second for second.
    limiter, t = make()
    answered(limiter, t, 60, 0.05)  # 20 req/s for 3 s, then a 429
    limiter.on_response(throttled=True)
    cut = limiter.current_rate
    assert cut is not None
    w_max = cut / 0.7
    k = (w_max * 0.3 / 0.4) ** (1 / 3)
    start = t.now
    for _ in range(80):  # 4 s of answers at 20 req/s
        t.now += 0.05
        limiter.on_response(throttled=False)
        assert limiter.current_rate == pytest.approx(0.4 * (t.now - start - k) ** 3 + w_max)
    assert limiter.current_rate is not None
    assert limiter.current_rate > w_max, "4 s after the cut it probes above the refused rate"


def test_a_429_just_after_a_proven_slow_pace_cuts_less() -> None:
    limiter, t, _ = _throttle_at_one_per_second()
    _paced_answers(limiter, t, 15)
    before = limiter.current_rate
    assert before is not None
    limiter.acquire()
    t.now += 0.05
    limiter.on_response(throttled=True)
    pinned = limiter.current_rate
    assert pinned is not None
    assert 0.85 * before <= pinned < before, "the limit is just below the pace that worked"
    # A second 429 with no success in between proves nothing new: the full 30% cut.
    limiter.acquire()
    t.now += 0.05
    limiter.on_response(throttled=True)
    again = limiter.current_rate
    assert again is not None
    assert again <= 0.7 * pinned + 1e-9


def test_a_limit_of_one_request_in_ten_seconds_can_be_reached() -> None:
    limiter, t = make()
    answered(limiter, t, 3, 10.0)  # 0.1 req/s
    for _ in range(20):
        limiter.on_response(throttled=True)
        t.now += 10.0
    rate = limiter.current_rate
    assert rate is not None
    assert 0.05 <= rate < 0.1, "the floor lies below the slowest limit we support"
