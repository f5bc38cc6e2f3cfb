"""Helpers shared by the fault-injection and interruption tests.

Everything here talks to a sandbox over real sockets, like the harness in ``conftest.py``: the
same environment (``base_env``), the same key. :func:`background_dexbulk` always starts the
installed command as a child process, since the tests that use it send it signals.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.conftest import TEST_KEY
from tests.e2e.conftest import DEXBULK, SandboxApi, base_env

Contact = dict[str, Any]

# Fields the sandbox rewrites on every accepted update; everything else must stay as it was.
VOLATILE = frozenset({"updated_at"})


def unknown_id(rng: random.Random) -> str:
    """A well-formed contact ID that no sandbox book holds (random v4 UUID, seeded)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def write_ids(path: Path, ids: Iterable[str]) -> Path:
    """An ``--from`` file: one ID a line."""
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return path


def tolerate_faults(api: SandboxApi) -> SandboxApi:
    """Make the test's own reads survive the faults the sandbox plays (5xx, drops, 429).

    The test's reads then also draw the sandbox's fault dice and show in its ``requests`` and
    ``by_status`` counters (never in ``put_requests`` or ``contacts_updated``): read before a
    run from a fault-free twin, or only after the command under test has finished, when the
    counters that matter have been taken.
    """
    retry = Retry(
        total=30, connect=30, read=30, status=30, backoff_factor=0.02,
        status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None,
        respect_retry_after_header=True, raise_on_status=False,
    )  # fmt: skip
    api.http.mount("http://", HTTPAdapter(max_retries=retry))
    return api


def snapshot(api: SandboxApi) -> dict[str, Contact]:
    """Every contact in the sandbox, by ID, read through the API's own listing."""
    found: dict[str, Contact] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        answer = api.http.get(f"{api.url}/contacts", params=params, timeout=10)
        answer.raise_for_status()
        data = answer.json()["data"]
        for item in data["items"]:
            found[item["id"]] = item
        cursor = data.get("nextCursor")
        if not cursor:
            return found


def without_volatile(contact: Contact) -> Contact:
    """A contact minus the fields an update may legitimately touch besides the patch."""
    return {k: v for k, v in contact.items() if k not in VOLATILE}


def changed_fields(before: Contact, after: Contact) -> set[str]:
    """Names of the fields whose values differ (volatile ones ignored)."""
    keys = (set(before) | set(after)) - VOLATILE
    return {k for k in keys if before.get(k) != after.get(k)}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A JSON Lines file as a list of records."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a text file."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def command_env(tmp_path: Path, api: SandboxApi) -> dict[str, str]:
    """Exactly what the ``dexbulk`` fixture gives the command (same state dir, same key)."""
    env = base_env(tmp_path)
    env.update({"DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY})
    return env


@contextmanager
def background_dexbulk(
    tmp_path: Path, api: SandboxApi, *args: str
) -> Iterator[subprocess.Popen[str]]:
    """Run the installed command in the background, as the harness would run it.

    On leaving, a process still running (the test failed before :func:`finish`) is killed and
    its pipes are closed.
    """
    proc = subprocess.Popen(
        [str(DEXBULK), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(tmp_path, api),
        cwd=tmp_path,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def finish(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """Wait for a background command; return its exit code, stdout and stderr (no key in them)."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"dexbulk did not exit in {timeout} s: {stderr[-800:]!r}") from None
    assert TEST_KEY not in stdout, "the API key leaked to stdout"
    assert TEST_KEY not in stderr, "the API key leaked to stderr"
    return proc.returncode, stdout, stderr


def wait_until(
    condition: Callable[[], bool], *, timeout: float, poll: float = 0.005, what: str = ""
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(poll)


def wait_quiet(api: SandboxApi, *, quiet: float, timeout: float = 5) -> dict[str, Any]:
    """Wait until the sandbox's counters stop moving for ``quiet`` seconds; return them.

    After a SIGKILL the sandbox still finishes the requests the dead process had sent; this
    waits for them (``quiet`` should exceed the sandbox's longest request).
    """
    deadline = time.monotonic() + timeout
    last = api.stats()
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"the sandbox did not settle in {timeout} s: {last}")
        time.sleep(0.01)
        now = api.stats()
        if now != last:
            last, since = now, time.monotonic()
    return last


def sent_ids_from_debug(stderr: str) -> list[list[str]]:
    """The contact IDs of every ``PUT /v1/contacts/`` body logged by ``--debug``, per request."""
    bodies: list[list[str]] = []
    for line in stderr.splitlines():
        if line.startswith("request body: ["):
            items = json.loads(line.removeprefix("request body: "))
            bodies.append([item["contactId"] for item in items])
    return bodies
