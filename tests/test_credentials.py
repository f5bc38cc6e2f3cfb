"""Tests for dexbulk.credentials: lookup order, keyring fallback, storing and deleting keys."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError

from dexbulk.credentials import (
    KeyStatus,
    delete_api_key,
    find_api_key,
    key_status,
    looks_like_dex_key,
    store_api_key,
    validate_api_key,
)
from dexbulk.errors import ConfigError, InvalidInput, MissingCredentials
from dexbulk.secret import ApiKey
from dexbulk.settings import Settings, resolve_settings

KEY = "dex_TESTSECRET_abc123"


class FakeKeyring:
    """An in-memory keyring. Not a KeyringBackend subclass: those register themselves globally."""

    def __init__(self, stored: dict[tuple[str, str], str] | None = None) -> None:
        self.stored = dict(stored or {})

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.stored:
            raise PasswordDeleteError("not found")
        del self.stored[(service, username)]


class BrokenKeyring:
    """A keyring whose every call fails the way real ones do (locked, no D-Bus, ...)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    set_password = delete_password = get_password


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def settings_for(path: Path, profile: str = "default") -> Settings:
    """What a run resolved: the profile, and the key the config file held (it may not exist)."""
    return resolve_settings(
        flags={}, env={"DEXBULK_CONFIG": str(path)}, profile=profile, allow_new_profile=True
    )


def find(path: Path, *, flag: str | None = None, env: dict[str, str] | None = None,
         profile: str = "default", backend: object = None) -> ApiKey:  # fmt: skip
    return find_api_key(
        flag=flag, env=env or {}, settings=settings_for(path, profile), keyring_backend=backend
    )


def status_of(path: Path, *, flag: str | None = None, env: dict[str, str] | None = None,
              backend: object = None) -> KeyStatus:  # fmt: skip
    return key_status(
        flag=flag, env=env or {}, settings=settings_for(path), keyring_backend=backend
    )


@pytest.mark.parametrize(
    ("present", "expected_source"),
    [
        ({"flag", "env", "keyring", "config"}, "--api-key"),
        ({"env", "keyring", "config"}, "env DEX_API_KEY"),
        ({"keyring", "config"}, "keyring"),
        ({"config"}, "config {path} [profile.work]"),
    ],
)
def test_lookup_order(path, present, expected_source):
    path.write_text('[profile.work]\napi_key = "dex_from_config"\n' if "config" in present else "")
    backend = FakeKeyring({("dexbulk", "work"): "dex_from_keyring"} if "keyring" in present else {})
    env = {"DEX_API_KEY": "dex_from_env"} if "env" in present else {}
    flag = "dex_from_flag" if "flag" in present else None
    key = find(path, flag=flag, env=env, profile="work", backend=backend)
    assert key.source == expected_source.format(path=path)
    assert key.reveal() == {"-": "dex_from_flag", "e": "dex_from_env", "k": "dex_from_keyring",
                            "c": "dex_from_config"}[expected_source[0]]  # fmt: skip


def test_keyring_username_is_the_profile(path):
    backend = FakeKeyring({("dexbulk", "default"): "dex_default", ("dexbulk", "work"): "dex_work"})
    assert find(path, profile="work", backend=backend).reveal() == "dex_work"
    assert find(path, backend=backend).reveal() == "dex_default"


def test_empty_env_and_keyring_values_are_skipped(path):
    path.write_text('[default]\napi_key = "dex_file"\n')
    backend = FakeKeyring({("dexbulk", "default"): "  "})
    assert find(path, env={"DEX_API_KEY": ""}, backend=backend).reveal() == "dex_file"


def test_no_key_anywhere_names_auth_login_once(path):
    with pytest.raises(MissingCredentials) as info:
        find(path, backend=FakeKeyring())
    assert str(info.value) == f"no API key: none in DEX_API_KEY, the keyring or {path}"
    assert info.value.hint == "run 'dexbulk auth login' to store one, or set DEX_API_KEY"
    assert f"{info.value} {info.value.hint}".count("dexbulk auth login") == 1


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("flag", InvalidInput, "--api-key: the API key contains {bad}"),
        ("env", InvalidInput, "env DEX_API_KEY: the API key contains {bad}"),
        ("keyring", InvalidInput, "keyring: the API key contains {bad}"),
        ("config", ConfigError, "config {path} [default]: the API key contains {bad}"),
    ],
)  # fmt: skip
def test_malformed_keys_name_the_source_not_the_key(path, source, error, message):
    bad = "dex_TESTSECRET abc123"
    path.write_text(f'[default]\napi_key = "{bad}"\n' if source == "config" else "")
    with pytest.raises(error) as info:
        find(
            path,
            flag=bad if source == "flag" else None,
            env={"DEX_API_KEY": bad} if source == "env" else {},
            backend=FakeKeyring({("dexbulk", "default"): bad} if source == "keyring" else {}),
        )
    assert str(info.value) == message.format(path=path, bad="whitespace or control characters")
    assert "TESTSECRET" not in str(info.value) + repr(info.value)


