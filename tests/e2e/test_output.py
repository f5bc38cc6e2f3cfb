"""What people see, end to end: escapes on a real terminal, no tracebacks, a closed stdout, a
one-line summary, tables piped as TSV.

Terminal tests run the installed ``dexbulk`` on a pseudo-terminal (``os.openpty``), as a user
would see it, against a sandbox that misbehaves on purpose (``--hostile escapes``).
"""

from __future__ import annotations

import os
import re
import select
import stat
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import DEXBULK, SandboxProc, base_env
from tests.e2e.test_commands import UNKNOWN_ID, Dexbulk, Sandbox, snapshot, write

HOSTILE = "\x1b]0;PWNED\x07\x1b[31mRED"
# What a terminal must never receive from untrusted text: window title, clipboard, clear, red.
OBEYED = ("\x1b]0;", "\x1b]52;", "\x1b[2J", "\x1b[31m", "\x07")
ONE_LINE = re.compile(r"✓ (\w+) ([\d,]+) contacts? in [\d.]+ s \(run (\S+)\)")


def on_terminal(
    tmp_path: Path, *args: str, api: SandboxProc | None = None, timeout: float = 60
) -> tuple[int, str]:
    """Run ``dexbulk`` with stdout and stderr on a pseudo-terminal; its exit code and screen."""
    env = base_env(tmp_path)
    env.update({"TERM": "xterm-256color", "COLUMNS": "120"})
    if api is not None:
        env.update({"DEX_API_URL": api.url, "DEX_API_KEY": api.key})
    main, child = os.openpty()
    proc = subprocess.Popen(
        [str(DEXBULK), *args], stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    os.close(child)
    screen = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            screen += data
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    text = screen.decode("utf-8", "replace")
    assert api is None or api.key not in text, "the API key reached the terminal"
    return code, text


def assert_nothing_obeyed(screen: str) -> None:
    for sequence in OBEYED:
        assert sequence not in screen, f"{sequence!r} reached the terminal:\n{screen!r}"


# -- issue 11 item 4: escape sequences never reach the terminal ---------------------------------


def test_a_hostile_ids_file_is_shown_escaped_on_a_terminal(tmp_path: Path) -> None:
    write(tmp_path, "ids.txt", HOSTILE + "\n")

    code, screen = on_terminal(tmp_path, "star", "--from", "ids.txt")

    assert code == 2, screen
    # Its ';' reads as a CSV separator: either way the cells are quoted with escapes shown.
    assert "'\\x1b]0'" in screen
    assert "'PWNED\\x07\\x1b[31mRED'" in screen
    assert_nothing_obeyed(screen)


def test_a_hostile_server_is_shown_escaped_on_a_terminal(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox("--hostile", "500", "--hostile", "escapes")  # every request: 500 + escapes
    ids = [UNKNOWN_ID, "00000000-0000-4000-8000-000000000002"]

    code, screen = on_terminal(
        tmp_path,
        "star",
        "--ids",
        ",".join(ids),
        "--max-attempts",
        "1",
        "--debug",
        "--no-read",
        api=api,
    )

    assert code == 4, screen
    assert f"✗ {ids[0]}: HTTP 500: \\x1b]0;PWNED\\x07\\x1b]52;c;" in screen
    assert "response body:" in screen, "--debug logged Dex's answer (escaped)"
    assert_nothing_obeyed(screen)
    # The journal's human side (runs show) is escaped too.
    code, shown = on_terminal(tmp_path, "runs", "show", "last")
    assert code == 0, shown
    assert f"✗ {ids[0]}: HTTP 500: \\x1b]0;PWNED" in shown
    assert_nothing_obeyed(shown)


# -- issue 11 item 5: no traceback for any input --------------------------------------------------


def test_no_input_ends_in_a_traceback(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    ids = api.ids(2)
    write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    done = dexbulk("star", "--ids", ids[0], api=api)
    assert done.code == 0, done
    [journal] = (tmp_path / "dexbulk-state" / "runs").glob("*.jsonl")
    with journal.open("ab") as handle:
        handle.write(b'{"type": "batch", "confirmed": [\n\xff\xfe garbage\n')

    cases = [
        ("set", f"birthday_year={'9' * 5000}", "--ids", ids[1]),
        ("star", "--from", "deep.json"),
        ("runs",),
        ("runs", "show", "last"),
        ("retry", "last"),
    ]
    for args in cases:
        result = dexbulk(*args, api=api)
        assert "Traceback" not in result.stderr, (args, result)
        assert result.code in (0, 2, 70), (args, result)
        if result.code == 70:
            error, hint = result.stderr.splitlines()[-2:]
            assert error.startswith("error: internal error: "), (args, result)
            crash = Path(hint.rsplit(" ", 1)[1])
            assert crash.parent == tmp_path / "dexbulk-state"
            assert stat.S_IMODE(crash.stat().st_mode) == 0o600
            assert "Traceback (most recent call last)" in crash.read_text()


# -- issue 11 item 8: a closed stdout changes nothing ----------------------------------------------


def test_a_closed_stdout_changes_neither_the_outcome_nor_the_exit_code(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(20)
    write(tmp_path, "ids.txt", "\n".join(ids) + "\n")
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": api.key}

    for output in (("--results", "-"), ("--json",)):
        reader, writer = os.pipe()
        os.close(reader)  # the reader is gone before a line is written: every write is EPIPE
        try:
            done = subprocess.run(
                [str(DEXBULK), "star", "--from", "ids.txt", *output], stdout=writer,
                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path,
                text=True, timeout=60,
            )  # fmt: skip
        finally:
            os.close(writer)
        assert done.returncode == 0, (output, done.stderr)
        # The second pass finds every contact starred already: nothing to send, said so.
        first = done.stderr.splitlines()[0]
        assert ONE_LINE.fullmatch(first) or first.startswith("✓ Nothing to change: 20"), first
        assert "Exception ignored" not in done.stderr
    assert all(contact["starred"] for contact in snapshot(api, ids).values())


def test_results_into_head_exits_0_with_the_summary(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox("--contacts", "1000")
    ids = api.ids()
    write(tmp_path, "ids.txt", "\n".join(ids) + "\n")  # ~130 kB of results: more than a pipe holds
    env = {**base_env(tmp_path), "DEX_API_URL": api.url, "DEX_API_KEY": api.key}

    done = subprocess.run(
        ["bash", "-c", f"'{DEXBULK}' unstar --from ids.txt --results - | head -1;"
         " echo \"exit=${PIPESTATUS[0]}\" >&2"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip

    assert done.stdout.count("\n") == 1, done.stdout
    assert done.stderr.rstrip().endswith("exit=0"), done.stderr
    assert "dexbulk summary" in done.stderr, "a 1,000-contact run ends with the table"
    assert "Exception ignored" not in done.stderr
    assert "Traceback" not in done.stderr


# -- issue 15: output that fits -------------------------------------------------------------------


def test_a_clean_run_is_one_line_and_a_failed_one_a_table(
    sandbox: Sandbox, dexbulk: Dexbulk
) -> None:
    api = sandbox()
    ids = api.ids(3)

    clean = dexbulk("star", "--ids", ",".join(ids), api=api)
    failed = dexbulk("unstar", "--ids", f"{ids[0]},{UNKNOWN_ID}", api=api)

    assert clean.code == 0, clean
    match = ONE_LINE.fullmatch(clean.stderr.rstrip("\n"))
    assert match, clean
    assert match.group(1, 2) == ("Starred", "3")
    assert failed.code == 1, failed
    assert "dexbulk summary" in failed.stderr
    assert f"✗ {UNKNOWN_ID}: not found or not yours" in failed.stderr
    assert "retry" not in failed.stderr, "a contact that is not found needs no retry hint"


def test_piped_tables_are_tab_separated_and_ids_whole(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(1)
    made = dexbulk("set", "company=Acme Corp", "--ids", ids[0], "--json", api=api).json()["runId"]

    runs = dexbulk("runs")
    fields = dexbulk("fields")

    assert runs.code == 0, runs
    header, row = runs.stdout.splitlines()
    assert header.split("\t") == [
        "run",
        "state",
        "total",
        "updated",
        "failed",
        "not sent",
        "undo",
        "command",
    ]
    assert row.split("\t") == [
        made, "completed", "1", "1", "0", "0", "yes", "set 'company=Acme Corp'",
    ]  # fmt: skip
    assert fields.code == 0, fields
    [phone] = [line for line in fields.stdout.splitlines() if "phone" in line]
    assert phone.split("\t")[:2] == ["contact_phone_numbers", "list"]
    assert not re.search("[┃│━─┏┗]", runs.stdout + fields.stdout), "no box drawing in a pipe"
