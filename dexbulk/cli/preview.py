"""Before → after for people, and the checks made before anything is sent.

:func:`check_plan` runs between parsing a plan and sending it: ``--expected-count``, the read
of current values (:mod:`dexbulk.preview`), dropping contacts that would not change, and the
``Proceed? [y/N]`` question for big changes, asked on the terminal (``/dev/tty``), never on
stdin, which may carry the IDs. Without a terminal nothing is asked. The drawing functions take
the console to draw on; text from Dex is shown with control characters escaped, never as markup.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dexbulk.errors import ExitCode, InvalidInput, MissingCredentials, NotDexApi, Unreachable
from dexbulk.membership import describe_change, is_membership_key, target_label
from dexbulk.plan import MEMBERSHIP
from dexbulk.preview import NOT_COMPARED, UNKNOWN, Preview, fields_of, read_current

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.cli.context import Client
    from dexbulk.cli.env import Env
    from dexbulk.cli.options import GuardArgs, OutputArgs
    from dexbulk.plan import Plan

GROUPS_SHOWN = 10
SAMPLES_SHOWN = 5
NO_READ_NOTE = (
    "--no-read: current values were not read, so there is no before → after, contacts that "
    "already hold the new values are sent too, and the journal keeps no prior values"
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass
class Checked:
    """A plan that passed the checks: what to send, what was read, and whether to stop here."""

    plan: Plan
    client: Client | None = None
    preview: Preview | None = None
    done: ExitCode | None = None
    """Set when nothing is to be sent (the person answered no)."""
    stop_after: int | None = None
    """Send only this many contacts (``--stop-after``)."""

    @property
    def unchanged(self) -> list[str]:
        """IDs left out because Dex already holds their values."""
        if self.preview is None:
            return []
        sending = {u.contact_id for u in self.plan.updates}
        return [cid for cid in self.preview.unchanged_ids if cid not in sending]


def check_plan(
    plan: Plan,
    guard: GuardArgs,
    output: OutputArgs,
    env: Env,
    console: Console,
    open_client: Callable[[], Client],
    *,
    current: Mapping[str, Mapping[str, Any]] | None = None,
    confirm_over: int = 20,
) -> Checked:
    """Check ``plan`` before sending: count, read, skip unchanged, ask. Raises InvalidInput
    (exit 2, nothing sent) when ``--expected-count`` does not match the selection.

    ``current`` holds contacts already read (a filter selection reads them whole), so they are
    not read twice.
    """
    if guard.expected_count is not None and plan.total != guard.expected_count:
        raise InvalidInput(
            f"--expected-count {guard.expected_count}: {plan.total:,} contacts are selected; "
            "nothing sent"
        )
    if guard.no_read:
        if not output.quiet:
            console.print(f"note: {NO_READ_NOTE}", markup=False)
        checked = Checked(plan)
    else:
        try:
            client = open_client()
        except MissingCredentials:
            if not output.dry_run:
                raise
            if not output.json:  # --json keeps stderr quiet for scripts
                note = "no API key: the plan is shown without current values (reading needs one)"
                console.print(f"note: {note}", markup=False)
            return Checked(plan)
        reads = client.dex.reads
        if current is None:
            ids = [u.contact_id for u in plan.updates]
            concurrency = client.target.options.concurrency
            try:
                current = read_current(
                    client.dex, ids, fields=fields_of(plan), concurrency=concurrency
                )
            except (Unreachable, NotDexApi) as exc:
                if not output.dry_run:
                    raise
                # A dry run still shows its plan when Dex cannot be read, without the values.
                if not output.json:
                    console.print(f"note: current values not read: {exc.message}", markup=False)
                return Checked(plan)
        preview = Preview.of(plan, current, client.dex.reads - reads)
        sending = preview.plan(plan, include_unchanged=guard.include_unchanged)
        checked = Checked(sending, client, preview)
        if output.verbose:
            how = (
                f"in {preview.reads:,} request(s)"
                if preview.reads
                else "with the selection (no further request)"
            )
            console.print(f"before → after: read {len(current):,} contacts {how}", markup=False)
    checked.stop_after = guard.stop_after
    if output.dry_run:
        return checked
    count = len(checked.plan.updates)
    if guard.stop_after is not None:
        count = min(count, guard.stop_after)
    # A clean run answers in one line: the grouped change is shown with -v, on a dry run, and
    # before the question below, where a person decides on it.
    if checked.preview is not None and output.verbose and count:
        render_groups(console, checked.preview, include_unchanged=guard.include_unchanged)
    if count > confirm_over and not guard.yes:
        tty = env.open_tty()
        if tty is not None:
            # A question is never quiet: the person must see what they are asked about.
            person = env.console(replace(output, quiet=False)) if output.quiet else console
            with tty:
                if checked.preview is None:
                    render_plan_line(person, checked.plan)
                elif not output.verbose:
                    render_groups(
                        person, checked.preview, include_unchanged=guard.include_unchanged
                    )
                if not ask(person, tty, f"{count:,} contacts will change. Proceed? [y/N] "):
                    person.print("nothing sent", markup=False)
                    checked.done = ExitCode.SOME_FAILED
    return checked


def ask(console: Console, tty: Any, question: str) -> bool:
    """Ask on stderr, read the answer from the terminal: yes only for y or yes."""
    console.print(question, end="", markup=False)
    console.file.flush()
    answer = tty.readline()
    return answer.strip().lower() in ("y", "yes")


# -- drawing ------------------------------------------------------------------------------------


def render_groups(console: Console, preview: Preview, *, include_unchanged: bool = False) -> None:
    """The change grouped: ``212 contacts: company "OldCo" → "NewCo"``, then the counts."""
    groups = preview.groups()
    console.print("[bold]Before → after[/bold]")
    width = len(f"{max([g.count for g in groups] + [preview.unchanged, 1]):,}")
    for group in groups[:GROUPS_SHOWN]:
        if is_membership_key(group.field):
            change = printable(describe_change(group.field, group.after, preview.labels))
        else:
            change = (
                f"{group.field} {show(group.before, group.field)} → "
                f"{show(group.after, group.field, after=True)}"
            )
        console.print(
            f"  {group.count:>{width},} contact{_s(group.count)}: {change}",
            markup=False,
            soft_wrap=True,
        )
    if len(groups) > GROUPS_SHOWN:
        rest = sum(g.count for g in groups[GROUPS_SHOWN:])
        console.print(
            f"  … and {len(groups) - GROUPS_SHOWN:,} more changes ({rest:,} contacts); "
            "--dry-run --json lists every contact",
            markup=False,
        )
    if preview.unchanged:
        sent = "sent anyway (--include-unchanged)" if include_unchanged else "not sent"
        console.print(f"  {preview.unchanged:>{width},} unchanged ({sent})", markup=False)
    if preview.not_found:
        console.print(
            f"  {preview.not_found:>{width},} not found by the read (sent; Dex decides)",
            markup=False,
        )


def render_samples(console: Console, preview: Preview) -> None:
    """A few contacts that change, field by field, before and after."""
    from rich.table import Table
    from rich.text import Text

    samples = [c for c in preview.changes if c.changed][:SAMPLES_SHOWN]
    if not samples:
        return
    table = Table("contact", "field", "before", "after", title="Samples", title_justify="left")
    for change in samples:
        label = change.name or change.contact_id
        for index, name in enumerate(change.changed):
            field, before, after = _sample_cells(
                preview, name, change.before[name], change.after[name]
            )
            table.add_row(
                Text(printable(label) if index == 0 else ""), field, Text(before), Text(after)
            )
    console.print(table)


def _sample_cells(preview: Preview, name: str, before: Any, after: Any) -> tuple[str, str, str]:
    """A sample row's field, before and after; a tag or group shows by name, with yes/no."""
    if not is_membership_key(name):
        return name, show(before, name), show(after, name, after=True)
    field = printable(target_label(name, preview.labels))
    had = "(not read)" if before is UNKNOWN else "yes" if before else "no"
    return field, had, "yes" if after else "no"


