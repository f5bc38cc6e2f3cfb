"""Tests for dexbulk.inputs.patches (and yamldoc): hostile patch files end in one clear error.

The shapes and formats of patch files are tested in tests/test_plan.py; here: bounds (size,
depth, aliases, long numbers, binary data) and keys given twice (issue 11 items 3 and 8).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.inputs.patches import load_patch
from dexbulk.inputs.reading import HEAD_CHARS
from dexbulk.inputs.yamldoc import LOADER, PyLoader, load_yaml
from dexbulk.limits import MAX_DEPTH
from dexbulk.plan import Patch, Update

A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"

# A 7-level "billion laughs": each level lists the previous one ten times (400 bytes of YAML
# that safe_load expands to 10**7 strings).
ALIAS_BOMB = "linkedin_data:\n a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f" a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 8)
)


def load(tmp_path: Path, name: str, text: str) -> Patch | list[Update]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_patch(str(path), stdin=io.StringIO("must not be read"))


def message(tmp_path: Path, name: str, text: str) -> str:
    with pytest.raises(InvalidInput) as excinfo:
        load(tmp_path, name, text)
    text = str(excinfo.value)
    assert "\n" not in text
    prefix = str(tmp_path) + "/"
    assert text.startswith(prefix)
    return text.removeprefix(prefix)


def yaml_nested(depth: int) -> str:
    lines = ["linkedin_data:"] + ["  " * i + "a:" for i in range(1, depth)]
    return "\n".join(lines) + "\n" + "  " * depth + "1\n"


# -- YAML --------------------------------------------------------------------------------------


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB) < 500
    assert message(tmp_path, "bomb.yaml", ALIAS_BOMB) == (
        "bomb.yaml line 3: YAML aliases (*a0) are not allowed in patch files"
    )


def test_an_anchor_without_alias_is_harmless(tmp_path: Path) -> None:
    assert load(tmp_path, "p.yaml", "company: &c Acme\n") == Patch({"company": "Acme"})


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600])
def test_deep_yaml_is_refused_naming_the_line(tmp_path: Path, depth: int) -> None:
    assert message(tmp_path, "deep.yaml", yaml_nested(depth)) == (
        f"deep.yaml line {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels of lists and "
        "mappings"
    )


def test_yaml_flow_nesting_is_refused_too(tmp_path: Path) -> None:
    text = "linkedin_data: " + "[" * 5000 + "]" * 5000 + "\n"
    # libyaml's scanner has its own limit (1,000), which it may reach before ours.
    assert "nest" in message(tmp_path, "deep.yaml", text)


def test_yaml_nesting_within_the_limit_is_read(tmp_path: Path) -> None:
    patch = load(tmp_path, "ok.yaml", yaml_nested(MAX_DEPTH - 2))
    assert isinstance(patch, Patch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "company: A\njob_title: x\ncompany: B\n",
            "p.yaml line 3: key 'company' appears twice (first on line 1)",
        ),
        (
            f"- contactId: {A}\n  data: {{company: A}}\n- contactId: {B}\n  contactId: {A}\n"
            "  data: {company: B}\n",
            "p.yaml line 4: key 'contactId' appears twice (first on line 3)",
        ),
        ("linkedin_data: {a: 1, b: {c: 1, c: 2}}\n", "p.yaml line 1: key 'c' appears twice"),
    ],
)
def test_a_yaml_key_given_twice_is_an_error_naming_the_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert message(tmp_path, "p.yaml", text).startswith(expected)


def test_a_yaml_integer_too_long_for_python_is_refused(tmp_path: Path) -> None:
    text = "company: Acme\nbirthday_year: " + "1" * 5000 + "\n"
    assert message(tmp_path, "p.yaml", text) == "p.yaml line 2: a number longer than 64 digits"


@pytest.mark.parametrize("loader", [PyLoader, LOADER])
def test_both_yaml_parsers_apply_the_same_rules(loader: type) -> None:
    assert load_yaml("a: 2020-01-01\nb: [1, {c: d}]\n", "p", loader) == {
        "a": "2020-01-01",
        "b": [1, {"c": "d"}],
    }
    for text, expected in [
        (ALIAS_BOMB, "p line 3: YAML aliases (*a0) are not allowed"),
        (yaml_nested(100), f"p line {MAX_DEPTH + 1}: nested deeper"),
        ("a: 1\na: 2\n", "p line 2: key 'a' appears twice"),
        ("a: [1,\n", "p: not valid YAML"),
    ]:
        with pytest.raises(InvalidInput) as excinfo:
            load_yaml(text, "p", loader)
        assert str(excinfo.value).startswith(expected)


def test_a_large_yaml_value_is_refused_by_its_length(tmp_path: Path) -> None:
    text = "company: " + "x" * (1 << 20) + "\n"
    assert "is 1,048,576 characters, over the limit of 10,000 for text" in message(
        tmp_path, "p.yaml", text
    )


# -- JSON and JSON Lines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.json", "[" * 100_000 + "]" * 100_000, "p.json: nested deeper than 64 levels"),
        ("p.json", '{"linkedin_data": ' + "[" * 100 + "]" * 100 + "}", "p.json: nested deeper"),
        (
            "p.json",
            json.dumps([{"contactId": A, "data": {"linkedin_data": {"a": 1}}}]).replace(
                '{"a": 1}', '{"a":' * 70 + "1" + "}" * 70
            ),
            "p.json item 1: nested deeper",
        ),
        (
            "p.jsonl",
            f'{{"contactId": "{A}", "data": {{"company": "A"}}}}\n' + "[" * 5000 + "]" * 5000,
            "p.jsonl line 2: nested deeper",
        ),
        ("p.json", '{"birthday_year": ' + "9" * 5000 + "}", "p.json: a number too long to read"),
    ],
)
def test_deep_or_huge_json_is_refused(tmp_path: Path, name: str, text: str, expected: str) -> None:
    assert message(tmp_path, name, text).startswith(expected)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.json", '{"company": "A", "company": "B"}', "p.json: key 'company' appears twice"),
        (
            "p.json",
            json.dumps([{"contactId": A, "data": {"company": "A"}}])[:-1]
            + f', {{"contactId": "{A}", "contactId": "{B}", "data": {{"company": "B"}}}}]',
            "p.json item 2: key 'contactId' appears twice",
        ),
        (
            "p.json",
            f'[{{"contactId": "{A}", "data": {{"company": "A", "company": "B"}}}}]',
            "p.json item 1: key 'company' appears twice (in data)",
        ),
        (
            "p.jsonl",
            f'{{"contactId": "{A}", "data": {{"company": "A"}}}}\n'
            f'{{"contactId": "{B}", "data": {{"starred": true}}, "data": {{"starred": false}}}}\n',
            "p.jsonl line 2: key 'data' appears twice",
        ),
        (
            "p.json",
            f'{{"contactId": "{A}", "contactId": "{B}", "data": {{}}}}',
            "p.json: key 'contactId' appears twice",
        ),
    ],
)
def test_a_json_key_given_twice_is_an_error_naming_the_item_or_line(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    """JSON keeps the last of two keys silently: the first contactId's update would be lost."""
    assert message(tmp_path, name, text) == expected


