"""Tests for dexbulk.where (the --where grammar, local evaluation) and dexbulk.selection
(what Dex is asked, tag and group names, select_contacts against a mocked API)."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dexbulk.dex import Dex
from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS
from dexbulk.selection import Criteria, select_contacts
from dexbulk.where import READ_ONLY, Condition, Op
from tests.conftest import TEST_KEY

API = "https://dex.test/v1"
FILTER_URL = f"{API}/contacts/filter"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
C = "ffffffff-ffff-4fff-8fff-ffffffffffff"
TAG_INVESTOR = "11111111-1111-4111-8111-111111111111"
TAG_VIP = "22222222-2222-4222-8222-222222222222"
TAG_VIP_LIST = "33333333-3333-4333-8333-333333333333"
GROUP_WORK = "44444444-4444-4444-8444-444444444444"

# -- the grammar --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "field", "op", "value"),
    [
        ("company=OldCo", "company", Op.EQ, "OldCo"),
        ("company = OldCo ", "company", Op.EQ, "OldCo"),
        ('company=" OldCo "', "company", Op.EQ, " OldCo "),
        ("company='Old=Co'", "company", Op.EQ, "Old=Co"),
        ("company==x", "company", Op.EQ, "=x"),
        ("company!=OldCo", "company", Op.NE, "OldCo"),
        ("company~old", "company", Op.CONTAINS, "old"),
        ("starred=true", "starred", Op.EQ, True),
        ("starred=yes", "starred", Op.EQ, True),
        ("starred!=OFF", "starred", Op.NE, False),
        ("frequency=monthly", "frequency", Op.EQ, "1 mon"),
        ("frequency=3 months", "frequency", Op.EQ, "3 mons"),
        ("source=linkedin_sync", "source", Op.EQ, "linkedin_sync"),
        ("source=manual", "source", Op.EQ, "manual"),
        ("last_seen_at<2024-01-01", "last_seen_at", Op.LT, "2024-01-01T00:00:00Z"),
        ("last_seen_at<=2024-01-01T12:00+02:00", "last_seen_at", Op.LE, "2024-01-01T10:00:00Z"),
        ("created_at>2024-05-01", "created_at", Op.GT, "2024-05-01T00:00:00Z"),
        ("updated_at>=2024-05-01T00:00:00Z", "updated_at", Op.GE, "2024-05-01T00:00:00Z"),
        ("birthday>1990-05-02", "birthday", Op.GT, "1990-05-02"),
        ("birthday_year>=1990", "birthday_year", Op.GE, 1990),
        ("company:empty", "company", Op.EMPTY, None),
        ("job_title:set", "job_title", Op.SET, None),
        ("contact_emails~@acme.com", "contact_emails", Op.CONTAINS, "@acme.com"),
        ("contact_emails:empty", "contact_emails", Op.EMPTY, None),
        (f"id={A.upper()}", "id", Op.EQ, A),
    ],
)
def test_expressions_parse_to_typed_conditions(
    token: str, field: str, op: Op, value: object
) -> None:
    assert Condition.parse(token) == Condition(field, op, value)


@pytest.mark.parametrize(
    ("token", "message", "hint"),
    [
        ("compny=OldCo", "unknown field 'compny' (did you mean 'company'?)", "dexbulk fields"),
        ("archived=true", "did you mean 'is_archived'?", None),
        ("created=2024-01-01", "did you mean 'created_at'?", None),
        ("tag=investor", "select by tag with --tag NAME", None),
        ("groups=Work", "select by group with --group NAME", None),
        ("company", "expected FIELD=VALUE", None),
        ("=OldCo", "missing field name", None),
        ("company!OldCo", "expected FIELD=VALUE", None),
        ("company:=1", "expected FIELD=VALUE", "':=' sets JSON"),
        ("company:emptyish", "expected FIELD=VALUE", None),
        ("company=", "no value after '='", "company:empty"),
        ('company=""', "no value after '='", "company:empty"),
        ("company<OldCo", "'<' compares dates, date-times and numbers; 'company' is text", None),
        ("starred>true", "'>' compares dates", None),
        ("starred:empty", "'starred' is a flag", "use starred=true or starred=false"),
        ("starred~tr", "'~' finds text; 'starred' is a flag", None),
        ("starred=maybe", "'maybe' is not a boolean", None),
        ("birthday<1990-13-01", "field 'birthday': '1990-13-01' is not a date", None),
        ("created_at>yesterday", "field 'created_at': 'yesterday' is not a date-time", None),
        ("birthday_year>=nineteen", "'nineteen' is not an integer", None),
        ("frequency=sometimes", "'sometimes' is not a known frequency", None),
        ("contact_emails=a@b.co", "'contact_emails' holds list values", None),
        ("id=abc", "'abc' is not a contact ID", None),
    ],
)
def test_bad_expressions_quote_the_token_and_say_what_was_expected(
    token: str, message: str, hint: str | None
) -> None:
    with pytest.raises(InvalidInput) as caught:
        Condition.parse(token)
    assert caught.value.message.startswith(f"--where '{token}': ")
    assert message in caught.value.message
    if hint is not None:
        assert caught.value.hint is not None
        assert hint in caught.value.hint


@pytest.mark.parametrize(
    ("condition", "printed"),
    [
        (Condition("company", Op.EQ, "OldCo"), "company=OldCo"),
        (Condition("company", Op.EQ, " padded "), 'company=" padded "'),
        (Condition("company", Op.EQ, '"quoted"'), 'company=""quoted""'),
        (Condition("starred", Op.NE, False), "starred!=false"),
        (Condition("birthday_year", Op.LT, 1990), "birthday_year<1990"),
        (Condition("frequency", Op.EQ, "1 mon"), "frequency=1 mon"),
        (Condition("company", Op.EMPTY), "company:empty"),
    ],
)
def test_conditions_print_in_canonical_form(condition: Condition, printed: str) -> None:
    assert str(condition) == printed
    assert Condition.parse(printed) == condition


_NAMES = sorted([*FIELDS, *READ_ONLY])
_OPS = [op.value for op in Op]
_VALUES = st.one_of(
    st.text(alphabet=string.printable, max_size=20),
    st.sampled_from(["true", "no", "1990", "2024-02-29", "2024-01-01T10:00:00+05:30", "monthly"]),
    st.builds(lambda v: f'"{v}"', st.text(max_size=8)),
)


@settings(database=None, deadline=None)  # no .hypothesis/ left behind; no timing assertions
@given(
    name=st.sampled_from(_NAMES),
    op=st.sampled_from(_OPS),
    value=_VALUES,
    pad=st.sampled_from(["", " ", "  "]),
)
def test_parse_print_parse_is_the_identity(name: str, op: str, value: str, pad: str) -> None:
    token = f"{pad}{name}{pad}{op}" + ("" if op.startswith(":") else f"{pad}{value}")
    try:
        condition = Condition.parse(token)
    except InvalidInput:
        assume(False)
        return
    assert Condition.parse(str(condition)) == condition


# -- local evaluation ---------------------------------------------------------------------------

CONTACT: dict[str, Any] = {
    "id": A.upper(),
    "company": "OldCo",
    "job_title": "",
    "starred": False,
    "is_archived": None,
    "frequency": "1 mon",
    "birthday": "1990-05-02",
    "birthday_year": 1990,
    "last_seen_at": "2023-06-01T12:00:00.000Z",
    "contact_emails": [{"email": "ada@oldco.example", "label": "work"}],
    "legacy_contact_addresses": [],
}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("company=OldCo", True),
        ("company=oldco", False),  # = is exact; ~ ignores case
        ("company~OLD", True),
        ("company!=NewCo", True),
        ("company!=OldCo", False),
        ("description!=x", True),  # a missing field is null, and null is not 'x'
        ("job_title:empty", True),  # "" is empty
        ("job_title:set", False),
        ("legacy_contact_addresses:empty", True),
        ("contact_emails:set", True),
        ("contact_emails~OLDCO.example", True),
        ("starred=false", True),
        ("is_archived=false", True),  # a null flag is false
        ("is_archived=true", False),
        ("frequency=monthly", True),
        ("birthday<1990-05-03", True),
        ("birthday>=1990-05-02", True),
        ("birthday>1990-05-02", False),
        ("birthday_year<1991", True),
        ("birthday_year>1990", False),
        ("last_seen_at<2024-01-01", True),
        ("last_seen_at=2023-06-01T14:00:00+02:00", True),  # the same instant
        ("last_seen_at>2023-06-01T12:00:00Z", False),
        ("next_reminder_at<2030-01-01", False),  # empty: neither before nor after
        ("next_reminder_at:empty", True),
        (f"id={A}", True),
    ],
)
def test_conditions_check_a_contact_locally(token: str, expected: bool) -> None:
    assert Condition.parse(token).matches(CONTACT) is expected


# -- Criteria and what Dex is asked -------------------------------------------------------------


def test_criteria_parse_checks_everything_before_any_request() -> None:
    with pytest.raises(InvalidInput, match="unknown field 'compny'"):
        Criteria.parse(where=["starred=true", "compny=x"])
    with pytest.raises(InvalidInput, match="--tag: the name is empty"):
        Criteria.parse(tags=[" "])
    with pytest.raises(InvalidInput, match="--search: the text is empty"):
        Criteria.parse(search="")
    assert not Criteria().filters
    assert Criteria(all=True).filters


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def dex() -> Iterator[Dex]:
    with Dex(API, TEST_KEY, max_attempts=1) as client:
        yield client


def person(contact_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": contact_id, "tags": [], "groups": [], "is_archived": False, **fields}


def page(items: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    return {"error": False, "data": {"items": items, "nextCursor": cursor}}


def bodies(api: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(c.request.body) for c in api.calls if c.request.url == FILTER_URL]


def tags_answer(*tags: tuple[str, str]) -> dict[str, Any]:
    return page([{"id": i, "name": n} for i, n in tags])


def test_dex_filters_what_it_can_and_the_rest_is_checked_here(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.get(f"{API}/search/tags", json=tags_answer((TAG_INVESTOR, "investor")))
    api.post(
        FILTER_URL,
        json=page(
            [
                person(A, company="OldCo", starred=True, tags=[{"id": TAG_INVESTOR}]),
                person(B, company="NewCo", starred=True, tags=[{"id": TAG_INVESTOR}]),
            ]
        ),
    )
    criteria = Criteria.parse(
        where=["starred=true", "company=OldCo", "created_at>=2024-01-01", "job_title:set"],
        tags=["Investor"],
    )
    result = select_contacts(dex, criteria)
    assert result.ids == [A]
    assert bodies(api)[0]["where"] == {
        "is_archived": False,
        "is_starred": True,
        "has_created_at": {"gte": "2024-01-01T00:00:00Z"},
        "has_job_title": True,
        "has_tag": TAG_INVESTOR,
    }
    assert result.reads == 2
    notes = "\n".join(result.notes)
    assert "Dex filtered on is_archived=false, starred=true" in notes
    assert "checked here: company=OldCo\n" in notes
    assert "read 2 contacts in 2 requests; 1 matched" in notes


def test_a_date_range_takes_the_tighter_bounds(api: responses.RequestsMock, dex: Dex) -> None:
    api.post(FILTER_URL, json=page([]))
    where = ["updated_at>2024-01-01", "updated_at>=2024-03-01", "updated_at<2025-01-01"]
    select_contacts(dex, Criteria.parse(where=where))
    assert bodies(api)[0]["where"]["has_updated_at"] == {
        "gte": "2024-03-01T00:00:00Z",
        "lte": "2025-01-01T00:00:00Z",
    }


def test_server_side_and_local_filtering_select_the_same_contacts(
    api: responses.RequestsMock, dex: Dex
) -> None:
    book = [
        person(A, starred=True, company="OldCo"),
        person(B, starred=False, company="OldCo"),
        person(C, starred=True, company="OldCo", is_archived=True),
    ]
    api.post(FILTER_URL, json=page([book[0]]))  # what Dex's filter answers
    api.get(f"{API}/contacts", json=page(book))  # every contact
    criteria = Criteria.parse(where=["starred=true"])
    assert select_contacts(dex, criteria).ids == [A]
    assert select_contacts(dex, criteria, server_side=False).ids == [A]


def test_archived_contacts_stay_out_unless_named_or_asked_for(
    api: responses.RequestsMock, dex: Dex
) -> None:
    book = [person(A), person(B, is_archived=True)]
    api.get(f"{API}/contacts", json=page(book))
    api.post(FILTER_URL, json=page(book))
    assert select_contacts(dex, Criteria(all=True)).ids == [A]
    assert bodies(api)[-1]["where"] == {"is_archived": False}
    assert select_contacts(dex, Criteria(all=True, include_archived=True)).ids == [A, B]
    named = Criteria.parse(where=["is_archived=true"])
    assert select_contacts(dex, named).ids == [B]
    assert bodies(api)[-1]["where"] == {"is_archived": True}


def test_an_exact_company_is_found_through_dex_search(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.get(
        f"{API}/search/contacts",
        json=page([person(A, company="OldCo"), person(B, company="OldCo Labs")]),
    )
    result = select_contacts(dex, Criteria.parse(where=["company=OldCo"]))
    assert result.ids == [A]
    assert "searchQuery=OldCo" in (api.calls[0].request.url or "")
    assert not bodies(api)
    assert any("checked here: company=OldCo, not archived" in n for n in result.notes)


def test_ids_are_narrowed_by_the_filters(api: responses.RequestsMock, dex: Dex) -> None:
    api.post(
        FILTER_URL,
        json=page([person(B, company="OldCo"), person(A, company="NewCo")]),
    )
    result = select_contacts(dex, Criteria.parse(where=["company=OldCo"]), ids=[A, B, C])
    assert result.ids == [B]
    assert result.missing == (C,)
    assert bodies(api)[0]["where"] == {"in": [A, B, C]}


def test_limit_stops_reading_early(api: responses.RequestsMock, dex: Dex) -> None:
    api.post(FILTER_URL, json=page([person(A), person(B)], cursor="next"))
    result = select_contacts(dex, Criteria(all=True), limit=1)
    assert result.ids == [A]
    assert len(api.calls) == 1


def test_every_tag_must_be_on_the_contact(api: responses.RequestsMock, dex: Dex) -> None:
    api.get(
        f"{API}/search/tags",
        json=tags_answer((TAG_VIP, "VIP"), (TAG_VIP_LIST, "vip list"), (TAG_INVESTOR, "investor")),
    )
    api.post(
        FILTER_URL,
        json=page(
            [
                person(A, tags=[{"id": TAG_VIP}, {"id": TAG_INVESTOR}]),
                person(B, tags=[{"id": TAG_VIP}]),
            ]
        ),
    )
    result = select_contacts(dex, Criteria.parse(tags=["vip", "investor"]))
    assert result.ids == [A]
    assert bodies(api)[0]["where"]["has_tag"] == TAG_VIP


def test_a_group_is_resolved_and_filtered_on(api: responses.RequestsMock, dex: Dex) -> None:
    api.get(f"{API}/search/groups", json=tags_answer((GROUP_WORK, "Work")))
    without_groups = {k: v for k, v in person(A).items() if k != "groups"}
    api.post(FILTER_URL, json=page([without_groups, person(B)]))  # A: Dex did not say
    result = select_contacts(dex, Criteria.parse(groups=["work"]))
    assert result.ids == [A]
    assert bodies(api)[0]["where"]["has_groups"] == GROUP_WORK


def test_an_unknown_tag_lists_close_names(api: responses.RequestsMock, dex: Dex) -> None:
    api.get(f"{API}/search/tags", json=tags_answer())
    api.get(
        f"{API}/search/tags",
        json=tags_answer((TAG_INVESTOR, "investor"), (TAG_VIP, "VIP")),
    )
    with pytest.raises(InvalidInput) as caught:
        select_contacts(dex, Criteria.parse(tags=["investr"]))
    assert caught.value.message == (
        "--tag 'investr': no such tag in Dex (did you mean 'investor'?)"
    )
    assert not bodies(api)


def test_an_ambiguous_tag_lists_both_with_ids(api: responses.RequestsMock, dex: Dex) -> None:
    api.get(f"{API}/search/tags", json=tags_answer((TAG_VIP, "VIP"), (TAG_VIP_LIST, "vip")))
    with pytest.raises(InvalidInput) as caught:
        select_contacts(dex, Criteria.parse(tags=["Vip"]))
    assert caught.value.message == (
        f"--tag 'Vip' is ambiguous: 'VIP' ({TAG_VIP}), 'vip' ({TAG_VIP_LIST})"
    )
    assert caught.value.hint == "pass the tag's ID instead of its name"


def test_a_tag_id_is_checked_against_the_users_tags(api: responses.RequestsMock, dex: Dex) -> None:
    api.get(f"{API}/search/tags", json=tags_answer((TAG_VIP, "VIP"), (TAG_VIP_LIST, "vip")))
    api.post(FILTER_URL, json=page([person(A, tags=[{"id": TAG_VIP}])]))
    assert select_contacts(dex, Criteria.parse(tags=[TAG_VIP.upper()])).ids == [A]
    assert [c.request.method for c in api.calls] == ["GET", "POST"]


def test_a_tag_id_nobody_has_is_exit_2_before_any_read(
    api: responses.RequestsMock, dex: Dex
) -> None:
    api.get(f"{API}/search/tags", json=tags_answer((TAG_VIP, "VIP")))
    with pytest.raises(InvalidInput, match="no tag has this ID in Dex"):
        select_contacts(dex, Criteria.parse(tags=[TAG_VIP_LIST]))
    assert [c.request.method for c in api.calls] == ["GET"]
