"""Tests for dexbulk.settings: precedence, validation messages, profiles, and editing the file."""

from __future__ import annotations

import stat
import sys
import textwrap
from pathlib import Path

import pytest

from dexbulk.configfile import show_path
from dexbulk.errors import ConfigError
from dexbulk.secret import ApiKey
from dexbulk.settings import (
    DEFAULT_API_URL,
    Setting,
    config_path,
    config_show_rows,
    ensure_profile_table,
    read_api_key,
    remove_api_key_from_config,
    resolve_settings,
    write_api_key_to_config,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEY = "dex_TESTSECRET_abc123"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes, errors, symlinks")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def resolve(path: Path, profile: str | None = None, flags: dict[str, object] | None = None, **env):
    return resolve_settings(
        flags=flags or {}, env={"DEXBULK_CONFIG": str(path), **env}, profile=profile
    )


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        resolve(path, **kwargs)
    return str(info.value)


# name, env var, TOML literal, its value, env text, its value, flag value, default
SETTINGS = [
    ("api_url", "DEX_API_URL", '"https://file.test/v1"', "https://file.test/v1",
     "https://env.test/v1/", "https://env.test/v1", "https://flag.test", DEFAULT_API_URL),
    ("batch_size", "DEXBULK_BATCH_SIZE", "10", 10, "20", 20, 30, 100),
    ("concurrency", "DEXBULK_CONCURRENCY", "2", 2, "3", 3, 5, 4),
    ("rate", "DEXBULK_RATE", "1.5", 1.5, "2.5", 2.5, 7.0, None),
    ("max_attempts", "DEXBULK_MAX_ATTEMPTS", "2", 2, " 3 ", 3, 9, 5),
    ("timeout", "DEXBULK_TIMEOUT", "10", 10.0, "12.5", 12.5, 3.0, 30.0),
    ("confirm_over", "DEXBULK_CONFIRM_OVER", "0", 0, "50", 50, 7, 20),
]  # fmt: skip


LAYERS = ["flag", "env", "file", "default"]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("case", SETTINGS, ids=[case[0] for case in SETTINGS])
def test_precedence_flag_env_file_default(path, layer, case):
    name, var, literal, in_file, env_text, in_env, flag, default = case
    # The winning layer is present together with every layer below it, so it must beat them.
    below = LAYERS[LAYERS.index(layer) :]
    file_line = f"{name} = {literal}\n" if "file" in below else ""
    write(path, f"[default]\nrate = 9.5\n[profile.work]\n{file_line}")
    env = {var: env_text} if "env" in below else {}
    flags = {name: flag if "flag" in below else None}
    settings = resolve(path, "work", flags, **env)
    expected = {
        "flag": (flag, "flag"),
        "env": (in_env, f"env {var}"),
        "file": (in_file, f"config {path} [profile.work]"),
        "default": (default, "default"),
    }[layer]
    assert (getattr(settings, name), settings.sources[name]) == expected
    assert settings.setting(name) == Setting(name, *expected)


def test_profile_does_not_inherit_from_default(path):
    write(path, "[default]\nbatch_size = 50\n[profile.work]\nrate = 2\n")
    work = resolve(path, "work")
    assert (work.batch_size, work.sources["batch_size"], work.rate) == (100, "default", 2.0)
    assert resolve(path).batch_size == 50


@pytest.mark.parametrize(
    ("profile", "env", "expected"),
    [
        (None, {}, ("default", "default", 50)),
        (None, {"DEXBULK_PROFILE": "work"}, ("work", "env DEXBULK_PROFILE", 7)),
        (None, {"DEXBULK_PROFILE": ""}, ("default", "default", 50)),
        ("default", {"DEXBULK_PROFILE": "work"}, ("default", "flag", 50)),
        ("my work", {}, ("my work", "flag", 9)),
    ],
)
def test_profile_selection(path, profile, env, expected):
    write(path, "[default]\nbatch_size=50\n[profile.work]\nbatch_size=7\n")
    path.write_text(path.read_text() + '[profile."my work"]\nbatch_size=9\n')
    settings = resolve(path, profile, **env)
    assert (settings.profile, settings.sources["profile"], settings.batch_size) == expected


RANGE = "is out of range (expected"
ANY_KEY = "api_url, batch_size, concurrency, rate, max_attempts, timeout, confirm_over, api_key"
BAD_FILES = [
    ("[default]\ntimeout = 5\n[profile.work]\nbatch_size = 900\n", "work",
     f"line 4: [profile.work] batch_size: 900 {RANGE} 1..500)"),
    ("[default]\nconcurrency = 0\n", None, f"line 2: [default] concurrency: 0 {RANGE} 1..32)"),
    ("[default]\nmax_attempts = 21\n", None, f"line 2: [default] max_attempts: 21 {RANGE} 1..20)"),
    ('[default]\n"batch_size" = "100"\n', None,
     "line 2: [default] batch_size: '100' is not an integer"),
    ("[default]\nbatch_size = 2.5\n", None, "line 2: [default] batch_size: 2.5 is not an integer"),
    ("[default]\nbatch_size = true\n", None,
     "line 2: [default] batch_size: True is not an integer"),
    ("[default]\n\nrate = 0\n", None, f"line 3: [default] rate: 0 {RANGE} a number > 0)"),
    ("[default]\ntimeout = -1.5\n", None, f"line 2: [default] timeout: -1.5 {RANGE} a number > 0)"),
    ("[default]\nrate = inf\n", None, "line 2: [default] rate: inf is not a finite number"),
    ('[default]\nrate = "fast"\n', None, "line 2: [default] rate: 'fast' is not a number"),
    ('[default]\napi_url = "ftp://x"\n', None,
     "line 2: [default] api_url: 'ftp://x' is not an http(s) URL"),
    ("[default]\napi_url = 5\n", None, "line 2: [default] api_url: 5 is not an http(s) URL"),
    ("[default]\napi_key = 5\n", None, "line 2: [default] api_key: expected a string"),
    ("[profile.work]\nrate = 1\nbatch = 3\n", "work",
     "line 3: [profile.work] unknown setting 'batch' (did you mean 'batch_size'?)"),
    ("[default]\nzzz = 1\n", None, f"line 2: [default] unknown setting 'zzz' (expected {ANY_KEY})"),
    ("[profile.work]\n[profile.work.extra]\nx = 1\n", "work",
     f"line 2: [profile.work] unknown setting 'extra' (expected {ANY_KEY})"),
    ("profile.work.batch_size = 900\n", "work",  # dotted keys: no header, so no line number
     f": [profile.work] batch_size: 900 {RANGE} 1..500)"),
    ("batch_size = 5\n", None, "line 1: batch_size must be inside [default] or [profile.NAME]"),
    ("[defaults]\nrate = 1\n", None,
     "line 1: unexpected 'defaults' (expected [default] or [profile.NAME] tables)"),
    ("[profile.default]\nrate = 1\n", None, "line 1: write [default], not [profile.default]"),
    ("[profile]\nbatch_size = 3\n", None, "line 2: profile.batch_size must be a table"),
    ("[default]\nbatch_size = \n", None, "line 2: not valid TOML (invalid value)"),
    ("[default]\n[default]\n", None, "line 2: not valid TOML (cannot declare ('default',) twice)"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "profile", "message"), BAD_FILES)
def test_file_errors_name_file_line_table_key_and_expectation(path, text, profile, message):
    write(path, text)
    sep = "" if message.startswith(":") else " "
    assert error_of(path, profile=profile) == f"{path}{sep}{message}"


def test_errors_in_other_profiles_do_not_block(path):
    write(path, "[profile.work]\nrate = 2\n[profile.other]\nbatch_size = 900\nbogus = 1\n")
    assert resolve(path, "work").rate == 2.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEXBULK_BATCH_SIZE": "abc"}, "DEXBULK_BATCH_SIZE: 'abc' is not an integer"),
        (
            {"DEXBULK_BATCH_SIZE": "900"},
            "DEXBULK_BATCH_SIZE: 900 is out of range (expected 1..500)",
        ),
        ({"DEXBULK_CONCURRENCY": "1.5"}, "DEXBULK_CONCURRENCY: '1.5' is not an integer"),
        ({"DEXBULK_MAX_ATTEMPTS": "0"}, "DEXBULK_MAX_ATTEMPTS: 0 is out of range (expected 1..20)"),
        ({"DEXBULK_RATE": "0"}, "DEXBULK_RATE: 0 is out of range (expected a number > 0)"),
        ({"DEXBULK_RATE": "nan"}, "DEXBULK_RATE: 'nan' is not a finite number"),
        ({"DEXBULK_TIMEOUT": "soon"}, "DEXBULK_TIMEOUT: 'soon' is not a number"),
        ({"DEX_API_URL": "api.getdex.com"}, "DEX_API_URL: 'api.getdex.com' is not an http(s) URL"),
    ],
)
def test_env_errors(path, env, message):
    path.write_text("")
    assert error_of(path, **env) == message


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"batch_size": 0}, "--batch-size: 0 is out of range (expected 1..500)"),
        ({"timeout": "x"}, "--timeout: 'x' is not a number"),
        ({"rate": -1.0}, "--rate: -1 is out of range (expected a number > 0)"),
        ({"concurrency": 33}, "--concurrency: 33 is out of range (expected 1..32)"),
        ({"api_url": "localhost:8080"}, "--api-url: 'localhost:8080' is not an http(s) URL"),
    ],
)
def test_flag_errors(path, flags, message):
    path.write_text("")
    assert error_of(path, flags=flags) == message


