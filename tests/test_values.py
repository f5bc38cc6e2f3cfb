"""Tests for dexbulk.values: the field table, coercion of text, validation of JSON values."""

from __future__ import annotations

import json

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.fields import FIELDS, FREQUENCIES, FREQUENCY_ALIASES, FieldKind, lookup, suggest
from dexbulk.values import coerce, is_uuid, kind_of, normalize_uuid, quote, validate, validate_data

U = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
V = "0b5e7f0a-1111-4222-8333-944455556666"

# The data object's keys, in the order of Dex's "Update multiple contacts" reference page.
SEED_ORDER = [
    "full_name",
    "first_name",
    "last_name",
    "description",
    "job_title",
    "legacy_location",
    "company",
    "education",
    "starred",
    "source",
    "coordinates",
    "image_url",
    "image_source",
    "business_card_url",
    "website",
    "birthday",
    "birthday_year",
    "frequency",
    "last_seen_at",
    "never_keep_in_touch",
    "next_reminder_at",
    "linkedin",
    "twitter",
    "facebook",
    "instagram",
    "telegram",
    "tiktok",
    "youtube",
    "whatsapp_message_link",
    "whatsapp_message_snippet",
    "whatsapp_last_message_at",
    "imessage_message_link",
    "imessage_message_snippet",
    "imessage_last_message_at",
    "linkedin_message_link",
    "linkedin_last_message_snippet",
    "linkedin_last_message_at",
    "linkedin_data",
    "instagram_message_link",
    "instagram_message_snippet",
    "instagram_last_message_at",
    "gmail_last_interaction_at",
    "gmail_last_interaction_provider_id",
    "gmail_last_interaction_subject",
    "gmail_last_interaction_provider",
    "gcal_last_interaction_at",
    "gcal_last_interaction_provider_id",
    "gcal_last_interaction_title",
    "gcal_last_interaction_provider",
    "phone_call_last_interaction_at",
    "phone_call_interaction_snippet",
    "web_search_summary",
    "legacy_contact_addresses",
    "contact_emails",
    "contact_phone_numbers",
    "groups_contacts",
    "tags_contacts",
    "custom_fields",
    "contact_birthdays",
    "is_archived",
    "ignore_merge",
    "related_contacts",
]

ADVANCED = {
    name
    for name in SEED_ORDER
    if name.startswith(("whatsapp_", "imessage_", "instagram_message_", "gmail_", "gcal_"))
    or name.startswith(("linkedin_message_link", "linkedin_last_message_", "phone_call_"))
    or name == "instagram_last_message_at"
}


def message(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    return str(excinfo.value)


def assert_error(call: object, *fragments: str) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as excinfo:
        call()
    text = message(excinfo)
    assert "\n" not in text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    return excinfo.value


# -- the table ---------------------------------------------------------------------------------


def test_fields_are_the_seed_fields_in_seed_order() -> None:
    assert list(FIELDS) == SEED_ORDER
    assert all(field.name == name for name, field in FIELDS.items())


def test_advanced_fields_are_exactly_the_sync_fields() -> None:
    assert {name for name, field in FIELDS.items() if field.advanced} == ADVANCED
    assert all(FIELDS[name].group == "sync" for name in ADVANCED)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("company", FieldKind.STRING),
        ("image_source", FieldKind.STRING),
        ("starred", FieldKind.BOOLEAN),
        ("never_keep_in_touch", FieldKind.BOOLEAN),
        ("is_archived", FieldKind.BOOLEAN),
        ("ignore_merge", FieldKind.BOOLEAN),
        ("birthday", FieldKind.DATE),
        ("birthday_year", FieldKind.INTEGER),
        ("last_seen_at", FieldKind.DATETIME),
        ("next_reminder_at", FieldKind.DATETIME),
        ("whatsapp_last_message_at", FieldKind.DATETIME),
        ("phone_call_last_interaction_at", FieldKind.DATETIME),
        ("frequency", FieldKind.ENUM),
        ("source", FieldKind.ENUM),
        ("gmail_last_interaction_provider", FieldKind.ENUM),
        ("gcal_last_interaction_provider", FieldKind.ENUM),
        ("coordinates", FieldKind.OBJECT),
        ("contact_birthdays", FieldKind.OBJECT),
        ("linkedin_data", FieldKind.OBJECT),
        ("web_search_summary", FieldKind.OBJECT),
        ("contact_emails", FieldKind.LIST),
        ("contact_phone_numbers", FieldKind.LIST),
        ("legacy_contact_addresses", FieldKind.LIST),
        ("groups_contacts", FieldKind.LIST),
        ("custom_fields", FieldKind.LIST),
        ("tags_contacts", FieldKind.OPERATION),
        ("related_contacts", FieldKind.OPERATION),
    ],
)
def test_field_kinds(name: str, kind: FieldKind) -> None:
    assert FIELDS[name].kind is kind


