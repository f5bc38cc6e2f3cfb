"""``dexbulk demo``: a real bulk update against the built-in sandbox, start to finish.

Only the base URL and the key differ from a real run: contacts are selected from a file, the
plan is shown, and the update goes through :func:`dexbulk.cli.context.send_plan` like any command.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from dexbulk.cli.context import send_plan
from dexbulk.cli.env import Env
from dexbulk.cli.options import OutputArgs, SendArgs
from dexbulk.engine import SendOptions
from dexbulk.errors import ExitCode
from dexbulk.inputs.ids import select_ids
from dexbulk.plan import parse_items, plan_for_selection
from dexbulk.text import display_value, printable

DEMO_CHANGE = ("company=Acme Corp", "starred=true", "frequency=monthly")
SHOWN = 5


def run_demo(env: Env, *, contacts: int = 250, progress: bool = True) -> ExitCode:
    """Start a sandbox, update ``contacts`` contacts in it, and show what changed."""
    from dexbulk.cli.dryrun import render_plan
    from dexbulk.describe import describe
    from dexbulk.sandbox import Sandbox, SandboxOptions

    console = env.console()
    with (
        tempfile.TemporaryDirectory(prefix="dexbulk-demo-") as tmp,
        Sandbox(
            SandboxOptions(db_path=Path(tmp) / "sandbox.sqlite3", fresh=True, latency_ms=15)
        ) as sandbox,
    ):
        console.print(f"[bold]1.[/bold] Started a Dex sandbox at {sandbox.url} (a simulated API).")
        ids = sorted(sandbox.store.all_ids())[:contacts]
        id_file = Path(tmp) / "ids.txt"
        id_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
        selection = select_ids(
            ids_options=[], from_paths=[str(id_file)], stdin=env.stdin, stdin_is_tty=True
        )
        patch = parse_items(DEMO_CHANGE)
        command = shlex.join(["set", *DEMO_CHANGE])
        plan = plan_for_selection(selection, patch, command)
        console.print(
            f"[bold]2.[/bold] Selected {plan.total} contacts; the change: "
            f"[bold]{escape(f'dexbulk {command} --from ids.txt')}[/bold]"
        )
        before = {cid: sandbox.store.get(cid) or {} for cid in ids[:SHOWN]}

        demo_env = Env(
            stdin=env.stdin, stdout=env.stdout, stderr=env.stderr,
            environ={**env.environ, "DEX_API_KEY": sandbox.options.api_key,
                     "DEXBULK_STATE_DIR": str(Path(tmp) / "state")},
            argv=["dexbulk", "demo"],
        )  # fmt: skip
        send = SendArgs(
            api_url=sandbox.url, api_key=None, profile=None, batch_size=25, concurrency=4,
            timeout=None, max_attempts=None, rate=None, check_ids=False,
        )  # fmt: skip
        output = OutputArgs(
            dry_run=True, json=False, quiet=False, results=None, failed_to=None,
            no_progress=not progress, no_color=False, verbose=False, debug=False,
        )  # fmt: skip
        console.print("[bold]3.[/bold] The dry-run plan (what --dry-run shows; nothing sent yet):")
        document = describe(plan, _dry_run_options(send), sandbox.url, complete=False)
        render_plan(console, document)

        console.print("[bold]4.[/bold] Sending it for real, in batches of 25 with 4 workers:")
        code = send_plan(plan, send, replace(output, dry_run=False), demo_env)

        console.print(f"[bold]5.[/bold] Before → after, for {len(before)} of them:")
        table = Table("name", "company", "starred", "frequency")
        for cid, old in before.items():
            new = sandbox.store.get(cid) or {}
            table.add_row(
                printable(str(new.get("full_name") or cid), keep=""),
                _change(old, new, "company"), _change(old, new, "starred"),
                _change(old, new, "frequency"),
            )  # fmt: skip
        console.print(table)
        console.print(
            "Next: [bold]dexbulk fields[/bold] to see what you can change, "
            "[bold]dexbulk sandbox[/bold] to rehearse your own commands, "
            "and DEX_API_KEY=dex_... for the real thing."
        )
    return code


def _dry_run_options(send: SendArgs) -> SendOptions:
    given: dict[str, Any] = {"batch_size": send.batch_size, "concurrency": send.concurrency}
    return SendOptions(**{name: value for name, value in given.items() if value is not None})


def _change(old: dict[str, object], new: dict[str, object], name: str) -> str:
    """``null → Acme Corp``, ``true (unchanged)``: values as a user would type them."""
    a, b = old.get(name), new.get(name)
    shown = display_value(b, limit=40)
    return f"{display_value(a, limit=40)} → {shown}" if a != b else f"{shown} (unchanged)"