def test_bad_values_are_errors_even_when_overridden(path):
    write(path, "[default]\nbatch_size = 900\n")
    with pytest.raises(ConfigError, match="line 2"):
        resolve(path, flags={"batch_size": 10})
    with pytest.raises(ConfigError, match="DEXBULK_RATE"):
        resolve(
            path.with_name("none.toml"), flags={"rate": 1.0}, DEXBULK_RATE="x", DEXBULK_CONFIG=""
        )


def test_empty_env_values_count_as_unset(path):
    settings = resolve(path.with_name("absent.toml"), DEXBULK_BATCH_SIZE="", DEXBULK_CONFIG="")
    assert (settings.batch_size, settings.sources["batch_size"]) == (100, "default")


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("wrok", "unknown profile 'wrok' (did you mean 'work'? profiles in {p}: default, work)"),
        ("zzz", "unknown profile 'zzz' (profiles in {p}: default, work)"),
    ],
)
def test_unknown_profile_lists_profiles(path, profile, message):
    write(path, "[default]\n[profile.work]\n")
    assert error_of(path, profile=profile) == message.format(p=path)


def test_unknown_profile_without_file(path, monkeypatch):
    # The default location (no DEXBULK_CONFIG) may be missing, but then only [default] exists.
    monkeypatch.setattr("platformdirs.user_config_dir", lambda *_a, **_k: str(path.parent))
    with pytest.raises(ConfigError) as info:
        resolve_settings(flags={}, env={"DEXBULK_PROFILE": "work"}, profile=None)
    assert str(info.value) == f"unknown profile 'work': {path} does not exist"
    assert info.value.hint == "add a [profile.work] table to it, or run 'dexbulk auth login'"


