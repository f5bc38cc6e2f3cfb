"""Tests for dexbulk.preview: comparing updates with current values, grouping, skipping
unchanged contacts, the journal's prior values, and reading them in few requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from dexbulk.dex import Dex
from dexbulk.plan import Patch, Plan, Update
from dexbulk.preview import UNKNOWN, ChangeGroup, Preview, compare, fields_of, read_current
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
FILTER_URL = f"{API}/contacts/filter"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
C = "ffffffff-ffff-4fff-8fff-ffffffffffff"


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@pytest.mark.parametrize(
    ("data", "current", "changed"),
    [
        ({"company": "NewCo"}, {"company": "OldCo"}, ["company"]),
        ({"company": "NewCo"}, {"company": "NewCo"}, []),
        ({"company": "NewCo"}, {"company": "newco"}, ["company"]),  # case counts
        ({"company": None}, {"company": None}, []),
        ({"company": ""}, {"company": ""}, []),
        # null is a value of its own: "" is not null, nor false, [] or {} (an undo puts it back)
        ({"company": None}, {"company": ""}, ["company"]),  # unset of "": sent
        ({"company": ""}, {"company": None}, ["company"]),
        ({"company": None}, {"company": "OldCo"}, ["company"]),  # a clear
        ({"company": "NewCo"}, {}, ["company"]),  # Dex did not say: sent
        ({"starred": False}, {"starred": None}, ["starred"]),
        ({"starred": None}, {"starred": False}, ["starred"]),
        ({"contact_emails": []}, {"contact_emails": None}, ["contact_emails"]),
        ({"contact_emails": None}, {"contact_emails": []}, ["contact_emails"]),
        ({"linkedin_data": {}}, {"linkedin_data": []}, ["linkedin_data"]),
        ({"linkedin_data": {}}, {"linkedin_data": {}}, []),
        ({"starred": True}, {"starred": False}, ["starred"]),
        ({"birthday_year": 1990}, {"birthday_year": 1990}, []),
        ({"birthday": "1990-05-02"}, {"birthday": "1990-05-02"}, []),
        ({"last_seen_at": "2024-03-01T12:00:00Z"}, {"last_seen_at": "2024-03-01T12:00:00.000Z"},
         []),
        ({"last_seen_at": "2024-03-01T12:00:00Z"}, {"last_seen_at": "2024-03-01T12:00:01.000Z"},
         ["last_seen_at"]),
        ({"frequency": "1 mon"}, {"frequency": "1 mon"}, []),
        ({"contact_emails": []}, {"contact_emails": []}, []),
        ({"contact_emails": [{"email": "a@b.co"}]},
         {"contact_emails": [{"email": "a@b.co", "id": "x"}]}, ["contact_emails"]),
        ({"tags_contacts": {"append": [{"tag_id": A}]}}, {"tags_contacts": None},
         ["tags_contacts"]),
        ({"company": "NewCo", "job_title": "CTO"}, {"company": "NewCo", "job_title": "CEO"},
         ["job_title"]),
    ],
)  # fmt: skip
def test_compare_finds_the_fields_that_would_change(
    data: dict[str, Any], current: dict[str, Any], changed: list[str]
) -> None:
    change = compare(Update(A, data), {"id": A, **current})
    assert list(change.changed) == changed
    assert change.unchanged is (not changed)


def test_a_contact_the_read_did_not_find_is_sent_and_said_so() -> None:
    change = compare(Update(A, {"company": "NewCo"}), None)
    assert not change.found
    assert not change.unchanged
    assert change.changed == ("company",)
    assert change.before == {"company": UNKNOWN}
    assert change.to_json() == {
        "contactId": A, "found": False, "before": None, "after": {"company": "NewCo"},
        "changed": ["company"],
    }  # fmt: skip


def plan_of(*ids: str, **data: object) -> Plan:
    return Plan.for_ids(ids, Patch.of(data), "set")


def test_groups_count_each_change_and_the_plan_drops_the_unchanged() -> None:
    current = {
        A: {"id": A, "company": "OldCo"},
        B: {"id": B, "company": "OldCo"},
        C: {"id": C, "company": None},
        cid(1): {"id": cid(1), "company": "NewCo"},
    }
    plan = plan_of(A, B, C, cid(1), cid(2), company="NewCo")
    preview = Preview.of(plan, current, reads=1)
    assert preview.groups() == [
        ChangeGroup("company", "OldCo", "NewCo", 2),
        ChangeGroup("company", None, "NewCo", 1),
        ChangeGroup("company", UNKNOWN, "NewCo", 1),
    ]
    assert (preview.changed, preview.unchanged, preview.not_found) == (4, 1, 1)
    assert preview.unchanged_ids == [cid(1)]
    assert [u.contact_id for u in preview.plan(plan).updates] == [A, B, C, cid(2)]
    assert preview.plan(plan, include_unchanged=True) is plan
    document = preview.to_json()
    assert document["groups"][0] == {
        "field": "company", "before": "OldCo", "after": "NewCo", "count": 2,
    }  # fmt: skip
    assert "before" not in document["groups"][2]  # not read: no before value to show
    assert len(document["contacts"]) == 5


def test_before_records_hold_the_fields_sent_of_contacts_sent_and_name_unknown_ones() -> None:
    current = {
        A: {"id": A, "company": "OldCo", "job_title": "CEO", "full_name": "Ada"},
        B: {"id": B, "company": "NewCo"},
    }
    plan = plan_of(A, B, C, company="NewCo")
    preview = Preview.of(plan, current)
    assert preview.before_records(preview.plan(plan)) == [
        {"contactId": A, "data": {"company": "OldCo"}},
        # Not found by the read: its prior value is unknown, which an undo must tell.
        {"contactId": C, "data": {}, "unknown": ["company"]},
    ]
    # --include-unchanged sends B too: it has a record like every contact sent.
    assert preview.before_records(preview.plan(plan, include_unchanged=True))[1] == {
        "contactId": B, "data": {"company": "NewCo"},
    }  # fmt: skip


def test_before_records_keep_unchanged_fields_a_shared_patch_sends_too() -> None:
    # job_title null → "" is a change; company is sent with it (one patch for all), unchanged
    # on B and unknown on A (Dex's answer left it out).
    current = {A: {"id": A, "job_title": None}, B: {"id": B, "job_title": "", "company": "Z"}}
    plan = Plan.for_ids((A, B), Patch({"job_title": "", "company": "Z"}), "set")
    preview = Preview.of(plan, current)
    sending = preview.plan(plan)
    assert [u.contact_id for u in sending.updates] == [A]
    assert preview.before_records(sending) == [
        {"contactId": A, "data": {"job_title": None}, "unknown": ["company"]},
    ]
    both = preview.before_records(preview.plan(plan, include_unchanged=True))
    assert both[1] == {"contactId": B, "data": {"job_title": "", "company": "Z"}}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_read_current_asks_500_at_a_time_with_several_in_flight(
    api: responses.RequestsMock,
) -> None:
    lock = threading.Lock()
    in_flight = peak = 0
    release = threading.Event()

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
            if in_flight >= 2:
                release.set()
        release.wait(timeout=5)  # hold the first request until a second one arrives
        asked = json.loads(request.body)["where"]["in"]
        with lock:
            in_flight -= 1
        items = [{"id": i, "company": "OldCo"} for i in asked]
        return 200, {}, json.dumps({"error": False, "data": {"items": items}})

    api.add_callback(responses.POST, FILTER_URL, callback=answer)
    ids = [cid(n) for n in range(1200)]
    with Dex(API, TEST_KEY, pool_size=4) as dex:
        found = read_current(dex, ids, concurrency=4)
        assert dex.reads == 3
    assert set(found) == set(ids)
    sizes = sorted(len(json.loads(c.request.body)["where"]["in"]) for c in api.calls)
    assert sizes == [200, 500, 500]
    assert peak >= 2


def test_read_current_asks_only_for_the_fields_compared(api: responses.RequestsMock) -> None:
    api.post(FILTER_URL, json={"error": False, "data": {"items": [{"id": A}]}})
    with Dex(API, TEST_KEY) as dex:
        assert read_current(dex, [A, B], fields=["company"]) == {A: {"id": A}}
    assert len(api.calls) == 1
    assert json.loads(api.calls[0].request.body)["select"] == ["id", "company", "full_name"]


def test_fields_of_a_plan() -> None:
    assert fields_of(plan_of(A, company="X", starred=True)) == ["company", "starred"]
    per_contact = Plan([Update(A, {"company": "X"}), Update(B, {"job_title": "Y"})], "apply")
    assert fields_of(per_contact) == ["company", "job_title"]


# -- the spreadsheet round trip -----------------------------------------------------------------


def load_sheet(tmp_path: Any, text: str) -> list[Update]:
    import io as _io

    from dexbulk.inputs.patches import load_patch

    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    loaded = load_patch(str(path), stdin=_io.StringIO())
    assert isinstance(loaded, list)
    return list(loaded)


def test_an_exported_sheet_sends_only_the_cells_that_differ(tmp_path: Any) -> None:
    sheet = (
        "id,full_name,company,job_title,tags,updated_at\n"
        f"{A},Ada,NewCo,CTO,investor,2020-01-01T00:00:00Z\n"  # company edited
        f"{B},Bob,OldCo,,,2020-01-01T00:00:00Z\n"  # job_title blanked
        f"{C},Cy,OldCo,,,2020-01-01T00:00:00Z\n"  # as exported (job_title was empty)
    )
    updates = load_sheet(tmp_path, sheet)
    assert updates[1].data == {"full_name": "Bob", "company": "OldCo", "job_title": None}
    current = {
        A: {"id": A, "full_name": "Ada", "company": "OldCo", "job_title": "CTO"},
        B: {"id": B, "full_name": "Bob", "company": "OldCo", "job_title": "Founder"},
        C: {"id": C, "full_name": "Cy", "company": "OldCo", "job_title": None},
    }
    plan = Plan(updates, "apply people.csv")
    preview = Preview.of(plan, current)
    sending = preview.plan(plan)
    assert [u.to_api() for u in sending.updates] == [
        {"contactId": A, "data": {"company": "NewCo"}},
        {"contactId": B, "data": {"job_title": None}},
    ]
    assert preview.unchanged_ids == [C]
    assert ChangeGroup("job_title", "Founder", None, 1) in preview.groups()


def test_a_blank_cell_of_an_export_is_any_empty_value_and_an_explicit_null_is_null(
    tmp_path: Any,
) -> None:
    # A blank cell cannot tell null from "": Dex holding either is the sheet as exported. A
    # cell reading null asks for null itself.
    sheet = (
        "id,company,job_title,updated_at\n"
        f"{A},,,2020-01-01T00:00:00Z\n"
        f"{B},,null,2020-01-01T00:00:00Z\n"
        f"{C},,,2020-01-01T00:00:00Z\n"
    )
    updates = load_sheet(tmp_path, sheet)
    current = {
        A: {"id": A, "company": "", "job_title": None},
        B: {"id": B, "company": None, "job_title": ""},
        C: {"id": C, "company": "Acme", "job_title": ""},
    }
    plan = Plan(updates, "apply people.csv")
    preview = Preview.of(plan, current)
    assert [u.to_api() for u in preview.plan(plan).updates] == [
        {"contactId": B, "data": {"job_title": None}},
        {"contactId": C, "data": {"company": None}},
    ]
    assert preview.unchanged_ids == [A]


def test_a_sheet_that_is_not_an_export_keeps_blank_cells_unchanged(tmp_path: Any) -> None:
    updates = load_sheet(tmp_path, f"id,company,job_title,created_at,tags\n{A},,CTO,x,y\n")
    assert [u.data for u in updates] == [{"job_title": "CTO"}]
