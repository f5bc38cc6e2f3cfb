"""A deterministic, realistic address book to seed the sandbox with.

Everything comes from one ``random.Random(seed)``, so the same seed always gives the same IDs,
names and memberships: tests and benchmarks can rely on them, and a bug report can name one.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dexbulk.sandbox.envelope import Contact

# Names as one string each: a tuple literal of 50 names would be 50 lines after formatting.
FIRST_NAMES = (  # noqa: SIM905
    "Ada Alex Amara Ana Arjun Ben Bea Carlos Chen Chloe Dana David Elena Emeka Emma Fatima Finn "
    "Grace Hana Hugo Ines Isaac Jamal Jana José Julia Kai Kenji Laura Leo Lina Lucas Maya Mei "
    "Mohammed Nadia Noah Olga Omar Priya Rafael Rosa Sam Sara Søren Tariq Tom Uma Victor Wei Yara "
    "Yusuf Zoë Zara"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Adeyemi Andersen Bauer Becker Chen Costa Dubois Eriksen Fischer Garcia Gupta Haddad Hansen "
    "Ito Jensen Kim Kowalski Larsen Lee Lopez Martin Meyer Moreau Müller Nakamura Nguyen Novak "
    "Okafor Olsen Park Patel Perez Petrov Rossi Santos Schmidt Silva Singh Smith Sousa Tanaka "
    "Taylor Weber Williams Wong Yamamoto Zhang"
).split()
COMPANIES = (
    ("Acme Corp", "acme.com"),
    ("Northwind Traders", "northwind.example"),
    ("Globex", "globex.com"),
    ("Initech", "initech.com"),
    ("Umbrella Health", "umbrella.health"),
    ("Stark Industries", "stark.example"),
    ("Hooli", "hooli.xyz"),
    ("Pied Piper", "piedpiper.com"),
    ("Wayne Enterprises", "wayne.example"),
    ("Soylent Foods", "soylent.example"),
    ("Tyrell Systems", "tyrell.example"),
    ("Cyberdyne", "cyberdyne.example"),
    ("Vandelay Industries", "vandelay.example"),
    ("Dunder Mifflin", "dundermifflin.com"),
    ("Blue Sun Labs", "bluesun.example"),
    ("Oceanic Air", "oceanic.example"),
    ("Massive Dynamic", "massivedynamic.com"),
    ("Aperture Science", "aperture.example"),
    ("Gringotts Capital", "gringotts.example"),
    ("Monsters Inc", "monsters.example"),
)
JOB_TITLES = (
    "Founder & CEO",
    "CTO",
    "Head of Product",
    "Product Manager",
    "Staff Engineer",
    "Software Engineer",
    "Designer",
    "Investor",
    "Partner",
    "Principal",
    "VP Sales",
    "Account Executive",
    "Recruiter",
    "Head of People",
    "Data Scientist",
    "Marketing Lead",
    "Operations Manager",
    "Journalist",
    "Consultant",
    "Researcher",
)
CITIES = (
    "San Francisco, CA",
    "New York, NY",
    "Berlin, Germany",
    "London, UK",
    "Lisbon, Portugal",
    "Toronto, Canada",
    "Tokyo, Japan",
    "Lagos, Nigeria",
    "Bangalore, India",
    "Copenhagen, Denmark",
    "Austin, TX",
    "Paris, France",
)
SCHOOLS = ("Stanford", "MIT", "ETH Zürich", "University of Lagos", "IIT Delhi", "UCL", "Waterloo")
TAG_NAMES = (
    "investor",
    "conference-2026",
    "friends",
    "VIP",
    "vip list",  # with "VIP": a name search for "vip" finds two; exact matching must pick one
    "Family",
    "Client",
    "Mentor",
    "Hiring",
    "Alumni",
    "Podcast guest",
    "Press",
)
"""Every seeded book has all of these tags."""
TAG_COLORS = ("#E11D48", "#F59E0B", "#10B981", "#3B82F6", "#8B5CF6", "#EC4899", "#6B7280")
GROUP_NAMES = (
    "Close friends",
    "Work",
    "Berlin trip",
    "Angels",
    "Founders",
    "Running club",
    "Board",
)
GROUP_EMOJIS = ("💛", "💼", "✈️", "👼", "🚀", "🏃", "📋")
"""Every seeded book has all of these groups."""
SHARED_COMPANY = ("OldCo", "oldco.example")
"""A company about one contact in ten works at: the target of "everyone at OldCo" changes."""
LAST_SEEN_END = datetime(2026, 11, 1, tzinfo=timezone.utc)
"""The latest ``last_seen_at`` of a seeded contact (fixed, so a seed always gives one book)."""
FREQUENCIES = ("7 days", "14 days", "1 mon", "42 days", "3 mons", "6 mons", "1 year")
EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc)


@dataclass
class AddressBook:
    """A whole seeded account: contacts in creation order, tags, groups and their links."""

    contacts: list[Contact] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    groups: list[dict[str, str]] = field(default_factory=list)
    contact_tags: list[tuple[str, str]] = field(default_factory=list)
    """(contact_id, tag_id) pairs."""
    group_members: list[tuple[str, str]] = field(default_factory=list)
    """(group_id, contact_id) pairs."""


def new_id(rng: random.Random) -> str:
    """A UUID4 string drawn from ``rng``, so IDs are reproducible for a seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def timestamp(moment: datetime) -> str:
    """Dex-style ISO timestamp with milliseconds and ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _ascii(text: str) -> str:
    # Email local parts and handles are ASCII even when the name is not (José → jose).
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def build_address_book(seed: int, contacts: int) -> AddressBook:
    """Build ``contacts`` contacts plus every tag and group, all determined by ``seed``."""
    rng = random.Random(seed)
    book = AddressBook()
    for name in TAG_NAMES:
        book.tags.append({"id": new_id(rng), "name": name, "color": rng.choice(TAG_COLORS)})
    for name, emoji in zip(GROUP_NAMES, GROUP_EMOJIS, strict=True):
        book.groups.append({"id": new_id(rng), "name": name, "emoji": emoji})
    for _ in range(contacts):
        contact = _contact(rng)
        book.contacts.append(contact)
        for tag in rng.sample(book.tags, rng.choice((0, 0, 1, 1, 1, 2, 3))):
            book.contact_tags.append((contact["id"], tag["id"]))
        for group in rng.sample(book.groups, rng.choice((0, 0, 0, 1, 1, 2))):
            book.group_members.append((group["id"], contact["id"]))
    return book


def _contact(rng: random.Random) -> Contact:
    contact_id = new_id(rng)
    first = rng.choice(FIRST_NAMES)
    # A few contacts have only a first name, as real address books do.
    last = rng.choice(LAST_NAMES) if rng.random() > 0.04 else None
    full = f"{first} {last}" if last else first
    company, domain = rng.choice(COMPANIES) if rng.random() < 0.85 else (None, None)
    if company and rng.random() < 0.12:
        company, domain = SHARED_COMPANY
    handle = f"{_ascii(first)}.{_ascii(last)}" if last else _ascii(first)
    emails = []
    if domain and rng.random() < 0.9:
        emails.append({"email": f"{handle}@{domain}", "label": "work", "ranking": 1})
    if rng.random() < 0.35:
        emails.append({"email": f"{handle}{rng.randint(1, 99)}@gmail.com", "label": "personal"})
    for ranking, email in enumerate(emails, start=1):
        email["ranking"] = ranking
    phones = []
    if rng.random() < 0.25:
        digits = f"415555{rng.randint(0, 9999):04d}"
        phones.append(
            {
                "phone_number": f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}",
                "country_code": "US",
                "phone_number_sanitized": f"+1{digits}",
                "label": "mobile",
                "ranking": 1,
            }
        )
    created = EPOCH + timedelta(seconds=rng.randint(0, 6 * 365 * 86400))
    updated = created + timedelta(seconds=rng.randint(0, 200 * 86400))
    birthday = None
    birthday_year = None
    if rng.random() < 0.3:
        birthday_year = rng.randint(1955, 2002)
        birthday = f"{birthday_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    frequency = rng.choice(FREQUENCIES) if rng.random() < 0.4 else None
    linkedin = (
        f"https://www.linkedin.com/in/{handle.replace('.', '-')}" if rng.random() < 0.5 else None
    )
    reminder = updated + timedelta(days=rng.randint(1, 90)) if frequency else None
    last_seen = None
    if rng.random() < 0.75:  # some time between the day they were added and LAST_SEEN_END
        span = max(0, int((LAST_SEEN_END - created).total_seconds()))
        last_seen = created + timedelta(seconds=rng.randint(0, span))
    return {
        "id": contact_id,
        "full_name": full,
        "first_name": first,
        "last_name": last,
        "job_title": rng.choice(JOB_TITLES) if company and rng.random() < 0.9 else None,
        "company": company,
        "description": None,
        "legacy_location": rng.choice(CITIES) if rng.random() < 0.6 else None,
        "education": rng.choice(SCHOOLS) if rng.random() < 0.2 else None,
        "website": f"https://{domain}" if domain and rng.random() < 0.1 else None,
        "image_url": None,
        "starred": rng.random() < 0.1,
        "is_archived": rng.random() < 0.05,
        "ignore_merge": False,
        "never_keep_in_touch": rng.random() < 0.05,
        "birthday": birthday,
        "birthday_year": birthday_year,
        "frequency": frequency,
        "last_seen_at": timestamp(last_seen) if last_seen else None,
        "next_reminder_at": timestamp(reminder) if reminder else None,
        "linkedin": linkedin,
        "twitter": f"@{_ascii(first)}{rng.randint(1, 999)}" if rng.random() < 0.2 else None,
        "facebook": None,
        "instagram": None,
        "telegram": None,
        "source": "linkedin_sync" if linkedin and rng.random() < 0.5 else None,
        "contact_emails": emails,
        "contact_phone_numbers": phones,
        "legacy_contact_addresses": [],
        "custom_fields": [],
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
    }
