"""When a rate-limited server said to come back: a 429's ``Date`` plus its ``Retry-After``.

``Retry-After`` in whole seconds is rounded up: a gateway that counts requests per clock second
answers ``Retry-After: 1`` at 12:00:00.95 for a window that turns 50 ms later. The answer's
``Date`` (the second it was sent in) plus ``Retry-After`` names that instant: 12:00:01. The
transport (:mod:`dexbulk.transport`) retries then, on our own wall clock, and tells the run's
pacing (:mod:`dexbulk.ratelimit`) when the server will accept again.

That reading needs our clock to agree with the server's, and a limit counted per clock second.
When a retry sent at the named instant is refused anyway, one of the two does not hold (a token
bucket refills at its own pace, not on the second): the run stops trusting ``Date`` and waits
the full ``Retry-After`` from then on.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

# A retry timed by a 429's Date that leaves within this long after the named instant is a probe
# of that instant: refused, it proves the instant early (clocks that disagree, or a limit not
# counted per clock second, like a token bucket), not the pace too high. Later, the run's own
# pacing held it back, and a refusal is an ordinary 429 (the window filled up again).
PROBE_SECONDS = 0.25


class ServerClock:
    """Whether a 429's ``Date`` can time its retry; shared by every request of a run.

    ``wall_clock`` is ours (injectable for tests). ``trusted`` turns off for the rest of the
    run when a retry timed by ``Date`` is refused again: the clocks disagree by more than the
    network's delay, or the server's limit is not counted per clock second.
    """

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self.wall_clock = wall_clock
        self.trusted = True

    def turn(self, response: Any) -> float | None:
        """The instant (our wall clock) of the answer's ``Date + Retry-After``, or None.

        Only for ``Retry-After`` in whole seconds with a parseable ``Date``, while trusted;
        None when that instant is more than a second past on our clock (a network delay is not
        a second: the clocks disagree).
        """
        retry_after = str(_header(response, "Retry-After") or "").strip()
        served = _served_at(response)
        if not self.trusted or served is None or not retry_after.isdigit():
            return None
        at = served + int(retry_after)
        return at if at > self.wall_clock() - 1.0 else None

    def until(self, instant: float) -> float:
        """Seconds from now until ``instant`` on our wall clock (0 if past)."""
        return max(0.0, instant - self.wall_clock())


def _served_at(response: Any) -> float | None:
    """The answer's ``Date`` header as a POSIX timestamp, or None if absent or unreadable."""
    date = _header(response, "Date")
    if not date:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(date)).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _header(response: Any, name: str) -> object:
    headers = getattr(response, "headers", None)
    return headers.get(name) if headers is not None else None
