"""Tag and group names against the sandbox: a misspelt one is exit 2 with the close names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import Result, SandboxApi


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ls", "--tag", "investr"],
            "--tag 'investr': no such tag in Dex (did you mean 'investor'?)",
        ),
        (
            ["star", "--tag", "ivnestor"],
            "--tag 'ivnestor': no such tag in Dex (did you mean 'investor'",
        ),
        (["ls", "--group", "wrk"], "--group 'wrk': no such group in Dex (did you mean 'Work'?)"),
    ],
)
def test_a_misspelt_name_suggests_the_real_one(
    sandbox: Callable[..., SandboxApi],
    dexbulk: Callable[..., Result],
    args: list[str],
    message: str,
) -> None:
    api = sandbox()
    before = api.stats()["by_route"]
    piped = "".join(f"{i}\n" for i in api.ids(3))  # the filter narrows them (stdin is a pipe)
    result = dexbulk(*args, "--dry-run" if args[0] == "star" else "--count", api=api, input=piped)
    assert result.code == 2, result
    assert message in result.stderr
    assert "POST /v1/contacts/filter" not in set(api.stats()["by_route"]) - set(before)
