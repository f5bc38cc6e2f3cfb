"""Binding the port: ``python -m dexbulk.sandbox`` and :class:`Sandbox` when it is taken."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dexbulk.sandbox import CannotListen, Sandbox, SandboxOptions

REPO = Path(__file__).resolve().parents[2]


def test_subprocess_port_in_use_is_one_error_and_a_hint(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "dexbulk.sandbox", "--port", str(port)]
        command += ["--db", str(tmp_path / "taken.sqlite3"), "--contacts", "5"]
        result = subprocess.run(
            command,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: port {port} is already in use",
        "hint: --port 0 picks a free port",
    ]


@pytest.mark.parametrize("entry", ["module", "cli"])
def test_port_in_use_is_one_line_and_a_hint_for_both_commands(tmp_path: Path, entry: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = ["-m", "dexbulk.sandbox"] if entry == "module" else ["-m", "dexbulk", "sandbox"]
        result = subprocess.run(
            [sys.executable, *start, "--port", str(port), "--db", str(tmp_path / "t.sqlite3")],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
            text=True, timeout=20, check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: port {port} is already in use",
        "hint: --port 0 picks a free port",
    ]


def test_port_in_use_in_process_is_a_dexbulk_error(tmp_path: Path) -> None:
    with Sandbox(SandboxOptions(db_path=tmp_path / "a.sqlite3", contacts=5)) as first:
        second = Sandbox(SandboxOptions(db_path=":memory:", contacts=5, port=first.port))  # type: ignore[arg-type]
        with pytest.raises(CannotListen) as caught, second:
            pass
    assert caught.value.message == f"port {first.port} is already in use"
    assert caught.value.hint == "--port 0 picks a free port"
    assert isinstance(caught.value, OSError)
    with pytest.raises(sqlite3.ProgrammingError):  # the failed start closed its database
        second.store.count()