def render_preview(console: Console, preview: Preview) -> None:
    """The dry run's before → after: the groups, then sample rows."""
    render_groups(console, preview)
    render_samples(console, preview)


def render_plan_line(console: Console, plan: Plan) -> None:
    """One line saying what a plan does, when no before → after was read."""
    what = "each its own change"
    if plan.patch is not None and plan.channel == MEMBERSHIP:
        what = ", ".join(describe_change(k, v, plan.labels) for k, v in plan.patch.items())
    elif plan.patch is not None:
        from dexbulk.plan import Patch

        what = Patch(plan.patch).describe()
    console.print(f"{plan.total:,} contacts: {printable(what)}", markup=False)


def show(value: Any, name: str, *, after: bool = False) -> str:
    """A value for people: strings in double quotes, (empty), (cleared), (not read)."""
    if value is UNKNOWN:
        return "(not compared)" if name in NOT_COMPARED else "(not read)"
    if value is None or value in ("", [], {}):
        return "(cleared)" if after else "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) > 60:
        text = text[:57] + "…" + text[0] if isinstance(value, str) else text[:59] + "…"
    return printable(text)


def printable(text: str) -> str:
    """``text`` with control characters (and bidi overrides) shown as escapes: Dex's data may
    hold anything, and a terminal must not act on it."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Cc" or ch in _BIDI:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def contacts_by_id(contacts: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Contacts already read (a filter selection), keyed by lower-case ID, for check_plan."""
    return {str(c.get("id", "")).lower(): c for c in contacts}
