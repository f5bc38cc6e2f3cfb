"""The CLI's wiring of settings and the key (``dexbulk.cli.context``), through the real commands."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from tests.cli.test_app import PUT_URL, A, B, bodies, invoke, ok
from tests.conftest import TEST_KEY


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # The read of current values before an update: Dex holds none, so every contact is sent.
        mock.post(
            re.compile(r".*/v1/contacts/filter$"), json={"error": False, "data": {"items": []}}
        )
        yield mock


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_run_reads_the_config_file_once(api, reads, tmp_path: Path, dry_run: bool) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[default]\nbatch_size = 1\napi_key = "{TEST_KEY}"\n')
    api.put(PUT_URL, json=ok(1))
    flags = ["--dry-run", "--json"] if dry_run else []
    run = invoke("star", "--ids", f"{A},{B}", *flags, key=None, DEXBULK_CONFIG=str(config))
    assert run.code == 0, run
    assert reads == {config: 1}
    if not dry_run:  # the batch size and the key both came from that one read
        assert [len(body) for body in bodies(api)] == [1, 1]
        assert api.calls[0].request.headers["Authorization"] == f"Bearer {TEST_KEY}"


def test_resume_and_retry_carry_the_runs_settings_unless_told_otherwise(api) -> None:
    api.put(PUT_URL, status=500, json={"error": True})
    first = invoke("star", "--ids", f"{A},{B}", "--batch-size", "1", "--max-attempts", "1")
    assert first.code == 4, first
    api.replace(responses.PUT, PUT_URL, json=ok(1))
    start = len(bodies(api))
    again = invoke("retry", "last", "--json")
    assert again.code == 0, again
    assert json.loads(again.stdout)["batchSize"] == 1
    assert [len(body) for body in bodies(api)[start:]] == [1, 1], "sent with --batch-size 1"


def test_a_flag_given_to_retry_wins_over_the_runs_setting(api) -> None:
    api.put(PUT_URL, status=500, json={"error": True})
    first = invoke("star", "--ids", f"{A},{B}", "--batch-size", "1", "--max-attempts", "1")
    assert first.code == 4, first
    api.replace(responses.PUT, PUT_URL, json=ok(2))
    start = len(bodies(api))
    again = invoke("retry", "last", "--batch-size", "5")
    assert again.code == 0, again
    assert [len(body) for body in bodies(api)[start:]] == [2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "0"], "error: --timeout: 0 is out of range (expected a number > 0)"),
        (["--rate", "-1"], "error: --rate: -1 is out of range (expected a number > 0)"),
        (["--batch-size", "501"], "error: Invalid value '501' for '--batch-size'"),
    ],
)
def test_an_out_of_range_flag_is_one_line_and_sends_nothing(api, args, message) -> None:
    run = invoke("star", "--ids", A, *args)
    assert run.code == 2, run
    assert run.stderr.startswith(message), run
    assert len(api.calls) == 0


def test_an_api_key_that_cannot_be_a_header_is_exit_2_and_sends_nothing(api) -> None:
    bad = TEST_KEY + "\u2019"  # a smart quote pasted with it
    run = invoke("star", "--ids", A, key=bad)
    assert run.code == 2, run
    assert run.stderr.startswith(
        "error: env DEX_API_KEY: the API key contains a character that cannot be sent in an "
        "HTTP header"
    ), run
    assert len(api.calls) == 0


def test_no_key_names_auth_login_once(api) -> None:
    run = invoke("star", "--ids", A, key=None)
    assert run.code == 2, run
    assert run.stderr.count("dexbulk auth login") == 1, run
    assert len(api.calls) == 0