def test_missing_default_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr("platformdirs.user_config_dir", lambda *_a, **_k: str(tmp_path / "cfg"))
    settings = resolve_settings(flags={}, env={}, profile=None)
    assert settings.path == tmp_path / "cfg" / "config.toml"
    assert (settings.batch_size, settings.sources["config"]) == (100, "default")


def test_explicitly_named_missing_file_is_an_error(path):
    assert error_of(path) == f"DEXBULK_CONFIG: {path} does not exist"


@POSIX
def test_unreadable_and_non_utf8_files(path):
    path.mkdir()
    assert error_of(path) == f"cannot read {path}: Is a directory"
    path.rmdir()
    path.write_bytes(b"[default]\nrate = 1 # \xff\n")
    assert error_of(path) == f"{path}: not valid TOML (not UTF-8 text)"


def test_config_path_env_and_platform_default(tmp_path, monkeypatch):
    assert config_path({"DEXBULK_CONFIG": "~/x.toml"}) == Path.home() / "x.toml"
    monkeypatch.setattr("platformdirs.user_config_dir", lambda name, **_k: f"/cfg/{name}")
    assert config_path({"DEXBULK_CONFIG": " "}) == Path("/cfg/dexbulk/config.toml")


def test_show_path_shortens_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert show_path(tmp_path / ".config" / "c.toml") == "~/.config/c.toml"


def test_unknown_flag_name_is_a_programming_error(path):
    with pytest.raises(ValueError, match="api_key"):
        resolve(path.with_name("a.toml"), flags={"api_key": KEY}, DEXBULK_CONFIG="")


# ---- writing -------------------------------------------------------------------------------

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
    write_api_key_to_config(path, "default", ApiKey(KEY))
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
    write_api_key_to_config(path, profile, ApiKey(KEY))
    assert path.read_text() == expected
    assert mode(path) == 0o600
    key = read_api_key(path, profile)
    assert key == ApiKey(KEY)
    assert key is not None
    assert key.source == f"config {path} {label}"
    assert remove_api_key_from_config(path, profile) is True
    assert remove_api_key_from_config(path, profile) is False
    restored = (
        ORIGINAL if profile in ("default", "work") else expected.replace(f'api_key = "{KEY}"\n', "")
    )
    assert path.read_text() == restored


