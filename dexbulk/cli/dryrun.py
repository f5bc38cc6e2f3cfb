"""The dry-run plan for people: a screenful on stderr, whatever the size of the plan.

It draws the document :func:`dexbulk.describe.describe` builds (the same one ``--json`` prints
in full): how many contacts, the change as ``field → value`` lines, the batches, where it goes,
and a few sample contacts. The page is a sequence of sections, each a function of the console
and the document, so a caller can add one (``render_plan(console, doc, sections=(*SECTIONS,
my_section))``) — before → after previews, for instance — without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from dexbulk.membership import describe_change, is_membership_key, target_label
from dexbulk.text import display_value, printable

PlanSection = Callable[[Console, Mapping[str, Any]], None]
"""One part of the page: draws what it needs from the plan document."""

VALUE_LIMIT = 80
"""Longer values are shortened on the page (``--json`` has them whole)."""


def render_plan(
    console: Console, document: Mapping[str, Any], *, sections: Sequence[PlanSection] | None = None
) -> None:
    """Draw the plan ``document`` section by section (:data:`SECTIONS` unless told otherwise)."""
    for section in SECTIONS if sections is None else sections:
        section(console, document)


def heading(console: Console, _document: Mapping[str, Any]) -> None:
    """``Dry run: nothing will be sent.``"""
    console.print("[bold]Dry run[/bold]: nothing will be sent.")


def overview(console: Console, document: Mapping[str, Any]) -> None:
    """Contacts, change, batches, request and samples: a label, then the lines of its value."""
    rows = overview_rows(document)
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        for i, line in enumerate(value.splitlines() or [""]):
            head = label.ljust(width) if i == 0 else " " * width
            # soft_wrap: an ID or a URL is never broken in the middle by the console's width.
            console.print(Text(head, style="bold") + Text(line), soft_wrap=True)


def next_steps(console: Console, _document: Mapping[str, Any]) -> None:
    """How to send it, and how to see all of it."""
    console.print("Drop --dry-run to send it; --json prints the complete plan.", markup=False)


SECTIONS: tuple[PlanSection, ...] = (heading, overview, next_steps)
"""The page, top to bottom."""


def overview_rows(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` rows of the overview; every text is printable already."""
    selected, duplicates = document["selected"], document["duplicates"]
    contacts = f"{selected:,}"
    preview = document.get("preview")
    if preview:  # the read left out contacts already right: say so beside the count
        contacts += " to change"
        if preview.get("unchanged"):
            contacts += f", {preview['unchanged']:,} unchanged (not sent)"
    if duplicates:
        contacts += f" ({_count(duplicates, 'duplicate')} dropped)"
    sources = [printable(str(s), keep="") for s in document.get("sources") or ()]
    if sources:
        contacts += " from " + ", ".join(sources)
    batches = (
        f"{_count(document['batches'], 'request')} of up to {document['batchSize']} contacts, "
        f"{document['concurrency']} at a time"
    )
    request = document.get("firstRequest") or {}
    url = request.get("url") or f"{document['apiUrl']}/contacts/"
    method = request.get("method") or "PUT"
    return [
        ("contacts", contacts),
        ("change", change_text(document)),
        ("batches", batches),
        (
            "request",
            f"{method} {printable(url, keep='')} (key redacted)"
            if request or selected
            else "none: nothing to send",
        ),
        ("sample", sample_text(document)),
    ]


def change_text(document: Mapping[str, Any]) -> str:
    """The change as ``field → value`` lines, or, per contact, which fields and how often."""
    data = document.get("data")
    labels = document.get("labels")
    if data is not None and labels is not None:  # a membership change
        return "\n".join(printable(describe_change(k, v, labels)) for k, v in data.items())
    if data is not None:
        lines = [
            f"{name} → {display_value(value, limit=VALUE_LIMIT)}"
            + (" (erases the value in Dex)" if value is None else "")
            for name, value in data.items()
        ]
        return "\n".join(lines) or "nothing"
    fields = document.get("fields") or {}
    counted = ", ".join(f"{_field(name, labels)} ({count:,})" for name, count in fields.items())
    return f"per contact: {counted}" if counted else "nothing"


def _field(name: str, labels: Mapping[str, str] | None) -> str:
    """A field's name, or a tag or group by its name (``tag 'investor'``)."""
    if labels is None or not is_membership_key(name):
        return name
    return printable(target_label(name, labels))


def sample_text(document: Mapping[str, Any]) -> str:
    """A few contacts of the plan (with their own change, when each has one)."""
    sample = document.get("sample") or []
    shared = document.get("data") is not None
    labels = document.get("labels")
    lines = []
    for item in sample:
        contact_id = printable(str(item.get("contactId")), keep="")
        if shared:
            lines.append(contact_id)
        else:
            change = ", ".join(
                printable(describe_change(name, value, labels))
                if labels is not None and is_membership_key(name)
                else f"{name} → {display_value(value, limit=VALUE_LIMIT // 2)}"
                for name, value in (item.get("data") or {}).items()
            )
            lines.append(f"{contact_id}  {change}")
    more = document["selected"] - len(sample)
    if more > 0:
        lines.append(f"… and {more:,} more")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
