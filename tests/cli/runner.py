"""The result of one ``CliRunner`` invocation, as the CLI tests look at it."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import TEST_KEY


class Run:
    """One CliRunner invocation (exit code, stdout, stderr), checked for key leaks."""

    def __init__(self, result: Any) -> None:
        self.code: int = result.exit_code
        self.stdout: str = result.stdout
        self.stderr: str = result.stderr
        assert TEST_KEY not in self.stdout, "the API key leaked to stdout"
        assert TEST_KEY not in self.stderr, "the API key leaked to stderr"

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"Run({self.code}, stdout={self.stdout[-900:]!r}, stderr={self.stderr[-900:]!r})"
