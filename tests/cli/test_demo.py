"""The demo shows values as a user would type them, and commands with their quotes."""

from __future__ import annotations

import pytest

from dexbulk.cli.demo import _change


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        (None, "Acme Corp", "null → Acme Corp"),
        (False, True, "false → true"),
        (True, True, "true (unchanged)"),
        ("6 mons", "1 mon", "6 mons → 1 mon"),
        ("\x1b]0;x\x07Evil", "Acme", "\\x1b]0;x\\x07Evil → Acme"),
    ],
)
def test_before_and_after_are_json_style_values(old: object, new: object, shown: str) -> None:
    assert _change({"company": old}, {"company": new}, "company") == shown
