"""Suite-wide guards: the test API key must never show up in anything a test captured."""

from __future__ import annotations

from collections.abc import Generator

import pytest

TEST_KEY = "dex_TESTSECRET_4f7a9c2e1b"
"""The key every test uses; distinctive, so a leak anywhere is easy to spot."""


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's config, state, keyring or environment key."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    for var in ("DEX_API_KEY", "DEX_API_URL", "DEXBULK_PROFILE", "DEXBULK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DEXBULK_STATE_DIR", str(home / "state"))
    # Messages shorten paths under HOME to ~/...; keep tmp_path outside it (HOME may be / or /tmp).
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """Fail any test whose captured stdout, stderr or logs contain the test key."""
    outcome = yield
    report = outcome.get_result()
    leaks = [name for name, text in report.sections if TEST_KEY in text]
    if report.longrepr is not None and TEST_KEY in str(report.longrepr):
        leaks.append("the failure report")
    if leaks and report.when == "call":
        report.outcome = "failed"
        report.longrepr = f"the test API key leaked into: {', '.join(leaks)}"
