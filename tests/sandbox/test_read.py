"""Read endpoints: list, count, get, filter, search, by-emails, tags and groups search."""

from __future__ import annotations

from typing import Any

import pytest

from dexbulk.sandbox import Sandbox, query
from dexbulk.sandbox.seed import GROUP_NAMES, TAG_NAMES

from .conftest import SMALL_BOOK, Api, MakeApi, MakeSandbox

MISSING = "00000000-0000-4000-8000-000000000000"


def test_list_is_one_page_with_null_cursor(api: Api) -> None:
    data = api.data("GET", "/contacts")
    assert len(data["items"]) == SMALL_BOOK
    assert data["nextCursor"] is None
    contact = data["items"][0]
    # Empty fields come back as explicit null [seen]; tags and groups are named.
    assert "description" in contact
    assert contact["description"] is None
    assert {"id", "full_name", "company", "created_at", "updated_at", "tags"} <= set(contact)


def test_list_pages_by_500_with_cursor(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = make_api(make_sandbox(contacts=1100))
    first = api.data("GET", "/contacts", params={"limit": 10})  # limit is ignored, as on Dex
    assert len(first["items"]) == 500
    second = api.data("GET", "/contacts", params={"cursor": first["nextCursor"]})
    third = api.data("GET", "/contacts", params={"cursor": second["nextCursor"]})
    assert (len(second["items"]), len(third["items"])) == (500, 100)
    assert third["nextCursor"] is None
    ids = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert ids == api.sandbox.store.all_ids()


def test_bad_cursor_is_400(api: Api) -> None:
    response = api.get("/contacts", params={"cursor": "nonsense"})
    assert response.status_code == 400
    assert response.json() == {"error": True, "message": "invalid cursor 'nonsense'"}


def test_count(api: Api) -> None:
    assert api.data("GET", "/contacts/count") == {"count": SMALL_BOOK}


def test_get_one_and_404(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[3]
    contact = api.data("GET", f"/contacts/{contact_id}")
    assert contact == sandbox.store.get(contact_id)
    assert api.data("GET", f"/contacts/{contact_id.upper()}")["id"] == contact_id
    for missing in (MISSING, "not-a-uuid"):
        response = api.get(f"/contacts/{missing}")
        assert response.status_code == 404
        assert response.json()["error"] is True
        assert missing in response.json()["message"]


def test_get_with_select(api: Api, sandbox: Sandbox) -> None:
    contact_id = sandbox.store.all_ids()[0]
    contact = api.data("GET", f"/contacts/{contact_id}", params={"select": "company,full_name"})
    assert set(contact) == {"id", "company", "full_name"}


def test_filter_in_returns_only_existing(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()[:3]
    data = api.data("POST", "/contacts/filter", json={"where": {"in": [*ids, MISSING]}})
    assert sorted(c["id"] for c in data["items"]) == sorted(ids)
    assert data["count"] == 3
    assert data["nextCursor"] is None


def _ids_where(api: Api, where: dict[str, Any]) -> set[str]:
    data = api.data("POST", "/contacts/filter", json={"where": where, "take": 500})
    assert data["count"] == len(data["items"])
    return {c["id"] for c in data["items"]}


def _expected(sandbox: Sandbox, check: Any) -> set[str]:
    return {c["id"] for _, c in sandbox.store.rows() if check(c)}


@pytest.mark.parametrize(
    ("where", "check"),
    [
        ({"is_starred": True}, lambda c: c["starred"]),
        ({"is_archived": False}, lambda c: not c["is_archived"]),
        ({"is_archived": True}, lambda c: c["is_archived"]),
        (
            {"is_starred": False, "is_archived": False},
            lambda c: not c["starred"] and not c["is_archived"],
        ),
        ({"has_source": True}, lambda c: c["source"]),
        ({"has_source": False}, lambda c: not c["source"]),
        ({"has_birthday": False}, lambda c: not c["birthday"]),
        ({"has_next_reminder": False}, lambda c: not c["next_reminder_at"]),
        ({"has_never_keep_in_touch": False}, lambda c: not c["never_keep_in_touch"]),
        (
            {"has_updated_at": {"gte": "2023-01-01T00:00:00.000Z"}},
            lambda c: c["updated_at"] >= "2023",
        ),
        ({"has_updated_at": {"lte": "2022-06-30"}}, lambda c: c["updated_at"] < "2022-06-30"),
        ({"has_job_title": True}, lambda c: c["job_title"]),
        ({"has_location": False}, lambda c: not c["legacy_location"]),
        ({"has_birthday": True}, lambda c: c["birthday"]),
        ({"has_frequency": True}, lambda c: c["frequency"]),
        ({"has_frequency": "1 year"}, lambda c: c["frequency"] == "1 year"),
        ({"has_linkedin": True}, lambda c: c["linkedin"]),
        ({"has_source": "linkedin_sync"}, lambda c: c["source"] == "linkedin_sync"),
        ({"has_next_reminder": True}, lambda c: c["next_reminder_at"]),
        ({"has_never_keep_in_touch": True}, lambda c: c["never_keep_in_touch"]),
        (
            {"has_created_at": {"gte": "2021-01-01", "lte": "2022-12-31T23:59:59Z"}},
            lambda c: "2021" <= c["created_at"][:4] <= "2022",
        ),
        ({"has_name": True, "is_starred": False}, lambda c: c["full_name"] and not c["starred"]),
    ],
)
def test_filter_where_keys(api: Api, sandbox: Sandbox, where: dict[str, Any], check: Any) -> None:
    expected = _expected(sandbox, check)
    assert 0 < len(expected) < SMALL_BOOK  # the seed exercises both outcomes
    assert _ids_where(api, where) == expected


def test_filter_in_and_not_in(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()
    assert _ids_where(api, {"not_in": ids[:10]}) == set(ids[10:])
    assert _ids_where(api, {"in": ids[:10], "not_in": [*ids[:3], MISSING]}) == set(ids[3:10])
    assert _ids_where(api, {"in": [i.upper() for i in ids[:2]]}) == set(ids[:2])


def test_filter_has_tag_and_groups(api: Api, sandbox: Sandbox) -> None:
    tag = sandbox.store.tags()[0]["id"]
    group = sandbox.store.groups()[0]["id"]
    in_group = _expected(sandbox, lambda c: group in {g["id"] for g in c["groups"]})
    assert _ids_where(api, {"has_tag": tag}) == _expected(
        sandbox, lambda c: tag in {t["id"] for t in c["tags"]}
    )
    assert _ids_where(api, {"has_groups": group}) == in_group
    assert (
        _ids_where(api, {"has_groups": {"not": group}}) == set(sandbox.store.all_ids()) - in_group
    )


@pytest.mark.parametrize(
    ("select", "fields"),
    [
        (["company"], {"id", "company"}),
        (["company", "tags"], {"id", "company", "tags"}),
        ({"groups": True}, {"id", "groups"}),
        ("company,starred", {"id", "company", "starred"}),
        # Fields no contact of the seed holds, and names no field has, stay absent.
        (["id", "tiktok", 'a"b', "company"], {"id", "company"}),
    ],
)
def test_filter_with_select_answers_the_same_values(
    api: Api, sandbox: Sandbox, select: Any, fields: set[str]
) -> None:
    ids = sandbox.store.all_ids()
    tag = sandbox.store.tags()[0]["id"]
    for where in (
        {"in": ids[:40]},
        {"has_tag": tag},
        {"not_in": ids[:5], "is_starred": True},
        {"in": ids, "has_created_at": {"gte": "2000-01-01T00:00:00Z"}, "has_linkedin": False},
        None,
    ):
        whole = api.data("POST", "/contacts/filter", json={"where": where, "take": 500})
        body = {"where": where, "take": 500, "select": select}
        some = api.data("POST", "/contacts/filter", json=body)
        assert some["items"] == [{k: c[k] for k in fields} for c in whole["items"]]
        assert some["count"] == whole["count"]


def test_a_selected_field_one_contact_holds_is_absent_from_the_others(
    api: Api, sandbox: Sandbox
) -> None:
    first, second = sandbox.store.all_ids()[:2]
    api.data("PUT", "/contacts/", json=[{"contactId": first, "data": {"tiktok": "@a"}}])
    body = {"where": {"in": [first, second]}, "select": ["tiktok"]}
    items = api.data("POST", "/contacts/filter", json=body)["items"]
    assert sorted(items, key=lambda c: c["id"] != first) == [
        {"id": first, "tiktok": "@a"},
        {"id": second},
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"company": "Acme"},
        {"company": ""},
        {"company": 'say "hi" \\ Ünïcode\t😀'},
        {"company": None, "starred": True, "birthday_year": 1990},
        {"contact_emails": [{"email": "a@b.c", "label": "work", "ranking": 1}]},
    ],
)
def test_a_selected_field_reads_back_as_written(
    api: Api, sandbox: Sandbox, data: dict[str, Any]
) -> None:
    contact_id = sandbox.store.all_ids()[0]
    api.data("PUT", "/contacts/", json=[{"contactId": contact_id, "data": data}])
    body = {"where": {"in": [contact_id]}, "select": list(data)}
    assert api.data("POST", "/contacts/filter", json=body)["items"] == [{"id": contact_id, **data}]


def test_every_where_key_names_the_field_it_reads() -> None:
    assert set(query.WHERE_FIELDS) == set(query.WHERE)


def test_filter_paging_take_skip_cursor(api: Api, sandbox: Sandbox) -> None:
    first = api.data("POST", "/contacts/filter", json={"take": 25})
    rest = api.data("POST", "/contacts/filter", json={"take": 25, "cursor": first["nextCursor"]})
    last = api.data(
        "POST", "/contacts/filter", json={"take": 25, "skip": 5, "cursor": rest["nextCursor"]}
    )
    ids = sandbox.store.all_ids()
    assert [c["id"] for c in first["items"] + rest["items"]] == ids[:50]
    assert [c["id"] for c in last["items"]] == ids[55:]
    assert last["nextCursor"] is None
    assert first["count"] == SMALL_BOOK


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"where": {"company": "Acme"}}, "unknown where key 'company'"),
        ({"where": {"is_starred": "yes"}}, "must be true or false"),
        ({"where": {"in": "abc"}}, "where.in must be an array"),
        ({"take": 501}, "take must be between 1 and 500"),
        ([1, 2], "body must be an object"),
    ],
)
def test_filter_rejects_bad_bodies(api: Api, body: Any, message: str) -> None:
    response = api.post("/contacts/filter", json=body)
    assert response.status_code == 400
    assert response.json()["error"] is True
    assert message in response.json()["message"]


