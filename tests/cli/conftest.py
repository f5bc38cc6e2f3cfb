"""Fixtures for the CLI's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[Path, int]:
    """How many times each file was read whole (how dexbulk.configfile reads the config)."""
    counts: dict[Path, int] = {}
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        counts[self] = counts.get(self, 0) + 1
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return counts
