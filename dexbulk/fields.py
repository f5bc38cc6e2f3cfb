"""The field table of the Dex contact ``data`` object: names, kinds, examples, choices, shapes.

``FIELDS`` follows the order of Dex's "Update multiple contacts" page (``PUT /v1/contacts/``).
This module is data plus name lookups; :mod:`dexbulk.values` turns the table into coercion and
validation rules (and re-exports what other modules need from here).
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass

from dexbulk.errors import InvalidInput


class FieldKind(enum.Enum):
    """The type of a field, which decides how its values are coerced and validated."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "date-time"
    ENUM = "enum"
    LIST = "list"
    OPERATION = "operation"
    OBJECT = "object"


_JSON_KINDS = frozenset({FieldKind.LIST, FieldKind.OPERATION, FieldKind.OBJECT})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the contact data object, with what ``dexbulk fields`` shows about it."""

    name: str
    kind: FieldKind
    group: str
    description: str
    example: str
    advanced: bool = False
    choices: tuple[str, ...] = ()

    @property
    def takes_json(self) -> bool:
        """True when values must be written as JSON (``FIELD:=JSON``), never as plain text."""
        return self.kind in _JSON_KINDS


FREQUENCIES = ("7 days", "14 days", "1 mon", "42 days", "3 mons", "6 mons", "1 year")
_FREQUENCY_SPELLINGS = {
    "7 days": "7d 7day 1week 1w week weekly",
    "14 days": "14d 14day 2weeks 2w biweekly fortnightly fortnight",
    "1 mon": "1month 1mo 1mons month monthly",
    "42 days": "42d 42day 6weeks 6w",
    "3 mons": "3months 3mon 3mo quarter quarterly",
    "6 mons": "6months 6mon 6mo twiceayear biannual biannually semiannual semiannually halfyearly",
    "1 year": "1y 1yr 1years 12months 12mons 12mo year yearly annual annually",
}
FREQUENCY_ALIASES: dict[str, str] = {
    alias: api for api, spellings in _FREQUENCY_SPELLINGS.items() for alias in spellings.split()
}
"""Friendly spellings (lower case, without spaces, hyphens or underscores) → the API string."""
FREQUENCY_EXPECTED = (
    ", ".join(FREQUENCIES)
    + " or "
    + ", ".join(("weekly", "biweekly", "monthly", "6 weeks", "quarterly", "twice a year", "yearly"))
)
"""What an error message says ``frequency`` accepts."""

EXAMPLE_TIMESTAMP = "2024-03-01T12:00:00Z"
"""The date-time used in examples and in the date-time error message."""

INT_RANGES = {"birthday_year": (1, 9999)}
"""Integer fields with a narrower range than the API's 32-bit integers."""


# (name, kind, group, description, example); advanced = written by Dex's syncs.
_S, _B, _I, _D = FieldKind.STRING, FieldKind.BOOLEAN, FieldKind.INTEGER, FieldKind.DATE
_T, _E, _L = FieldKind.DATETIME, FieldKind.ENUM, FieldKind.LIST
_OP, _OB = FieldKind.OPERATION, FieldKind.OBJECT
_TS = EXAMPLE_TIMESTAMP


def _messaging(app: str, label: str) -> list[tuple[str, FieldKind, str, str, str]]:
    return [
        (f"{app}_message_link", _S, "sync", f"Link to the last {label} chat", "=https://..."),
        (f"{app}_message_snippet", _S, "sync", f"Text of the last {label} message", "='See you!'"),
        (f"{app}_last_message_at", _T, "sync", f"When the last {label} message came", "=" + _TS),
    ]


def _interaction(app: str, label: str, title: str) -> list[tuple[str, FieldKind, str, str, str]]:
    return [
        (f"{app}_last_interaction_at", _T, "sync", f"When the last {label} happened", "=" + _TS),
        (f"{app}_last_interaction_provider_id", _S, "sync", f"Provider ID of that {label}", "=x1"),
        (f"{app}_last_interaction_{title}", _S, "sync", f"The {title} of that {label}", "='Hi'"),
        (f"{app}_last_interaction_provider", _E, "sync", f"Provider of that {label}", "=GOOGLE"),
    ]


