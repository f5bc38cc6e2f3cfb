"""Where `dexbulk resume` and `retry` send: --api-url > DEX_API_URL > the run's journal >
the config profile > the default; and which run `last` picked, said before acting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from tests.cli.test_app import API, A, B, invoke, ok

OTHER = "https://api.staging.getdex.com/v1"
CONFIGURED = "https://api.config.getdex.com/v1"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """Dex at three URLs: every read finds nothing, every PUT updates what it is sent."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for url in (API, OTHER, CONFIGURED):
            mock.post(f"{url}/contacts/filter", json={"error": False, "data": {"items": []}})
        yield mock


def _failed_run(api: responses.RequestsMock) -> None:
    """A run at API whose two contacts both failed (so retry has them to resend)."""
    api.put(f"{API}/contacts/", status=500, json={"error": True})
    first = invoke("star", "--ids", f"{A},{B}", "--max-attempts", "1")
    assert first.code == 4, first
    api.replace(responses.PUT, f"{API}/contacts/", json=ok(2))
    for url in (OTHER, CONFIGURED):
        api.put(f"{url}/contacts/", json=ok(2))


def _put_urls(api: responses.RequestsMock, start: int) -> set[str]:
    puts = [c for c in api.calls[start:] if c.request.method == "PUT"]
    return {str(c.request.url).rsplit("/contacts/", 1)[0] for c in puts}


@pytest.mark.parametrize("command", ["retry", "resume"])
@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], {}, API),  # the journal's URL (the env still names it)
        ([], {"DEX_API_URL": OTHER}, OTHER),  # the environment beats the journal
        (["--api-url", OTHER], {"DEX_API_URL": CONFIGURED}, OTHER),  # the flag beats both
        ([], {"DEX_API_URL": "", "CONFIG": CONFIGURED}, API),  # the journal beats the config
    ],
)
def test_resume_and_retry_send_to_flag_then_env_then_the_journal(
    api: responses.RequestsMock,
    tmp_path: Path,
    command: str,
    flags: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    _failed_run(api)
    environ = dict(env)
    configured = environ.pop("CONFIG", None)
    if configured is not None:
        config = tmp_path / "config.toml"
        config.write_text(f'[default]\napi_url = "{configured}"\n')
        environ["DEXBULK_CONFIG"] = str(config)
    start = len(api.calls)
    again = invoke(command, "last", "--json", *flags, **environ)
    assert again.code == 0, again
    assert _put_urls(api, start) == {expected}
    assert json.loads(again.stdout)["updated"] == 2
