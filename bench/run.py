"""Run every dexbulk benchmark against sandboxes it starts itself; print one table.

    .venv/bin/python bench/run.py            # everything, about 10 minutes on 2 cores
    .venv/bin/python bench/run.py --quick    # shorter runs, no regular-install venv (~4 min)
    .venv/bin/python bench/run.py --only startup,memory --json figures.json

The venv of the interpreter running this script is the one measured: its ``dexbulk`` command,
its ``python``. Nothing here asserts: the goals are columns of the table, and a missed goal is
a finding to diagnose, not a failed build (timings vary with the machine and its load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import memory
import onecontact
import pacing
import startup
import throughput

SECTIONS = {
    "throughput": (throughput, "1. Throughput near the bound (sandbox latency 50 ms, 10,000 IDs)"),
    "pacing": (pacing, "2. Rate-limit efficiency (sandbox --rate-limit N/s, latency 50 ms)"),
    "startup": (startup, "3. Start-up"),
    "memory": (memory, "4. Flat memory"),
    "onecontact": (onecontact, "5. A fast start (one contact vs a minimal requests script)"),
}
WIDTHS = (52, 18, 22)


def machine() -> str:
    """One line naming the machine, since absolute figures only hold for it."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from dexbulk import __version__

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"dexbulk {__version__} · Python {platform.python_version()} · {os.cpu_count()} cores "
        f"({cpu}) · load average {load}"
    )


def print_table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """A fixed-width table: metric, value, goal, verdict/notes."""
    print(f"\n{title}")
    print("-" * 120)
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, WIDTHS, strict=False)]
        print(" ".join([*cells, row[3]]).rstrip())


def _plain(value: Any) -> Any:
    """Figures as JSON: dataclasses (throughput runs) become dicts."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def main() -> int:
    """Parse the flags, run the chosen sections, print the table; 0 unless one crashed."""
    parser = argparse.ArgumentParser(description="Benchmark dexbulk against a local sandbox.")
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repetitions")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma list of: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")

    print(machine())
    if os.getloadavg()[0] > 1.0:
        # Two cores shared with other work: the sandbox, dexbulk and the loops compete for them.
        print("warning: the machine is busy (load > 1); times will be slower and noisier")
    figures: dict[str, Any] = {}
    failed = False
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dexbulk-bench-") as tmp:
        for name in chosen:
            module, title = SECTIONS[name]
            workdir = Path(tmp) / name
            workdir.mkdir()
            section_start = time.perf_counter()
            try:
                figures[name] = module.measure(workdir, quick=args.quick)
            except Exception as error:  # report and go on: one broken section hides no other
                print(f"\n{title}\n  FAILED: {type(error).__name__}: {error}", file=sys.stderr)
                failed = True
                continue
            print_table(
                f"{title}  [{time.perf_counter() - section_start:.0f} s]",
                module.rows(figures[name]),
            )
            sys.stdout.flush()
    print(f"\ntotal {time.perf_counter() - started:.0f} s{' (--quick)' if args.quick else ''}")
    if args.json:
        args.json.write_text(json.dumps(_plain(figures), indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
