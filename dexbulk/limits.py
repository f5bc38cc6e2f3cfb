"""Every bound dexbulk puts on its input, declared once, and JSON parsing that respects them.

Users hand dexbulk files from spreadsheets, scripts and other people. Without bounds, a 270-byte
YAML alias bomb became a 374 MB request, ``apply /dev/zero`` grew to gigabytes, and deep nesting
crashed with ``RecursionError``. Each limit below is far above what a real address book needs,
and crossing one is an :class:`~dexbulk.errors.InvalidInput` (exit 2) before any request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeAlias

from dexbulk.errors import InvalidInput

MAX_TEXT_CHARS = 10_000
"""The longest value of a text field (``company``, ``description``, ``contact_emails[].email``)."""
MAX_DEPTH = 64
"""The deepest nesting of lists and objects in a JSON or YAML input, counting the outermost."""
MAX_LINE_CHARS = 1 << 20
"""The longest line (or CSV record) of a line-based input: ID lists, JSON Lines, CSV/TSV."""
MAX_DOCUMENT_BYTES = 64 << 20
"""The largest JSON document read whole (a JSON array of IDs, a JSON patch file)."""
MAX_YAML_BYTES = 16 << 20
"""The largest YAML patch file. PyYAML parses about 1 MB/s, so YAML gets a smaller bound."""
MAX_BODY_BYTES = 4 << 20
"""The largest ``PUT /v1/contacts/`` body; batches are cut below it, and one contact over it
is refused when the plan is built."""


def size_text(size: int) -> str:
    """``4 MiB``, ``1.5 MiB``, ``10,000 bytes``: a byte count for an error message."""
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f}".removesuffix(".0") + " MiB"
    return f"{size:,} bytes"


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """A JSON object in which a key appeared more than once (the last value is kept)."""

    duplicate: str = ""


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``object_pairs_hook``: a plain dict, or a marked one when a key repeats.

    Marking instead of raising lets :func:`check_tree` name the item and path of the repeat.
    """
    out = dict(pairs)  # in C: the common case costs no Python loop
    if len(out) == len(pairs):
        return out
    marked = _DuplicateKeys(out)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def load_json(text: str) -> object:
    """``json.loads`` that never crashes on hostile text, and keeps repeated keys visible.

    Raises :class:`json.JSONDecodeError` for malformed text, as ``json.loads`` does, and
    :class:`InvalidInput` (without a location: callers add it) for nesting deeper than the
    recursion limit or a number too long to convert. Objects with a repeated key are returned
    marked; :func:`check_tree` reports them.
    """
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise InvalidInput(f"a number too long to read ({str(error).split(':', 1)[0]})") from None


def _too_deep() -> InvalidInput:
    return InvalidInput(f"nested deeper than {MAX_DEPTH} levels of lists and objects")


_Trail: TypeAlias = "tuple[object, _Trail] | None"
"""Where a node sits: (its key or index, its parent's trail); None at the top."""


def check_tree(value: object, where: str, depth: int = 1) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and objects with a repeated key.

    ``depth`` is the nesting level of ``value`` itself within its document. Iterative, so it
    is safe on any input (the validators that run after it recurse). The path of a repeated
    key is only put into words when there is one: this runs on every item of large files.
    """
    stack: list[tuple[object, int, _Trail]] = [(value, depth, None)]
    while stack:
        item, level, trail = stack.pop()
        if isinstance(item, dict):
            if isinstance(item, _DuplicateKeys):
                path = _path(trail)
                at = f" (in {path})" if path else ""
                raise InvalidInput(f"{where}: key {_quoted(item.duplicate)} appears twice{at}")
            children: Iterable[tuple[object, object]] = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if level > MAX_DEPTH:
            raise _too_deep().at(where)
        for key, child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, level + 1, (key, trail)))


def _path(trail: _Trail) -> str:
    """``data.company`` or ``[1].b.c[0]`` from a trail of keys and indexes, outermost first."""
    steps: list[object] = []
    while trail is not None:
        key, trail = trail
        steps.append(key)
    text = ""
    for step in reversed(steps):
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text


def _quoted(key: str) -> str:
    # values.quote's rule for strings; values imports this module, so not the other way round.
    text = key.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    text = text.replace("\t", "\\t")
    return "'" + (text if len(text) <= 60 else text[:57] + "...") + "'"
