"""Paged reads: ``--page-size`` and ``--ignore-cursor`` (a server that repeats its first page)."""

from __future__ import annotations

from typing import Any

from .conftest import SMALL_BOOK, Api, MakeApi, MakeSandbox


def _pages(api: Api, method: str, path: str, limit: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Follow nextCursor like a client would, at most ``limit`` pages."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while len(pages) < limit:
        if method == "GET":
            params = {**kwargs.get("params", {}), **({"cursor": cursor} if cursor else {})}
            page = api.data("GET", path, params=params)
        else:
            body = {**kwargs.get("json", {}), **({"cursor": cursor} if cursor else {})}
            page = api.data("POST", path, json=body)
        pages.append(page)
        cursor = page["nextCursor"]
        if cursor is None:
            break
    return pages


def test_page_size_pages_the_list(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = make_api(make_sandbox(page_size=25))
    pages = _pages(api, "GET", "/contacts", limit=10)
    assert [len(p["items"]) for p in pages] == [25, 25, SMALL_BOOK - 50]
    assert [p["nextCursor"] is None for p in pages] == [False, False, True]
    assert [c["id"] for p in pages for c in p["items"]] == api.sandbox.store.all_ids()


def test_page_size_of_the_book_ends_with_an_empty_cursor(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = make_api(make_sandbox(page_size=SMALL_BOOK))
    assert _pages(api, "GET", "/contacts", limit=3)[0]["nextCursor"] is None


def test_ignore_cursor_repeats_the_first_list_page(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = make_api(make_sandbox(page_size=25, ignore_cursor=True))
    pages = _pages(api, "GET", "/contacts", limit=4)
    assert len(pages) == 4  # a client without a repeat guard would never stop
    ids = [[c["id"] for c in p["items"]] for p in pages]
    assert ids == [api.sandbox.store.all_ids()[:25]] * 4
    assert len({p["nextCursor"] for p in pages}) == 1
    assert api.sandbox.stats()["by_route"] == {"GET /v1/contacts": 4}


def test_ignore_cursor_repeats_filter_and_search_pages(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = make_api(make_sandbox(ignore_cursor=True))
    for method, path, kwargs in (
        ("POST", "/contacts/filter", {"json": {"take": 20}}),
        ("GET", "/search/contacts", {"params": {"take": 20}}),
    ):
        pages = _pages(api, method, path, limit=3, **kwargs)
        assert len(pages) == 3
        assert pages[0]["items"] == pages[1]["items"] == pages[2]["items"]
        assert pages[0]["nextCursor"] == pages[2]["nextCursor"] is not None


def test_without_the_fault_a_cursor_moves_on(api: Api) -> None:
    pages = _pages(api, "POST", "/contacts/filter", limit=10, json={"take": 20})
    assert [len(p["items"]) for p in pages] == [20, 20, 20]
