"""Option parsing shared by ``python -m dexbulk.sandbox`` and the Typer command."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.sandbox import (
    DEFAULT_PORT,
    FLAGS,
    SandboxOptions,
    default_db_path,
    parse_contact_id,
    parse_probability,
    parse_rate,
    parse_unknown_ids,
)
from dexbulk.sandbox.__main__ import build_parser
from dexbulk.sandbox.options import FLAG_BY_FIELD, options_from_flags


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
        ({"page_size": 0}, "page size must be 1-500"),
        ({"rate_limiter": "leaky"}, "rate limiter 'leaky' is not bucket or window"),
        ({"hostile": frozenset({"evil"})}, "hostile mode 'evil' is not one of"),
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


# -- the flag table ---------------------------------------------------------------------------


def test_every_option_has_one_flag_with_the_same_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(SandboxOptions)}
    assert set(FLAG_BY_FIELD) == set(fields) - {"verbose_log"}
    names = [name for flag in FLAGS for name in flag.names]
    assert len(names) == len(set(names))
    built = SandboxOptions()
    for flag in FLAGS:
        assert flag.help.endswith("."), flag.field
        expected = DEFAULT_PORT if flag.field == "port" else getattr(built, flag.field)
        assert flag.default == expected, flag.field
        assert flag.is_switch == (flag.parse is None) == (fields[flag.field].type == "bool")


def test_options_from_flags_defaults_use_the_user_facing_port() -> None:
    options = options_from_flags({})
    assert options.port == DEFAULT_PORT == 8765
    assert options == dataclasses.replace(SandboxOptions(), port=8765)


def test_options_from_flags_parses_text() -> None:
    upper = "3C90C3CC-0D44-4B50-8888-8DD25736052A"
    options = options_from_flags(
        {
            "port": "0",
            "db_path": ":memory:",
            "fresh": True,
            "rate_limit": "120/min",
            "rate_limiter": "Window",
            "reject_ids": [upper],
            "hostile": ["HTML", "echo-key"],
            "latency_ms": "12.5",
            "page_size": "25",
            "ignore_cursor": False,
            "max_batch": None,
        }
    )
    assert (options.port, options.db_path, options.fresh) == (0, Path(":memory:"), True)
    assert (options.rate_limit, options.rate_limiter) == (2.0, "window")
    assert options.reject_ids == frozenset({upper.lower()})
    assert options.hostile == frozenset({"html", "echo-key"})
    assert (options.latency_ms, options.page_size, options.max_batch) == (12.5, 25, None)


def test_options_from_flags_keeps_parsed_values() -> None:
    options = options_from_flags({"port": 0, "latency_ms": 5.0, "reject_ids": frozenset()})
    assert (options.port, options.latency_ms, options.reject_ids) == (0, 5.0, frozenset())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"port": "http"}, "--port: 'http' is not a port (expected a whole number from 0"),
        ({"port": "65536"}, "--port: '65536' is not a port"),
        ({"page_size": "501"}, "--page-size: '501' is not a page size"),
        ({"latency_ms": "-1"}, "--latency: '-1' is not a latency"),
        ({"contacts": "many"}, "--contacts: 'many' is not a number of contacts"),
        ({"rate_limiter": "leaky"}, "--rate-limiter: 'leaky' is not a rate limiter"),
        ({"hostile": ["evil"]}, "--hostile: 'evil' is not a hostile mode (expected escapes, html"),
        ({"reject_ids": ["abc"]}, "--reject: 'abc' is not a contact ID"),
        ({"api_key": " "}, "--key: the value must not be empty"),
        ({"rate_limit": "0.5/s", "rate_limiter": "window"}, "--rate-limiter window needs a rate"),
    ],
)
def test_options_from_flags_errors_name_the_flag(values: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        options_from_flags(values)
    assert caught.value.message.startswith(message)


def test_options_from_flags_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="not a sandbox flag field: latency"):
        options_from_flags({"latency": "5"})


def test_argparse_parser_is_built_from_the_table() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for flag in FLAGS:
        assert flag.names[0] in help_text
    assert "hostile server:" in help_text
    assert "(default: 8765)" in help_text
    assert options_from_flags(vars(parser.parse_args([]))).port == 8765
    ids = ["3c90c3cc-0d44-4b50-8888-8dd25736052a", "4c90c3cc-0d44-4b50-8888-8dd25736052a"]
    args = parser.parse_args(
        ["--reject", ids[0], "--reject", ids[1], "--hostile", "500", "--ignore-cursor"]
    )
    options = options_from_flags(vars(args))
    assert options.reject_ids == frozenset(ids)
    assert (options.hostile, options.ignore_cursor) == (frozenset({"500"}), True)
