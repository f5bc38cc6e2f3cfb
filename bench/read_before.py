"""What reading current values before an update costs, and what skipping unchanged ones saves.

Against ``dexbulk sandbox --latency 50 --contacts 10000``, the installed ``dexbulk`` runs::

    dexbulk set company=... --from ids.txt --json --no-progress --yes            # reads first
    dexbulk set company=... --from ids.txt --json --no-progress --yes --no-read  # does not

interleaved, each writing a new value so no contact is skipped. The read's share of a run is
``(wall with the read - wall without) / wall with the read``: the goal is at most 25% at the
default batch of 100. The read asks ``where.in`` 500 IDs a request, up to ``concurrency`` at a
time: 20 requests for 10,000 contacts.

Then a share of the contacts (0%, 50%, 90%) is set to the value first, and the same ``set``
over all 10,000 must send only the others: PUT requests and PUT items from the sandbox's stats,
against ``ceil(changed / 100)``.

Standalone: ``.venv/bin/python bench/read_before.py [--quick]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import DEXBULK, SandboxProcess, dexbulk_env, fmt_s, run_child, write_ids

LATENCY_MS = 50
CONTACTS = 10_000
BATCH = 100
SHARES = (0.0, 0.5, 0.9)


@dataclass(frozen=True)
class Run:
    """One ``dexbulk set`` over the sandbox."""

    wall: float
    elapsed: float
    sent: int
    unchanged: int
    stats: dict[str, Any]


def set_run(sandbox: SandboxProcess, ids_file: Path, workdir: Path, value: str, *extra: str) -> Run:
    """``dexbulk set company=value --from ids_file`` once, with its figures."""
    argv = [DEXBULK, "set", f"company={value}", "--from", str(ids_file), "--json",
            "--no-progress", "--yes", *extra]  # fmt: skip
    before = sandbox.stats()
    child = run_child(argv, env=dexbulk_env(workdir, sandbox.url))
    stats = _diff(before, sandbox.stats())
    if child.code != 0:
        raise RuntimeError(f"dexbulk exited {child.code}: {child.stdout[-500:]}")
    doc = child.json()
    return Run(child.wall, float(doc["elapsed"]), int(doc["sent"]), int(doc["unchanged"]), stats)


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Start the sandbox, time runs with and without the read, then the skipping runs."""
    db = workdir / "dex-10k.sqlite3"
    with SandboxProcess(db, CONTACTS, "--latency", str(LATENCY_MS), fresh=True) as sandbox:
        ids = sandbox.ids()
        ids_file = write_ids(workdir / "ids-10k.txt", ids)
        reps = 1 if quick else 3
        reading: list[Run] = []
        blind: list[Run] = []
        for i in range(reps):  # interleaved, so a slow moment of the machine hits both
            reading.append(set_run(sandbox, ids_file, workdir, f"Read {i}"))
            blind.append(set_run(sandbox, ids_file, workdir, f"Blind {i}", "--no-read"))
        skipping = {}
        for share in SHARES:
            value = f"Skip {share}"
            already = ids[: int(CONTACTS * share)]
            if already:
                part = write_ids(workdir / "already.txt", already)
                set_run(sandbox, part, workdir, value, "--no-read")
            skipping[share] = set_run(sandbox, ids_file, workdir, value)
    return {"reading": reading, "blind": blind, "skipping": skipping}


def rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Table rows ``(metric, value, goal, verdict)``."""
    reading: list[Run] = m["reading"]
    blind: list[Run] = m["blind"]
    with_read = statistics.median(r.wall for r in reading)
    without = statistics.median(r.wall for r in blind)
    share = (with_read - without) / with_read
    reads = statistics.median(
        r.stats["by_route"].get("POST /v1/contacts/filter", 0) for r in reading
    )
    n = f"median of {len(reading)}" if len(reading) > 1 else "1 run"
    out = [
        (f"set 10k, reading first: wall ({n})", fmt_s(with_read), "", ""),
        (f"set 10k, --no-read: wall ({n})", fmt_s(without), "", ""),
        ("read requests for 10k contacts (where.in, 500 each)", f"{reads:.0f}", "20",
         _verdict(reads == 20, "")),
        ("the read's share of the run", f"{share:.0%}", "<= 25%",
         _verdict(share <= 0.25, f"{with_read - without:.2f} s of {with_read:.2f} s")),
    ]  # fmt: skip
    for already, run in m["skipping"].items():
        changed = CONTACTS - int(CONTACTS * already)
        expected = math.ceil(changed / BATCH)
        puts, items = run.stats["put_requests"], run.stats["put_items"]
        out.append((
            f"  {already:.0%} already right: PUTs / items sent", f"{puts} / {items}",
            f"{expected} / {changed}",
            _verdict(puts == expected and items == changed,
                     f"{run.unchanged:,} unchanged; wall {fmt_s(run.wall)}"),
        ))  # fmt: skip
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What one run did: counters subtracted, nested tables too (``by_route``, ...)."""
    return {
        key: _diff(before.get(key, {}), value) if isinstance(value, dict)
        else value - before.get(key, 0)
        for key, value in after.items()
    }  # fmt: skip


def _verdict(ok: bool, note: str) -> str:
    return ("MET" if ok else "MISSED") + (f" ({note})" if note else "")


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one run each instead of three")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dexbulk-bench-") as tmp:
        figures = measure(Path(tmp), quick=args.quick)
    print("Reading before writing (sandbox latency 50 ms, 10,000 contacts, batch 100, c4)")
    for metric, value, goal, verdict in rows(figures):
        print(f"  {metric:<52} {value:>16} {goal:>14}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
