"""Tests for dexbulk.text: untrusted text made safe to show."""

from __future__ import annotations

import json

import pytest

from dexbulk.text import display_value, escape_json_text, has_controls, printable

HOSTILE = "\x1b]0;PWNED\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\x1b[31mRED"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, café, 名前", "plain text, café, 名前"),
        (HOSTILE, "\\x1b]0;PWNED\\x07\\x1b]52;c;UFdORUQ=\\x07\\x1b[2J\\x1b[31mRED"),
        ("over\rwrite", "over\\rwrite"),
        ("nul\x00 del\x7f", "nul\\x00 del\\x7f"),
        ("c1 csi\x9b2J osc\x9d0;x", "c1 csi\\x9b2J osc\\x9d0;x"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("safe\u202etxt.exe", "safe\\u202etxt.exe"),  # shown as 'safeexe.txt' otherwise
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
    ],
)
def test_printable_escapes_every_control_but_tab_and_newline(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert not has_controls(printable(text))


def test_printable_on_one_line_escapes_tab_and_newline_too() -> None:
    assert printable("a\tb\nc", keep="") == "a\\tb\\nc"
    assert printable("a\tb\nc", keep="\t") == "a\tb\\nc"


def test_printable_is_idempotent() -> None:
    once = printable(HOSTILE)
    assert printable(once) == once


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (1990, "1990"),
        ("Acme Corp", "Acme Corp"),
        ("", '""'),
        ("true", '"true"'),
        ("null", '"null"'),
        ("42", '"42"'),
        (" padded", '" padded"'),
        ([{"email": "a@b.co"}], '[{"email": "a@b.co"}]'),
        ("evil\x1b[2J", "evil\\x1b[2J"),
        ("two\nlines", "two\\nlines"),
    ],
)
def test_display_value_shows_values_as_a_user_types_them(value: object, shown: str) -> None:
    assert display_value(value) == shown


def test_display_value_shortens_long_values() -> None:
    assert display_value("x" * 100, limit=10) == "x" * 9 + "…"


def test_escape_json_text_writes_c1_controls_as_unicode_escapes() -> None:
    text = json.dumps({"name": "a\x9bb\x7f"}, ensure_ascii=False)
    escaped = escape_json_text(text)
    assert escaped == '{"name": "a\\u009bb\\u007f"}'
    assert json.loads(escaped) == {"name": "a\x9bb\x7f"}


def test_escape_json_text_writes_lone_surrogates_as_unicode_escapes() -> None:
    text = json.dumps({"company": "a\udc9b", "name": "\U0001f600"}, ensure_ascii=False)
    escaped = escape_json_text(text)
    assert escaped == '{"company": "a\\udc9b", "name": "\U0001f600"}'
    assert escaped.encode("utf-8")  # every stream can write it
    assert json.loads(escaped) == {"company": "a\udc9b", "name": "\U0001f600"}


@pytest.mark.parametrize("char", ["\u200b", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029"])
def test_invisible_marks_that_make_names_look_alike_are_escaped(char: str) -> None:
    assert printable(f"Ana{char}") == f"Ana\\u{ord(char):04x}"
    assert escape_json_text(f'"Ana{char}"') == f'"Ana\\u{ord(char):04x}"'


def test_zero_width_joiners_of_emoji_stay() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert printable(family) == family
