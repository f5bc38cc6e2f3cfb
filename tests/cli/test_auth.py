"""``dexbulk auth`` and ``dexbulk config`` (``dexbulk.cli.auth``), through the real commands."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from dexbulk.cli.auth import config_document, config_rows
from dexbulk.settings import DEFAULT_API_URL, resolve_settings
from tests.cli.test_app import API, invoke
from tests.conftest import TEST_KEY
from tests.test_credentials import BrokenKeyring

COUNT_URL = f"{API}/contacts/count"
MASKED = f"{TEST_KEY[:6]}…{TEST_KEY[-2:]}"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # The read of current values before an update: Dex holds none, so every contact is sent.
        mock.post(
            re.compile(r".*/v1/contacts/filter$"), json={"error": False, "data": {"items": []}}
        )
        mock.get(COUNT_URL, json={"error": False, "data": {"count": 42}})
        yield mock


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[default]\nrate = 2.5\napi_key = "{TEST_KEY}"\n')
    return path


# -- config show ----------------------------------------------------------------------------------


def test_config_rows_are_text_and_mask_the_key(config: Path) -> None:
    env = {"DEXBULK_CONFIG": str(config)}
    settings = resolve_settings(flags={"batch_size": 7}, env=env, profile=None)
    where = f"config {config} [default]"
    assert config_rows(settings) == [
        ("profile", "default", "default"),
        ("config", str(config), "env DEXBULK_CONFIG"),
        ("api_url", DEFAULT_API_URL, "default"),
        ("batch_size", "7", "flag"),
        ("concurrency", "4", "default"),
        ("rate", "2.5", where),
        ("max_attempts", "5", "default"),
        ("timeout", "30", "default"),
        ("confirm_over", "20", "default"),
        ("api_key", MASKED, where),
    ]
    assert config_document(settings)["batch_size"] == {"value": 7, "source": "flag"}


def test_config_show_json_gives_numbers_as_numbers(config: Path) -> None:
    run = invoke("config", "show", "--json", key=None, DEXBULK_CONFIG=str(config))
    assert run.code == 0, run
    document = json.loads(run.stdout)
    values = {name: row["value"] for name, row in document.items()}
    assert values == {
        "profile": "default", "config": str(config), "api_url": API, "batch_size": 100,
        "concurrency": 4, "rate": 2.5, "max_attempts": 5, "timeout": 30.0, "confirm_over": 20,
        "api_key": MASKED,
    }  # fmt: skip
    assert document["config"]["exists"] is True
    assert document["api_url"]["source"] == "env DEX_API_URL"


def test_config_show_json_says_no_rate_limit_with_null_and_a_missing_file(tmp_path: Path) -> None:
    run = invoke("config", "show", "--json", key=None, XDG_CONFIG_HOME=str(tmp_path))
    assert run.code == 0, run
    document = json.loads(run.stdout)
    assert document["rate"] == {"value": None, "source": "default"}
    assert document["config"]["exists"] is False
    assert document["config"]["value"] == str(tmp_path / "dexbulk" / "config.toml")


def test_config_show_table_says_unlimited_and_not_found(tmp_path: Path) -> None:
    run = invoke("config", "show", key=None, XDG_CONFIG_HOME=str(tmp_path))
    assert run.code == 0, run
    assert "unlimited" in run.stdout
    assert "(not found)" in run.stdout


# -- auth status ----------------------------------------------------------------------------------


def test_auth_status_without_a_keyring_backend_says_nothing_of_it(api, config: Path) -> None:
    # tests/conftest.py selects keyring's fail.Keyring: the keyring extra, but no backend.
    run = invoke("auth", "status", key=None, DEXBULK_CONFIG=str(config))
    assert run.code == 0, run
    assert run.stderr.splitlines() == [
        f"key: {MASKED} (from config {config} [default])",
        f"valid: {API} accepted the key: 42 contacts",
    ]


def test_auth_status_verbose_says_why_there_is_no_keyring_in_one_line(api, config) -> None:
    run = invoke("auth", "status", "-v", key=None, DEXBULK_CONFIG=str(config), COLUMNS="80")
    assert run.code == 0, run
    lines = run.stderr.splitlines()
    assert len(lines) == 3, run
    assert lines[1].startswith("  keyring: NoKeyringError: No recommended backend")


def test_auth_status_without_any_key_is_short(api) -> None:
    run = invoke("auth", "status", key=None)
    assert run.code == 3, run
    assert run.stderr.splitlines() == [
        "Not logged in: no key in DEX_API_KEY, the keyring or the config file.",
        "hint: run 'dexbulk auth login'",
    ]


def test_auth_status_shows_a_keyring_that_failed(api, config, monkeypatch) -> None:
    import keyring
    from keyring.errors import KeyringLocked

    monkeypatch.setattr(keyring, "get_keyring", lambda: BrokenKeyring(KeyringLocked("locked")))
    run = invoke("auth", "status", key=None, DEXBULK_CONFIG=str(config))
    assert run.code == 0, run
    assert "  keyring: KeyringLocked: locked" in run.stderr.splitlines()


def test_auth_status_reads_the_config_file_once_and_asks_once(api, reads, config) -> None:
    run = invoke("auth", "status", key=None, DEXBULK_CONFIG=str(config))
    assert run.code == 0, run
    assert reads == {config: 1}
    assert [call.request.url for call in api.calls] == [COUNT_URL]
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {TEST_KEY}"
