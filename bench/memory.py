"""Flat memory: peak RSS of a dry run over 10k, 100k and 200k IDs read from stdin.

``dexbulk set company=X --dry-run --json`` reads, validates and de-duplicates every ID and
builds the whole plan, which is everything a real run holds in memory before it sends (the
send loop itself keeps only ``concurrency`` batches in flight). The goal: 200,000 IDs within
64 MiB of ``dexbulk --help`` (the interpreter plus Typer and rich). Peak RSS is the child's own
``ru_maxrss`` from ``os.wait4``. A real 10k run's peak is measured by ``throughput.py``.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from common import DEXBULK, dexbulk_env, run_child

SIZES = (10_000, 100_000, 200_000)
BUDGET_MIB = 64


def ids_file(workdir: Path, count: int) -> Path:
    """``count`` distinct, seeded random UUIDs, one a line (so reruns read the same bytes)."""
    path = workdir / f"ids-random-{count}.txt"
    rng = random.Random(count)
    lines = (f"{uuid.UUID(int=rng.getrandbits(128), version=4)}\n" for _ in range(count))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Peak RSS (MiB) and wall time of ``--help`` and of each dry run."""
    del quick  # the largest dry run takes under a second: always run all three
    env = dexbulk_env(workdir)
    help_run = run_child([DEXBULK, "--help"], env=env, keep_stdout=False)
    runs = {}
    for count in SIZES:
        argv = [DEXBULK, "set", "company=X", "--dry-run", "--json", "--no-read"]
        child = run_child(argv, env=env, stdin=ids_file(workdir, count))
        if child.code != 0 or child.json()["selected"] != count:
            raise RuntimeError(f"dry run of {count} IDs failed ({child.code})")
        runs[count] = {"rss": child.rss_mib, "wall": child.wall}
    return {"help_rss": help_run.rss_mib, "runs": runs}


def rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Table rows ``(metric, value, goal, verdict)``."""
    base = m["help_rss"]
    out = [("peak RSS, dexbulk --help", f"{base:.1f} MiB", "", "")]
    previous: tuple[int, float] | None = None
    for count, run in m["runs"].items():
        extra = run["rss"] - base
        goal = f"<= {base + BUDGET_MIB:.0f} MiB" if count == max(SIZES) else ""
        verdict = f"+{extra:.1f} MiB over --help; {run['wall']:.2f} s"
        if goal:
            verdict = ("MET" if extra <= BUDGET_MIB else "MISSED") + f" ({verdict})"
        if previous is not None:
            # The slope between sizes is the cost of one more ID, free of fixed import costs.
            slope = (run["rss"] - previous[1]) * 2**20 / (count - previous[0])
            verdict += f"; {slope:.0f} B per extra ID"
        previous = (count, run["rss"])
        out.append((f"peak RSS, dry run of {count:,} IDs", f"{run['rss']:.1f} MiB", goal, verdict))
    return out