def test_write_replaces_an_existing_key_and_keeps_crlf(path):
    path.write_bytes(b'[default]\r\nrate = 1\r\napi_key = "dex_old"\r\n')
    write_api_key_to_config(path, "default", ApiKey(KEY))
    assert path.read_bytes() == f'[default]\r\napi_key = "{KEY}"\r\nrate = 1\r\n'.encode()


def test_write_escapes_quotes_and_backslashes(path):
    odd = 'dex_a"b\\c'
    write_api_key_to_config(path, "default", ApiKey(odd))
    assert tomllib.loads(path.read_text())["default"]["api_key"] == odd


@POSIX
def test_write_through_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "dotfiles" / "dexbulk.toml"
    real.parent.mkdir()
    real.write_text("[default]\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_api_key_to_config(link, "default", ApiKey(KEY))
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
        write_api_key_to_config(path, profile, ApiKey(KEY))
    assert KEY not in str(info.value)
    assert path.read_text() == text


def test_remove_without_file_creates_nothing(path):
    assert remove_api_key_from_config(path, "default") is False
    assert not path.exists()


def test_ensure_profile_table(path):
    path.write_text(ORIGINAL)
    assert ensure_profile_table(path, "home") is True
    assert path.read_text() == ORIGINAL + "\n[profile.home]\n"
    assert ensure_profile_table(path, "home") is False
    assert ensure_profile_table(path, "work") is False
    assert ensure_profile_table(path, "default") is False
    assert resolve(path, "home").profile == "home"


# ---- showing, and keeping the key out of sight ------------------------------------------------


def test_config_show_rows_mask_the_key(path):
    write(path, f'[default]\nrate = 2.5\napi_key = "{KEY}"\n')
    rows = config_show_rows(resolve(path, flags={"batch_size": 7}))
    where = f"config {path} [default]"
    assert rows == [
        ("profile", "default", "default"),
        ("config", str(path), "env DEXBULK_CONFIG"),
        ("api_url", DEFAULT_API_URL, "default"),
        ("batch_size", "7", "flag"),
        ("concurrency", "4", "default"),
        ("rate", "2.5", where),
        ("max_attempts", "5", "default"),
        ("timeout", "30", "default"),
        ("confirm_over", "20", "default"),
        ("api_key", "dex_TE…23", where),
    ]


def test_show_rows_mark_a_missing_file_and_unlimited_rate(tmp_path, monkeypatch):
    monkeypatch.setattr("platformdirs.user_config_dir", lambda *_a, **_k: str(tmp_path))
    settings = resolve_settings(flags={}, env={}, profile=None)
    rows = {name: value for name, value, _ in config_show_rows(settings)}
    assert rows["config"] == f"{tmp_path / 'config.toml'} (not found)"
    assert rows["rate"] == "unlimited"


@pytest.mark.parametrize(
    "text",
    [
        f'[default]\napi_key = "{KEY}"\nbatch_size = 0\n',
        f'[default]\napikey = "{KEY}"\n',
        f'[default]\napi_key = ["{KEY}"]\n',
        f'[default]\napi_key = "{KEY}\n',
        f'api_key = "{KEY}"\n',
    ],
)
def test_key_never_in_error_messages(path, text):
    write(path, text)
    with pytest.raises(ConfigError) as info:
        resolve(path)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


def test_key_never_in_settings_repr(path):
    write(path, f'[default]\napi_key = "{KEY}"\n')
    settings = resolve(path)
    assert settings.file_api_key == ApiKey(KEY)  # it is there...
    assert KEY not in repr(settings)  # ...but never shown
    assert KEY not in str(settings)


@POSIX
def test_rewrite_after_remove_keeps_0600(path):
    write_api_key_to_config(path, "default", ApiKey(KEY))
    remove_api_key_from_config(path, "default")
    assert mode(path) == 0o600


def test_allow_new_profile_for_login(path):
    def login_settings(**env: str):
        return resolve_settings(
            flags={},
            env={"DEXBULK_CONFIG": str(path), **env},
            profile="new",
            allow_new_profile=True,
        )

    assert login_settings().profile == "new"  # named file missing: fine, login will create it
    write(path, "[default]\nbatch_size = 50\n[profile.work]\n")
    assert (login_settings().batch_size, login_settings().profile) == (100, "new")
    write(path, "[profile.new]\nbatch_size = 900\n")
    with pytest.raises(ConfigError, match="line 2"):
        login_settings()  # an existing table is still checked