_EXAMPLES = {  # JSON-valued fields: the example is shell-quoted JSON
    "coordinates": '{"operation":"set","data":{"latitude":52.52,"longitude":13.405}}',
    "linkedin_data": "{}",
    "web_search_summary": "{}",
    "legacy_contact_addresses": '[{"formatted":"1 Main St, Springfield"}]',
    "contact_emails": '[{"email":"ada@example.com","label":"work"}]',
    "contact_phone_numbers": '[{"phone_number":"+44 20 7946 0000","label":"mobile"}]',
    "groups_contacts": '[{"group_id":"<uuid>"}]',
    "tags_contacts": '{"append":[{"tag_id":"<uuid>"}]}',
    "custom_fields": '[{"id":"<uuid>","type":"input","text_value":"VIP"}]',
    "contact_birthdays": '{"contact_id":"<uuid>","last_dismissal_year":2024}',
    "related_contacts": '{"append":[{"destination":"<uuid>"}]}',
}

# fmt: off
_TABLE: list[tuple[str, FieldKind, str, str, str]] = [
    ("full_name", _S, "text", "Full name as shown in Dex", "='Ada Lovelace'"),
    ("first_name", _S, "text", "Given name", "=Ada"),
    ("last_name", _S, "text", "Family name", "=Lovelace"),
    ("description", _S, "text", "Free-text notes about the contact", "='Met at PyCon'"),
    ("job_title", _S, "text", "Job title", "=CTO"),
    ("legacy_location", _S, "text", "Location as free text", "='Berlin, Germany'"),
    ("company", _S, "text", "Company or organisation", "=Acme"),
    ("education", _S, "text", "School or university", "='University of London'"),
    ("starred", _B, "flags", "Starred (favourite) contact", "=true"),
    ("source", _E, "provenance", "Where the contact came from", "=linkedin_sync"),
    ("coordinates", _OB, "location", "Map position {operation: set, data: {latitude, longitude}}",
     ""),
    ("image_url", _S, "text", "URL of the profile picture", "=https://example.com/ada.jpg"),
    ("image_source", _S, "text", "Where the profile picture came from", "=manual"),
    ("business_card_url", _S, "text", "URL of a scanned business card", "=https://example.com/c"),
    ("website", _S, "text", "Personal or company website", "=https://example.com"),
    ("birthday", _D, "birthday", "Birthday (YYYY-MM-DD)", "=1990-05-02"),
    ("birthday_year", _I, "birthday", "Year of birth, when known", "=1990"),
    ("frequency", _E, "keep in touch", "How often Dex reminds you to keep in touch", "=monthly"),
    ("last_seen_at", _T, "keep in touch", "When you last met or talked (UTC)", "=" + _TS),
    ("never_keep_in_touch", _B, "flags", "Never remind you to keep in touch", "=true"),
    ("next_reminder_at", _T, "keep in touch", "When Dex reminds you next (UTC)", "=" + _TS),
    ("linkedin", _S, "text", "LinkedIn profile URL or handle", "=https://linkedin.com/in/ada"),
    ("twitter", _S, "text", "Twitter/X handle", "=ada"),
    ("facebook", _S, "text", "Facebook profile", "=ada.lovelace"),
    ("instagram", _S, "text", "Instagram handle", "=ada"),
    ("telegram", _S, "text", "Telegram handle", "=ada"),
    ("tiktok", _S, "text", "TikTok handle", "=ada"),
    ("youtube", _S, "text", "YouTube channel", "=@ada"),
    *_messaging("whatsapp", "WhatsApp"),
    *_messaging("imessage", "iMessage"),
    ("linkedin_message_link", _S, "sync", "Link to the last LinkedIn conversation", "=https://..."),
    ("linkedin_last_message_snippet", _S, "sync", "Text of the last LinkedIn message", "='Hi!'"),
    ("linkedin_last_message_at", _T, "sync", "When the last LinkedIn message was sent", "=" + _TS),
    ("linkedin_data", _OB, "objects", "LinkedIn profile data (any JSON object)", ""),
    *_messaging("instagram", "Instagram"),
    *_interaction("gmail", "email", "subject"),
    *_interaction("gcal", "meeting", "title"),
    ("phone_call_last_interaction_at", _T, "sync", "When the last phone call happened", "=" + _TS),
    ("phone_call_interaction_snippet", _S, "sync", "Note about the last phone call", "='Called'"),
    ("web_search_summary", _OB, "objects", "Web search summary (any JSON object)", ""),
    ("legacy_contact_addresses", _L, "lists", "Postal addresses [{formatted}]", ""),
    ("contact_emails", _L, "lists", "Email addresses [{email, label, ranking}]", ""),
    ("contact_phone_numbers", _L, "lists", "Phone numbers [{phone_number, label, ...}]", ""),
    ("groups_contacts", _L, "lists", "Group memberships [{group_id}]", ""),
    ("tags_contacts", _OP, "operations", "Add, remove or replace tags", ""),
    ("custom_fields", _L, "lists", "Custom field values [{id, type, text_value}]", ""),
    ("contact_birthdays", _OB, "birthday", "Birthday reminder state", ""),
    ("is_archived", _B, "flags", "Archived contact", "=true"),
    ("ignore_merge", _B, "flags", "Leave out of duplicate-merge suggestions", "=true"),
    ("related_contacts", _OP, "operations", "Add or remove related contacts", ""),
]
# fmt: on


