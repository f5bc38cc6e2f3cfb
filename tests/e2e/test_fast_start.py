"""A clean run with nobody watching stderr says its line without loading rich.

Import hygiene, not timing: rich is a third of a one-contact run's start-up
(docs/performance.md, "A fast start"), and a clean run piped or logged needs none of it. The
run is a child Python calling the console script's ``main`` against a sandbox, with stderr a
pipe; it reports which ``rich`` modules it loaded.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import SandboxApi, base_env
from tests.e2e.test_output import ONE_LINE

CHILD = """
import sys
from dexbulk.__main__ import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    code = done.code
print(code, *sorted(m for m in sys.modules if m.split(".")[0] == "rich"))
"""


def run_child(tmp_path: Path, api: SandboxApi, *args: str, **env: str) -> tuple[list[str], str]:
    """``dexbulk ARGS`` in a child Python: its exit code and rich modules, and its stderr."""
    full_env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": api.key, **env}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=full_env,
        cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done.stdout.split(), done.stderr


def test_a_clean_run_to_a_pipe_does_not_import_rich(
    sandbox: Callable[..., SandboxApi], tmp_path: Path
) -> None:
    api = sandbox()
    [contact] = api.ids(1)
    found = api.contact(contact)
    command = "unstar" if found and found["starred"] else "star"
    report, stderr = run_child(tmp_path, api, command, "--ids", contact)
    assert report[0] == "0", stderr
    assert ONE_LINE.fullmatch(stderr.rstrip("\n")), stderr
    assert report[1:] == [], f"a clean {command} imported rich"
    # Again: nothing to change, said in a line and a note.
    report, stderr = run_child(tmp_path, api, command, "--ids", contact)
    assert report[0] == "0", stderr
    assert stderr.startswith("✓ Nothing to change: 1 contact already holds these values"), stderr
    assert "\nnote: 1 contact(s) unchanged" in stderr
    assert report[1:] == [], f"a {command} with nothing to change imported rich"


def test_rich_draws_when_it_sees_a_terminal(
    sandbox: Callable[..., SandboxApi], tmp_path: Path
) -> None:
    """The check above can fail: where rich would see a terminal, rich is loaded."""
    api = sandbox()
    [contact] = api.ids(1)
    report, stderr = run_child(tmp_path, api, "star", "--ids", contact, FORCE_COLOR="1")
    assert report[0] == "0", stderr
    assert "rich.console" in report[1:]