def test_enum_choices() -> None:
    assert FIELDS["frequency"].choices == FREQUENCIES
    assert FIELDS["source"].choices == ("linkedin_sync",)
    assert FIELDS["gmail_last_interaction_provider"].choices == ("GOOGLE",)
    assert all(f.choices for f in FIELDS.values() if f.kind is FieldKind.ENUM)
    assert not any(f.choices for f in FIELDS.values() if f.kind is not FieldKind.ENUM)


@pytest.mark.parametrize("name", SEED_ORDER)
def test_every_example_is_valid_input(name: str) -> None:
    field = FIELDS[name]
    assert field.description
    assert "\n" not in field.description
    if field.takes_json:
        assert field.example.startswith(f"{name}:='")
        assert field.example.endswith("'")
        raw = field.example[len(name) + 3 : -1].replace("<uuid>", U)
        assert validate(name, json.loads(raw)) is not None
    else:
        assert field.example.startswith(f"{name}=")
        assert coerce(name, field.example[len(name) + 1 :].strip("'")) is not None


# -- coerce ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("company", "Acme", "Acme"),
        ("company", "  spaced  ", "  spaced  "),
        ("company", "null", "null"),
        ("description", "a=b:=c", "a=b:=c"),
        ("starred", "true", True),
        ("starred", "TRUE", True),
        ("starred", "Yes", True),
        ("starred", "1", True),
        ("starred", "on", True),
        ("starred", "false", False),
        ("starred", "no", False),
        ("starred", "0", False),
        ("starred", "OFF", False),
        ("is_archived", " yes ", True),
        ("birthday_year", "1990", 1990),
        ("birthday_year", " 1 ", 1),
        ("birthday_year", "9999", 9999),
        ("birthday", "1990-05-02", "1990-05-02"),
        ("birthday", "2024-02-29", "2024-02-29"),
        ("source", "linkedin_sync", "linkedin_sync"),
        ("source", "LinkedIn_Sync", "linkedin_sync"),
        ("gmail_last_interaction_provider", "google", "GOOGLE"),
        ("gcal_last_interaction_provider", "GOOGLE", "GOOGLE"),
    ],
)
def test_coerce(name: str, text: str, expected: object) -> None:
    value = coerce(name, text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z"),
        ("2024-03-01t12:00:00z", "2024-03-01T12:00:00Z"),
        ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01T12:00:00-0530", "2024-03-01T17:30:00Z"),
        ("2024-03-01T01:00:00+02", "2024-02-29T23:00:00Z"),
        ("2024-03-01T12:00:00", "2024-03-01T12:00:00Z"),
        ("2024-03-01 12:00", "2024-03-01T12:00:00Z"),
        ("2024-03-01T12:00:00.5Z", "2024-03-01T12:00:00.5Z"),
        ("2024-03-01T12:00:00.123456789+01:00", "2024-03-01T11:00:00.123456789Z"),
        ("2024-03-01", "2024-03-01T00:00:00Z"),
        ("0999-06-01T00:00:00Z", "0999-06-01T00:00:00Z"),
    ],
)
def test_coerce_datetime_normalises_to_utc(text: str, expected: str) -> None:
    assert coerce("last_seen_at", text) == expected
    assert validate("next_reminder_at", text) == expected


