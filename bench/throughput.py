"""Throughput near the latency bound, and how cheap each request is.

Against ``dexbulk sandbox --latency 50 --contacts 10000``, the installed ``dexbulk`` runs as a
subprocess (real start-up included) with the IDs in a file::

    dexbulk set company=... --from ids.txt --json --no-progress

The bound: every request waits ``latency``; ``concurrency`` of them overlap, so
``ideal = ceil(contacts / batch) * latency / concurrency``. dexbulk sends its first batch alone
(so a wrong key costs one request), which adds about one latency on top. Two times are shown:
the run's own ``elapsed`` (from its ``--json`` summary: first request to last answer) and the
process's wall time; their difference is start-up, reading and checking 10,000 IDs, writing the
journal's plan, and exit.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines import per_contact, sequential_batches
from common import DEXBULK, SandboxProcess, dexbulk_env, diff_stats, run_child, write_ids

LATENCY_MS = 50
CONTACTS = 10_000


@dataclass(frozen=True)
class Run:
    """One dexbulk run against the sandbox."""

    label: str
    batch: int
    concurrency: int
    wall: float
    elapsed: float
    rss_mib: float
    failed: int
    stats: dict[str, Any]

    @property
    def ideal(self) -> float:
        """The latency bound for this batch size and concurrency, in seconds."""
        return math.ceil(CONTACTS / self.batch) * LATENCY_MS / 1000 / self.concurrency

    @property
    def stepped(self) -> float:
        """The bound as dexbulk can reach it: the first batch alone, then whole rounds."""
        batches = math.ceil(CONTACTS / self.batch)
        return (1 + math.ceil((batches - 1) / self.concurrency)) * LATENCY_MS / 1000


def dexbulk_run(
    sandbox: SandboxProcess, ids_file: Path, workdir: Path, *, batch: int, concurrency: int,
    label: str, value: str = "Bench",
) -> Run:  # fmt: skip
    """Run ``dexbulk set`` once; the company value changes so each run really writes."""
    # --no-read: this measures sending; the read before it is bench/read_before.py's. With the
    # read, a variant that writes a value an earlier one wrote would send nothing at all.
    argv = [DEXBULK, "set", f"company={value}", "--from", str(ids_file), "--json", "--no-progress",
            "--no-read"]  # fmt: skip
    if batch != 100:
        argv += ["--batch-size", str(batch)]
    if concurrency != 4:
        argv += ["--concurrency", str(concurrency)]
    before = sandbox.stats()
    child = run_child(argv, env=dexbulk_env(workdir, sandbox.url))
    stats = diff_stats(before, sandbox.stats())
    if child.code != 0:
        raise RuntimeError(f"dexbulk exited {child.code}: {child.stdout[-500:]}")
    summary = child.json()
    return Run(
        label, batch, concurrency, child.wall, float(summary["elapsed"]), child.rss_mib,
        int(summary["failed"]), stats,
    )  # fmt: skip


def body_sizes(ids: list[str], batch: int = 100) -> dict[str, float]:
    """Bytes per contact of dexbulk's body vs ``json.dumps`` defaults (what ``json=`` sends)."""
    from dexbulk.dex import encode_batch
    from dexbulk.plan import Update

    updates = [Update(cid, {"company": "Bench"}) for cid in ids[:batch]]
    compact = len(encode_batch(updates))
    loose = len(json.dumps([u.to_api() for u in updates]).encode())
    return {"compact": compact / batch, "default": loose / batch}


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Start the sandbox, run every scenario, return the figures (see :func:`rows`)."""
    db = workdir / "dex-10k.sqlite3"
    flags = ("--latency", str(LATENCY_MS))
    # Seeding time: a start that seeds 10,000 contacts minus a start that finds them stored.
    with SandboxProcess(db, CONTACTS, *flags, fresh=True) as fresh:
        seeded_start = fresh.ready_after
    with SandboxProcess(db, CONTACTS, *flags) as sandbox:
        kept_start = sandbox.ready_after
        ids = sandbox.ids()
        ids_file = write_ids(workdir / "ids-10k.txt", ids)
        reps = 1 if quick else 3
        default = [
            dexbulk_run(sandbox, ids_file, workdir, batch=100, concurrency=4, label="default",
                        value=f"Bench {i}")
            for i in range(reps)
        ]  # fmt: skip
        variants = [
            dexbulk_run(sandbox, ids_file, workdir, batch=b, concurrency=c, label=f"b{b} c{c}")
            for b, c in ([(100, 1), (100, 8)] if quick else [(100, 1), (100, 2), (100, 8),
                                                              (50, 4), (200, 4)])
        ]  # fmt: skip
        sequential = sequential_batches(sandbox.url, ids, 100)
        sample = ids[: 100 if quick else 300]
        sample_s = per_contact(sandbox.url, sample)
    # The cost of a request beyond the simulated latency (client and sandbox CPU, loopback):
    # one worker, no latency, so nothing overlaps and elapsed / requests is that cost.
    with SandboxProcess(db, CONTACTS) as bare:
        overhead = dexbulk_run(bare, ids_file, workdir, batch=100, concurrency=1, label="lat0")
    return {
        "overhead_ms": overhead.elapsed / overhead.stats["put_requests"] * 1000,
        "seeded_start": seeded_start,
        "kept_start": kept_start,
        "default": default,
        "variants": variants,
        "sequential": sequential,
        "sample": len(sample),
        "sample_s": sample_s,
        "per_contact": sample_s * CONTACTS / len(sample),
        "bodies": body_sizes(ids),
    }


def rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Table rows ``(metric, value, goal, verdict)`` from :func:`measure`'s figures."""
    runs: list[Run] = m["default"]
    best = min(runs, key=lambda r: r.wall)
    wall = statistics.median(r.wall for r in runs)
    elapsed = statistics.median(r.elapsed for r in runs)
    ideal = best.ideal
    ratio = elapsed / ideal
    n = f"median of {len(runs)}" if len(runs) > 1 else "1 run"
    out = [
        ("sandbox start, seeding 10,000 contacts", f"{m['seeded_start']:.2f} s",
         "", f"vs {m['kept_start']:.2f} s with the book kept"),
        ("ideal: 100 batches x 50 ms / 4", f"{ideal:.2f} s", "", "the latency bound"),
        ("cost per request beyond latency (c1, latency 0)", f"{m['overhead_ms']:.1f} ms", "",
         "client + sandbox CPU per 100-contact PUT"),
        (f"dexbulk defaults (c4, b100), send time ({n})", f"{elapsed:.2f} s",
         f"<= {1.25 * ideal:.2f} s", _verdict(ratio <= 1.25, f"{ratio:.2f}x ideal")),
        (f"dexbulk defaults, wall incl. start-up ({n})", f"{wall:.2f} s", "",
         f"{wall / ideal:.2f}x ideal; start-up+exit {wall - elapsed:.2f} s"),
        ("sequential requests loop, batches of 100", f"{m['sequential']:.2f} s",
         "dexbulk >= 3x faster", _verdict(m["sequential"] / wall >= 3,
                                          f"dexbulk wall {m['sequential'] / wall:.1f}x faster")),
        (f"per-contact loop ({m['sample']} timed, x{CONTACTS // m['sample']} extrapolated)",
         f"{m['per_contact']:.0f} s", "dexbulk >= 3x faster",
         _verdict(m["per_contact"] / wall >= 3, f"dexbulk {m['per_contact'] / wall:.0f}x faster")),
    ]  # fmt: skip
    for r in [best, *m["variants"]]:
        label = "b100 c4" if r is best else r.label
        out.append((
            f"  variant {label}: send / wall", f"{r.elapsed:.2f} / {r.wall:.2f} s",
            f"ideal {r.ideal:.2f} s",
            f"{r.elapsed / r.ideal:.2f}x ideal; {r.elapsed / r.stepped:.2f}x of {r.stepped:.2f} s "
            "(probe + whole rounds)",
        ))  # fmt: skip
    conns = [r.stats["connections"] for r in [*runs, *m["variants"]]]
    concs = [r.concurrency for r in [*runs, *m["variants"]]]
    keep_alive = all(c <= k for c, k in zip(conns, concs, strict=True))
    puts = best.stats["put_requests"]
    bodies = m["bodies"]
    out += [
        ("connections per run (c1/c2/c4/c8 as run)", _conn_list(runs, m["variants"]),
         "= concurrency", _verdict(keep_alive, "one keep-alive socket per worker")),
        ("PUT requests per 10k run (b100)", str(puts), "100", _verdict(puts == 100, "")),
        ("body bytes per contact (company=...)", f"{bodies['compact']:.1f}", "compact JSON",
         f"json.dumps default: {bodies['default']:.1f}"),
        ("peak RSS of a real 10k run", f"{best.rss_mib:.1f} MiB", "", ""),
    ]  # fmt: skip
    return out


def _conn_list(runs: list[Run], variants: list[Run]) -> str:
    seen = {f"c{r.concurrency}": r.stats["connections"] for r in [*variants, *runs]}
    return " ".join(f"{k}:{v}" for k, v in sorted(seen.items(), key=lambda kv: int(kv[0][1:])))


def _verdict(ok: bool, note: str) -> str:
    return ("MET" if ok else "MISSED") + (f" ({note})" if note else "")
