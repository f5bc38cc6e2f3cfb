"""The real thing: the installed ``dexbulk`` and a ``dexbulk sandbox`` process, over a socket.

The rest of the end-to-end tests run both in the test process (see ``conftest.py``); this one
checks that the console script and the sandbox command do what the harness stands in for.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import Result, SandboxApi, SandboxProc


@pytest.mark.subprocess
def test_star_over_a_real_socket(
    sandbox: Callable[..., SandboxApi], dexbulk: Callable[..., Result]
) -> None:
    api = sandbox()
    assert isinstance(api, SandboxProc), "a real `dexbulk sandbox` process"
    ids = api.ids(3)
    before = [api.contact(i) for i in ids]
    result = dexbulk("star", "--ids", ",".join(ids), "--json", api=api)
    assert result.code == 0, result
    assert result.json()["updated"] == 3
    after = [api.contact(i) for i in ids]
    assert all(c is not None and c["starred"] is True for c in after)
    assert before != after or all(c and c["starred"] for c in before)
    assert api.stats()["put_requests"] == 1