@pytest.mark.parametrize(("alias", "api"), sorted(FREQUENCY_ALIASES.items()))
def test_every_frequency_alias(alias: str, api: str) -> None:
    assert coerce("frequency", alias) == api
    assert validate("frequency", alias.upper()) == api


@pytest.mark.parametrize(
    ("text", "api"),
    [
        ("weekly", "7 days"),
        ("7d", "7 days"),
        ("Biweekly", "14 days"),
        ("fortnightly", "14 days"),
        ("monthly", "1 mon"),
        ("1 month", "1 mon"),
        ("6 weeks", "42 days"),
        ("quarterly", "3 mons"),
        ("3 months", "3 mons"),
        ("Twice a year", "6 mons"),
        ("biannually", "6 mons"),
        ("semi-annually", "6 mons"),
        ("6 months", "6 mons"),
        ("yearly", "1 year"),
        ("ANNUALLY", "1 year"),
        ("12 months", "1 year"),
        *((api, api) for api in FREQUENCIES),
        *((api.upper(), api) for api in FREQUENCIES),
    ],
)
def test_frequency_spellings(text: str, api: str) -> None:
    assert coerce("frequency", text) == api


@pytest.mark.parametrize(
    ("name", "text", "fragments"),
    [
        ("birthday", "1990-13-01", ["field 'birthday': '1990-13-01' is not a date", "YYYY-MM-DD"]),
        ("birthday", "2023-02-29", ["'2023-02-29' is not a date"]),
        ("birthday", "1990/05/02", ["'1990/05/02' is not a date"]),
        ("birthday", "1990-5-2", ["'1990-5-2' is not a date"]),
        (
            "starred",
            "maybe",
            ["field 'starred': 'maybe' is not a boolean (expected true or false)"],
        ),
        ("starred", "", ["field 'starred': no value after '='"]),
        ("birthday_year", "19x0", ["field 'birthday_year': '19x0' is not an integer"]),
        ("birthday_year", "1990.0", ["'1990.0' is not an integer"]),
        ("birthday_year", "0", ["field 'birthday_year': 0 is out of range", "1 to 9999"]),
        ("birthday_year", "10000", ["10000 is out of range"]),
        ("last_seen_at", "yesterday", ["field 'last_seen_at': 'yesterday' is not a date-time"]),
        ("last_seen_at", "2024-03-01T25:00:00Z", ["is not a date-time", "ISO 8601"]),
        ("last_seen_at", "2024-03-01T12:00:00+24:00", ["is not a date-time"]),
        ("last_seen_at", "2024-03-01T12:00:00+01:75", ["is not a date-time"]),
        ("last_seen_at", "0001-01-01T00:30+01:00", ["is not a date-time"]),
        (
            "frequency",
            "daily",
            [
                "field 'frequency': 'daily' is not a known frequency",
                "(expected one of: 7 days, 14 days, 1 mon, 42 days, 3 mons, 6 mons, 1 year or ",
                "weekly",
                "quarterly",
                "yearly)",
            ],
        ),
        ("source", "manual", ["field 'source': 'manual' is not a known source", "linkedin_sync"]),
        ("gmail_last_interaction_provider", "outlook", ["'outlook' is not a known provider"]),
        ("tags_contacts", "x", ["field 'tags_contacts'", "tags_contacts:=", '"tag_id"']),
        ("contact_emails", "a@b.c", ["field 'contact_emails'", "contact_emails:="]),
        ("coordinates", "1,2", ["coordinates:="]),
        ("compnay", "x", ["unknown field 'compnay' (did you mean 'company'?)"]),
    ],
)
def test_coerce_errors(name: str, text: str, fragments: list[str]) -> None:
    assert_error(lambda: coerce(name, text), *fragments)


