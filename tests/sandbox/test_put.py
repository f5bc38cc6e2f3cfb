"""PUT /v1/contacts/ (bulk update) and the tag and group link endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from dexbulk.sandbox import Sandbox

from .conftest import Api, MakeApi, MakeSandbox

MISSING = "00000000-0000-4000-8000-000000000000"


def put(api: Api, updates: dict[str, dict[str, Any]]) -> Any:
    """PUT ``{contact_id: data}`` as a batch and return the response."""
    body = [{"contactId": cid, "data": data} for cid, data in updates.items()]
    return api.put("/contacts/", json=body)


def test_put_updates_only_given_fields(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()[:3]
    before = [sandbox.store.get(i) for i in ids]
    response = put(api, {i: {"company": "Merged Inc", "starred": True} for i in ids})
    assert response.status_code == 200
    assert response.json() == {"error": False, "data": {"count": 3}}
    for old, contact_id in zip(before, ids, strict=True):
        new = sandbox.store.get(contact_id)
        assert old is not None
        assert new is not None
        assert (new["company"], new["starred"]) == ("Merged Inc", True)
        assert new["full_name"] == old["full_name"]
        assert new["updated_at"] > old["updated_at"]


def test_put_without_trailing_slash_and_uppercase_ids(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]
    body = [{"contactId": contact_id.upper(), "data": {"job_title": "Chief Tester"}}]
    assert api.put("/contacts", json=body).json()["data"] == {"count": 1}
    assert sandbox.store.get(contact_id)["job_title"] == "Chief Tester"  # type: ignore[index]


def test_null_clears_a_field(api: Api, sandbox: Sandbox) -> None:
    contact_id = next(c["id"] for _, c in sandbox.store.rows() if c["company"])
    assert put(api, {contact_id: {"company": None, "birthday": None}}).status_code == 200
    contact = sandbox.store.get(contact_id)
    assert contact is not None
    assert (contact["company"], contact["birthday"]) == (None, None)


def test_unknown_ids_skip_mode_counts_only_existing(api: Api, sandbox: Sandbox) -> None:
    known = sandbox.store.all_ids()[:2]
    response = put(api, {known[0]: {"starred": True}, MISSING: {"starred": True}, known[1]: {}})
    assert response.json() == {"error": False, "data": {"count": 2}}
    assert sandbox.store.get(MISSING) is None
    assert sandbox.stats()["contacts_updated"] == 2


def test_unknown_ids_reject_mode_404_and_nothing_applied(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    sandbox = make_sandbox(unknown_ids="reject")
    api = make_api(sandbox)
    known = sandbox.store.all_ids()[0]
    response = put(api, {known: {"company": "Should Not Stick"}, MISSING: {"company": "x"}})
    assert response.status_code == 404
    assert response.json() == {"error": True, "message": f"contact {MISSING} not found"}
    assert sandbox.store.get(known)["company"] != "Should Not Stick"  # type: ignore[index]


def test_invalid_field_is_400_and_nothing_applied(api: Api, sandbox: Sandbox) -> None:
    first, second = sandbox.store.all_ids()[:2]
    response = put(api, {first: {"company": "Applied?"}, second: {"birthday": "1990-13-01"}})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] is True
    assert body["message"].startswith(f"item 1 (contact {second}): field 'birthday'")
    assert "1990-13-01" in body["message"]
    assert sandbox.store.get(first)["company"] != "Applied?"  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contactId": MISSING}, "body must be a JSON array"),
        ([{"contactId": MISSING, "data": {}}, "x"], "item 1: expected an object"),
        ([{"contactId": "abc", "data": {}}], "item 0: contactId 'abc' is not a UUID"),
        ([{"contactId": MISSING, "data": []}], "item 0: data must be an object"),
        ([{"contactId": MISSING, "data": {"nickname": "Al"}}], "unknown field 'nickname'"),
    ],
)
def test_malformed_bodies_are_400(api: Api, body: Any, message: str) -> None:
    response = api.put("/contacts/", json=body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_non_json_body_is_400(api: Api) -> None:
    response = api.put(
        "/contacts/", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": True, "message": "request body is not valid JSON"}


def _tag_ids(sandbox: Sandbox, contact_id: str) -> set[str]:
    contact = sandbox.store.get(contact_id)
    assert contact is not None
    return {t["id"] for t in contact["tags"]}


def test_tags_append_remove_replace(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]
    a, b, c = (t["id"] for t in sandbox.store.tags()[:3])
    put(api, {contact_id: {"tags_contacts": {"replace": [{"tag_id": a}]}}})
    assert _tag_ids(sandbox, contact_id) == {a}
    for _ in range(2):  # appending an existing link is a no-op, so retrying is safe
        put(api, {contact_id: {"tags_contacts": {"append": [{"tag_id": b}, {"tag_id": c}]}}})
    assert _tag_ids(sandbox, contact_id) == {a, b, c}
    ops = {"remove": [{"tag_id": a, "contact_id": contact_id}]}
    assert put(api, {contact_id: {"tags_contacts": ops}}).json()["data"] == {"count": 1}
    assert _tag_ids(sandbox, contact_id) == {b, c}
    put(api, {contact_id: {"tags_contacts": {"replace": []}}})
    assert _tag_ids(sandbox, contact_id) == set()


def test_append_of_unknown_tag_is_400_and_rolls_back(api: Api, sandbox: Sandbox) -> None:
    first, second = sandbox.store.all_ids()[:2]
    tag = sandbox.store.tags()[0]["id"]
    before = _tag_ids(sandbox, first)
    response = put(
        api,
        {
            first: {"tags_contacts": {"replace": [{"tag_id": tag}]}},
            second: {"tags_contacts": {"append": [{"tag_id": MISSING}]}},
        },
    )
    assert response.status_code == 400
    assert f"tag {MISSING} does not exist" in response.json()["message"]
    assert _tag_ids(sandbox, first) == before


def test_related_contacts_and_groups_and_lists(api: Api, sandbox: Sandbox) -> None:
    me, friend, other = sandbox.store.all_ids()[:3]
    group = sandbox.store.groups()[0]["id"]
    emails = [{"email": "new@example.com", "label": "work", "ranking": 1}]
    data = {
        "related_contacts": {"append": [{"destination": friend}, {"destination": other}]},
        "groups_contacts": [{"group_id": group}],
        "contact_emails": emails,
    }
    assert put(api, {me: data}).status_code == 200
    contact = sandbox.store.get(me)
    assert contact is not None
    assert contact["related_contacts"] == sorted([friend, other])
    assert [g["id"] for g in contact["groups"]] == [group]
    assert contact["contact_emails"] == emails  # the list replaces the stored one
    put(api, {me: {"related_contacts": {"remove": [{"source": me, "destination": friend}]}}})
    put(api, {me: {"groups_contacts": []}})
    contact = sandbox.store.get(me)
    assert contact is not None
    assert (contact["related_contacts"], contact["groups"]) == ([other], [])


def test_tags_add_and_remove_endpoints(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()[:4]
    tag = api.data("POST", "/tags/", json={"tag": {"name": "Rehearsal"}})["tag"]
    assert tag["name"] == "Rehearsal"
    body = {"contactIds": [*ids, MISSING], "tagIds": [tag["id"]]}
    assert api.data("POST", "/tags/contacts/add", json=body) == {"count": 4}
    assert api.data("POST", "/tags/contacts/add", json=body) == {"count": 0}  # already linked
    assert all(tag["id"] in _tag_ids(sandbox, i) for i in ids)
    body["contactIds"] = ids[:1]
    assert api.data("POST", "/tags/contacts/remove", json=body) == {"count": 1}
    assert tag["id"] not in _tag_ids(sandbox, ids[0])
    missing_tag = api.post("/tags/contacts/add", json={"contactIds": ids, "tagIds": [MISSING]})
    assert missing_tag.status_code == 404


def test_group_add_with_put_and_remove_with_post(api: Api, sandbox: Sandbox) -> None:
    group = api.data("POST", "/groups/", json={"group": {"name": "Dinner"}})["group"]
    ids = sandbox.store.all_ids()[:3]
    path = f"/groups/{group['id']}/contacts"
    assert api.data("PUT", path, json={"contactIds": ids}) == {"count": 3}
    assert api.data("PUT", path, json={"contactIds": ids}) == {"count": 0}
    assert api.data("POST", path, json={"contactIds": ids[:2]}) == {"count": 2}
    members = [g for g in sandbox.store.groups() if g["id"] == group["id"]]
    assert members[0]["contact_count"] == 1
    assert api.put(f"/groups/{MISSING}/contacts", json={"contactIds": ids}).status_code == 404
    assert api.put(path, json={"contactIds": ["nope"]}).status_code == 400


def test_link_endpoints_reject_unknown_contacts_in_reject_mode(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    sandbox = make_sandbox(unknown_ids="reject")
    api = make_api(sandbox)
    tag = sandbox.store.tags()[0]["id"]
    body = {"contactIds": [sandbox.store.all_ids()[0], MISSING], "tagIds": [tag]}
    response = api.post("/tags/contacts/add", json=body)
    assert response.status_code == 404
    assert MISSING in response.json()["message"]
