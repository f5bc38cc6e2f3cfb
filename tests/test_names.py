"""Tag and group names (``dexbulk.names.resolve``): the close names an unknown one suggests,
whatever Dex's search answers to a partial or an empty query."""

from __future__ import annotations

from typing import Any

import pytest

from dexbulk.errors import ApiError, InvalidInput
from dexbulk.names import resolve

TAGS = ["investor", "Mentor", "VIP", "vip list", "Friends"]


class StrictDex:
    """A Dex whose tag search matches substrings, and whose empty search lists nothing (or,
    with ``refuse_empty``, is refused), unlike the sandbox's, which lists every tag."""

    def __init__(self, *, refuse_empty: bool = False) -> None:
        self.queries: list[str] = []
        self.refuse_empty = refuse_empty

    def search_tags(self, text: str) -> list[dict[str, Any]]:
        self.queries.append(text)
        if not text.strip():
            if self.refuse_empty:
                raise ApiError("GET /search/tags: HTTP 400: searchQuery is required", status=400)
            return []
        needle = text.strip().casefold()
        return [{"id": f"id-{n}", "name": n} for n in TAGS if needle in n.casefold()]

    search_groups = search_tags


def unknown(dex: StrictDex, name: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        resolve(dex, "tag", name)  # type: ignore[arg-type]  # the two search methods suffice
    return caught.value.message


@pytest.mark.parametrize("refuse_empty", [False, True])
@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("investr", "'investor'"),  # found by its first three letters
        ("Investr", "'investor'"),
        ("ivnestor", "'investor', 'Mentor'"),  # a typo early on: found by its last three
        ("Frends", "'Friends'"),
        ("vp", "'VIP'"),  # short: found by its first letter
    ],
)
def test_an_unknown_name_suggests_close_ones_when_its_search_finds_nothing(
    name: str, suggested: str, refuse_empty: bool
) -> None:
    dex = StrictDex(refuse_empty=refuse_empty)
    assert unknown(dex, name) == f"--tag '{name}': no such tag in Dex (did you mean {suggested}?)"
    assert len(dex.queries) <= 5


def test_a_name_like_none_says_so_without_suggestions() -> None:
    dex = StrictDex()
    assert unknown(dex, "nosuchtag") == "--tag 'nosuchtag': no such tag in Dex"
    assert dex.queries == ["nosuchtag", "nos", "tag", "n", ""]


def test_an_exact_name_takes_one_search() -> None:
    dex = StrictDex()
    assert resolve(dex, "tag", "VIP").name == "VIP"  # type: ignore[arg-type]
    assert dex.queries == ["VIP"]
