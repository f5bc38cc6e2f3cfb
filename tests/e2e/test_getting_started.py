"""docs/getting-started.md, run as written: a fresh home, the sandbox, every command of the walk.

The walk's commands are read from the doc's ``console`` blocks and the rehearsal's setup from its
``sh`` blocks, then run one by one in a shell, in a fresh home directory (no key, no config, no
keyring, no runs), as a user following the page would. The only change: the sandbox's port,
8765 in the doc, is a free one here.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from dexbulk.sandbox.options import DEFAULT_API_KEY, DEFAULT_PORT
from tests.e2e.conftest import DEXBULK, base_env

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"
WALK = [
    "dexbulk auth login",
    "dexbulk auth status",
    "dexbulk star --from ids.txt --dry-run",
    "dexbulk star --from ids.txt",
    "dexbulk runs",
    "dexbulk runs show last",
    "dexbulk retry last --failed",
    "dexbulk unstar --from ids.txt",
]
"""The walk, in the doc's order: a change to the doc must be a change here too."""
REAL_RUN = "dexbulk star --from ids.txt"


def blocks(kind: str, text: str) -> list[list[str]]:
    """The lines of each fenced block of ``kind`` (``console``, ``sh``) in ``text``."""
    return [
        match.group(1).splitlines() for match in re.finditer(rf"```{kind}\n(.*?)```", text, re.S)
    ]


def walk_commands(text: str) -> list[str]:
    return [
        line[2:] for block in blocks("console", text) for line in block if line.startswith("$ ")
    ]


def rehearsal(text: str) -> tuple[str, list[str]]:
    """The sandbox command of section 4 and the setup lines that follow it."""
    section = text.split("## 4. Rehearse", 1)[1]
    (sandbox,), setup = blocks("sh", section)[:2]
    return sandbox, setup


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Walker:
    """A user at a shell in a fresh home, with the sandbox running in another terminal."""

    def __init__(self, tmp: Path) -> None:
        self.home = tmp
        self.cwd = tmp / "walk"
        self.cwd.mkdir()
        self.env = base_env(tmp)
        self.env["PATH"] = f"{DEXBULK.parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.port = free_port()
        self.sandbox: subprocess.Popen[str] | None = None
        self.outputs: list[str] = []

    def local(self, line: str) -> str:
        return line.replace(str(DEFAULT_PORT), str(self.port))

    def start_sandbox(self, command: str, *extra: str) -> None:
        """The doc's sandbox command (its own terminal), on this walk's port."""
        self.stop_sandbox()
        argv = [str(DEXBULK), *shlex.split(self.local(command))[1:], *extra]
        self.sandbox = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env
        )
        assert self.sandbox.stdout is not None
        first = self.sandbox.stdout.readline()
        assert "listening on" in first, f"the sandbox did not start: {first!r}"

    def stop_sandbox(self) -> None:
        if self.sandbox is not None:
            self.sandbox.terminate()
            self.sandbox.wait(timeout=10)
            if self.sandbox.stdout is not None:
                self.sandbox.stdout.close()
            self.sandbox = None

    def shell(self, line: str) -> tuple[int, str]:
        """One line at the prompt; ``export NAME=VALUE`` stays for the lines after it."""
        line = self.local(line)
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            self.env[name] = value
            return 0, ""
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, cwd=self.cwd,
            env=self.env, timeout=120, check=False,
        )  # fmt: skip
        return self.record(done.returncode, done.stdout + done.stderr)

    def terminal(self, line: str, typed: str) -> tuple[int, str]:
        """One line at a real terminal (a pty), typing ``typed`` when asked for a key.

        bash starts a session of its own and opens the pty by name, which makes it the
        controlling terminal: ``getpass`` reads from ``/dev/tty``.
        """
        master, slave = os.openpty()
        tty = os.ttyname(slave)
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {line} <{tty} >{tty} 2>&1"], cwd=self.cwd, env=self.env,
            start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        output, typed_in = b"", False
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                if select.select([master], [], [], 0.1)[0]:
                    output += os.read(master, 4096)
                    if not typed_in and b"API key" in output:
                        os.write(master, typed.encode() + b"\n")
                        typed_in = True
                elif proc.poll() is not None:
                    break
            else:
                proc.kill()
            code = proc.wait(timeout=60)
        finally:
            os.close(master)
            os.close(slave)
        return self.record(code, output.decode("utf-8", "replace"))

    def record(self, code: int, output: str) -> tuple[int, str]:
        self.outputs.append(output)
        return code, output

    def contact(self, contact_id: str) -> dict[str, object]:
        answer = requests.get(
            f"http://127.0.0.1:{self.port}/v1/contacts/{contact_id}",
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "User-Agent": "e2e"},
            timeout=10,
        )
        answer.raise_for_status()
        data: dict[str, object] = answer.json()["data"]
        return data

    def ids(self) -> list[str]:
        return (self.cwd / "ids.txt").read_text(encoding="utf-8").split()


