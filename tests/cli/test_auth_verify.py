"""``auth login`` / ``auth status`` prove a key against the API, and the key's host is named.

HTTP is mocked with ``responses``, except where a real closed port on 127.0.0.1 is the point.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.settings import foreign_host_warning
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"
COUNT_URL = f"{API}/contacts/count"
PUT_URL = f"{API}/contacts/"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
EXPRESS_404 = "<!DOCTYPE html><html><body><pre>Cannot GET /v2/contacts/count</pre></body></html>"
ENVELOPE = {"error": False, "data": {"count": 1234}}


def invoke(*args: str, stdin: str = "", **env: str) -> Run:
    environ = {"COLUMNS": "200", "NO_COLOR": "1", **env}
    return Run(CliRunner().invoke(app, list(args), input=stdin, env=environ))


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # The read of current values before an update: Dex holds none, so every contact is sent.
        mock.post(
            re.compile(r".*/v1/contacts/filter$"), json={"error": False, "data": {"items": []}}
        )
        yield mock


@pytest.fixture
def config() -> Path:
    """Where ``auth login`` stores the key: the test keyring always fails, so the config file
    in the isolated ``XDG_CONFIG_HOME`` (tests/conftest.py)."""
    return Path(os.environ["XDG_CONFIG_HOME"]) / "dexbulk" / "config.toml"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def login(url: str, key: str = TEST_KEY, *extra: str) -> Run:
    return invoke("auth", "login", "--with-token", "--api-url", url, *extra, stdin=key + "\n")


# -- auth login ----------------------------------------------------------------------------


def test_login_to_a_closed_port_stores_nothing(config: Path) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    run = login(url, "dex_wrong")
    assert run.code == 4, run
    assert f"error: cannot reach {url}: connection refused by 127.0.0.1:{port}" in run.stderr
    assert "hint: nothing was stored (--no-verify stores a key unchecked)" in run.stderr
    assert "Logged in" not in run.stderr
    assert not config.exists()


@pytest.mark.parametrize(
    ("status", "body", "code", "words"),
    [
        (401, {"error": True, "message": "invalid key"}, 3, "Dex refused the API key: HTTP 401"),
        (404, EXPRESS_404, 4, f"{API} does not look like the Dex API (HTTP 404)"),
        (500, {"error": True, "message": "db down"}, 4, f"{API} answered HTTP 500: db down"),
    ],
)
def test_login_with_a_key_that_is_not_proven_stores_nothing(
    api: responses.RequestsMock, config: Path, status: int, body: object, code: int, words: str
) -> None:
    if isinstance(body, str):
        api.get(COUNT_URL, status=status, body=body, content_type="text/html")
    else:
        api.get(COUNT_URL, status=status, json=body)
    run = login(API)
    assert run.code == code, run
    assert f"error: {words}" in run.stderr
    assert "nothing was stored" in run.stderr
    assert not config.exists()


def test_login_stores_a_key_dex_accepted(api: responses.RequestsMock, config: Path) -> None:
    api.get(COUNT_URL, json=ENVELOPE)
    run = login(API)
    assert run.code == 0, run
    assert f"Logged in: {API} accepted" in run.stderr
    assert "(1,234 contacts)" in run.stderr
    assert TEST_KEY in config.read_text()
    assert len(api.calls) == 1


def test_login_no_verify_stores_without_a_request_and_says_so(
    api: responses.RequestsMock, config: Path
) -> None:
    run = login(f"http://127.0.0.1:{closed_port()}/v1", TEST_KEY, "--no-verify")
    assert run.code == 0, run
    assert "without checking it (--no-verify)" in run.stderr
    assert TEST_KEY in config.read_text()
    assert len(api.calls) == 0


# -- auth status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "words"),
    [
        (500, {"error": True, "message": "db down"}, None, 4, "answered HTTP 500: db down"),
        (404, EXPRESS_404, None, 4, "does not look like the Dex API (HTTP 404)"),
        (307, "", {"Location": "https://elsewhere.test/v1"}, 4,
         "does not look like the Dex API (HTTP 307 redirect to https://elsewhere.test/v1"),
        (200, "<html>Welcome</html>", None, 4, "(HTTP 200 with an HTML page)"),
        (200, {"count": 3}, None, 4, "(HTTP 200 without Dex's JSON answer)"),
        (401, {"error": True, "message": "invalid key"}, None, 3, "refused by"),
        (403, {"error": True, "message": "plan"}, None, 3, "refused by"),
    ],
)  # fmt: skip
def test_status_calls_a_key_valid_only_when_dex_accepts_it(
    api: responses.RequestsMock,
    status: int,
    body: object,
    headers: dict[str, str] | None,
    code: int,
    words: str,
) -> None:
    if isinstance(body, str):
        api.get(COUNT_URL, status=status, body=body, headers=headers, content_type="text/html")
    else:
        api.get(COUNT_URL, status=status, json=body, headers=headers)
    run = invoke("auth", "status", "--api-url", API, DEX_API_KEY=TEST_KEY)
    assert run.code == code, run
    assert words in run.stderr
    assert "valid" not in run.stderr.replace("invalid", "")
    assert "accepted" not in run.stderr


def test_status_on_a_closed_port_exits_4() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    run = invoke("auth", "status", "--api-url", url, DEX_API_KEY=TEST_KEY)
    assert run.code == 4, run
    assert f"cannot reach {url}: connection refused by 127.0.0.1:{port}" in run.stderr
    assert "valid" not in run.stderr


def test_status_valid_with_the_count(api: responses.RequestsMock) -> None:
    api.get(COUNT_URL, json=ENVELOPE)
    run = invoke("auth", "status", "--api-url", API, DEX_API_KEY=TEST_KEY)
    assert run.code == 0, run
    assert f"valid: {API} accepted the key: 1,234 contacts" in run.stderr


# -- the host the key goes to --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.prod.getdex.com/v1", None),
        ("https://getdex.com/v1", None),
        ("https://API.GetDex.com./v1", None),
        ("http://127.0.0.1:8765/v1", None),
        ("http://localhost:8765/v1", None),
        ("http://[::1]:8765/v1", None),
        ("https://dex.example.net/v1", "dex.example.net"),
        ("https://api.prod.getdex.com.evil.net/v1", "api.prod.getdex.com.evil.net"),
        ("https://notgetdex.com/v1", "notgetdex.com"),
        ("https://10.0.0.5/v1", "10.0.0.5"),
    ],
)
def test_a_host_that_is_neither_dex_nor_local_is_named(url: str, host: str | None) -> None:
    warning = foreign_host_warning(url)
    if host is None:
        assert warning is None
    else:
        assert (
            warning == f"the API key will be sent to {host}, which is not a Dex host (getdex.com)"
        )


FOREIGN = "https://dex.example.net/v1"
WARNING = "warning: the API key will be sent to dex.example.net, which is not a Dex host"


def test_a_run_to_a_foreign_host_warns_once_before_sending(api: responses.RequestsMock) -> None:
    api.put(f"{FOREIGN}/contacts/", json={"error": False, "data": {"count": 1}})
    run = invoke("star", "--ids", A, "--quiet", DEX_API_KEY=TEST_KEY, DEX_API_URL=FOREIGN)
    assert run.code == 0, run
    assert run.stderr.splitlines() == [f"{WARNING} (getdex.com)"], "even with --quiet"


def test_a_run_to_dex_does_not_warn(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json={"error": False, "data": {"count": 1}})
    run = invoke("star", "--ids", A, "--quiet", DEX_API_KEY=TEST_KEY, DEX_API_URL=API)
    assert (run.code, run.stderr) == (0, "")


def test_a_dry_run_without_a_read_sends_no_key_and_does_not_warn() -> None:
    # A dry run reads current values (the key goes to the host, and is named); --no-read none.
    run = invoke(
        "star", "--ids", A, "--dry-run", "--no-read", DEX_API_KEY=TEST_KEY, DEX_API_URL=FOREIGN
    )
    assert run.code == 0, run
    assert "warning" not in run.stderr


@pytest.mark.parametrize("command", ["status", "login"])
def test_auth_names_a_foreign_host_before_checking(
    api: responses.RequestsMock, command: str
) -> None:
    api.get(f"{FOREIGN}/contacts/count", json=ENVELOPE)
    if command == "login":
        run = login(FOREIGN)
    else:
        run = invoke("auth", "status", "--api-url", FOREIGN, DEX_API_KEY=TEST_KEY)
    assert run.code == 0, run
    assert WARNING in run.stderr
