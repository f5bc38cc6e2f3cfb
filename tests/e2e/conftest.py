"""End-to-end harness: dexbulk's real entry point against a real sandbox on 127.0.0.1.

``sandbox(*flags)`` starts a sandbox with its own database and returns a handle to its URL and
state; ``dexbulk(*args)`` runs the command as a user would, with the test key in
``DEX_API_KEY``, and fails the test if the key shows up in its output.

By default both live in this process: the sandbox is a :class:`dexbulk.sandbox.Sandbox` serving
from a thread, and the command is ``dexbulk.__main__.main``, the function the console script
calls, with ``sys.argv``, the standard streams, the environment and the working directory
swapped for the call (see :func:`run_in_process`). It still talks to the sandbox over a socket.

A test marked ``@pytest.mark.subprocess`` gets the real thing instead, for what only a process
shows (its exit status, the stdout/stderr split at the file descriptors, the installed script):
``dexbulk`` runs the installed console script in a child process and ``sandbox`` starts
``dexbulk sandbox`` as another. Tests that send signals start their own child process
(``tests/e2e/faults.py``).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import requests

from dexbulk.sandbox import Sandbox, SandboxOptions
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.e2e

DEXBULK = Path(sys.executable).with_name("dexbulk")
PROCESS_MARK = "subprocess"
"""Tests with this mark run the installed command and the sandbox as child processes."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _as_processes(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker(PROCESS_MARK) is not None


# -- the sandbox ---------------------------------------------------------------------------------


class SandboxApi:
    """A running sandbox, wherever it runs, and ways to look at its state over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = TEST_KEY
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {TEST_KEY}", "User-Agent": "e2e"})

    @property
    def root(self) -> str:
        return self.url.rsplit("/v1", 1)[0]

    def stats(self) -> dict[str, Any]:
        return self.http.get(f"{self.root}/_sandbox/stats", timeout=5).json()  # type: ignore[no-any-return]

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        answer = self.http.get(f"{self.url}/contacts/{contact_id}", timeout=5)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()["data"]  # type: ignore[no-any-return]

    def ids(self, n: int | None = None) -> list[str]:
        """Contact IDs in the sandbox, in its listing order."""
        found: list[str] = []
        cursor = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            data = self.http.get(f"{self.url}/contacts", params=params, timeout=5).json()["data"]
            found.extend(item["id"] for item in data["items"])
            cursor = data.get("nextCursor")
            if not cursor or (n is not None and len(found) >= n):
                return found[:n] if n is not None else found

    def stop(self) -> None:
        self.http.close()


class SandboxThread(SandboxApi):
    """A :class:`~dexbulk.sandbox.Sandbox` serving from a thread of the test process."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox.start()
        super().__init__(self.sandbox.url)

    def stop(self) -> None:
        self.sandbox.stop()
        super().stop()


