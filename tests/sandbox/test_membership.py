"""Tags and groups as reads show them, after every way of changing membership."""

from __future__ import annotations

from typing import Any

from dexbulk.sandbox import Sandbox

from .conftest import Api


def _read(api: Api, contact_id: str) -> dict[str, Any]:
    contact: dict[str, Any] = api.data("GET", f"/contacts/{contact_id}")
    return contact


def _tag(sandbox: Sandbox, name: str) -> dict[str, Any]:
    return next(
        {"id": t["id"], "name": t["name"]} for t in sandbox.store.tags() if t["name"] == name
    )


def _group(sandbox: Sandbox, name: str) -> dict[str, Any]:
    return next(
        {"id": g["id"], "name": g["name"]} for g in sandbox.store.groups() if g["name"] == name
    )


def test_reads_show_tags_and_groups_as_id_and_name(api: Api, sandbox: Sandbox) -> None:
    listed = api.data("GET", "/contacts")["items"]
    tagged = next(c for c in listed if c["tags"] and c["groups"])
    assert set(tagged["tags"][0]) == {"id", "name"}
    assert set(tagged["groups"][0]) == {"id", "name"}
    tag_names = {t["name"] for t in sandbox.store.tags()}
    assert {t["name"] for c in listed for t in c["tags"]} <= tag_names
    assert _read(api, tagged["id"])["tags"] == tagged["tags"]
    found = api.data("POST", "/contacts/filter", json={"where": {"in": [tagged["id"]]}})
    assert found["items"][0]["groups"] == tagged["groups"]


def test_tag_endpoints_change_what_reads_show(api: Api, sandbox: Sandbox) -> None:
    ids = sandbox.store.all_ids()[:3]
    vip = _tag(sandbox, "VIP")
    api.data("POST", "/tags/contacts/remove", json={"contactIds": ids, "tagIds": [vip["id"]]})
    assert all(vip not in _read(api, i)["tags"] for i in ids)
    assert api.data(
        "POST", "/tags/contacts/add", json={"contactIds": ids, "tagIds": [vip["id"]]}
    ) == {"count": 3}
    assert all(vip in _read(api, i)["tags"] for i in ids)
    has_tag = api.data("POST", "/contacts/filter", json={"where": {"has_tag": vip["id"]}})
    assert set(ids) <= {c["id"] for c in has_tag["items"]}


def test_group_endpoints_change_what_reads_show(api: Api, sandbox: Sandbox) -> None:
    created = api.data("POST", "/groups/", json={"group": {"name": "Offsite 2026"}})["group"]
    assert set(created) >= {"id", "name"}
    ids = sandbox.store.all_ids()[:4]
    path = f"/groups/{created['id']}/contacts"
    assert api.data("PUT", path, json={"contactIds": ids}) == {"count": 4}
    group = {"id": created["id"], "name": "Offsite 2026"}
    assert all(group in _read(api, i)["groups"] for i in ids)
    assert api.data("POST", path, json={"contactIds": ids[:1]}) == {"count": 1}
    assert group not in _read(api, ids[0])["groups"]
    found = api.data("POST", "/contacts/filter", json={"where": {"has_groups": created["id"]}})
    assert {c["id"] for c in found["items"]} == set(ids[1:])
    names = api.data("GET", "/search/groups", params={"searchQuery": "offsite"})["items"]
    assert [g["name"] for g in names] == ["Offsite 2026"]


def test_put_tags_contacts_and_groups_contacts_change_what_reads_show(
    api: Api, sandbox: Sandbox
) -> None:
    contact_id = sandbox.store.all_ids()[5]
    investor, friends = _tag(sandbox, "investor"), _tag(sandbox, "friends")
    work, board = _group(sandbox, "Work"), _group(sandbox, "Board")
    data = {
        "tags_contacts": {"replace": [{"tag_id": investor["id"]}]},
        "groups_contacts": [{"group_id": work["id"]}],
    }
    body = [{"contactId": contact_id, "data": data}]
    assert api.data("PUT", "/contacts/", json=body) == {"count": 1}
    assert (_read(api, contact_id)["tags"], _read(api, contact_id)["groups"]) == (
        [investor],
        [work],
    )
    data = {
        "tags_contacts": {
            "append": [{"tag_id": friends["id"]}],
            "remove": [{"tag_id": investor["id"], "contact_id": contact_id}],
        },
        "groups_contacts": [{"group_id": board["id"]}, {"group_id": work["id"]}],
    }
    api.data("PUT", "/contacts/", json=[{"contactId": contact_id, "data": data}])
    contact = _read(api, contact_id)
    assert contact["tags"] == [friends]
    assert sorted(g["name"] for g in contact["groups"]) == ["Board", "Work"]


def test_create_tag_answers_data_tag(api: Api) -> None:
    tag = api.data("POST", "/tags/", json={"tag": {"name": "conference-2027"}})["tag"]
    assert set(tag) == {"id", "name", "color"}
    assert tag["name"] == "conference-2027"
    found = api.data("GET", "/search/tags", params={"searchQuery": "CONFERENCE"})["items"]
    assert {t["name"] for t in found} == {"conference-2026", "conference-2027"}


def test_tag_search_is_a_substring_match_exact_matching_is_the_clients(api: Api) -> None:
    found = api.data("GET", "/search/tags", params={"searchQuery": "vip"})["items"]
    assert sorted(t["name"] for t in found) == ["VIP", "vip list"]


def test_shared_company_search(api: Api, sandbox: Sandbox) -> None:
    at_oldco = {c["id"] for _, c in sandbox.store.rows() if c["company"] == "OldCo"}
    assert len(at_oldco) >= 3
    found = api.data("GET", "/search/contacts", params={"searchQuery": "oldco", "take": 200})
    assert {c["id"] for c in found["items"]} >= at_oldco
