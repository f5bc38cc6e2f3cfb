"""The harness itself: a sandbox subprocess and the installed command talk over a socket."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.conftest import Result, SandboxProc


def test_star_over_a_real_socket(
    sandbox: Callable[..., SandboxProc], dexbulk: Callable[..., Result]
) -> None:
    api = sandbox()
    ids = api.ids(3)
    before = [api.contact(i) for i in ids]
    result = dexbulk("star", "--ids", ",".join(ids), "--json", api=api)
    assert result.code == 0, result
    assert result.json()["updated"] == 3
    after = [api.contact(i) for i in ids]
    assert all(c is not None and c["starred"] is True for c in after)
    assert before != after or all(c and c["starred"] for c in before)
    assert api.stats()["put_requests"] == 1