class SandboxProc(SandboxApi):
    """A ``dexbulk sandbox`` subprocess."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        super().__init__(url)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        super().stop()


# `dexbulk sandbox` flag -> (SandboxOptions field, parser), as the command maps them. Only the
# flags these tests use; `--port`, `--db`, `--fresh` and `--key` are set by the fixture.
def sandbox_options(flags: Sequence[str], db: Path) -> SandboxOptions:
    """What ``dexbulk sandbox --port 0 --db DB --fresh --key TEST_KEY *flags`` would run.

    Read through the sandbox's own table of flags, the one both of its command lines use.
    """
    from dexbulk.sandbox.options import FLAGS, options_from_flags

    by_name = {name: flag for flag in FLAGS for name in flag.names}
    values: dict[str, Any] = {}
    items = list(flags)
    while items:
        name = items.pop(0)
        flag = by_name[name]
        if flag.is_switch:
            values[flag.field] = True
        elif flag.repeatable:
            values.setdefault(flag.field, []).append(items.pop(0))
        else:
            values[flag.field] = items.pop(0)
    values.update(port="0", db_path=str(db), fresh=True, api_key=TEST_KEY)
    return options_from_flags(values)


@pytest.fixture
def sandbox(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SandboxApi]]:
    """Start sandboxes with the given ``dexbulk sandbox`` flags; all are stopped after the test."""
    started: list[SandboxApi] = []
    as_process = _as_processes(request)
    errors: list[str] = []
    if not as_process:
        # socketserver prints a traceback to sys.stderr when a client resets a connection (a
        # killed dexbulk does): from a thread of this process that would land in whatever
        # sys.stderr is then, perhaps a run's. A sandbox process's stderr goes nowhere; these
        # are kept, and shown with the test's output.
        def handle_error(_server: object, _request: object, client_address: object) -> None:
            errors.append(f"sandbox: error serving {client_address}:\n{traceback.format_exc()}")

        monkeypatch.setattr(socketserver.BaseServer, "handle_error", handle_error)

    def start(*flags: str) -> SandboxApi:
        db = tmp_path / f"sandbox-{len(started)}.sqlite3"
        handle = start_process(tmp_path, db, flags) if as_process else start_thread(db, flags)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()
    sys.stderr.write("".join(errors))


def start_thread(db: Path, flags: Sequence[str]) -> SandboxThread:
    return SandboxThread(Sandbox(sandbox_options(flags, db)))


def start_process(tmp_path: Path, db: Path, flags: Sequence[str]) -> SandboxProc:
    proc = subprocess.Popen(
        [str(DEXBULK), "sandbox", "--port", "0", "--db", str(db), "--fresh",
         "--key", TEST_KEY, *flags],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=base_env(tmp_path),
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on " in line, f"sandbox did not start: {line!r}"
    return SandboxProc(proc, line.split("listening on ", 1)[1].strip())


# -- the command ---------------------------------------------------------------------------------


def base_env(tmp: Path) -> dict[str, str]:
    """A clean environment: no real config, keyring or state; no colour; wide output."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {
        **keep,
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "DEXBULK_STATE_DIR": str(tmp / "dexbulk-state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass(frozen=True)
class Result:
    """A finished ``dexbulk`` run: exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        tail = f"stdout={self.stdout[-800:]!r}, stderr={self.stderr[-800:]!r}"
        return f"Result(code={self.code}, {tail})"


@pytest.fixture
def dexbulk(
    tmp_path: Path, request: pytest.FixtureRequest, capfd: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """Run the command; ``api`` is the sandbox to use (or None for no API settings)."""
    as_process = _as_processes(request)

    def run(
        *args: str,
        api: SandboxApi | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        cwd: Path | None = None,
        no_stdin: bool = False,
    ) -> Result:
        """``no_stdin``: stdin is /dev/null, as from a terminal or a cron job: nothing piped,
        so filters alone select (an empty pipe is an error)."""
        full_env = base_env(tmp_path)
        if api is not None:
            full_env.update({"DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY})
        full_env.update(env or {})
        where = cwd or tmp_path
        if as_process:
            result = run_process(
                args, input=input, env=full_env, cwd=where, timeout=timeout, no_stdin=no_stdin
            )
        else:
            result = run_in_process(
                args, input=input, env=full_env, cwd=where, timeout=timeout, capfd=capfd,
                no_stdin=no_stdin,
            )  # fmt: skip
        assert TEST_KEY not in result.stdout, "the API key leaked to stdout"
        assert TEST_KEY not in result.stderr, "the API key leaked to stderr"
        return result

    return run


def run_process(
    args: Sequence[str], *, input: str | None, env: Mapping[str, str], cwd: Path, timeout: float,
    no_stdin: bool = False,
) -> Result:  # fmt: skip
    """The installed console script in a child process."""
    feed = {"stdin": subprocess.DEVNULL} if no_stdin else {"input": input or ""}
    proc = subprocess.run(
        [str(DEXBULK), *args], capture_output=True, text=True, env=env, timeout=timeout,
        cwd=cwd, **feed,  # type: ignore[call-overload]
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


class _TimedOut(BaseException):
    """Raised in the main thread when an in-process run overruns its timeout."""


def run_in_process(
    args: Sequence[str],
    *,
    input: str | None,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    capfd: pytest.CaptureFixture[str],
    no_stdin: bool = False,
) -> Result:
    """``dexbulk *args`` in this process, seen from outside as the child process would be.

    ``main()`` is called exactly as the console script calls it, with ``sys.argv`` set, stdin a
    pipe-like text stream holding ``input`` (never a terminal), stdout and stderr fresh UTF-8
    text streams, ``os.environ`` replaced by ``env`` and the working directory ``cwd``. Its
    ``SystemExit`` becomes the exit code as Python's own exit would make it.

    Everything the command may change for the process is put back afterwards: the environment,
    working directory, streams, ``sys.argv``, signal handlers, ``sys.excepthook`` and the
    ``dexbulk.http`` logger. Threads it started must be gone by the end, as a process waits for
    them before it exits; and output written around ``sys.stdout``/``sys.stderr`` (straight to
    the file descriptors, which a child process's pipes would have caught) fails the run.
    """
    stdin: Any = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
    if no_stdin:
        stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (closed in the finally below)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    before = capfd.readouterr()  # what the test printed so far; written back below
    try:
        with _process_state(env, cwd):
            sys.argv = ["dexbulk", *args]
            sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
            code = _exit_code(args, timeout)
    finally:
        stdin.close()
        stray = capfd.readouterr()
        sys.stdout.write(before.out + stray.out)
        sys.stderr.write(before.err + stray.err)
    assert stray.out == "", f"dexbulk wrote past sys.stdout: {stray.out[-400:]!r}"
    assert stray.err == "", f"dexbulk wrote past sys.stderr: {stray.err[-400:]!r}"
    return Result(code, _read(stdout), _read(stderr))


def _exit_code(args: Sequence[str], timeout: float) -> int:
    """Call ``main()`` as the console script does; its exit code as Python's exit makes it."""
    from dexbulk.__main__ import main

    threads = set(threading.enumerate())
    deadline = time.monotonic() + timeout
    code: Any = None
    try:
        with _alarm(timeout):
            main()
    except SystemExit as exc:
        code = exc.code
    except _TimedOut:
        raise AssertionError(f"dexbulk {' '.join(args)} did not exit in {timeout} s") from None
    # Anything still running holds the run open, as it would hold the process.
    _join_new_threads(threads, deadline, args)
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # a message instead of a number: printed, and exit status 1
    return 1


def _read(stream: io.TextIOWrapper) -> str:
    """What a text-mode pipe reader gets: decoded, with universal newlines."""
    stream.flush()
    raw: bytes = stream.buffer.getvalue()  # type: ignore[attr-defined]
    return raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def _process_state(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    """Swap in a child process's environment and working directory; put everything back."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_hook = sys.excepthook  # Typer installs its own
    signals = (signal.SIGINT, signal.SIGTERM)
    saved_handlers = {sig: signal.getsignal(sig) for sig in signals}
    logger = logging.getLogger("dexbulk.http")
    saved_logger = (list(logger.handlers), logger.level, logger.propagate)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved_logger
        for sig, handler in saved_handlers.items():
            signal.signal(sig, handler)
        sys.excepthook = saved_hook
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


@contextmanager
def _alarm(timeout: float) -> Iterator[None]:
    """Raise :class:`_TimedOut` in the main thread after ``timeout`` seconds."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _join_new_threads(before: set[threading.Thread], deadline: float, args: Sequence[str]) -> None:
    """Wait for the non-daemon threads the run started, as the interpreter would at exit."""
    for thread in set(threading.enumerate()) - before:
        if thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        assert not thread.is_alive(), f"dexbulk {' '.join(args)} left {thread.name} running"