CLEAR = "to clear it, use 'dexbulk unset "


def test_coerce_null_hints_at_clearing() -> None:
    error = assert_error(lambda: coerce("birthday", "null"), "is not a date")
    assert error.hint == "to clear it, use birthday:=null"


@pytest.mark.parametrize(
    ("name", "text", "hint"),
    [
        ("company", "", CLEAR + "company'; for an empty string, company:='\"\"'"),
        ("job_title", "   ", CLEAR + "job_title'; for an empty string, job_title:='\"\"'"),
        ("birthday", "", CLEAR + "birthday'"),
        ("starred", " ", CLEAR + "starred'"),
    ],
)  # fmt: skip
def test_coerce_empty_value_is_an_error_with_a_hint(name: str, text: str, hint: str) -> None:
    """'company=' used to send "" (erasing the company): now it asks what was meant."""
    error = assert_error(lambda: coerce(name, text), f"field '{name}': no value after '='")
    assert error.hint == hint


def test_coerce_error_quotes_newlines_on_one_line() -> None:
    assert_error(lambda: coerce("starred", "tr\nue"), r"'tr\nue'")


# -- validate ----------------------------------------------------------------------------------

EMAIL = {"email": "ada@example.com", "label": "work", "ranking": 1}
PHONE = {
    "phone_number": "+44 20",
    "country_code": "GB",
    "phone_number_sanitized": "4420",
    "label": None,
    "ranking": 0,
}
COORDS = {"operation": "set", "data": {"latitude": -90, "longitude": 180.0}}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("company", "Acme", "Acme"),
        ("starred", False, False),
        ("birthday_year", 1990, 1990),
        ("birthday", "1990-05-02", "1990-05-02"),
        ("frequency", "quarterly", "3 mons"),
        ("last_seen_at", "2024-03-01T12:00:00+01:00", "2024-03-01T11:00:00Z"),
        ("coordinates", COORDS, COORDS),
        ("contact_birthdays", {"contact_id": U.upper(), "last_dismissal_year": 2024}, None),
        ("contact_emails", [EMAIL, {"email": "b@c.d"}], [EMAIL, {"email": "b@c.d"}]),
        ("contact_emails", [], []),
        ("contact_phone_numbers", [PHONE], [PHONE]),
        ("legacy_contact_addresses", [{"formatted": "1 Main St"}], [{"formatted": "1 Main St"}]),
        ("groups_contacts", [{"group_id": U.upper()}], [{"group_id": U}]),
        ("tags_contacts", {"append": [{"tag_id": U}]}, {"append": [{"tag_id": U}]}),
        (
            "tags_contacts",
            {"remove": [{"tag_id": U, "contact_id": V}], "replace": ["anything"]},
            {"remove": [{"tag_id": U, "contact_id": V}], "replace": ["anything"]},
        ),
        (
            "custom_fields",
            [{"id": U, "type": "datepicker", "text_value": "x", "custom_field": {"a": 1}}],
            [{"id": U, "type": "datepicker", "text_value": "x", "custom_field": {"a": 1}}],
        ),
        (
            "related_contacts",
            {"append": [{"destination": U, "source_contact": {"x": 1}}]},
            {"append": [{"destination": U, "source_contact": {"x": 1}}]},
        ),
        (
            "related_contacts",
            {"remove": [{"source": U, "destination": None}], "replace": {}},
            {"remove": [{"source": U, "destination": None}], "replace": {}},
        ),
        ("linkedin_data", {"nested": [1, 2.5, None, {"k": True}]}, None),
        ("web_search_summary", {}, {}),
    ],
)
def test_validate(name: str, value: object, expected: object) -> None:
    result = validate(name, value)
    if name == "contact_birthdays":
        assert result == {"contact_id": U, "last_dismissal_year": 2024}
    else:
        assert result == (value if expected is None else expected)


