"""Hostile input against the installed command and a real sandbox (issue 11 item 3).

Every input below once crashed dexbulk, ate gigabytes, or sent a giant request. Each must now
end in exit 2 with one error line, having sent nothing (the sandbox's own counters say so),
with the process's peak memory (its ``ru_maxrss``, read with ``os.wait4``) under 256 MiB.
The timeout is a guard against hanging, not a timing assertion.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.e2e.conftest import DEXBULK, SandboxProc, base_env

RSS_LIMIT_KB = 256 * 1024
GUARD_SECONDS = 120


# Runs dexbulk as its only child and reports the child's peak RSS. A child forked straight
# from pytest would report pytest's own size as its floor (Linux carries the pre-exec peak over).
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[3:], timeout=float(sys.argv[2]))
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(done.returncode)
"""


def run_measured(
    args: list[str], api: SandboxProc, tmp_path: Path, stdin: object = subprocess.DEVNULL
) -> tuple[int, str, int]:
    """Run dexbulk; return its exit code, its stderr and its peak RSS in KiB."""
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": TEST_KEY}
    rss_path = tmp_path / "rss.txt"
    command = [sys.executable, "-c", _MEASURE, str(rss_path), str(GUARD_SECONDS), str(DEXBULK)]
    done = subprocess.run(
        [*command, *args], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=env, cwd=tmp_path, timeout=GUARD_SECONDS + 30,
    )  # fmt: skip
    stderr = done.stderr.decode("utf-8", errors="replace")
    assert TEST_KEY not in stderr
    return done.returncode, stderr, int(rss_path.read_text())


ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
ALIAS_BOMB = "linkedin_data:\n a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f" a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 8)
)


def _deep_yaml() -> str:
    lines = ["linkedin_data:"] + ["  " * i + "a:" for i in range(1, 600)]
    return "\n".join(lines) + "\n" + "  " * 600 + "1\n"


def _sparse(path: Path, start: bytes, size: int) -> None:
    with path.open("wb") as out:
        out.write(start)
        out.truncate(size)


@pytest.fixture
def api(sandbox: Callable[..., SandboxProc]) -> SandboxProc:
    return sandbox()


def _files(tmp: Path, ids: list[str]) -> dict[str, list[str]]:
    """name -> dexbulk arguments, each with its hostile file written under ``tmp``."""
    (tmp / "bomb.yaml").write_text(ALIAS_BOMB)
    (tmp / "deep.yaml").write_text(_deep_yaml())
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp / "ids.txt").write_text("\n".join(ids) + "\n")
    (tmp / "company.json").write_text(json.dumps({"company": "x" * (10 << 20)}))
    (tmp / "twice.json").write_text(
        f'[{{"contactId": "{ids[0]}", "contactId": "{ids[1]}", "data": {{"starred": true}}}}]'
    )
    # 500 MB on one line, with text as far as dexbulk looks to tell the format (sparse on disk).
    _sparse(tmp / "one-line.txt", b"company: " + b"x" * (1 << 17), 500 << 20)
    return {
        "YAML alias bomb": ["apply", "bomb.yaml", "--from", "ids.txt"],
        "YAML nested 600 deep": ["apply", "deep.yaml", "--from", "ids.txt"],
        "JSON nested 100k deep in apply": ["apply", "deep.json", "--from", "ids.txt"],
        "JSON nested 100k deep in --from": ["star", "--from", "deep.json"],
        "JSON nested 100k deep in :=": [
            "set",
            "linkedin_data:=" + "[" * 50_000 + "]" * 50_000,
            "--from",
            "ids.txt",
        ],
        "birthday_year of 5000 digits": ["set", "birthday_year=" + "1" * 5000, "--from", "ids.txt"],
        "company of 10 MB for 1,000 contacts": ["apply", "company.json", "--from", "ids.txt"],
        "apply /dev/zero": ["apply", "/dev/zero", "--from", "ids.txt"],
        "--from /dev/zero": ["star", "--from", "/dev/zero"],
        "500 MB on one line": ["apply", "one-line.txt", "--from", "ids.txt"],
        "a contactId given twice": ["apply", "twice.json"],
    }


CASES = [
    "YAML alias bomb",
    "YAML nested 600 deep",
    "JSON nested 100k deep in apply",
    "JSON nested 100k deep in --from",
    "JSON nested 100k deep in :=",
    "birthday_year of 5000 digits",
    "company of 10 MB for 1,000 contacts",
    "apply /dev/zero",
    "--from /dev/zero",
    "500 MB on one line",
    "a contactId given twice",
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_file_ends_in_exit_2_sending_nothing(
    api: SandboxProc, tmp_path: Path, case: str
) -> None:
    args = _files(tmp_path, api.ids(1_000))[case]
    before = api.stats()["requests"]
    code, stderr, rss_kb = run_measured(args, api, tmp_path)
    assert code == 2, stderr
    assert stderr.startswith("error: "), stderr
    assert len(stderr.splitlines()) <= 2, stderr  # the error, and perhaps a hint
    assert "Traceback" not in stderr
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb / 1024:.0f} MiB"
    assert api.stats()["requests"] == before


@pytest.mark.parametrize(
    ("case", "producer"),
    [
        (
            "endless NULs on stdin",
            "import sys\nwhile True: sys.stdout.buffer.write(bytes(1 << 16))",
        ),
        (
            "endless text without line ends",
            "import sys\nsys.stdout.write('company: ')\nwhile True: sys.stdout.write('x' * 65536)",
        ),
    ],
)
@pytest.mark.parametrize("command", [["apply", "-", "--ids", ID], ["star", "--from", "-"]])
def test_endless_stdin_ends_in_exit_2(
    api: SandboxProc, tmp_path: Path, case: str, producer: str, command: list[str]
) -> None:
    feeder = subprocess.Popen(
        [sys.executable, "-c", producer], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert feeder.stdout is not None
    try:
        code, stderr, rss_kb = run_measured(command, api, tmp_path, stdin=feeder.stdout)
    finally:
        feeder.stdout.close()
        feeder.kill()
        feeder.wait()
    assert code == 2, stderr
    assert stderr.startswith("error: <stdin>"), stderr
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb / 1024:.0f} MiB"
    assert api.stats()["requests"] == 0