@pytest.fixture
def walker(tmp_path: Path) -> Iterator[Walker]:
    person = Walker(tmp_path)
    yield person
    person.stop_sandbox()


def set_up(walker: Walker) -> tuple[str, list[str]]:
    """Section 4's rehearsal: the sandbox in its own terminal, then the setup lines."""
    text = DOC.read_text(encoding="utf-8")
    assert walk_commands(text) == WALK
    sandbox, setup = rehearsal(text)
    walker.start_sandbox(sandbox)
    for line in setup:
        assert walker.shell(line)[0] == 0, line
    assert len(walker.ids()) == 3
    return sandbox, walk_commands(text)


def walk(
    walker: Walker, commands: list[str], before: dict[str, Callable[[], None]] | None = None
) -> dict[str, tuple[int, str]]:
    """Every command of the walk, in order; ``before[command]`` runs just before it."""
    seen = {}
    for command in commands:
        (before or {}).get(command, lambda: None)()
        if command == "dexbulk auth login":
            seen[command] = walker.terminal(command, typed=DEFAULT_API_KEY)
        else:
            seen[command] = walker.shell(command)
    for output in walker.outputs:
        assert DEFAULT_API_KEY not in output, "the key must never be shown"
    return seen


def test_the_walk_works_as_written_in_a_fresh_home(walker: Walker) -> None:
    _, commands = set_up(walker)
    seen = walk(walker, commands)
    assert {command: code for command, (code, _) in seen.items()} == dict.fromkeys(WALK, 0)
    assert "stored in" in seen["dexbulk auth login"][1]
    assert "300 contacts" in seen["dexbulk auth status"][1]
    assert "Dry run" in seen["dexbulk star --from ids.txt --dry-run"][1]
    assert "star" in seen["dexbulk runs"][1]
    assert "no failures" in seen["dexbulk retry last --failed"][1]
    # Starred by the real run, then put back by the last command.
    assert all(walker.contact(i)["starred"] is False for i in walker.ids())


def test_the_walks_retry_sends_what_failed(walker: Walker) -> None:
    sandbox, commands = set_up(walker)
    starred: list[bool] = []

    def fail_every_request() -> None:
        # The run reads current values first, so the read must work and every update fail.
        rejected = [flag for i in walker.ids() for flag in ("--reject", i)]
        walker.start_sandbox(sandbox, *rejected)
        walker.env["DEXBULK_MAX_ATTEMPTS"] = "1"  # fail at once rather than after backoff

    def recover() -> None:
        walker.start_sandbox(sandbox)
        del walker.env["DEXBULK_MAX_ATTEMPTS"]

    def look() -> None:
        starred.extend(bool(walker.contact(i)["starred"]) for i in walker.ids())

    seen = walk(
        walker, commands,
        before={REAL_RUN: fail_every_request, "dexbulk runs": recover,
                "dexbulk unstar --from ids.txt": look},
    )  # fmt: skip
    codes = {command: code for command, (code, _) in seen.items()}
    assert codes == {**dict.fromkeys(WALK, 0), REAL_RUN: 1}  # reached Dex, every contact refused
    shown = seen["dexbulk runs show last"][1]
    assert all(contact_id in shown for contact_id in walker.ids()), "each failure is listed"
    assert starred == [True, True, True], "the retry sent the failed contacts"
