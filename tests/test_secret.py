"""Tests for dexbulk.secret: masking, and finding the key in text and on command lines."""

from __future__ import annotations

import pytest

from dexbulk.secret import ApiKey, keys_in_argv, mask, redact, redact_argv
from tests.conftest import TEST_KEY


@pytest.mark.parametrize(
    ("argv", "keys"),
    [
        (["star", "--api-key", "k1", "--ids", "a"], ["k1"]),
        (["star", "--api-key=k2"], ["k2"]),
        (["star", "--api-key"], []),
        (["star", "--api-keys", "x"], []),
    ],
)
def test_keys_in_argv(argv: list[str], keys: list[str]) -> None:
    assert keys_in_argv(argv) == keys


def test_redact_argv_hides_both_spellings() -> None:
    argv = ["star", "--api-key", "k1", "--api-key=k2"]
    assert redact_argv(argv) == ["star", "--api-key", "<redacted>", "--api-key=<redacted>"]


def test_redact_masks_every_occurrence_and_skips_short_candidates() -> None:
    text = f"{TEST_KEY} and again {TEST_KEY}, x"
    assert redact(text, [TEST_KEY, "x"]) == f"{mask(TEST_KEY)} and again {mask(TEST_KEY)}, x"


def test_an_api_key_redacts_itself() -> None:
    key = ApiKey(TEST_KEY)
    assert key.redact(f"Bearer {TEST_KEY}") == f"Bearer {key.masked}"
