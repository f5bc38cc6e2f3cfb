"""Start-up: how long ``dexbulk --help`` and ``--version`` take, and what they import.

Each command runs ``runs`` times (after one untimed warm-up) as a subprocess; the median wall
time is compared with ``python -c "import typer; typer.Typer()"`` in the same venv, the least a
Typer CLI can cost. Two more references explain the figures: ``python -c pass`` (the
interpreter and ``site``) and a one-command Typer app's ``--help`` (what Typer's rich help
costs any app).

The project venv has dexbulk installed editable: its ``.pth`` imports a finder module in
``site`` on every interpreter start, baselines included. To see what users of a regular install
get, ``regular_install`` builds a throw-away venv, installs the wheel with the same dependency
versions (``pip freeze`` as constraints), and times the same commands there.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import BIN, run_child

REPO = Path(__file__).resolve().parent.parent
MINIMAL_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    '''Say hello.'''
app()
"""
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def commands(bin_dir: Path) -> dict[str, list[str]]:
    """The timed commands for the venv whose scripts live in ``bin_dir``."""
    python = str(bin_dir / "python")
    return {
        "dexbulk --version": [str(bin_dir / "dexbulk"), "--version"],
        "dexbulk --help": [str(bin_dir / "dexbulk"), "--help"],
        "typer baseline": [python, "-c", "import typer; typer.Typer()"],
        "python -c pass": [python, "-c", "pass"],
        "minimal Typer app --help": [python, "-c", MINIMAL_APP, "--help"],
    }


def time_commands(bin_dir: Path, runs: int) -> dict[str, float]:
    """Median wall seconds of each command in :func:`commands`.

    Runs are interleaved (A B C A B C ...) rather than in blocks, so a burst of load from
    something else on the machine hits every command alike instead of skewing one ratio.
    """
    named = commands(bin_dir)
    for argv in named.values():
        run_child(argv, keep_stdout=False)  # warm-up: OS cache, .pyc files
    times: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(runs):
        for name, argv in named.items():
            times[name].append(run_child(argv, keep_stdout=False).wall)
    return {name: statistics.median(values) for name, values in times.items()}


def import_profile(
    argv: list[str], root: str | None = None, top: int = 6
) -> list[tuple[str, float]]:
    """The ``top`` imports by cumulative ms: the top-level ones, or those made by ``root``.

    ``-X importtime`` lists a module after the modules it imported, indented one level deeper,
    so the children of a top-level import are the indented lines just before it.
    """
    python = str(BIN / "python")
    result = subprocess.run(
        [python, "-X", "importtime", *argv], capture_output=True, text=True, check=False
    )
    roots: list[tuple[str, float]] = []
    children: dict[str, list[tuple[str, float]]] = {}
    pending: list[tuple[str, float]] = []
    for line in result.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        depth, entry = len(match.group(3)) // 2, (match.group(4), int(match.group(2)) / 1000)
        if depth == 0:
            roots.append(entry)
            children[entry[0]] = pending
            pending = []
        elif depth == 1:
            pending.append(entry)
    found = roots if root is None else children.get(root, [])
    return sorted(found, key=lambda item: -item[1])[:top]


def finder_cost() -> float:
    """Milliseconds ``site`` spends importing the editable-install finder, median of 5."""
    times = []
    for _ in range(5):
        hits = dict(import_profile(["-c", "pass"], root="site", top=50))
        times.append(next((ms for name, ms in hits.items() if "editable" in name), 0.0))
    return sorted(times)[len(times) // 2]


def regular_install(workdir: Path, runs: int) -> dict[str, Any]:
    """Install dexbulk as a wheel into a fresh venv and time the commands there."""
    venv = workdir / "regular-venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    freeze = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # Same dependency versions as the project venv, so only the install mode differs.
    pins = [line for line in freeze.stdout.splitlines() if "==" in line]
    constraints = workdir / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-c",
         str(constraints), str(REPO)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    built = time.perf_counter() - started
    return {"build_s": built, "times": time_commands(venv / "bin", runs)}


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    """Time the commands here (and in a regular install unless ``quick``); profile imports."""
    runs = 20
    # pip compiles bytecode when it installs; an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would instead recompile every changed module on every start.
    subprocess.run(
        [str(BIN / "python"), "-m", "compileall", "-q", str(REPO / "dexbulk")], check=True
    )
    figures: dict[str, Any] = {"runs": runs, "times": time_commands(BIN, runs)}
    figures["import_cli"] = import_profile(["-c", "import dexbulk.cli.app"], root="dexbulk.cli")
    figures["import_version"] = import_profile([str(BIN / "dexbulk"), "--version"])
    figures["import_help"] = import_profile([str(BIN / "dexbulk"), "--help"])
    figures["finder_ms"] = finder_cost()
    figures["regular"] = None if quick else regular_install(workdir, runs)
    return figures


def rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Table rows ``(metric, value, goal, verdict)``."""
    t = m["times"]
    base = t["typer baseline"]
    out = [
        (f"typer baseline (median of {m['runs']})", f"{base * 1000:.0f} ms", "", "import typer; "
         "typer.Typer()"),
    ]  # fmt: skip
    for name in ("dexbulk --version", "dexbulk --help"):
        ratio = t[name] / base
        verdict = ("MET" if ratio <= 1.5 else "MISSED") + f" ({ratio:.2f}x baseline)"
        out.append((name, f"{t[name] * 1000:.0f} ms", f"<= {1.5 * base * 1000:.0f} ms", verdict))
    help_ref = t["minimal Typer app --help"]
    out += [
        ("  ref: python -c pass", f"{t['python -c pass'] * 1000:.0f} ms", "", "interpreter+site"),
        ("  ref: one-command Typer app --help", f"{help_ref * 1000:.0f} ms", "",
         f"dexbulk --help is {t['dexbulk --help'] / help_ref:.2f}x this"),
        ("  editable finder in site (every start)", f"{m['finder_ms']:.1f} ms", "", ""),
    ]  # fmt: skip
    regular = m["regular"]
    if regular:
        r = regular["times"]
        for name in ("dexbulk --version", "dexbulk --help", "typer baseline"):
            out.append((
                f"  regular install: {name}", f"{r[name] * 1000:.0f} ms", "",
                f"editable {t[name] * 1000:.0f} ms",
            ))  # fmt: skip
    for label, key in (
        ("imported by dexbulk.cli", "import_cli"),
        ("top-level imports of --version", "import_version"),
        ("top-level imports of --help", "import_help"),
    ):
        listed = ", ".join(f"{name} {ms:.0f}" for name, ms in m[key][:5])
        out.append((f"  {label}", "ms, cumulative", "", listed))
    return out