WHITESPACE = "the API key contains whitespace or control characters"
NOT_LATIN_1 = "the API key contains a character that cannot be sent in an HTTP header"
LATIN = "not Latin-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--api-key: the API key is empty"),
        ("dex_TESTSECRET\x00b", f"--api-key: {WHITESPACE}"),
        ("dex_TESTSECRET\x7fb", f"--api-key: {WHITESPACE}"),
        ("dex_TESTSECRET\tb", f"--api-key: {WHITESPACE}"),
        ("dex_TESTSECRET b", f"--api-key: {WHITESPACE}"),
        ("dex_TESTSECRET\u00a0b", f"--api-key: {WHITESPACE}"),  # a no-break space
        ("dex_TESTSECRET\u2019b", f"--api-key: {NOT_LATIN_1} (character 15 of 16, {LATIN})"),
        ("dex_TESTSECRET\U0001f511", f"--api-key: {NOT_LATIN_1} (character 15 of 15, {LATIN})"),
        ("\u201cdex_TESTSECRET\u201d", f"--api-key: {NOT_LATIN_1} (character 1 of 16, {LATIN})"),
    ],
)  # fmt: skip
def test_validate_api_key_rejects_what_cannot_be_a_header(text, message):
    with pytest.raises(InvalidInput) as info:
        validate_api_key(text, source="--api-key")
    assert str(info.value) == message
    assert "TESTSECRET" not in str(info.value) + repr(info.value) + str(info.value.hint)


def test_latin_1_keys_are_accepted_as_http_client_can_send_them():
    assert validate_api_key("dex_caf\u00e9", source="--api-key").reveal() == "dex_caf\u00e9"


@pytest.mark.parametrize("source", ["env", "config"])
def test_a_key_that_cannot_be_a_header_is_refused_wherever_it_comes_from(path, source):
    bad = "dex_TESTSECRET\u2019abc"
    path.write_text(f'[default]\napi_key = "{bad}"\n' if source == "config" else "")
    env = {"DEX_API_KEY": bad} if source == "env" else {}
    error = ConfigError if source == "config" else InvalidInput
    with pytest.raises(error) as info:
        find(path, env=env, backend=FakeKeyring())
    where = f"config {path} [default]" if source == "config" else "env DEX_API_KEY"
    assert str(info.value).startswith(f"{where}: {NOT_LATIN_1}")
    assert "TESTSECRET" not in str(info.value) + repr(info.value)


def test_validate_api_key_strips_a_pasted_newline_and_flags_odd_prefixes():
    key = validate_api_key(f"  {KEY}\n", source="prompt")
    assert (key.reveal(), key.source, looks_like_dex_key(key)) == (KEY, "prompt", True)
    assert looks_like_dex_key(validate_api_key("sk_live_123", source="prompt")) is False


@pytest.mark.parametrize(
    ("backend", "problem"),
    [
        (fail.Keyring(), "NoKeyringError: No recommended backend was available."),
        (BrokenKeyring(NoKeyringError("no backend")), "NoKeyringError: no backend"),
        (BrokenKeyring(KeyringLocked("locked")), "KeyringLocked: locked"),
        (BrokenKeyring(RuntimeError("no D-Bus session")), "RuntimeError: no D-Bus session"),
    ],
)
def test_unusable_keyring_falls_back_to_the_config_file(path, backend, problem):
    path.write_text(f'[default]\napi_key = "{KEY}"\n')
    assert find(path, backend=backend).source == f"config {path} [default]"
    status = status_of(path, backend=backend)
    assert status.keyring_problem is not None
    assert status.keyring_problem.startswith(problem)
    assert status.keyring_absent is problem.startswith("NoKeyringError")