@pytest.mark.parametrize("name", SEED_ORDER)
def test_null_clears_every_field(name: str) -> None:
    assert validate(name, None) is None


@pytest.mark.parametrize(
    ("name", "value", "fragments"),
    [
        ("company", 1, ["field 'company': expected a string (got an integer 1)"]),
        ("starred", "true", ["field 'starred': expected true or false (got a string 'true')"]),
        ("starred", 1, ["expected true or false (got an integer 1)"]),
        ("birthday_year", True, ["field 'birthday_year': expected an integer (got a boolean"]),
        ("birthday_year", 1990.0, ["expected an integer (got a number 1990.0)"]),
        # JSON numbers that overflow read as infinity: one clean phrase, not "a number a number".
        ("company", float("inf"), ["expected a string (got a number too large to hold)"]),
        ("birthday_year", float("-inf"), ["expected an integer (got a number too large to hold)"]),
        ("company", float("nan"), ["expected a string (got NaN (not a JSON number))"]),
        ("linkedin_data", {"a": float("inf")}, ["'linkedin_data.a': expected a finite number"]),
        # A lone surrogate (an argument's undecodable byte) is no text Dex can be sent.
        ("company", "ok\udc9b", ["'ok\\udc9b' is not UTF-8 text"]),
        ("linkedin_data", {"a": ["\ud800"]}, ["'linkedin_data.a[0]': '\\ud800' is not UTF-8"]),
        ("linkedin_data", {"\udc9b": 1}, ["field 'linkedin_data': '\\udc9b' is not UTF-8"]),
        ("birthday_year", "1990", ["expected an integer (got a string '1990')"]),
        ("birthday_year", 0, ["0 is out of range"]),
        ("birthday", "1990-13-01", ["'1990-13-01' is not a date (expected YYYY-MM-DD)"]),
        ("birthday", 19900502, ["field 'birthday': expected a YYYY-MM-DD string"]),
        ("last_seen_at", 1700000000, ["expected an ISO 8601 string"]),
        ("frequency", "daily", ["'daily' is not a known frequency"]),
        ("contact_emails", {"email": "x"}, ["field 'contact_emails': expected a list"]),
        ("contact_emails", ["x"], ["field 'contact_emails[0]': expected an object with keys"]),
        (
            "contact_emails",
            [EMAIL, {"emial": "x"}],
            [
                "field 'contact_emails[1].emial': unknown key",
                "did you mean 'email'?",
                "email, label, ranking",
            ],
        ),
        (
            "contact_emails",
            [{"label": "x"}],
            ["field 'contact_emails[0]': missing required key 'email'"],
        ),
        ("contact_emails", [{"email": ""}], ["'contact_emails[0].email': expected a non-empty"]),
        ("contact_emails", [{"email": None}], ["'contact_emails[0].email'", "(got null)"]),
        ("contact_emails", [{"email": "a", "ranking": True}], ["'contact_emails[0].ranking'"]),
        ("contact_phone_numbers", [{"label": "m"}], ["missing required key 'phone_number'"]),
        ("contact_phone_numbers", [{"phone_number": "1", "country": "GB"}], ["[0].country'"]),
        (
            "legacy_contact_addresses",
            [{"formatted": 1}],
            ["'legacy_contact_addresses[0].formatted'"],
        ),
        (
            "groups_contacts",
            [{"group_id": "abc"}],
            ["'groups_contacts[0].group_id': expected a UUID"],
        ),
        ("groups_contacts", [{}], ["missing required key 'group_id'"]),
        ("tags_contacts", {}, ["field 'tags_contacts': expected at least one of: append, remove"]),
        ("tags_contacts", [], ["field 'tags_contacts': expected an object"]),
        ("tags_contacts", {"add": []}, ["'tags_contacts.add': unknown key"]),
        ("tags_contacts", {"append": [{"tag_id": "x"}]}, ["'tags_contacts.append[0].tag_id'"]),
        ("tags_contacts", {"append": [{"tag_id": U, "x": 1}]}, ["'tags_contacts.append[0].x'"]),
        (
            "tags_contacts",
            {"remove": [{"tag_id": U, "contact_id": "x"}]},
            ["remove[0].contact_id'"],
        ),
        ("related_contacts", {"append": [{"source": U}]}, ["missing required key 'destination'"]),
        ("related_contacts", {"remove": [{"destination": U}]}, ["missing required key 'source'"]),
        ("related_contacts", {}, ["expected at least one of"]),
        (
            "custom_fields",
            [{"id": U, "type": "text"}],
            ["'custom_fields[0].type'", "input, autocomplete"],
        ),
        ("custom_fields", [{"type": "input"}], ["missing required key 'id'"]),
        ("coordinates", {"operation": "set"}, ["field 'coordinates': missing required key 'data'"]),
        ("coordinates", {**COORDS, "operation": "add"}, ["'coordinates.operation'", "one of: set"]),
        (
            "coordinates",
            {"operation": "set", "data": {"latitude": 91, "longitude": 0}},
            ["field 'coordinates.data.latitude': 91 is out of range (expected -90 to 90)"],
        ),
        (
            "coordinates",
            {"operation": "set", "data": {"latitude": 0, "longitude": -180.5}},
            ["'coordinates.data.longitude': -180.5 is out of range (expected -180 to 180)"],
        ),
        (
            "coordinates",
            {"operation": "set", "data": {"latitude": "1", "longitude": 0}},
            ["'coordinates.data.latitude': expected a number"],
        ),
        (
            "coordinates",
            {"operation": "set", "data": {"latitude": True, "longitude": 0}},
            ["expected a number (got a boolean"],
        ),
        ("contact_birthdays", {"contact_id": U, "last_dismissal_year": "2024"}, ["year'"]),
        ("contact_birthdays", {"last_dismissal_year": 2024}, ["missing required key 'contact_id'"]),
        ("linkedin_data", [], ["field 'linkedin_data': expected an object (got a list"]),
        ("linkedin_data", {"a": float("nan")}, ["'linkedin_data.a': expected a finite number"]),
        ("linkedin_data", {"a": {1, 2}}, ["'linkedin_data.a': expected a JSON value"]),
        ("web_search_summary", {1: "x"}, ["keys must be strings"]),
        ("compnay", "x", ["unknown field 'compnay' (did you mean 'company'?)"]),
    ],
)
def test_validate_errors(name: str, value: object, fragments: list[str]) -> None:
    assert_error(lambda: validate(name, value), *fragments)


