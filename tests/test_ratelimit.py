"""The run-wide pacing: a fixed --rate, and adaptive slow-down after 429s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from typing import Any

import pytest
from urllib3 import HTTPResponse

from dexbulk.ratelimit import RateLimiter
from dexbulk.servertime import PROBE_SECONDS, ServerClock
from dexbulk.transport import DexRetry
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


def test_a_429_early_in_a_run_uses_real_figures_not_a_cold_meter() -> None:
    limiter, t = make()
    t.now += 0.37  # the limiter is made before the journal and the first request
    for _ in range(21):  # 35 req/s for 0.6 s, then the server's burst runs out
        limiter.on_response(throttled=False)
        t.now += 1 / 35
    limiter.on_response(throttled=True)
    # 70% of the 35 req/s really sent, or 90% of the 21 the server accepted in the last second,
    # whichever is lower; a cold meter read 1-5 req/s here.
    assert limiter.current_rate == pytest.approx(min(0.7 * 35, 0.9 * 21), rel=0.02)


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


# -- one cut per overshoot; what the server accepted -------------------------------------------


class Worker:
    """One worker thread of a run: its acquire and its answers run in that thread, in order.

    The limiter tells requests apart by the thread that acquired them, as the transport's
    workers do (acquire, send, report the answer).
    """

    def __init__(self, limiter: RateLimiter) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1)
        self.limiter = limiter

    def _run(self, call: Callable[[], None]) -> None:
        self._thread.submit(call).result()

    def send(self) -> None:
        self._run(self.limiter.acquire)

    def answer(self, **kwargs: Any) -> None:
        self._run(lambda: self.limiter.on_response(**kwargs))

    def close(self) -> None:
        self._thread.shutdown()


@pytest.fixture
def workers() -> Iterator[Callable[[RateLimiter, int], list[Worker]]]:
    made: list[Worker] = []

    def start(limiter: RateLimiter, count: int) -> list[Worker]:
        made.extend(Worker(limiter) for _ in range(count))
        return made[-count:]

    yield start
    for worker in made:
        worker.close()


def rate_of(limiter: RateLimiter) -> float:
    rate = limiter.current_rate
    assert rate is not None
    return rate


def test_the_first_429_is_cut_from_what_the_server_accepted() -> None:
    # Unpaced workers send 40 req/s into a limit of 10 per second: 10 accepted in a quarter of
    # a second, then a 429. The meter reads 40/s: cut to 70% of it, the run would send 28/s.
    limiter, t = make()
    for _ in range(10):
        limiter.acquire()
        t.now += 0.025
        limiter.on_response(throttled=False)
    limiter.acquire()
    t.now += 0.025
    limiter.on_response(throttled=True)
    assert rate_of(limiter) == pytest.approx(0.9 * 10)


def test_answers_to_requests_already_sent_add_to_the_first_count(
    workers: Callable[[RateLimiter, int], list[Worker]],
) -> None:
    limiter, t = make()
    first, second, third = workers(limiter, 3)
    for _ in range(8):  # 8 accepted at 40/s
        first.send()
        t.now += 0.025
        first.answer(throttled=False)
    second.send()  # two more on their way, accepted before the window filled
    third.send()
    first.send()
    t.now += 0.025
    first.answer(throttled=True)
    assert rate_of(limiter) == pytest.approx(0.9 * 8)
    second.answer(throttled=False)
    third.answer(throttled=False)
    assert rate_of(limiter) == pytest.approx(0.9 * 10, rel=0.01), "10 accepted in that second"
    third.send()  # sent after the cut: an ordinary success, the count stays
    third.answer(throttled=False)
    assert rate_of(limiter) < 0.9 * 11


def test_429s_of_requests_sent_before_the_cut_cut_nothing_more(
    workers: Callable[[RateLimiter, int], list[Worker]],
) -> None:
    limiter, t = make()
    crew = workers(limiter, 4)
    for _ in range(40):  # 20 req/s for two seconds
        crew[0].send()
        t.now += 0.05
        crew[0].answer(throttled=False)
    for worker in crew:  # four requests on their way
        worker.send()
    t.now += 0.05
    crew[0].answer(throttled=True)
    cut = rate_of(limiter)
    assert cut < 20 * 0.8
    for worker in crew[1:]:  # the same overshoot, answered a little later
        t.now += 0.01
        worker.answer(throttled=True)
    assert rate_of(limiter) == cut
    assert limiter.throttles == 4
    crew[1].send()  # sent after the cut: a new overshoot
    t.now += 0.05
    crew[1].answer(throttled=True)
    assert rate_of(limiter) < cut
    assert limiter.throttles == 5


def test_429s_of_requests_sent_before_the_named_turn_cut_nothing_more(
    workers: Callable[[RateLimiter, int], list[Worker]],
) -> None:
    limiter, t = make()
    first, second = workers(limiter, 2)
    answered(limiter, t, 40, 0.05)
    first.send()
    t.now += 0.05
    # A full window: the server will accept again in 0.4 s (its Date + Retry-After).
    first.answer(throttled=True, retry_in=0.4)
    cut = rate_of(limiter)
    t.now += 0.2
    second.send()  # after the cut, but into the same full window
    t.now += 0.05
    second.answer(throttled=True)
    assert rate_of(limiter) == cut
    t.now += 0.2
    second.send()  # after the turn: a new overshoot
    t.now += 0.05
    second.answer(throttled=True)
    assert rate_of(limiter) < cut
    assert limiter.throttles == 3


def test_a_refused_probe_of_the_named_instant_cuts_nothing() -> None:
    limiter, t = make()
    answered(limiter, t, 40, 0.05)
    limiter.on_response(throttled=True)
    cut = rate_of(limiter)
    t.now += 1.0
    limiter.acquire()
    limiter.on_response(throttled=True, probe=True)
    assert rate_of(limiter) == cut
    assert limiter.throttles == 2


def test_a_cut_at_full_speed_starts_from_at_most_what_was_accepted(
    workers: Callable[[RateLimiter, int], list[Worker]],
) -> None:
    limiter, t = make()
    first, second = workers(limiter, 2)
    for _ in range(20):  # 20 req/s, all accepted, then a 429 naming a turn 1 s away
        first.send()
        t.now += 0.05
        first.answer(throttled=False)
    first.send()
    t.now += 0.05
    first.answer(throttled=True, retry_in=1.0)
    # In that second, 20 answers: 12 accepted, 8 refused (sent into the full window).
    second.send()
    for i in range(20):
        t.now += 0.05
        second.answer(throttled=i % 5 < 2)
    # Paced at over 17/s and sending 20/s: 70% of either is more than the 12 it accepted.
    assert rate_of(limiter) > 12 / 0.7
    t.now += 0.05
    second.send()
    t.now += 0.05
    second.answer(throttled=True)
    assert rate_of(limiter) == pytest.approx(0.7 * 12)


def test_a_limit_met_twice_at_the_same_count_is_cut_less_and_probed_slower() -> None:
    limiter, t = make()

    def accepted(count: int, gap: float) -> None:
        for _ in range(count):
            t.now += gap
            limiter.on_response(throttled=False)

    accepted(20, 0.05)
    limiter.on_response(throttled=True)  # the first 429: 20 accepted in the last second
    accepted(12, 1 / 12)
    limiter.on_response(throttled=True)  # 12 accepted in the second before: the limit
    assert rate_of(limiter) == pytest.approx(0.7 * 12), "the first time: botocore's cut"
    accepted(36, 1 / 12)
    limiter.on_response(throttled=True)  # 12 again
    assert rate_of(limiter) == pytest.approx(0.9 * 12), "the second time: a known limit"
    accepted(100, 0.05)  # five seconds later
    # At botocore's pace the rate would be about 22 req/s by now (12 + 0.4 x 2.9^3).
    assert 12 <= rate_of(limiter) <= 12.5


# -- the transport: a 429's retry timed by its Date ---------------------------------------------

SERVED = 1_767_225_610.0  # 2026-01-01 00:00:10 UTC, a whole second as a Date header shows


def throttled_answer(retry_after: str = "1", date: float | None = SERVED) -> HTTPResponse:
    headers = {"Retry-After": retry_after}
    if date is not None:
        headers["Date"] = formatdate(date, usegmt=True)
    return HTTPResponse(body=b"", headers=headers, status=429, preload_content=False)


class SpyLimiter(RateLimiter):
    """Records what the transport tells it; takes tokens at once (or after ``delay``)."""

    def __init__(self, wall: FakeTime, delay: float = 0.0) -> None:
        super().__init__()
        self.wall = wall
        self.delay = delay
        self.told: list[dict[str, Any]] = []

    def acquire(self) -> None:
        self.wall.now += self.delay

    def on_response(self, **kwargs: Any) -> None:
        self.told.append(kwargs)


def timed_retry(wall: FakeTime, limiter: RateLimiter | None = None) -> DexRetry:
    return DexRetry(
        total=5, respect_retry_after_header=True, status_forcelist=frozenset({429}),
        raise_on_status=False, sleeper=wall.sleep, limiter=limiter,
        server_clock=ServerClock(wall.clock), throttle_retries=10,
    )  # fmt: skip


def refused(retry: DexRetry, response: HTTPResponse) -> DexRetry:
    """A 429 for the attempt ``retry`` governs: the next one, slept for as it would be."""
    after = retry.increment(method="PUT", url="/v1/contacts/", response=response)
    after.sleep(response)
    return after


@pytest.mark.parametrize(
    ("retry_after", "date", "now", "turn"),
    [
        ("1", SERVED, SERVED + 0.95, SERVED + 1),  # 50 ms before the window turns
        ("1", SERVED, SERVED + 0.02, SERVED + 1),
        (" 3 ", SERVED, SERVED + 0.5, SERVED + 3),
        ("1", SERVED, SERVED + 1.5, SERVED + 1),  # past, but by less than a second: now
        ("1", SERVED, SERVED + 2.5, None),  # more than a second past: the clocks disagree
        ("1", None, SERVED, None),  # no Date
        ("1.5", SERVED, SERVED, None),  # not whole seconds
        (formatdate(SERVED + 5, usegmt=True), SERVED, SERVED, None),  # an HTTP date already
    ],
)
def test_the_turn_is_the_answers_date_plus_retry_after(
    retry_after: str, date: float | None, now: float, turn: float | None
) -> None:
    wall = FakeTime()
    wall.now = now
    assert ServerClock(wall.clock).turn(throttled_answer(retry_after, date)) == turn


def test_an_unreadable_date_or_a_distrusted_clock_names_no_turn() -> None:
    wall = FakeTime()
    wall.now = SERVED
    clock = ServerClock(wall.clock)
    garbled = HTTPResponse(headers={"Retry-After": "1", "Date": "yesterday"}, status=429)
    assert clock.turn(garbled) is None
    clock.trusted = False
    assert clock.turn(throttled_answer()) is None


def test_a_429_is_retried_when_its_window_turns_not_a_second_later() -> None:
    wall = FakeTime()
    wall.now = SERVED + 0.95
    limiter = SpyLimiter(wall)
    retry = refused(timed_retry(wall, limiter), throttled_answer("1"))
    assert wall.slept == [pytest.approx(0.05)]
    assert retry.probing
    assert limiter.told == [{"throttled": True, "probe": False, "retry_in": pytest.approx(0.05)}]


def test_a_refused_probe_stops_trusting_the_date_for_the_run() -> None:
    wall = FakeTime()
    wall.now = SERVED + 0.95
    limiter = SpyLimiter(wall)
    retry = refused(timed_retry(wall, limiter), throttled_answer("1"))
    # Sent at 00:00:11 as told, and refused: the server's clock or its limit disagrees.
    retry = refused(retry, throttled_answer("1", SERVED + 1))
    assert retry.server_clock is not None
    assert not retry.server_clock.trusted
    assert limiter.told[1] == {"throttled": True, "probe": True, "retry_in": None}
    assert wall.slept[1] == 1.0, "the full Retry-After from now on"
    assert not retry.probing
    refused(retry, throttled_answer("1", SERVED + 2))
    assert wall.slept[2] == 1.0


def test_a_retry_the_pacing_held_back_is_no_probe() -> None:
    wall = FakeTime()
    wall.now = SERVED + 0.95
    # The run's pacing gives this worker its token 0.6 s after the window turned.
    limiter = SpyLimiter(wall, delay=PROBE_SECONDS + 0.35)
    retry = refused(timed_retry(wall, limiter), throttled_answer("1"))
    assert not retry.probing
    retry = refused(retry, throttled_answer("1", SERVED + 1))  # the window filled up again
    assert retry.server_clock is not None
    assert retry.server_clock.trusted
    assert limiter.told[1]["probe"] is False


def test_without_a_date_a_429_waits_the_full_retry_after() -> None:
    wall = FakeTime()
    wall.now = SERVED + 0.95
    limiter = SpyLimiter(wall)
    retry = refused(timed_retry(wall, limiter), throttled_answer("1", None))
    assert wall.slept == [1.0]
    assert not retry.probing
    assert limiter.told == [{"throttled": True, "probe": False, "retry_in": None}]
