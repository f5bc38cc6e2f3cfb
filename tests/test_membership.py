"""Tests for dexbulk.membership: keys, the one sending function, counts, plans and journals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from dexbulk import membership
from dexbulk.answers import Outcome
from dexbulk.dex import Dex
from dexbulk.errors import InvalidInput
from dexbulk.journal import Journal, read_run
from dexbulk.membership import (
    MembershipSender,
    Target,
    check_data,
    combine,
    describe_change,
    first_request,
    holds,
    membership_plan,
    read_fields,
    send_membership,
)
from dexbulk.names import Named
from dexbulk.plan import MEMBERSHIP, Selection, Update
from dexbulk.preview import Preview, fields_of
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
TAG = "bdd640fb-0667-4ad1-9c80-317fa3b1799d"
TAG2 = "07a0ca6e-0822-48f3-ac03-1199972a8469"
GROUP = "fc377a4c-4a15-444d-85e7-ce8a3a578a8e"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def dex() -> Iterator[Dex]:
    client = Dex(API, TEST_KEY, max_attempts=1)
    yield client
    client.close()


def body(call: responses.Call) -> object:
    return json.loads(call.request.body or b"")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"tag:{TAG}", Target("tag", TAG)),
        (f"group:{GROUP.upper()}", Target("group", GROUP)),
    ],
)
def test_keys_parse_to_a_kind_and_a_lower_case_id(key: str, expected: Target) -> None:
    assert Target.parse(key) == expected


@pytest.mark.parametrize("key", ["tag:", "tag:nope", "label:" + TAG, "company", TAG])
def test_anything_else_is_not_a_membership_key(key: str) -> None:
    with pytest.raises(InvalidInput, match="is not a tag or group key"):
        Target.parse(key)


@pytest.mark.parametrize("data", [{}, {f"tag:{TAG}": "yes"}, {f"tag:{TAG}": 1}, {"company": True}])
def test_check_data_refuses_what_no_plan_makes(data: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        check_data(data)


def test_holds_reads_the_contacts_tags_and_groups() -> None:
    contact = {"tags": [{"id": TAG.upper(), "name": "investor"}], "groups": []}
    assert holds(contact, f"tag:{TAG}") is True
    assert holds(contact, f"tag:{TAG2}") is False
    assert holds(contact, f"group:{GROUP}") is False
    assert holds({"id": A}, f"tag:{TAG}") is None  # the read did not list tags: unknown


def test_a_membership_plan_is_one_boolean_per_target_for_every_contact() -> None:
    selection = Selection((A, B), 1, ("ids.txt",))
    plan = membership_plan(
        selection, [Named(TAG, "investor"), Named(TAG2, "VIP")], "tag", True, "tag add x"
    )
    assert plan.channel == MEMBERSHIP
    assert plan.patch == {f"tag:{TAG}": True, f"tag:{TAG2}": True}
    assert [u.contact_id for u in plan.updates] == [A, B]
    assert plan.labels == {f"tag:{TAG}": "investor", f"tag:{TAG2}": "VIP"}
    assert plan.duplicates == 1
    assert read_fields(plan.patch) == ["tags"]
    assert fields_of(plan) == ["tags"]


def test_the_preview_skips_contacts_already_in_the_target_state() -> None:
    plan = membership_plan(Selection((A, B)), [Named(TAG, "investor")], "tag", True, "tag add")
    current = {A: {"id": A, "tags": [{"id": TAG}]}, B: {"id": B, "tags": []}}
    preview = Preview.of(plan, current)
    assert preview.unchanged_ids == [A]
    assert [u.contact_id for u in preview.plan(plan).updates] == [B]
    assert preview.before_records(preview.plan(plan)) == [
        {"contactId": B, "data": {f"tag:{TAG}": False}}
    ]
    assert describe_change(f"tag:{TAG}", True, preview.labels) == "+ tag 'investor'"
    assert describe_change(f"group:{GROUP}", False, {}) == f"- group {GROUP}"


def test_tags_go_to_the_tags_endpoint_and_counts_are_per_contact(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.post(f"{API}/tags/contacts/add", json={"error": False, "data": {"count": 4}})
    data = {f"tag:{TAG}": True, f"tag:{TAG2}": True}
    outcome = send_membership(dex, [Update(A, data), Update(B, data)])
    assert body(api.calls[0]) == {"contactIds": [A, B], "tagIds": [TAG, TAG2]}
    assert (outcome.kind, outcome.count) == ("ok", 2)  # 4 links, 2 tags: 2 contacts


def test_one_contact_short_of_two_tags_is_not_counted(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.post(f"{API}/tags/contacts/add", json={"error": False, "data": {"count": 3}})
    data = {f"tag:{TAG}": True, f"tag:{TAG2}": True}
    outcome = send_membership(dex, [Update(A, data), Update(B, data)])
    assert outcome.count == 1  # the batch layer then asks which contacts exist


def test_groups_add_with_put_and_remove_with_post(api: responses.RequestsMock, dex: Dex) -> None:
    url = f"{API}/groups/{GROUP}/contacts"
    api.put(url, json={"error": False, "data": {"count": 1}})
    api.post(url, json={"error": False, "data": {"count": 1}})
    assert send_membership(dex, [Update(A, {f"group:{GROUP}": True})]).kind == "ok"
    assert send_membership(dex, [Update(A, {f"group:{GROUP}": False})]).kind == "ok"
    assert [c.request.method for c in api.calls] == ["PUT", "POST"]
    assert all(body(c) == {"contactIds": [A]} for c in api.calls)


def test_tags_via_put_is_a_one_line_switch(
    api: responses.RequestsMock, dex: Dex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(membership, "TAGS_VIA_PUT", True)
    api.put(f"{API}/contacts/", json={"error": False, "data": {"count": 2}})
    send_membership(dex, [Update(A, {f"tag:{TAG}": False}), Update(B, {f"tag:{TAG}": False})])
    assert body(api.calls[0]) == [
        {"contactId": A, "data": {"tags_contacts": {"remove": [{"tag_id": TAG, "contact_id": A}]}}},
        {"contactId": B, "data": {"tags_contacts": {"remove": [{"tag_id": TAG, "contact_id": B}]}}},
    ]
    request = first_request([Update(A, {f"tag:{TAG}": True})], API)
    assert request is not None
    assert request["method"] == "PUT"


def test_a_batch_of_different_changes_is_one_request_per_change(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.post(f"{API}/tags/contacts/remove", json={"error": False, "data": {"count": 1}})
    api.post(f"{API}/tags/contacts/add", json={"error": False, "data": {"count": 1}})
    sender = MembershipSender(dex)
    outcome = sender.put_contacts(
        [Update(A, {f"tag:{TAG}": False}), Update(B, {f"tag:{TAG}": True})]
    )
    assert [body(c) for c in api.calls] == [
        {"contactIds": [A], "tagIds": [TAG]},
        {"contactIds": [B], "tagIds": [TAG]},
    ]
    assert (outcome.kind, outcome.count) == ("ok", 1)  # each request took its one contact


def test_combine_reports_the_first_failure() -> None:
    ok = Outcome("ok", 200, 2, None, 1)
    rejected = Outcome("rejected", 400, None, "bad", 1)
    assert combine([ok, rejected], 2) is rejected
    assert combine([ok, Outcome("ok", 200, None, None, 2)], 2).count is None


def test_first_request_describes_the_endpoint_for_the_dry_run() -> None:
    request = first_request([Update(A, {f"group:{GROUP}": True})], API)
    assert request == {
        "method": "PUT", "url": f"{API}/groups/{GROUP}/contacts", "body": {"contactIds": [A]}
    }  # fmt: skip


def test_a_membership_journal_reads_back_as_the_same_plan(tmp_path: Path) -> None:
    plan = membership_plan(Selection((A, B)), [Named(TAG, "investor")], "tag", False, "tag remove")
    journal = Journal.create(tmp_path, plan, argv=["dexbulk"], api_url=API, options={}, read=True)
    journal.finish("completed", {})
    run = read_run(journal.path)
    again = run.plan()
    assert (again.channel, again.patch, again.labels) == (MEMBERSHIP, plan.patch, plan.labels)
    assert run.read_before is True


def test_a_membership_journal_with_a_forged_change_is_refused(tmp_path: Path) -> None:
    plan = membership_plan(Selection((A,)), [Named(TAG, "investor")], "tag", True, "tag add")
    journal = Journal.create(tmp_path, plan, argv=["dexbulk"], api_url=API, options={})
    journal.finish("completed", {})
    text = journal.path.read_text().replace(f'"tag:{TAG}":true', '"company":"Evil"')
    journal.path.write_text(text)
    with pytest.raises(InvalidInput, match="malformed"):
        read_run(journal.path)


@pytest.mark.parametrize(
    "listed",
    [[{"tag_id": TAG}], [{"tag": {"id": TAG}}], ["investor"], [{"id": 7}]],
)
def test_a_tag_list_of_another_shape_is_unknown_never_lacking(listed: list[object]) -> None:
    """Taken as 'lacks it', an unknown shape would make a remove skip every contact."""
    assert holds({"tags": listed}, f"tag:{TAG}") is None


def test_after_a_short_count_only_contacts_that_now_hold_the_tag_are_confirmed(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.post(f"{API}/tags/contacts/add", json={"error": False, "data": {"count": 1}})
    api.post(
        f"{API}/contacts/filter",
        json={"error": False, "data": {"items": [
            {"id": A, "tags": [{"id": TAG, "name": "investor"}]},
            {"id": B, "tags": []},
        ]}},
    )  # fmt: skip
    sender = MembershipSender(dex)
    data = {f"tag:{TAG}": True}
    outcome = sender.put_contacts([Update(A, data), Update(B, data)])
    assert outcome.count == 1
    assert sender.existing_ids([A, B]) == {A}
    assert json.loads(api.calls[1].request.body or b"")["select"] == ["id", "tags"]


def test_a_membership_journal_switched_to_the_contacts_channel_is_never_resumed(
    tmp_path: Path,
) -> None:
    """Sent as fields, 'tag:<uuid>' would be rejected for every contact (479 requests)."""
    plan = membership_plan(Selection((A, B)), [Named(TAG, "investor")], "tag", True, "tag add")
    journal = Journal.create(tmp_path, plan, argv=["dexbulk"], api_url=API, options={})
    journal.close()
    text = journal.path.read_text().replace('"channel":"membership"', '"channel":"contacts"', 1)
    journal.path.write_text(text)
    run = read_run(journal.path)
    assert run.state == "incomplete"
    with pytest.raises(InvalidInput, match="cannot be resumed"):
        run.check_resumable()
