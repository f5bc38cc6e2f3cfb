"""What :func:`dexbulk.cli.context.send_plan` writes besides the summary, and the last touch
to a plan before it is sent.

``--results`` and ``--failed-to`` are opened before anything is read or sent (a bad path costs
no request) and written when the run is over, or with every contact "not sent" when it stopped
before sending. :func:`rekeyed` gives a plan's stand-in keys their real IDs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, Any

from dexbulk.batches import ContactResult, ContactState
from dexbulk.engine import RunResult
from dexbulk.errors import InvalidInput

if TYPE_CHECKING:
    from dexbulk.cli.env import Env
    from dexbulk.cli.options import OutputArgs
    from dexbulk.cli.preview import Checked
    from dexbulk.plan import Plan


class OutputFiles:
    """``--results`` and ``--failed-to``, opened at once and written when the run is over."""

    def __init__(self, scope: ExitStack, output: OutputArgs, env: Env) -> None:
        self.results = open_output(scope, output.results, env)
        self.failed = open_output(scope, str(output.failed_to) if output.failed_to else None, env)

    def write(self, result: RunResult) -> None:
        from dexbulk.cli import render

        if self.results is not None:
            render.write_results(self.results, result)
        if self.failed is not None:
            render.write_failed_ids(self.failed, result)

    def write_unsent(self, plan: Plan, status: int | None, reason: str) -> None:
        """Every contact of ``plan`` as not sent, for ``reason``."""
        unsent = [
            ContactResult(u.contact_id, ContactState.NOT_SENT, status, reason, 0)
            for u in plan.updates
        ]
        self.write(RunResult(None, plan.total, plan.duplicates, unsent))


def open_output(files: ExitStack, path: str | None, env: Env) -> IO[str] | None:
    """Open an output file before anything is sent, so a bad path costs no request."""
    if path is None:
        return None
    if path == "-":
        return env.stdout
    try:
        # Contact data: created readable by the user only (an existing file keeps its mode).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return files.enter_context(os.fdopen(fd, "w", encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None


def rekeyed(
    plan: Plan, checked: Checked | None, renamed: Mapping[str, str]
) -> tuple[Plan, Checked | None]:
    """``plan`` (and its preview) with the stand-in keys ``renamed`` (``--create``'s new tags
    get their IDs once made, just before the plan is journaled and sent)."""
    from dataclasses import replace

    from dexbulk.plan import Update

    def rekey(data: Mapping[str, Any]) -> dict[str, Any]:
        return {renamed.get(key, key): value for key, value in data.items()}

    patch = rekey(plan.patch) if plan.patch is not None else None
    updates = [
        Update(u.contact_id, patch if patch is not None else rekey(u.data)) for u in plan.updates
    ]
    labels = {renamed.get(k, k): v for k, v in plan.labels.items()}
    plan = replace(plan, updates=updates, patch=patch, labels=labels)
    if checked is not None:
        preview = checked.preview.rekeyed(renamed) if checked.preview is not None else None
        checked = replace(checked, plan=plan, preview=preview)
    return plan, checked
