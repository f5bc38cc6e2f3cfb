"""What every benchmark shares: the installed commands, a sandbox subprocess, a timed child.

Only the standard library plus ``requests`` (already a dependency of dexbulk) and dexbulk's own
sandbox store (to read the seeded IDs). Times come from ``time.perf_counter`` around a child
process; peak memory from ``os.wait4``, which reports the rusage of that one child (unlike
``RUSAGE_CHILDREN``, a maximum over every child reaped so far, the sandbox included).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

BIN = Path(sys.executable).parent
"""The venv running the bench: its ``dexbulk`` is the installed command being measured."""
DEXBULK = str(BIN / "dexbulk")
PYTHON = sys.executable
API_KEY = "dex_sandbox_0123456789abcdef"


@dataclass(frozen=True)
class Child:
    """One finished child process: wall seconds, peak RSS in MiB, exit code, stdout, CPU.

    ``cpu`` is the child's own user + system seconds: what it cost, whatever else the machine
    was running (its wall time stretches with the load, its CPU time hardly).
    """

    wall: float
    rss_mib: float
    code: int
    stdout: str
    cpu: float = 0.0

    def json(self) -> dict[str, Any]:
        """The child's stdout parsed as one JSON document (``--json`` output)."""
        return json.loads(self.stdout)


# Peak RSS needs a small parent: Linux carries a process's high-water RSS across exec, and a
# child forked (or vforked) from this bench starts with the bench's own RSS (~40 MiB) as its
# high-water mark. So a bare `python -S` launcher (~8 MiB) spawns the command, times it from
# spawn to reap, and reports the command's own ru_maxrss (KiB), the wall seconds and its CPU
# seconds.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as out:
    out.write(f"{wall} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: Path | None = None,
    keep_stdout: bool = True,
) -> Child:
    """Run ``argv`` (an absolute path first) to completion through the launcher above.

    Output goes to temporary files rather than pipes: nothing needs to read while the child
    runs, so a chatty child can neither block on a full pipe nor be slowed by our reader.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.NamedTemporaryFile("r", suffix=".report") as report,
        _open_or_null(stdin) as source,
    ):
        code = subprocess.call(
            [PYTHON, "-I", "-S", "-c", _LAUNCHER, report.name, *argv],
            stdin=source,
            stdout=out if keep_stdout else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
        )
        wall, maxrss, cpu = report.read().split()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB.
    return Child(float(wall), int(maxrss) / 1024, code, text, float(cpu))


@contextmanager
def _open_or_null(path: Path | None) -> Iterator[IO[bytes] | int]:
    if path is None:
        yield subprocess.DEVNULL  # never a TTY: dexbulk must not wait for a person
        return
    with path.open("rb") as handle:
        yield handle


def dexbulk_env(workdir: Path, api_url: str = "http://127.0.0.1:9/v1") -> dict[str, str]:
    """An environment that pins dexbulk to its defaults whatever the caller's shell holds.

    Drops every ``DEX*`` variable (a DEXBULK_CONCURRENCY in the shell would skew the figures),
    points the config and the run journals into ``workdir``, and never touches a real keyring.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEX")}
    config = workdir / "config.toml"
    config.touch()
    env.update(
        DEX_API_URL=api_url,
        DEX_API_KEY=API_KEY,
        DEXBULK_CONFIG=str(config),
        DEXBULK_STATE_DIR=str(workdir / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_COLOR="1",
    )
    return env


class SandboxProcess:
    """``dexbulk sandbox`` in a subprocess, as a user would run it; stopped with SIGTERM.

    A separate process matters: an in-process sandbox would share the GIL with whatever the
    bench runs in-process (the baseline loops) and make them look slower than they are.
    """

    def __init__(self, db: Path, contacts: int, *flags: str, fresh: bool = False) -> None:
        argv = [DEXBULK, "sandbox", "--port", "0", "--db", str(db), "--contacts", str(contacts)]
        argv += [*flags, "--fresh"] if fresh else list(flags)
        self.argv = argv
        self.db = db
        started = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEX")}
        # stderr (one line per request) is discarded: a pipe nobody reads would fill and
        # block the server after ~64 KiB of log.
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # "Dex sandbox listening on URL", once it serves
        if "listening on" not in first:
            self.stop()
            raise RuntimeError(f"sandbox did not start: {' '.join(argv)}: {first!r}")
        self.ready_after = time.perf_counter() - started
        self.url = first.rsplit(" ", 1)[1].strip()
        self.base = self.url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        """The sandbox's cumulative counters (``GET /_sandbox/stats``, not counted itself)."""
        answer = requests.get(f"{self.base}/_sandbox/stats", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def ids(self) -> list[str]:
        """Every contact ID in the address book, in creation order."""
        from dexbulk.sandbox import Store

        store = Store(self.db)
        try:
            return store.all_ids()
        finally:
            store.close()

    def stop(self) -> None:
        """SIGTERM (a clean stop), then wait; only this process, by its own PID."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def diff_stats(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What one run did to the sandbox: the difference of two stats snapshots.

    Nested counters (``by_status``, ``by_route``, ``membership_contacts``) are diffed key by
    key, keeping only the keys that changed.
    """
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, Mapping):
            old = before.get(key, {})
            changed = {k: v - old.get(k, 0) for k, v in sorted(value.items())}
            out[key] = {k: n for k, n in changed.items() if n}
        else:
            out[key] = value - before.get(key, 0)
    return out


def write_ids(path: Path, ids: Sequence[str]) -> Path:
    """One ID a line, the plainest input dexbulk reads."""
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return path


def fmt_s(seconds: float) -> str:
    """Seconds for a table: ms below one second."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
