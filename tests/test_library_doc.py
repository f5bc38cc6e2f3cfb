"""docs/library.md's example runs as written against a real sandbox, without the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from dexbulk.sandbox import Sandbox, SandboxOptions
from tests.conftest import TEST_KEY

DOC = Path(__file__).resolve().parent.parent / "docs" / "library.md"


def example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/library.md has no python example"
    return str(blocks[0])


def test_the_library_example_stars_contacts_in_the_sandbox(tmp_path: Path) -> None:
    check = "\nimport sys\nassert 'typer' not in sys.modules and 'rich' not in sys.modules\n"
    with Sandbox(SandboxOptions(db_path=tmp_path / "s.sqlite3", api_key=TEST_KEY)) as sandbox:
        unstarred = [c for c in sandbox.store.all_ids() if not sandbox.store.get(c)["starred"]]
        done = subprocess.run(
            [sys.executable, "-c", example() + check],
            env={"DEX_API_URL": sandbox.url, "DEX_API_KEY": TEST_KEY, "PATH": ""},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        starred_now = [c for c in unstarred if sandbox.store.get(c)["starred"]]
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[0] == "OK 20 contacts starred"
    assert len(starred_now) == 20