def test_validate_data_normalises_every_field_in_order() -> None:
    data = {"frequency": "monthly", "company": "Acme", "groups_contacts": [{"group_id": U.upper()}]}
    result = validate_data(data)
    assert list(result) == ["frequency", "company", "groups_contacts"]
    assert result == {"frequency": "1 mon", "company": "Acme", "groups_contacts": [{"group_id": U}]}


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({}, ["empty patch: no fields to change"]),
        ({"compnay": "x"}, ["unknown field 'compnay' (did you mean 'company'?)"]),
        ({"company": "x", "starred": "x"}, ["field 'starred'"]),
        ({1: "x"}, ["field names must be strings (got 1)"]),
        (["company"], ["expected an object of fields (got a list"]),
    ],
)
def test_validate_data_errors(data: object, fragments: list[str]) -> None:
    assert_error(lambda: validate_data(data), *fragments)  # type: ignore[arg-type]


# -- names and helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("compnay", "company"),
        ("Company", "company"),
        ("job-title", "job_title"),
        ("Job Title", "job_title"),
        ("birthdy", "birthday"),
        ("archived", "is_archived"),
        ("email", "contact_emails"),
        ("tags", "tags_contacts"),
        ("groups", "groups_contacts"),
        ("phone", "contact_phone_numbers"),
        ("xyzzy", None),
    ],
)
def test_suggest(typed: str, expected: str | None) -> None:
    assert suggest(typed) == expected