def test_a_json_document_over_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dexbulk.inputs.patches.MAX_DOCUMENT_BYTES", 1 << 20)
    text = json.dumps({"company": "x" * (2 << 20)})
    with pytest.raises(InvalidInput) as excinfo:
        load(tmp_path, "p.json", text)
    assert str(excinfo.value).endswith(
        "p.json: larger than 1 MiB, the limit for a JSON file read whole"
    )
    assert excinfo.value.hint == (
        "use JSON Lines or CSV, which are read a line at a time, or split the file"
    )


def test_a_sparse_500_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as out:
        out.write(b"company: " + b"x" * (HEAD_CHARS + 10))  # text as far as the sniffing reads
        out.truncate(500 << 20)
    with pytest.raises(InvalidInput, match=r"big\.txt: larger than 16 MiB, the limit for a YAML"):
        load_patch(str(path), stdin=io.StringIO())


# -- any format --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["p.csv", "p.json", "p.yaml", "p.jsonl", "zero"])
def test_binary_data_is_refused(tmp_path: Path, name: str) -> None:
    assert message(tmp_path, name, "\0" * 1000) == (
        f"{name}: not a text file (it contains NUL characters)"
    )


def test_dev_zero_is_refused_at_once() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_patch("/dev/zero", stdin=io.StringIO())
    assert str(excinfo.value) == "/dev/zero: not a text file (it contains NUL characters)"


@pytest.mark.parametrize("name", ["p.csv", "p.jsonl"])
def test_a_line_over_the_limit_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    first = f"contactId,company\n{A},A\n" if name == "p.csv" else f'{{"company": "{A}"}}\n'
    assert message(tmp_path, name, first + "x" * (2 << 20) + "\n").startswith(
        f"{name} line {first.count(chr(10)) + 1}: longer than 1,048,576 characters"
    )


def test_endless_stdin_without_line_ends_is_refused() -> None:
    class Endless(io.StringIO):
        def read(self, size: int | None = -1, /) -> str:
            assert size is not None
            assert size >= 0, "asked to read an endless stream whole"
            return "x" * size

    with pytest.raises(InvalidInput, match=r"<stdin>: larger than 16 MiB"):
        load_patch("-", stdin=Endless())


def test_whitespace_only_stdin_is_empty() -> None:
    with pytest.raises(InvalidInput, match=r"<stdin>: empty, nothing to change"):
        load_patch("-", stdin=io.StringIO(" \n" * 50_000))
