"""Tags and groups by name: Dex's search, then an exact match that ignores case.

Dex's search matches loosely ("vip" finds "VIP" and "vip list"), so the exact name is picked
here; a name nobody has, or one two tags share, is an error (exit 2) that lists the close names,
or both with their IDs. An ID is taken as it is, which is how an ambiguous name is resolved.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexbulk.errors import ApiError, AuthRefused, InvalidInput, Unreachable
from dexbulk.values import normalize_uuid, quote

if TYPE_CHECKING:
    from dexbulk.dex import Dex

Item = dict[str, Any]


class UnknownName(InvalidInput):
    """No tag or group has that name (``--create`` makes one, where a command offers it)."""


@dataclass(frozen=True)
class Named:
    """A tag or group, resolved: its ID and the name it was asked for by."""

    id: str
    name: str


def resolve(dex: Dex, kind: str, name: str, *, label: str | None = None) -> Named:
    """A tag or group by name: Dex's search, then an exact match ignoring case. An ID must be
    one of the user's tags (or groups). Unknown → InvalidInput listing close names; two of the
    same name → both, with IDs.
    ``label`` is how messages name it (``--tag 'vip'`` unless told, e.g. ``tag 'vip'``)."""
    said = f"{label or '--' + kind} {quote(name)}"
    search: Callable[[str], list[Item]] = dex.search_tags if kind == "tag" else dex.search_groups
    uuid = normalize_uuid(name)
    if uuid is not None:
        return _by_id(search, kind, uuid, said)
    found = search(name)
    exact = _exact(found, name)
    if len(exact) == 1:
        ((item_id, item),) = exact.items()
        return Named(item_id, str(item.get("name")))
    if exact:
        listed = ", ".join(f"{quote(i.get('name'))} ({k})" for k, i in exact.items())
        raise InvalidInput(
            f"{said} is ambiguous: {listed}",
            hint=f"pass the {kind}'s ID instead of its name",
        )
    close = _close_names(search, name, found)
    maybe = f" (did you mean {', '.join(quote(n) for n in close)}?)" if close else ""
    raise UnknownName(f"{said}: no such {kind} in Dex{maybe}")


def find_exact(dex: Dex, kind: str, name: str) -> Named | None:
    """The one tag or group named ``name`` (ignoring case) if there is one: a single search,
    for a check just before creating one (``--create``)."""
    search = dex.search_tags if kind == "tag" else dex.search_groups
    exact = _exact(search(name), name)
    if len(exact) != 1:
        return None
    ((item_id, item),) = exact.items()
    return Named(item_id, str(item.get("name")))


def _exact(found: list[Item], name: str) -> dict[str, Item]:
    """The items of a search named exactly ``name``, ignoring case and surrounding spaces."""
    wanted = name.strip().casefold()
    return {
        str(item.get("id", "")).lower(): item
        for item in found
        if str(item.get("name", "")).strip().casefold() == wanted and item.get("id")
    }


def _by_id(search: Callable[[str], list[Item]], kind: str, uuid: str, said: str) -> Named:
    """A tag or group given by ID, checked against the whole list (one search for everything),
    so a mistyped ID is exit 2 before anything is sent, not a failure per contact. When Dex's
    search lists nothing at all, it cannot tell: the ID is used as it is."""
    listed = search("")
    for item in listed:
        if str(item.get("id", "")).lower() == uuid:
            return Named(uuid, str(item.get("name", uuid)))
    if not listed:
        return Named(uuid, uuid)
    raise UnknownName(f"{said}: no {kind} has this ID in Dex")


def _close_names(search: Callable[[str], list[Item]], name: str, found: list[Item]) -> list[str]:
    """Up to three names that look like ``name``, from what the search found or else from
    shorter searches: Dex matches a search loosely, but a typo ('investr') is not inside the
    name it misspells, and an empty search may list every name or none. So: the first three
    letters, the last three, the first one, then nothing at all, until one finds a close name.
    """
    wanted = name.strip().casefold()
    text = name.strip()
    probes = [p for p in dict.fromkeys((text[:3], text[-3:], text[:1], "")) if p != text]
    names: dict[str, str] = {}
    for items in _searches(search, probes, found):
        names.update({str(i.get("name", "")).casefold(): str(i.get("name", "")) for i in items})
        close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.5)
        close += [k for k in names if wanted in k and k not in close][: 3 - len(close)]
        if close:
            return [names[k] for k in close]
    return []


def _searches(
    search: Callable[[str], list[Item]], probes: list[str], found: list[Item]
) -> Iterator[list[Item]]:
    yield found
    for probe in probes:
        try:
            yield search(probe)
        except (AuthRefused, Unreachable):
            raise
        except ApiError:  # a search Dex refuses (an empty one, say) suggests nothing
            continue
