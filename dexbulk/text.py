"""Text that is safe to show: untrusted strings with their control characters made visible.

Anything dexbulk did not write itself (input tokens, Dex's messages, contact names, values) may
carry terminal escape sequences: set the window title, write the clipboard (OSC 52), clear the
screen. A terminal obeys them when they are printed as they are, so every piece of such text
passes through :func:`printable` before it reaches a terminal, a log or a listing: the control
characters are shown as ``\\x1b``, ``\\r``, ``\\x9b`` instead. Imports nothing of ours.
"""

from __future__ import annotations

import functools
import json
import re

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

# The bidi overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
# U+061C), which make a name ending in 'txt.exe' display as ending in 'exe.txt', the zero-width
# space (two names that look alike) and the line and paragraph separators. Zero-width joiners
# stay: emoji sequences are made of them.
_INVISIBLE = "\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# C0 controls, DEL and C1 controls: the C1 range matters too, since \x9b is a one-character CSI
# and \x9d an OSC on terminals that read 8-bit controls.
_CONTROLS = "\x00-\x1f\x7f-\x9f" + _INVISIBLE


@functools.lru_cache(maxsize=8)
def _pattern(keep: str) -> re.Pattern[str]:
    allowed = "".join(re.escape(c) for c in keep)
    return re.compile(f"(?![{allowed}])[{_CONTROLS}]" if allowed else f"[{_CONTROLS}]")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, *, keep: str = "\t\n") -> str:
    """``text`` with every C0/C1 control character (and DEL) shown escaped, e.g. ``\\x1b``.

    ``keep`` names the controls that belong where the text goes and stay as they are: tab and
    newline by default; ``""`` for text that must stay on one line (an error line, a table cell).
    """
    pattern = _pattern(keep)
    return pattern.sub(_escaped, text) if pattern.search(text) else text


def has_controls(text: str, *, keep: str = "\t\n") -> bool:
    """Whether :func:`printable` would change ``text``."""
    return _pattern(keep).search(text) is not None


# Strings shown in JSON quotes: empty, or what would read as null, a boolean, a number, or
# hide leading/trailing spaces.
_LOOKS_TYPED = re.compile(r"|null|true|false|-?\d[\d.eE+-]*|\s.*|.*\s", re.DOTALL)


def display_value(value: object, *, limit: int | None = None) -> str:
    """A field value for people, on one line, the way they would type it in JSON-ish terms.

    ``None`` is ``null``, booleans are ``true``/``false``, lists and objects are compact JSON,
    and a string is shown as it is unless it would read as something else (empty, ``"true"``,
    ``"42"``, leading or trailing spaces), when it is shown in JSON quotes. ``limit`` shortens
    long values (``…``); the result is always :func:`printable`.
    """
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False) if _LOOKS_TYPED.fullmatch(value) else value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)
        except (TypeError, ValueError):
            text = str(value)
    text = printable(text, keep="")
    if limit is not None and len(text) > limit:
        text = f"{text[: max(1, limit - 1)]}…"
    return text


def escape_json_text(text: str) -> str:
    """JSON text with the C1 controls and DEL a terminal could read written as ``\\u0080``,
    and lone surrogates as ``\\udc9b``.

    ``json.dumps`` escapes C0 controls always, but with ``ensure_ascii=False`` it writes C1
    controls and lone surrogates (an argument's undecodable byte, a ``\\udc9b`` in Dex's JSON)
    as they are: the first a terminal may obey, the second no UTF-8 stream can carry. In a JSON
    document they can only be inside strings, where ``\\u`` escapes mean the same thing.
    """
    return _ESCAPED.sub(_json_escape, text) if _ESCAPED.search(text) else text


_ESCAPED = re.compile("[\x7f-\x9f" + _INVISIBLE + "\ud800-\udfff]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