def test_lookup_unknown_field_without_a_suggestion() -> None:
    error = assert_error(lambda: lookup("xyzzy"), "unknown field 'xyzzy'")
    assert "did you mean" not in str(error)
    assert error.hint is not None
    assert lookup("company") is FIELDS["company"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (U, U),
        (U.upper(), U),
        (f"  {U}\n", U),
        (f"{{{U}}}", None),
        (f"urn:uuid:{U}", None),
        (U.replace("-", ""), None),
        (U[:-1], None),
        (U[:-1] + "g", None),
        (U + "0", None),
        ("", None),
        ("abc", None),
    ],
)
def test_uuid_helpers(text: str, expected: str | None) -> None:
    assert normalize_uuid(text) == expected
    assert is_uuid(text) is (expected is not None)


@pytest.mark.parametrize(
    ("value", "shown", "kind"),
    [
        ("abc", "'abc'", "a string"),
        ("x" * 100, "'" + "x" * 57 + "...'", "a string"),
        (True, "true", "a boolean"),
        (3, "3", "an integer"),
        (2.5, "2.5", "a number"),
        ([1], "[1]", "a list"),
        ({"a": 1}, '{"a": 1}', "an object"),
        (None, "null", "null"),
        (float("inf"), "a number too large to hold", "a number"),
        ("a\udc9b", "'a\\udc9b'", "a string"),
    ],
)
def test_quote_and_kind_of(value: object, shown: str, kind: str) -> None:
    assert quote(value) == shown
    assert kind_of(value) == kind


# -- bounds (issue 11 item 3) ------------------------------------------------------------------


def deep(levels: int) -> object:
    value: object = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (
            lambda: coerce("company", "x" * 10_001),
            "is 10,001 characters, over the limit of 10,000 for text",
        ),
        (lambda: validate("description", "x" * 20_000), "field 'description': 'xxxx"),
        (
            lambda: validate("contact_emails", [{"email": "x" * 10_001}]),
            "field 'contact_emails[0].email'",
        ),
        (
            lambda: validate("legacy_contact_addresses", [{"formatted": "x" * 10_001}]),
            "over the limit of 10,000",
        ),
    ],
)
def test_text_is_bounded(call: object, fragment: str) -> None:
    """10 MB of company sent to 1,000 contacts made ten 1 GB requests."""
    assert_error(call, fragment)


def test_text_at_the_limit_is_accepted() -> None:
    assert coerce("company", "x" * 10_000) == "x" * 10_000
    assert validate("company", "x" * 10_000) == "x" * 10_000


@pytest.mark.parametrize(
    "digits", ["1" * 5000, "-" + "9" * 20, "+" + "1" * 19, "0" * 30 + "1" * 19]
)
def test_integers_too_long_for_python_are_out_of_range(digits: str) -> None:
    """int() of 4,300+ digits raises ValueError: it used to crash dexbulk with a traceback."""
    assert_error(lambda: coerce("birthday_year", digits), "is out of range (expected 1 to 9999)")


def test_leading_zeros_do_not_make_an_integer_too_long() -> None:
    assert coerce("birthday_year", "0" * 30 + "1990") == 1990


def test_validate_refuses_deep_values_without_recursion_error() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate("linkedin_data", deep(100_000))
    assert (
        str(excinfo.value)
        == "field 'linkedin_data': nested deeper than 64 levels of lists and objects"
    )


def test_validate_accepts_reasonable_nesting() -> None:
    assert validate("linkedin_data", deep(60)) == deep(60)


def test_quote_survives_a_value_too_deep_to_print() -> None:
    assert quote(deep(100_000)) == "an object"
