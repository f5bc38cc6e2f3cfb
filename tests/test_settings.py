"""Tests for dexbulk.settings: the one table, precedence, validation messages, profiles."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import pytest
import typer

from dexbulk.cli.app import app
from dexbulk.cli.options import _SEND, SendArgs
from dexbulk.configfile import show_path
from dexbulk.engine import SendOptions
from dexbulk.errors import ConfigError, InvalidInput
from dexbulk.secret import ApiKey
from dexbulk.settings import (
    DEFAULT_API_URL,
    FILE_KEYS,
    PER_RUN,
    SETTINGS,
    Setting,
    Settings,
    check_api_url,
    config_path,
    format_value,
    resolve_settings,
)

KEY = "dex_TESTSECRET_abc123"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and errors")


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


# ---- the one table: everything else about a setting is generated from it ----------------------

NAMES = [spec.name for spec in SETTINGS]


def test_every_setting_is_a_field_of_settings_sendargs_and_the_config_file():
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert fields[: len(NAMES)] == NAMES
    assert set(fields) - set(NAMES) == {"file_api_key", "profile", "path", "sources"}
    assert set(NAMES) <= {f.name for f in dataclasses.fields(SendArgs)}
    assert (*NAMES, "api_key") == FILE_KEYS


def test_send_options_are_the_per_run_settings_with_their_defaults():
    options = SendOptions()
    fields = {f.name for f in dataclasses.fields(SendOptions)}
    assert fields == {spec.name for spec in PER_RUN} | {"check_ids"}
    assert {spec.name: getattr(options, spec.name) for spec in PER_RUN} == {
        spec.name: spec.default for spec in PER_RUN
    }
    assert "api_url" not in fields, "a run's URL is not a send option"


def test_resolved_defaults_come_from_the_table(path):
    path.write_text("")
    settings = resolve(path)
    assert {name: getattr(settings, name) for name in NAMES} == {
        spec.name: spec.default for spec in SETTINGS
    }
    assert SendOptions(**settings.per_run()) == SendOptions()


@pytest.mark.parametrize("spec", SETTINGS, ids=NAMES)
def test_each_sending_option_is_generated_from_its_setting(spec):
    command = typer.main.get_command(app).get_command(None, "star")  # type: ignore[attr-defined]
    option = next(p for p in command.params if p.name == spec.name)
    assert option.default is None, "None = not given, so env, file and default can decide"
    assert sorted(option.opts, key=len, reverse=True) == list(spec.flags)
    assert option.metavar == spec.metavar
    assert option.help.startswith(spec.help)
    assert option.help.endswith(f"\\[env {spec.env}; default: {spec.default_text}].")
    if spec.kind is int:
        assert (option.type.min, option.type.max) == (spec.low, spec.high)
        assert f", {spec.low}..{spec.high} " in option.help


def test_the_sending_panel_keeps_its_order():
    assert list(_SEND) == [
        "api_url", "api_key", "profile", "batch_size", "concurrency", "rate", "max_attempts",
        "timeout", "confirm_over", "check_ids",
    ]  # fmt: skip
    assert set(_SEND) == {f.name for f in dataclasses.fields(SendArgs)}


@pytest.mark.parametrize(
    ("value", "text"), [(None, "unlimited"), (30.0, "30"), (2.5, "2.5"), (100, "100"), ("x", "x")]
)
def test_format_value(value, text):
    assert format_value(value) == text


# name, env var, TOML literal, its value, env text, its value, flag value, default
CASES = [
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
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
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
    ("zzz = 1\n", None, "line 1: zzz must be inside [default] or [profile.NAME]"),
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


# ---- showing, and keeping the key out of sight ------------------------------------------------


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


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/v1", "http://[::1"])
def test_a_url_python_cannot_take_apart_is_a_usage_error(url: str) -> None:
    with pytest.raises(InvalidInput, match="is not a usable URL"):
        check_api_url(url)
