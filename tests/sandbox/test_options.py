"""Option parsing shared by ``python -m dexbulk.sandbox`` and the Typer command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.sandbox import (
    SandboxOptions,
    default_db_path,
    parse_contact_id,
    parse_probability,
    parse_rate,
    parse_unknown_ids,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10/s", 10.0), ("5", 5.0), ("0.5/s", 0.5), (" 2 / sec ", 2.0), ("120/min", 2.0)],
)
def test_parse_rate(text: str, expected: float) -> None:
    assert parse_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "fast", "0", "0/s", "-1", "10/h", "1e3"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a rate"):
        parse_rate(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0.0), ("1", 1.0), ("0.25", 0.25), ("5%", 0.05)]
)
def test_parse_probability(text: str, expected: float) -> None:
    assert parse_probability(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1.5", "-0.1", "often", "150%"])
def test_parse_probability_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match=f"'{text}' is not a probability"):
        parse_probability(text)


def test_parse_contact_id_and_unknown_ids() -> None:
    upper = "3C90C3CC-0D44-4B50-8888-8DD25736052A"
    assert parse_contact_id(f" {upper} ") == upper.lower()
    with pytest.raises(InvalidInput, match="'abc' is not a contact ID"):
        parse_contact_id("abc")
    assert parse_unknown_ids("Reject") == "reject"
    with pytest.raises(InvalidInput, match="expected skip or reject"):
        parse_unknown_ids("ignore")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, "port 70000 is out of range"),
        ({"fail_rate": 2.0}, "fail rate 2.0 is not a probability"),
        ({"drop_rate": -1.0}, "drop rate -1.0 is not a probability"),
        ({"rate_limit": 0.0}, "rate limit must be above 0"),
        ({"max_batch": 0}, "max batch must be 1 or more"),
        ({"unknown_ids": "ignore"}, "unknown-ids mode 'ignore'"),
        ({"contacts": -1}, "contacts must be 0 or more"),
        ({"api_key": ""}, "must not be empty"),
        ({"latency_ms": -5.0}, "latency must be 0 ms or more"),
    ],
)
def test_options_validate(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SandboxOptions(**options)


def test_options_normalise() -> None:
    options = SandboxOptions(db_path=":memory:", reject_ids=frozenset({"ABC"}))  # type: ignore[arg-type]
    assert options.db_path == Path(":memory:")
    assert options.reject_ids == frozenset({"abc"})
    assert SandboxOptions().resolved_db_path == default_db_path()
    assert default_db_path().name == "sandbox.sqlite3"
