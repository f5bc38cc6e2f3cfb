"""Every JSON document dexbulk writes on stdout is UTF-8, whatever the text it carries: a lone
surrogate (an argument's undecodable byte, a ``\\udc9b`` in Dex's answer) is written as the
``\\udc9b`` escape, which reads back as the same string."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dexbulk.cli.app import app
from dexbulk.cli.env import Env
from tests.cli.test_app import API, A
from tests.conftest import TEST_KEY

FILTER_URL = f"{API}/contacts/filter"
ODD = "Od\udc9bCo"
# Dex's JSON can carry a lone surrogate as an escape (json.dumps writes it so by default).
ANSWER = json.dumps(
    {"error": False, "data": {"items": [{"id": A, "full_name": "Ada", "company": ODD}]}}
)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(FILTER_URL, body=ANSWER, content_type="application/json")
        yield mock


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Env, "stdin_piped", property(lambda _self: False))


def stdout_json(*args: str) -> tuple[int, Any]:
    """Run dexbulk; its exit code and its stdout, which must be UTF-8 JSON."""
    env = {"DEX_API_URL": API, "DEX_API_KEY": TEST_KEY, "NO_COLOR": "1"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    text = result.stdout_bytes.decode("utf-8")  # strict: a raw surrogate byte fails here
    return result.exit_code, json.loads(text)


def test_a_value_that_is_not_utf8_is_exit_2_in_utf8_json(api: responses.RequestsMock) -> None:
    code, document = stdout_json("set", "company=\udc9b", "--ids", A, "--dry-run", "--json")
    assert code == 2
    assert "'\\udc9b' is not UTF-8 text" in document["error"]["message"]
    assert not api.calls


def test_a_lone_surrogate_in_dex_answer_is_escaped_in_the_dry_run(
    api: responses.RequestsMock,
) -> None:
    code, document = stdout_json("set", "company=NewCo", "--ids", A, "--dry-run", "--json")
    assert code == 0
    assert document["preview"]["contacts"][0]["before"] == {"company": ODD}


@pytest.mark.usefixtures("no_stdin", "api")
def test_ls_json_and_json_lines_escape_a_lone_surrogate() -> None:
    code, listed = stdout_json("ls", "--all", "--format", "json")
    assert (code, listed[0]["company"]) == (0, ODD)
    code, line = stdout_json("ls", "--all", "--format", "jsonl")  # one contact: one line
    assert (code, line["company"]) == (0, ODD)