def _choices_for(name: str) -> tuple[str, ...]:
    if name == "frequency":
        return FREQUENCIES
    if name == "source":
        return ("linkedin_sync",)  # the only documented value
    return ("GOOGLE",) if name.endswith("_provider") else ()


FIELDS: dict[str, Field] = {
    name: Field(
        name,
        kind,
        group,
        text,
        name + (ex or ":='" + _EXAMPLES.get(name, "") + "'"),
        advanced=group == "sync",  # written by Dex's own syncs: allowed, but not for everyday use
        choices=_choices_for(name),
    )
    for name, kind, group, text, ex in _TABLE
}
"""Every field of the data object, in the order of Dex's reference page."""

# The nested shapes of the JSON-valued fields, checked by dexbulk.values. An object spec maps
# keys to specs: "key!" is required, "*" lets other keys through, "+" needs at least one known
# key; a one-item list is a list of that spec; a string names a scalar rule of dexbulk.values
# (any, uuid, str, text, int, lat, lng), or else lists the allowed values ("a|b"). Optional
# scalar keys may be null.
_ANY_OBJECT = {"*": "any"}
# fmt: off
SHAPES: dict[str, object] = {
    "coordinates": {"operation!": "set", "data!": {"latitude!": "lat", "longitude!": "lng"}},
    "linkedin_data": _ANY_OBJECT,
    "web_search_summary": _ANY_OBJECT,
    "legacy_contact_addresses": [{"formatted!": "str"}],
    "contact_emails": [{"email!": "text", "label": "str", "ranking": "int"}],
    "contact_phone_numbers": [{"phone_number!": "text", "country_code": "str",
                               "phone_number_sanitized": "str", "label": "str", "ranking": "int"}],
    "groups_contacts": [{"group_id!": "uuid"}],
    "tags_contacts": {"+": "", "append": [{"tag_id!": "uuid"}],
                      "remove": [{"tag_id!": "uuid", "contact_id": "uuid"}],
                      "replace": "any"},  # the shape of replace is undocumented: passed through
    "custom_fields": [{"id!": "uuid", "type": "input|autocomplete|datepicker", "text_value": "str",
                       "custom_field": "any"}],
    "contact_birthdays": {"contact_id!": "uuid", "last_dismissal_year": "int"},
    # Dex types remove[].destination as "<unknown>", so it is passed through unchecked.
    "related_contacts": {"+": "", "append": [{"destination!": "uuid", "*": "any"}],
                         "remove": [{"source!": "uuid", "destination": "any"}], "replace": "any"},
}
# fmt: on

# Words people reach for that difflib cannot connect to the real field name.
_SYNONYMS = {
    "email": "contact_emails", "emails": "contact_emails", "phone": "contact_phone_numbers",
    "phones": "contact_phone_numbers", "tags": "tags_contacts", "tag": "tags_contacts",
    "groups": "groups_contacts", "group": "groups_contacts", "name": "full_name",
    "title": "job_title", "notes": "description", "location": "legacy_location",
    "address": "legacy_contact_addresses", "archived": "is_archived", "star": "starred",
}  # fmt: skip


def suggest(name: str) -> str | None:
    """Return the known field name closest to ``name`` (for "did you mean"), or None."""
    key = re.sub(r"[\s-]+", "_", name.strip()).lower()
    if key in FIELDS:
        return key
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def lookup(name: str) -> Field:
    """Return the field called ``name``; raise InvalidInput with a did-you-mean otherwise."""
    field = FIELDS.get(name)
    if field is None:
        guess = suggest(name)
        maybe = f" (did you mean '{guess}'?)" if guess else ""
        raise InvalidInput(f"unknown field '{name}'{maybe}", hint="'dexbulk fields' lists them")
    return field
