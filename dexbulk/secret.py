"""A wrapper that keeps the API key out of every output path.

The key is only ever unwrapped in one place: the ``Authorization`` header built by ``client.py``.
``str()``, ``repr()``, f-strings and tracebacks with locals all show the masked form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

API_KEY_FLAG = "--api-key"


def mask(key: str) -> str:
    """Show just enough of a key to recognise it: ``dex_ab…9f``."""
    if len(key) <= 8:
        return "…" * min(len(key), 3) or "(empty)"
    return f"{key[:6]}…{key[-2:]}"


def redact(text: str, keys: Iterable[str], *, min_length: int = 4) -> str:
    """``text`` with each of ``keys`` in its masked form.

    Keys shorter than ``min_length`` are left alone: a guessed candidate such as the value of
    a mistyped ``--api-key x`` would otherwise mask every "x" in the text.
    """
    for key in sorted(set(keys), key=len, reverse=True):
        if len(key.strip()) >= max(min_length, 1):
            text = text.replace(key, mask(key))
    return text


def keys_in_argv(argv: Sequence[str]) -> list[str]:
    """The values given to ``--api-key`` on a command line."""
    return [
        arg.partition("=")[2] if arg != API_KEY_FLAG else argv[i + 1]
        for i, arg in enumerate(argv)
        if (arg == API_KEY_FLAG and i + 1 < len(argv)) or arg.startswith(API_KEY_FLAG + "=")
    ]


def redact_argv(argv: Sequence[str]) -> list[str]:
    """The command line as it may be stored or shown: the value of --api-key removed."""
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append("<redacted>")
            hide_next = False
        elif arg == API_KEY_FLAG:
            shown.append(arg)
            hide_next = True
        elif arg.startswith(API_KEY_FLAG + "="):
            shown.append(API_KEY_FLAG + "=<redacted>")
        else:
            shown.append(arg)
    return shown


class ApiKey:
    """An API key whose text appears nowhere but in :meth:`reveal`."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "unknown") -> None:
        self._value = value.strip()
        self.source = source

    def reveal(self) -> str:
        """Return the real key; call this only to build the Authorization header."""
        return self._value

    @property
    def masked(self) -> str:
        """The masked form shown to people (``dex_ab…9f``)."""
        return mask(self._value)

    def redact(self, text: str) -> str:
        """``text`` with this key, wherever it appears, in its masked form."""
        return redact(text, [self._value], min_length=1)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"ApiKey({self.masked!r}, source={self.source!r})"

    def __str__(self) -> str:
        return self.masked

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the key to disk or across processes; nothing of ours needs it.
        raise TypeError("ApiKey cannot be pickled")
