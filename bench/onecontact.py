"""A fast start: one contact starred by dexbulk, against the least a script could do.

Against a local sandbox with no latency, two commands run side by side, interleaved (A B A B
...) so a burst of load from elsewhere hits both alike:

* ``dexbulk star --ids ID``: the installed command, start-up, checks, journal and summary;
* a minimal ``requests`` script: ``python -c`` importing requests and sending the same
  ``PUT /v1/contacts/`` with the same key, nothing else.

Each round stars a contact that is not starred yet (unstarred before the timing starts), so
every ``dexbulk star`` does all of it: reads the contact's current value, sends the PUT, writes
and seals its journal. The script then sends its PUT for the same contact. With
``--same-contact`` every round uses the one contact the warm-up starred, as this bench did until
2026-12-01: ``dexbulk`` then finds nothing to change and sends no PUT (a read, no journal).

Goal: the dexbulk run costs at most 1.5 x the script (the median of each). Both pay the
interpreter, ``requests`` (with urllib3 and ssl) and the round trip; the difference is Typer,
dexbulk's own modules and what it does around the request.

Also runnable alone, e.g. to measure another venv (a throw-away one with an older Typer):
``python bench/onecontact.py --venv /tmp/typer029-venv --runs 30``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import requests
from common import API_KEY, BIN, SandboxProcess, dexbulk_env, run_child

REPO = Path(__file__).resolve().parent.parent
MINIMAL_PUT = """
import sys, requests
url, key, contact = sys.argv[1:4]
answer = requests.put(
    url + "/contacts/", json=[{"contactId": contact, "data": {"starred": True}}],
    headers={"Authorization": "Bearer " + key}, timeout=30,
)
answer.raise_for_status()
"""


def time_both(
    bin_dir: Path, workdir: Path, runs: int, *, same_contact: bool = False
) -> dict[str, Any]:
    """Medians (seconds) of ``dexbulk star`` and the minimal script, from ``bin_dir``'s venv."""
    db = workdir / "dex-onecontact.sqlite3"
    with SandboxProcess(db, max(300, runs + 1), fresh=True) as sandbox:
        contacts = sandbox.ids()[: runs + 1]
        if not same_contact:
            unstar(sandbox.url, contacts)
        env = dexbulk_env(workdir, sandbox.url)

        def commands(contact: str) -> dict[str, list[str]]:
            return {
                "dexbulk star": [str(bin_dir / "dexbulk"), "star", "--ids", contact],
                "requests script": [str(bin_dir / "python"), "-c", MINIMAL_PUT, sandbox.url,
                                    API_KEY, contact],
            }  # fmt: skip

        warm_up = commands(contacts[0])
        codes = {name: run_child(argv, env=env).code for name, argv in warm_up.items()}
        if any(codes.values()):
            raise RuntimeError(f"a one-contact command failed: exit codes {codes}")
        walls: dict[str, list[float]] = {name: [] for name in warm_up}
        cpus: dict[str, list[float]] = {name: [] for name in warm_up}
        for round_ in range(runs):
            contact = contacts[0 if same_contact else round_ + 1]
            for name, argv in commands(contact).items():
                child = run_child(argv, env=env, keep_stdout=False)
                if child.code:
                    raise RuntimeError(f"{name} failed: exit code {child.code}")
                walls[name].append(child.wall)
                cpus[name].append(child.cpu)
    return {
        "runs": runs,
        "medians": {name: statistics.median(values) for name, values in walls.items()},
        "cpu": {name: statistics.median(values) for name, values in cpus.items()},
        "spread": {name: (min(values), max(values)) for name, values in walls.items()},
    }


def unstar(url: str, contacts: list[str]) -> None:
    """Set ``starred`` to false on ``contacts`` (untimed), so a star has something to change."""
    for start in range(0, len(contacts), 100):
        batch = [{"contactId": c, "data": {"starred": False}} for c in contacts[start:][:100]]
        answer = requests.put(
            url + "/contacts/", json=batch, headers={"Authorization": "Bearer " + API_KEY},
            timeout=30,
        )  # fmt: skip
        answer.raise_for_status()


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Compile dexbulk's bytecode (as pip does on install), then time both commands."""
    subprocess.run(
        [str(BIN / "python"), "-m", "compileall", "-q", str(REPO / "dexbulk")], check=True
    )
    return time_both(BIN, workdir, 10 if quick else 30)


def rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Table rows ``(metric, value, goal, verdict)``."""
    star, script = m["medians"]["dexbulk star"], m["medians"]["requests script"]
    star_cpu, script_cpu = m["cpu"]["dexbulk star"], m["cpu"]["requests script"]
    ratio = star / script
    low, high = m["spread"]["dexbulk star"]
    return [
        (f"minimal requests script, one PUT (median of {m['runs']})", f"{script * 1000:.0f} ms",
         "baseline", f"python -c 'import requests; requests.put(...)'; CPU "
         f"{script_cpu * 1000:.0f} ms"),
        ("dexbulk star --ids ID (one contact)", f"{star * 1000:.0f} ms",
         f"<= {1.5 * script * 1000:.0f} ms",
         ("MET" if ratio <= 1.5 else "MISSED")
         + f" ({ratio:.2f}x the script; runs {low * 1000:.0f}-{high * 1000:.0f} ms; CPU "
         f"{star_cpu * 1000:.0f} ms = {star_cpu / script_cpu:.2f}x)"),
    ]  # fmt: skip


def main() -> None:
    """Time a one-contact run in the venv given (default: this one) and print the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="the venv whose dexbulk and python to time")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--same-contact", action="store_true",
        help="star the same (already starred) contact every round: nothing to change, no PUT",
    )  # fmt: skip
    args = parser.parse_args()
    bin_dir = args.venv / "bin" if args.venv else BIN
    with tempfile.TemporaryDirectory(prefix="dexbulk-onecontact-") as tmp:
        figures = time_both(bin_dir, Path(tmp), args.runs, same_contact=args.same_contact)
    for row in rows(figures):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
