"""Tests for dexbulk.configfile: editing ``api_key`` safely, keeping every other byte."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from dexbulk.configfile import ensure_profile_table, remove_api_key, write_api_key
from dexbulk.errors import ConfigError
from dexbulk.secret import ApiKey
from dexbulk.settings import Settings, resolve_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEY = "dex_TESTSECRET_abc123"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes, errors, symlinks")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def resolve(path: Path, profile: str | None = None) -> Settings:
    return resolve_settings(flags={}, env={"DEXBULK_CONFIG": str(path)}, profile=profile)


ORIGINAL = """\
# my dexbulk settings
[default]
batch_size = 50  # keep small

[profile.work]
rate = 2.5
# trailing comment
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@POSIX
def test_write_creates_dirs_and_a_0600_file(tmp_path):
    path = tmp_path / "a" / "b" / "config.toml"
    write_api_key(path, "default", ApiKey(KEY))
    assert path.read_text() == f'[default]\napi_key = "{KEY}"\n'
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def with_key(text: str, header: str) -> str:
    return text.replace(f"{header}\n", f'{header}\napi_key = "{KEY}"\n')


@pytest.mark.parametrize(
    ("profile", "label", "expected"),
    [
        ("default", "[default]", with_key(ORIGINAL, "[default]")),
        ("work", "[profile.work]", with_key(ORIGINAL, "[profile.work]")),
        ("new", "[profile.new]", f'{ORIGINAL}\n[profile.new]\napi_key = "{KEY}"\n'),
        ("a b", '[profile."a b"]', f'{ORIGINAL}\n[profile."a b"]\napi_key = "{KEY}"\n'),
    ],
)
@POSIX
def test_write_keeps_everything_else_and_remove_restores(path, profile, label, expected):
    path.write_text(ORIGINAL)
    path.chmod(0o644)
    write_api_key(path, profile, ApiKey(KEY))
    assert path.read_text() == expected
    assert mode(path) == 0o600
    key = resolve(path, profile).file_api_key
    assert key == ApiKey(KEY)
    assert key is not None
    assert key.source == f"config {path} {label}"
    assert remove_api_key(path, profile) is True
    assert remove_api_key(path, profile) is False
    restored = (
        ORIGINAL if profile in ("default", "work") else expected.replace(f'api_key = "{KEY}"\n', "")
    )
    assert path.read_text() == restored


def test_write_replaces_an_existing_key_and_keeps_crlf(path):
    path.write_bytes(b'[default]\r\nrate = 1\r\napi_key = "dex_old"\r\n')
    write_api_key(path, "default", ApiKey(KEY))
    assert path.read_bytes() == f'[default]\r\napi_key = "{KEY}"\r\nrate = 1\r\n'.encode()


def test_write_escapes_quotes_and_backslashes(path):
    odd = 'dex_a"b\\c'
    write_api_key(path, "default", ApiKey(odd))
    assert tomllib.loads(path.read_text())["default"]["api_key"] == odd


@POSIX
def test_write_through_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "dotfiles" / "dexbulk.toml"
    real.parent.mkdir()
    real.write_text("[default]\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_api_key(link, "default", ApiKey(KEY))
    assert link.is_symlink()
    assert KEY in real.read_text()


@pytest.mark.parametrize(
    "text",
    [
        "profile.work.rate = 2\n",  # dotted keys: no [profile.work] header to edit under
        '[default]\napi_key = """\ndex_old"""\n',  # a multi-line string the line edit would break
        "[default\n",  # invalid TOML
    ],
)
def test_write_refuses_what_it_cannot_edit_safely(path, text):
    path.write_text(text)
    profile = "work" if "work" in text else "default"
    with pytest.raises(ConfigError) as info:
        write_api_key(path, profile, ApiKey(KEY))
    assert KEY not in str(info.value)
    assert path.read_text() == text


def test_remove_without_file_creates_nothing(path):
    assert remove_api_key(path, "default") is False
    assert not path.exists()


def test_ensure_profile_table(path):
    path.write_text(ORIGINAL)
    assert ensure_profile_table(path, "home") is True
    assert path.read_text() == ORIGINAL + "\n[profile.home]\n"
    assert ensure_profile_table(path, "home") is False
    assert ensure_profile_table(path, "work") is False
    assert ensure_profile_table(path, "default") is False
    assert resolve(path, "home").profile == "home"


@POSIX
def test_rewrite_after_remove_keeps_0600(path):
    write_api_key(path, "default", ApiKey(KEY))
    remove_api_key(path, "default")
    assert mode(path) == 0o600