def test_keyring_not_installed(path, monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # makes `import keyring` fail
    path.write_text(f'[default]\napi_key = "{KEY}"\n')
    assert find(path).source == f"config {path} [default]"
    assert store_api_key(ApiKey("dex_new"), profile="default", config_path=path) == str(path)
    status = status_of(path)
    assert status.keyring_problem == "keyring is not installed (pip install 'dexbulk[keyring]')"
    assert status.keyring_absent is True


def test_default_backend_comes_from_the_keyring_module(path, monkeypatch):
    import keyring

    backend = FakeKeyring({("dexbulk", "default"): KEY})
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    assert find(path).source == "keyring"


def test_store_prefers_the_keyring_and_registers_the_profile(path):
    backend = FakeKeyring()
    assert (
        store_api_key(ApiKey(KEY), profile="work", config_path=path, keyring_backend=backend)
        == "keyring"
    )
    assert backend.stored == {("dexbulk", "work"): KEY}
    assert path.read_text() == "[profile.work]\n"  # known profile, but no key on disk
    assert (
        store_api_key(ApiKey(KEY), profile="default", config_path=path, keyring_backend=backend)
        == "keyring"
    )
    assert path.read_text() == "[profile.work]\n"


@pytest.mark.parametrize(
    "backend", [fail.Keyring(), null.Keyring(), BrokenKeyring(KeyringLocked("x"))]
)
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_store_falls_back_to_a_0600_config_file(path, backend):
    path.write_text("# mine\n[default]\nrate = 2\n")
    path.chmod(0o644)
    where = store_api_key(ApiKey(KEY), profile="default", config_path=path, keyring_backend=backend)
    assert where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f'# mine\n[default]\napi_key = "{KEY}"\nrate = 2\n'
    assert find(path, backend=backend) == ApiKey(KEY)


def test_store_refuses_a_malformed_key(path):
    backend = FakeKeyring()
    with pytest.raises(InvalidInput):
        store_api_key(
            ApiKey("dex_a b", source="prompt"),
            profile="default",
            config_path=path,
            keyring_backend=backend,
        )
    assert backend.stored == {}
    assert not path.exists()


def test_delete_removes_from_both(path):
    path.write_text(f'[default]\napi_key = "{KEY}"\nrate = 2\n')
    backend = FakeKeyring({("dexbulk", "default"): KEY, ("dexbulk", "work"): "dex_w"})
    removed = delete_api_key(profile="default", config_path=path, keyring_backend=backend)
    assert removed == ["keyring", str(path)]
    assert backend.stored == {("dexbulk", "work"): "dex_w"}
    assert path.read_text() == "[default]\nrate = 2\n"
    assert delete_api_key(profile="default", config_path=path, keyring_backend=backend) == []


def test_delete_with_a_broken_keyring_still_cleans_the_file(path):
    path.write_text(f'[default]\napi_key = "{KEY}"\n')
    removed = delete_api_key(profile="default", config_path=path, keyring_backend=fail.Keyring())
    assert removed == [str(path)]


def test_key_status_reports_source_mask_and_shadowed_sources(path):
    path.write_text('[default]\napi_key = "dex_file"\n')
    backend = FakeKeyring({("dexbulk", "default"): "dex_ring"})
    status = status_of(path, env={"DEX_API_KEY": KEY}, backend=backend)
    assert status == KeyStatus(
        "env DEX_API_KEY", "dex_TE…23", True, ("keyring", f"config {path} [default]"), None
    )
    assert status.key == ApiKey(KEY)
    assert KEY not in repr(status)


def test_key_status_without_a_key_and_with_an_odd_key(path):
    none = status_of(path, backend=FakeKeyring())
    assert none == KeyStatus(None, None, False, (), None)
    assert none.key is None
    odd = status_of(path, flag="abcdefghijkl", backend=FakeKeyring())
    assert (odd.source, odd.looks_like_dex_key) == ("--api-key", False)


def test_importing_and_using_the_flag_does_not_import_keyring_or_the_cli_stack():
    code = (
        "import sys\n"
        "from dexbulk.credentials import find_api_key\n"
        "from dexbulk.settings import resolve_settings\n"
        "settings = resolve_settings(flags={}, env={}, profile=None)\n"
        "find_api_key(flag='dex_x', env={}, settings=settings)\n"
        "print(sorted(m for m in ('keyring', 'typer', 'rich', 'requests') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
