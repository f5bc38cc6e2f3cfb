"""Fixtures for the sandbox tests: a started in-process sandbox and a client session for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dexbulk.sandbox import Sandbox, SandboxOptions

SMALL_BOOK = 60
"""Contacts in the default test sandbox: enough for every seeded feature, quick to seed."""


class Api:
    """A ``requests`` session aimed at one sandbox, with its key and a User-Agent."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {sandbox.options.api_key}"
        self.session.headers["User-Agent"] = "dexbulk-tests/1"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send ``method`` to ``/v1`` + ``path`` with a timeout."""
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.sandbox.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request that must succeed; return the envelope's ``data``."""
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["error"] is False
        return body["data"]


MakeSandbox = Callable[..., Sandbox]
MakeApi = Callable[[Sandbox], Api]


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[MakeSandbox]:
    """Start sandboxes with the given options (default: a small book in tmp_path); stop them all."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        options.setdefault("db_path", tmp_path / "dex.sqlite3")
        options.setdefault("contacts", SMALL_BOOK)
        sandbox = Sandbox(SandboxOptions(**options)).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    """A started sandbox with default behaviour and a small address book."""
    return make_sandbox()


@pytest.fixture
def make_api() -> Iterator[MakeApi]:
    """Build client sessions for sandboxes; all are closed afterwards."""
    sessions: list[Api] = []

    def make(sandbox: Sandbox) -> Api:
        api = Api(sandbox)
        sessions.append(api)
        return api

    yield make
    for api in sessions:
        api.session.close()


@pytest.fixture
def api(sandbox: Sandbox, make_api: MakeApi) -> Api:
    """A client session for :func:`sandbox`."""
    return make_api(sandbox)
