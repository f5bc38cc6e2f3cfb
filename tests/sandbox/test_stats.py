"""``/_sandbox/stats``: what clients sent (by route, PUT items, membership changes)."""

from __future__ import annotations

import pytest
import requests

from dexbulk.sandbox import Sandbox

from .conftest import Api, MakeApi, MakeSandbox

MISSING = "00000000-0000-4000-8000-000000000000"


def test_requests_are_counted_by_route_label(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]
    group = sandbox.store.groups()[0]["id"]
    api.get("/contacts")
    api.get(f"/contacts/{contact_id}")
    api.get(f"/contacts/{MISSING}")
    api.post("/contacts/filter", json={})
    api.put(f"/groups/{group}/contacts", json={"contactIds": []})
    api.get("/nope")
    api.request("DELETE", "/contacts/")
    assert sandbox.stats()["by_route"] == {
        "GET /v1/contacts": 1,
        "GET /v1/contacts/{id}": 2,
        "POST /v1/contacts/filter": 1,
        "PUT /v1/groups/{id}/contacts": 1,
        "other": 2,
    }


def test_put_items_count_what_was_sent_whatever_the_answer(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    sandbox = make_sandbox(max_batch=3)
    api = make_api(sandbox)
    ids = sandbox.store.all_ids()
    assert api.put("/contacts/", json=[{"contactId": i, "data": {}} for i in ids[:3]]).ok
    too_big = api.put("/contacts/", json=[{"contactId": i, "data": {}} for i in ids[:5]])
    assert too_big.status_code == 413
    bad = [{"contactId": ids[0], "data": {"birthday": "no"}}, {"contactId": MISSING, "data": {}}]
    assert api.put("/contacts/", json=bad).status_code == 400
    api.put("/contacts/", data=b"not json", headers={"Content-Type": "application/json"})
    stats = sandbox.stats()
    assert (stats["put_requests"], stats["put_items"], stats["contacts_updated"]) == (4, 10, 3)


def test_dropped_and_rate_limited_requests_are_counted_as_sent(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    dropping = make_sandbox(drop_rate=1.0)
    contact_id = dropping.store.all_ids()[0]
    with pytest.raises(requests.ConnectionError):
        make_api(dropping).put("/contacts/", json=[{"contactId": contact_id, "data": {}}])
    assert dropping.stats()["put_items"] == 1
    assert dropping.stats()["by_route"] == {"PUT /v1/contacts": 1}
    limited = make_sandbox(rate_limit=1.0, db_path=":memory:")
    api = make_api(limited)
    statuses = [
        api.put("/contacts/", json=[{"contactId": contact_id, "data": {}}] * 2).status_code
        for _ in range(3)
    ]
    assert statuses[0] == 200
    assert 429 in statuses
    assert limited.stats()["put_items"] == 6


def test_membership_contacts_per_kind_of_change(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()
    tags = [t["id"] for t in sandbox.store.tags()[:2]]
    group = sandbox.store.groups()[0]["id"]
    api.post("/tags/contacts/add", json={"contactIds": ids[:5], "tagIds": tags})
    api.post("/tags/contacts/remove", json={"contactIds": ids[:2], "tagIds": tags[:1]})
    api.post("/tags/contacts/add", json={"contactIds": "not a list", "tagIds": tags})
    api.put(f"/groups/{group}/contacts", json={"contactIds": ids[:4]})
    api.post(f"/groups/{group}/contacts", json={"contactIds": ids[:3]})
    body = [
        {"contactId": ids[0], "data": {"tags_contacts": {"append": [{"tag_id": tags[0]}]}}},
        {"contactId": ids[1], "data": {"groups_contacts": [{"group_id": group}]}},
        {"contactId": ids[2], "data": {"tags_contacts": None, "groups_contacts": []}},
        {"contactId": ids[3], "data": {"company": "OldCo"}},
    ]
    assert api.put("/contacts/", json=body).ok
    assert sandbox.stats()["membership_contacts"] == {
        "tags_add": 5,
        "tags_remove": 2,
        "groups_add": 4,
        "groups_remove": 3,
        "put_tags_contacts": 2,
        "put_groups_contacts": 2,
    }
    assert sandbox.stats()["put_items"] == 4
