"""Tests for dexbulk.limits: JSON that cannot crash, depth and repeated-key checks."""

from __future__ import annotations

import json

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.limits import MAX_DEPTH, check_tree, load_json, size_text


def nested(depth: int) -> object:
    """Lists nested ``depth`` deep, built without recursion."""
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_load_json_refuses_deep_nesting_without_recursion_error(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_json(text)
    assert str(excinfo.value) == f"nested deeper than {MAX_DEPTH} levels of lists and objects"


def test_load_json_refuses_a_number_too_long_for_python() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_json("1" * 5000)
    assert str(excinfo.value).startswith("a number too long to read (Exceeds the limit")


def test_load_json_keeps_syntax_errors_as_json_errors() -> None:
    with pytest.raises(json.JSONDecodeError):
        load_json("[1,")


def test_load_json_parses_like_json_loads() -> None:
    text = '{"a": [1, 2.5, null, true, "x"], "b": {"c": {}}}'
    assert load_json(text) == json.loads(text)


def test_check_tree_accepts_the_limit_and_refuses_one_more() -> None:
    check_tree(nested(MAX_DEPTH), "f")
    with pytest.raises(InvalidInput) as excinfo:
        check_tree(nested(MAX_DEPTH + 1), "f")
    assert str(excinfo.value) == f"f: nested deeper than {MAX_DEPTH} levels of lists and objects"


def test_check_tree_counts_from_the_given_depth() -> None:
    check_tree(nested(MAX_DEPTH - 1), "f", depth=2)
    with pytest.raises(InvalidInput):
        check_tree(nested(MAX_DEPTH), "f", depth=2)


def test_check_tree_is_iterative() -> None:
    """A structure far deeper than Python's recursion limit is refused, not crashed on."""
    with pytest.raises(InvalidInput, match="nested deeper"):
        check_tree(nested(200_000), "f")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"contactId": "a", "contactId": "b"}', "x: key 'contactId' appears twice"),
        ('{"data": {"company": "A", "company": "B"}}', "x: key 'company' appears twice (in data)"),
        ('[{"a": 1}, {"b": {"c": [{"d": 1, "d": 2}]}}]', "key 'd' appears twice (in [1].b.c[0])"),
    ],
)
def test_check_tree_reports_a_repeated_key_with_its_path(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_tree(load_json(text), "x")
    assert str(excinfo.value) == expected or str(excinfo.value).endswith(expected)


def test_a_repeated_key_is_only_an_error_once_checked() -> None:
    """load_json marks, check_tree reports: so the caller can say which item it was."""
    value = load_json('{"a": 1, "a": 2}')
    assert value == {"a": 2}


@pytest.mark.parametrize(
    ("size", "text"),
    [(999, "999 bytes"), (10_000, "10,000 bytes"), (4 << 20, "4 MiB"), (3 << 19, "1.5 MiB")],
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text