def test_search_contacts_by_name_email_company(api: Api, sandbox: Sandbox) -> None:
    contact = next(c for _, c in sandbox.store.rows() if c["contact_emails"] and c["company"])
    for text in (contact["last_name"] or contact["first_name"], contact["company"].upper()):
        found = api.data("GET", "/search/contacts", params={"searchQuery": text, "take": 200})
        assert contact["id"] in {c["id"] for c in found["items"]}
    email = contact["contact_emails"][0]["email"]
    found = api.data("GET", "/search/contacts", params={"searchQuery": email})
    assert [c["id"] for c in found["items"]] == [contact["id"]]
    assert found["nextCursor"] is None


def test_search_contacts_pages_and_limits_take(api: Api) -> None:
    page = api.data("GET", "/search/contacts", params={"searchQuery": "", "take": 40})
    assert len(page["items"]) == 40
    rest = api.data("GET", "/search/contacts", params={"take": 40, "cursor": page["nextCursor"]})
    assert len(rest["items"]) == SMALL_BOOK - 40
    assert api.get("/search/contacts", params={"take": 201}).status_code == 400


def test_search_tags_and_groups(api: Api, sandbox: Sandbox) -> None:
    tags = api.data("GET", "/search/tags")["items"]
    assert tags == sandbox.store.tags()
    assert [t["name"] for t in tags] == list(TAG_NAMES)
    name = tags[0]["name"]
    found = api.data("GET", "/search/tags", params={"searchQuery": name.lower()})["items"]
    assert name in [t["name"] for t in found]
    groups = api.data("GET", "/search/groups")["items"]
    assert [g["name"] for g in groups] == list(GROUP_NAMES)
    assert api.data("GET", "/search/groups", params={"searchQuery": "zzz"})["items"] == []


def test_by_emails(api: Api, sandbox: Sandbox) -> None:
    with_email = [c for _, c in sandbox.store.rows() if c["contact_emails"]][:2]
    emails = [c["contact_emails"][0]["email"].upper() for c in with_email] + ["x@nowhere.test"]
    data = api.data("POST", "/contacts/by-emails", json={"emails": emails})
    assert sorted(c["id"] for c in data["items"]) == sorted(c["id"] for c in with_email)
    assert api.post("/contacts/by-emails", json={"emails": "a@b.c"}).status_code == 400


def test_unknown_path_is_404_envelope(api: Api) -> None:
    for method, path in (("GET", "/nope"), ("DELETE", "/contacts/"), ("GET", "/tags/contacts/add")):
        response = api.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"error": True, "message": f"Cannot {method} /v1{path}"}
