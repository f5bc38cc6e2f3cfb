"""Tests for dexbulk.dex's read side and membership writes: the requests sent, paging, errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from dexbulk.dex import Dex
from dexbulk.errors import ApiError, AuthRefused, Unreachable
from dexbulk.secret import ApiKey
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
C = "ffffffff-ffff-4fff-8fff-ffffffffffff"


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        yield mock


@pytest.fixture
def dex() -> Iterator[Dex]:
    with Dex(API, ApiKey(TEST_KEY, "test"), max_attempts=1) as client:
        yield client


def page(ids: list[str], cursor: str | None = None) -> dict[str, object]:
    items = [{"id": i, "full_name": f"name {i[:4]}"} for i in ids]
    return {"error": False, "data": {"items": items, "nextCursor": cursor}}


def body(call: responses.Call) -> object:
    return json.loads(call.request.body or b"null")


def test_iter_contacts_follows_the_cursor_to_the_end(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    ordered.get(f"{API}/contacts", json=page([A, B], "c1"))
    ordered.get(
        f"{API}/contacts", json=page([C]), match=[matchers.query_param_matcher({"cursor": "c1"})]
    )
    assert [c["id"] for c in dex.iter_contacts()] == [A, B, C]


def test_a_page_that_repeats_itself_ends_the_listing(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    # A server that ignores the cursor hands out page one forever; one repeat is enough.
    ordered.get(f"{API}/contacts", json=page([A, B], "c1"))
    ordered.get(f"{API}/contacts", json=page([A, B], "c1"))
    assert [c["id"] for c in dex.iter_contacts()] == [A, B]
    assert len(ordered.calls) == 2


def test_a_page_mixing_old_and_new_contacts_yields_only_the_new(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    ordered.get(f"{API}/contacts", json=page([A, B], "c1"))
    ordered.get(f"{API}/contacts", json=page([B, C]))
    assert [c["id"] for c in dex.iter_contacts()] == [A, B, C]


def test_filter_sends_where_and_take_and_pages(ordered: responses.RequestsMock, dex: Dex) -> None:
    ordered.post(f"{API}/contacts/filter", json=page([A], "next"))
    ordered.post(f"{API}/contacts/filter", json=page([B]))
    found = list(dex.filter_contacts({"is_starred": True}))
    assert [c["id"] for c in found] == [A, B]
    assert body(ordered.calls[0]) == {"where": {"is_starred": True}, "take": 500}
    assert body(ordered.calls[1]) == {"where": {"is_starred": True}, "take": 500, "cursor": "next"}


def test_contacts_by_ids_reads_500_a_request(ordered: responses.RequestsMock, dex: Dex) -> None:
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(501)]
    ordered.post(f"{API}/contacts/filter", json=page(ids[:500]))
    ordered.post(f"{API}/contacts/filter", json=page([]))
    found = dex.contacts_by_ids(ids)
    assert set(found) == set(ids[:500])
    assert [len(body(c)["where"]["in"]) for c in ordered.calls] == [500, 1]  # type: ignore[index]


def test_contacts_by_ids_falls_back_to_single_reads(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    ordered.post(f"{API}/contacts/filter", status=404, json={"error": True, "message": "no"})
    ordered.get(f"{API}/contacts/{A}", json={"error": False, "data": {"id": A}})
    ordered.get(f"{API}/contacts/{B}", status=404, json={"error": True, "message": "not found"})
    assert set(dex.contacts_by_ids([A, B])) == {A}


def test_contacts_by_ids_keeps_only_what_was_asked(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    ordered.post(f"{API}/contacts/filter", json=page([A, C]))  # a server that over-answers
    assert set(dex.contacts_by_ids([A, B])) == {A}


def test_get_contact_is_none_when_missing(ordered: responses.RequestsMock, dex: Dex) -> None:
    ordered.get(f"{API}/contacts/{A}", status=404, json={"error": True, "message": "not found"})
    assert dex.get_contact(A) is None


@pytest.mark.parametrize(
    ("status", "kwargs", "error"),
    [
        (200, {"body": "<html>hi</html>", "content_type": "text/html"}, ApiError),
        (500, {"json": {"error": True, "message": "boom"}}, ApiError),
        (401, {"json": {"error": True, "message": "bad key"}}, AuthRefused),
    ],
)
def test_a_read_that_is_not_a_dex_answer_raises(
    ordered: responses.RequestsMock,
    dex: Dex,
    status: int,
    kwargs: dict[str, object],
    error: type[Exception],
) -> None:
    ordered.get(f"{API}/contacts", status=status, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        list(dex.iter_contacts())
    assert TEST_KEY not in str(caught.value)
    assert "GET /contacts" in str(caught.value) or error is AuthRefused


def test_an_unreachable_api_raises_unreachable(dex: Dex) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/contacts", body=requests.ConnectionError("refused"))
        with pytest.raises(Unreachable):
            list(dex.iter_contacts())


def test_search_sends_the_query_and_take(ordered: responses.RequestsMock, dex: Dex) -> None:
    ordered.get(
        f"{API}/search/tags",
        json={"error": False, "data": {"items": [{"id": A, "name": "VIP"}]}},
        match=[matchers.query_param_matcher({"searchQuery": "vip & co", "take": "200"})],
    )
    assert dex.search_tags("vip & co") == [{"id": A, "name": "VIP"}]


def test_membership_writes_send_the_documented_bodies(
    ordered: responses.RequestsMock, dex: Dex
) -> None:
    counted = {"error": False, "data": {"count": 2}}
    ordered.post(f"{API}/tags/contacts/add", json=counted)
    ordered.post(f"{API}/tags/contacts/remove", json=counted)
    ordered.put(f"{API}/groups/{C}/contacts", json=counted)
    ordered.post(f"{API}/groups/{C}/contacts", json=counted)
    assert dex.add_tags([A, B], [C]).kind == "ok"
    assert dex.remove_tags([A, B], [C]).count == 2
    assert dex.add_to_group(C, [A, B]).kind == "ok"
    assert dex.remove_from_group(C, [A, B]).kind == "ok"
    assert [body(c) for c in ordered.calls] == [
        {"contactIds": [A, B], "tagIds": [C]},
        {"contactIds": [A, B], "tagIds": [C]},
        {"contactIds": [A, B]},
        {"contactIds": [A, B]},
    ]


def test_create_tag_returns_the_tag(ordered: responses.RequestsMock, dex: Dex) -> None:
    ordered.post(f"{API}/tags/", json={"error": False, "data": {"tag": {"id": A, "name": "new"}}})
    assert dex.create_tag("new") == {"id": A, "name": "new"}
    assert body(ordered.calls[0]) == {"tag": {"name": "new"}}


def test_the_request_log_counts_the_contacts_a_read_answers(
    ordered: responses.RequestsMock, dex: Dex, caplog: pytest.LogCaptureFixture
) -> None:
    ordered.post(f"{API}/contacts/filter", json=page([A, B]))
    ordered.get(f"{API}/contacts", json=page([C]))
    ordered.get(f"{API}/search/contacts", json=page([A]))
    tags = {"error": False, "data": {"items": [{"id": C, "name": "vip"}]}}
    ordered.get(f"{API}/search/tags", json=tags)
    with caplog.at_level(logging.INFO, logger="dexbulk.http"):
        assert len(dex.contacts_by_ids([A, B])) == 2
        assert len(list(dex.iter_contacts())) == 1
        assert len(list(dex.search_contacts("ada"))) == 1
        assert len(dex.search_tags("vip")) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("POST /contacts/filter 200 2 contacts ")
    assert lines[1].startswith("GET /contacts 200 1 contacts ")
    assert lines[2].startswith("GET /search/contacts?searchQuery=ada&take=200 200 1 contacts ")
    assert lines[3].startswith("GET /search/tags?searchQuery=vip&take=200 200 0 contacts ")
