"""Tests for dexbulk.cli.errors.run_main: every exit is one message, one code, one JSON document.

No traceback reaches the user for any exception; control characters in messages are shown
escaped; the key is masked; ``--json`` prints exactly one document on every exit.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses

from dexbulk.cli.errors import wants_json
from dexbulk.cli.streams import GuardedStream
from dexbulk.secret import ApiKey
from tests.cli.test_app import PUT_URL, A, B, Run, invoke, ok
from tests.conftest import TEST_KEY

HOSTILE = "\x1b]0;PWNED\x07\x1b]52;c;UFdORUQ=\x07\x1b[2J\x1b[31mRED"
HOSTILE_SHOWN = "\\x1b]0;PWNED\\x07\\x1b]52;c;UFdORUQ=\\x07\\x1b[2J\\x1b[31mRED"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # The read of current values before an update: Dex holds none, so every contact is sent.
        mock.post(
            re.compile(r".*/v1/contacts/filter$"), json={"error": False, "data": {"items": []}}
        )
        yield mock


def no_controls(run: Run) -> None:
    """Nothing but tab and newline below 0x20 (or DEL, or C1) on either stream."""
    for stream in (run.stdout, run.stderr):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", stream), repr(stream)


def crash_files() -> list[Path]:
    return sorted(Path(os.environ["DEXBULK_STATE_DIR"]).glob("crash-*.txt"))


# --- item 4: escapes -------------------------------------------------------------------------


def test_a_hostile_id_file_is_quoted_with_its_escapes_shown(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(HOSTILE + "\n")
    run = invoke("star", "--from", str(path))
    assert run.code == 2, run
    # Its semicolons make the line read as a CSV header: the cells are quoted, escapes shown.
    for shown in ("\\x1b]0", "PWNED\\x07", "\\x1b[2J\\x1b[31mRED"):
        assert shown in run.stderr, run
    assert [line.split(":")[0] for line in run.stderr.splitlines()] == ["error", "hint"], run
    no_controls(run)
    assert len(api.calls) == 0


def test_a_hostile_server_message_in_an_error_is_escaped(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json={"error": True, "message": f"{HOSTILE} go away"}, status=401)
    run = invoke("star", "--ids", A)
    assert run.code == 3, run
    assert HOSTILE_SHOWN in run.stderr
    no_controls(run)


@pytest.mark.parametrize("flag", ["-v", "--debug"])
def test_hostile_server_messages_are_escaped_in_the_summary_and_the_log(
    api: responses.RequestsMock, flag: str
) -> None:
    api.put(PUT_URL, json=ok(1))
    api.put(PUT_URL, json={"error": True, "message": f"{HOSTILE} bad contact"}, status=400)
    run = invoke("star", "--ids", f"{A},{B}", "--batch-size", "1", flag)
    assert run.code == 1, run
    assert f"✗ {B}: {HOSTILE_SHOWN} bad contact" in run.stderr
    if flag == "--debug":
        assert "response body:" in run.stderr  # the body was logged, escaped
    no_controls(run)


# --- item 5: no traceback, exit 70, a crash file ----------------------------------------------


def explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(f"boom with {TEST_KEY} and {HOSTILE}")


def test_an_unexpected_error_is_one_line_a_crash_file_and_exit_70(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dexbulk.plan.parse_items", explode)
    run = invoke("set", "company=Acme", "--ids", A)  # Run checks the key is absent
    assert run.code == 70, run
    assert "Traceback" not in run.stderr
    error, hint = run.stderr.splitlines()
    assert error == f"error: internal error: RuntimeError: boom with dex_TE…1b and {HOSTILE_SHOWN}"
    [crash] = crash_files()
    assert hint == f"hint: this is a bug in dexbulk; the details are in {crash}"
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    report = crash.read_text()
    assert "Traceback (most recent call last)" in report
    assert "RuntimeError: boom with dex_TE…1b" in report
    assert TEST_KEY not in report
    assert "\x1b" not in report
    no_controls(run)
    assert len(api.calls) == 0


def test_keys_an_exception_quotes_are_masked_wherever_they_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = "dex_FROMTHEKEYRING_0123456789"

    def refuse_header(*_args: object, **_kwargs: object) -> None:
        key = ApiKey(stored, source="keyring")  # a key only a frame of the traceback holds
        raise ValueError(f"refused {key.reveal()!r}, b'Bearer tok.en-9' and {TEST_KEY}")

    monkeypatch.setattr("dexbulk.plan.parse_items", refuse_header)
    run = invoke("set", "company=Acme", "--ids", A, key=f"  {TEST_KEY}\n")  # as pasted
    assert run.code == 70, run
    assert stored not in run.stderr
    assert "Bearer <redacted>" in run.stderr
    assert "tok.en-9" not in run.stderr
    report = crash_files()[0].read_text()
    assert stored not in report
    assert TEST_KEY not in report


def test_an_unexpected_error_whose_details_cannot_be_saved_still_exits_70(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("dexbulk.plan.parse_items", explode)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = invoke("set", "company=Acme", "--ids", A, DEXBULK_STATE_DIR=str(blocker / "state"))
    assert run.code == 70, run
    assert run.stderr.splitlines()[1].startswith(
        "hint: this is a bug in dexbulk; the details could not be saved ("
    )


# --- --json: exactly one document on every exit -------------------------------------------------


def _refused(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json={"error": True, "message": "invalid API key"}, status=401)


def _unreachable(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, body=requests.ConnectionError("connection refused"))


@pytest.mark.parametrize(
    ("args", "setup", "code", "message"),
    [
        (["star", "--ids", "abc"], None, 2, "'abc' is not a contact ID"),
        (["star", "--ids", A, "--bogus"], None, 2, "No such option: --bogus"),
        (["nosuchcommand"], None, 2, "No such command 'nosuchcommand'"),
        (["star", "--ids", A], _refused, 3, "refused the API key"),
        (
            ["star", "--ids", A, "--max-attempts", "1"],
            _unreachable,
            4,
            "cannot reach https://api.test.getdex.com/v1",
        ),
    ],
    ids=["input", "option", "command", "auth", "unreachable"],
)
def test_json_errors_are_one_document_with_the_exit_code(
    api: responses.RequestsMock, args: list[str], setup: object, code: int, message: str
) -> None:
    if callable(setup):
        setup(api)
    run = invoke(*args, "--json")
    assert run.code == code, run
    document = json.loads(run.stdout)  # the whole of stdout is one document
    assert document["ok"] is False
    assert document["exitCode"] == code
    assert message in document["error"]["message"]
    assert "hint" in document["error"]


def test_json_run_that_failed_carries_the_error_and_its_next_step(
    api: responses.RequestsMock,
) -> None:
    api.put(PUT_URL, json=ok(1))
    api.put(PUT_URL, json={"error": True, "message": "unavailable"}, status=503)
    run = invoke("star", "--ids", f"{A},{B}", "--batch-size", "1", "--max-attempts", "1", "--json")
    assert run.code == 1, run
    document = json.loads(run.stdout)
    assert (document["ok"], document["exitCode"], document["updated"]) == (False, 1, 1)
    assert (
        document["error"]["message"] == "1 of 2 contacts updated; 1 failed (HTTP 503: unavailable)"
    )
    assert re.fullmatch(
        r"retry the failures with: dexbulk retry \S+ --failed", document["error"]["hint"]
    )


def test_json_internal_error_is_a_document_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dexbulk.plan.parse_items", explode)
    run = invoke("set", "company=Acme", "--ids", A, "--json")
    assert run.code == 70, run
    document = json.loads(run.stdout)
    assert document["exitCode"] == 70
    assert document["error"]["message"].startswith("internal error: RuntimeError: boom")
    assert str(crash_files()[0]) in document["error"]["hint"]


def test_json_success_keeps_its_document_and_gains_the_exit_code(
    api: responses.RequestsMock,
) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke("star", "--ids", A, "--json")
    assert run.code == 0, run
    document = json.loads(run.stdout)
    assert (document["ok"], document["exitCode"], document["updated"]) == (True, 0, 1)
    plan = json.loads(invoke("star", "--ids", A, "--json", "--dry-run").stdout)
    assert (plan["ok"], plan["exitCode"], plan["dryRun"]) == (True, 0, True)


def test_json_exit_without_a_document_of_its_own_still_prints_one(
    api: responses.RequestsMock,
) -> None:
    api.put(PUT_URL, json=ok(1))
    assert invoke("star", "--ids", A).code == 0
    run = invoke("resume", "last", "--json")  # nothing to send: the command prints no JSON
    assert run.code == 0, run
    assert json.loads(run.stdout) == {"ok": True, "exitCode": 0}


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["star", "--json"], True),
        (["runs", "show", "last", "--json"], True),
        (["star"], False),
        (["set", "--", "--json"], False),
        (["set", "x=--json"], False),
    ],
)
def test_wants_json_reads_the_command_line(argv: list[str], wanted: bool) -> None:
    assert wants_json(argv) is wanted


# --- Ctrl-C: one clean message -------------------------------------------------------------------


def test_ctrl_c_before_sending_exits_130_and_json_still_gets_its_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("dexbulk.cli.selecting.select_ids", interrupt)
    run = invoke("star", "--ids", A)
    assert run.code == 130, run
    assert "Traceback" not in run.stderr
    document = json.loads(invoke("star", "--ids", A, "--json").stdout)
    assert (document["ok"], document["exitCode"]) == (False, 130)
    assert document["error"]["message"].startswith("interrupted")


def test_a_second_ctrl_c_during_a_run_prints_one_message(api: responses.RequestsMock) -> None:
    def second_ctrl_c(_request: object) -> tuple[int, dict[str, str], str]:
        raise KeyboardInterrupt  # what the interrupt handler raises on the second press

    api.add_callback(responses.PUT, PUT_URL, callback=second_ctrl_c)
    run = invoke("star", "--ids", A)
    assert run.code == 130, run
    assert re.fullmatch(r"aborted; resume with: dexbulk resume \S+\n", run.stderr), run
    as_json = invoke("star", "--ids", A, "--json")
    document = json.loads(as_json.stdout)
    assert (document["exitCode"], document["error"]["message"]) == (130, "aborted")
    assert document["error"]["hint"].startswith("resume with: dexbulk resume ")


# --- item 8: a closed stdout ---------------------------------------------------------------------


class ClosedPipe(io.StringIO):
    """A stdout whose reader went away (``| head -1``) after ``allow`` writes."""

    def __init__(self, allow: int = 0) -> None:
        super().__init__()
        self.allow = allow

    def write(self, text: str) -> int:
        if self.allow <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.allow -= 1
        return super().write(text)

    def flush(self) -> None:
        if self.allow <= 0:
            raise BrokenPipeError(32, "Broken pipe")


def test_a_guarded_stream_drops_writes_once_its_pipe_is_closed() -> None:
    pipe = ClosedPipe(allow=1)
    guarded = GuardedStream(pipe)
    assert guarded.write("first line\n") == 11
    assert guarded.write("second line\n") == 12  # the reader is gone: no error
    guarded.flush()
    guarded.write("third\n")
    assert (pipe.getvalue(), guarded.broken, guarded.written) == ("first line\n", True, True)


def test_a_guarded_stream_passes_other_errors_on() -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        GuardedStream(Full()).write("x")


def test_a_bare_interrupt_under_json_names_no_run_it_cannot_know() -> None:
    """Ctrl-C before any run began: no 'dexbulk resume RUN_ID' placeholder to copy."""
    from dexbulk.cli.errors import _Exit, _write_json_outcome

    out = io.StringIO()
    _write_json_outcome(GuardedStream(out), _Exit(130))
    error = json.loads(out.getvalue())["error"]
    assert error == {
        "message": "interrupted",
        "hint": "'dexbulk runs' shows whether a run began; resume it with its ID",
    }
