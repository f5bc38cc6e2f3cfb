"""A wrapper that keeps the API key out of every output path.

The key is only ever unwrapped in one place: the ``Authorization`` header built by ``client.py``.
``str()``, ``repr()``, f-strings and tracebacks with locals all show the masked form.
"""

from __future__ import annotations


def mask(key: str) -> str:
    """Show just enough of a key to recognise it: ``dex_ab…9f``."""
    if len(key) <= 8:
        return "…" * min(len(key), 3) or "(empty)"
    return f"{key[:6]}…{key[-2:]}"


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
