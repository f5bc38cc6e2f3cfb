"""Test doubles shared by several test modules."""

from __future__ import annotations


class FakeTime:
    """A clock that only moves when someone sleeps (or the test moves ``now``)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
