"""The CLI's side of choosing contacts: ``--ids``/``--from``/stdin and the filters.

:func:`choose` parses everything the user typed (exit 2 before any request); :func:`select`
reads the matching contacts through the command's client. IDs and filters combine: the filters
narrow the IDs. With filters, stdin is read only when something is piped into it (not from a
terminal or ``/dev/null``), and an empty pipe is an error: it usually means the step before
failed, and selecting by the filters alone would then change more contacts than meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dexbulk.cli.options import GuardArgs, SelectArgs
from dexbulk.errors import ExitCode, InvalidInput
from dexbulk.inputs.ids import STDIN_NAME, select_ids
from dexbulk.plan import Selection
from dexbulk.selection import Criteria, SelectionResult, select_contacts

if TYPE_CHECKING:
    from rich.console import Console

    from dexbulk.cli.context import Client
    from dexbulk.cli.env import Env

NOTHING_SELECTED = (
    "no contacts selected: pass --where, --tag, --group, --search or --all, "
    "or IDs with --ids, --from FILE or stdin"
)


@dataclass(frozen=True)
class Chosen:
    """What the command line selects, parsed: the filters, and the IDs given (if any)."""

    criteria: Criteria
    ids: Selection | None

    def describe(self) -> str:
        """For messages: ``--tag 'investor' --where company=OldCo among 12 IDs``."""
        among = f" among {len(self.ids):,} IDs given" if self.ids is not None else ""
        return self.criteria.describe() + among


def choose(select: SelectArgs, env: Env, *, include_archived: bool = False) -> Chosen:
    """Parse the selection options and read every ID source; raises InvalidInput (exit 2)."""
    criteria = Criteria.parse(
        where=select.where, tags=select.tag, groups=select.group, search=select.search,
        all=select.all_, include_archived=include_archived,
    )  # fmt: skip
    given = bool(select.ids or select.from_)
    if criteria.all and given:
        raise InvalidInput(
            "--all selects every contact: drop --ids/--from, or drop --all to narrow them"
        )
    if not criteria.filters:
        if not given and not env.stdin_piped:
            raise InvalidInput(NOTHING_SELECTED)
        ids = select_ids(
            ids_options=select.ids, from_paths=select.from_, stdin=env.stdin,
            stdin_is_tty=env.stdin_isatty, fmt=select.input_format, id_column=select.id_column,
        )  # fmt: skip
        return Chosen(criteria, ids)
    if given:
        ids = select_ids(
            ids_options=select.ids, from_paths=select.from_, stdin=env.stdin,
            stdin_is_tty=True, fmt=select.input_format, id_column=select.id_column,
        )  # fmt: skip
        return Chosen(criteria, ids)
    if not env.stdin_piped:
        return Chosen(criteria, None)
    piped = select_ids(
        ids_options=[], from_paths=[], stdin=env.stdin, stdin_is_tty=False,
        fmt=select.input_format, id_column=select.id_column, allow_empty=True,
    )  # fmt: skip
    if criteria.all:
        if piped.ids:
            raise InvalidInput(
                f"--all selects every contact, but IDs came on {STDIN_NAME}",
                hint="drop --all to narrow the piped IDs with filters",
            )
        return Chosen(criteria, None)
    if not piped.ids:
        raise InvalidInput(
            f"no contact IDs found in {STDIN_NAME}",
            hint="filters narrow the IDs piped in; to select by filters alone, pipe nothing "
            "into dexbulk (or add </dev/null)",
        )
    return Chosen(criteria, piped)


def select(
    client: Client,
    chosen: Chosen,
    console: Console,
    *,
    verbose: bool = False,
    limit: int | None = None,
) -> SelectionResult:
    """Read the chosen contacts; with ``verbose``, say what ran where and what it cost."""
    ids = list(chosen.ids.ids) if chosen.ids is not None else None
    result = select_contacts(client.dex, chosen.criteria, ids, limit=limit)
    if verbose:
        for note in result.notes:
            console.print(f"selection: {note}", markup=False, soft_wrap=True)
    return result


def as_selection(chosen: Chosen, result: SelectionResult) -> Selection:
    """The selected contacts as the Selection a plan is made from."""
    duplicates = chosen.ids.duplicates if chosen.ids is not None else 0
    sources = chosen.ids.sources if chosen.ids is not None else ()
    return Selection(tuple(result.ids), duplicates, (*sources, chosen.criteria.describe()))


def nothing_selected(console: Console, described: str, guard: GuardArgs) -> ExitCode:
    """A filter selection that matched no contact: exit 0 with nothing sent, or exit 2 when
    ``--expected-count`` asked for some."""
    if guard.expected_count not in (None, 0):
        raise InvalidInput(
            f"--expected-count {guard.expected_count}: no contacts match {described}; nothing sent"
        )
    console.print(f"no contacts match {described}; nothing sent", markup=False)
    return ExitCode.OK
