"""End-to-end harness: the installed ``dexbulk`` against a sandbox subprocess on 127.0.0.1.

``sandbox(*flags)`` starts ``dexbulk sandbox --port 0`` with its own database and returns a
handle to its URL and state; ``dexbulk(*args)`` runs the installed command as a user would, with
the test key in ``DEX_API_KEY``, and fails the test if the key shows up in its output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_KEY

pytestmark = pytest.mark.e2e

DEXBULK = Path(sys.executable).with_name("dexbulk")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class SandboxProc:
    """A running ``dexbulk sandbox`` subprocess and ways to look at its state."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.http.close()


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


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxProc]]:
    """Start sandboxes with the given extra flags; all are stopped after the test."""
    started: list[SandboxProc] = []

    def start(*flags: str) -> SandboxProc:
        db = tmp_path / f"sandbox-{len(started)}.sqlite3"
        proc = subprocess.Popen(
            [str(DEXBULK), "sandbox", "--port", "0", "--db", str(db), "--fresh",
             "--key", TEST_KEY, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=base_env(tmp_path),
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on " in line, f"sandbox did not start: {line!r}"
        handle = SandboxProc(proc, line.split("listening on ", 1)[1].strip())
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


class Result:
    """A finished ``dexbulk`` process."""

    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        tail = f"stdout={self.stdout[-800:]!r}, stderr={self.stderr[-800:]!r}"
        return f"Result(code={self.code}, {tail})"


@pytest.fixture
def dexbulk(tmp_path: Path) -> Callable[..., Result]:
    """Run the installed command; ``api`` is a SandboxProc (or None for no API settings)."""

    def run(
        *args: str,
        api: SandboxProc | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        cwd: Path | None = None,
    ) -> Result:
        full_env = base_env(tmp_path)
        if api is not None:
            full_env.update({"DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY})
        full_env.update(env or {})
        proc = subprocess.run(
            [str(DEXBULK), *args], input=input if input is not None else "",
            capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd or tmp_path,
        )  # fmt: skip
        result = Result(proc)
        assert TEST_KEY not in result.stdout, "the API key leaked to stdout"
        assert TEST_KEY not in result.stderr, "the API key leaked to stderr"
        return result

    return run
