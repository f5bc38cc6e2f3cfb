"""Every exit code, end to end, each with the sandbox's state afterwards.

0 all updated · 1 some not updated · 2 bad input, nothing sent · 3 key refused, one request ·
4 API unreachable or not Dex's (tests/e2e/test_network.py has more of 4).

One case of each code (marked ``subprocess``) runs the installed console script against a
``dexbulk sandbox`` process, so the code is checked as the shell sees it; the others run in
the test process (see ``conftest.py``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.test_commands import (
    UNKNOWN_ID,
    Dexbulk,
    Sandbox,
    assert_changed,
    preset,
    snapshot,
)


@pytest.mark.subprocess
def test_0_every_contact_updated(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"is_archived": False})
    before = snapshot(api, ids)

    result = dexbulk("archive", "--ids", f"{ids[0]},{ids[1]}", "--json", api=api)

    assert result.code == 0, result
    document = result.json()
    assert (document["exitCode"], document["updated"], document["failed"]) == (0, 2, 0)
    assert_changed(before, snapshot(api, ids), {cid: {"is_archived": True} for cid in ids[:2]})


@pytest.mark.parametrize("mode", [pytest.param("skip", marks=pytest.mark.subprocess), "reject"])
def test_1_unknown_contact_fails_and_the_rest_is_updated(
    sandbox: Sandbox, dexbulk: Dexbulk, mode: str
) -> None:
    # Refused (reject) or skipped, the contact is found out by one read, and says so the same.
    reason = "not found or not yours"
    api = sandbox("--unknown-ids", mode)
    ids = api.ids(5)
    preset(api, ids, {"starred": False})
    before = snapshot(api, ids)
    selected = [ids[0], ids[1], UNKNOWN_ID, ids[2], ids[3]]

    result = dexbulk("star", "--ids", ",".join(selected), "--json", api=api)

    assert result.code == 1, result
    document = result.json()
    assert (document["exitCode"], document["updated"], document["failed"]) == (1, 4, 1)
    assert [f["contactId"] for f in document["failures"]] == [UNKNOWN_ID]
    assert reason in document["failures"][0]["error"]
    assert f"{UNKNOWN_ID}: " in result.stderr, "the summary names the failed contact"
    assert reason in result.stderr
    assert_changed(before, snapshot(api, ids), {cid: {"starred": True} for cid in ids[:4]})


@dataclass(frozen=True)
class BadInput:
    """One way to get exit 2: the command, the files it reads, and what the message says."""

    args: tuple[str, ...]
    says: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    keyless: bool = False


# "{a}" and "{b}" stand for real contact IDs of the sandbox.
BAD_INPUTS: dict[str, BadInput] = {
    "malformed ID in a file": BadInput(
        ("star", "--from", "ids.txt"),
        ("ids.txt line 3", "'not-an-id'", "not a contact ID"),
        {"ids.txt": "{a}\n# a comment\nnot-an-id\n{b}\n"},
    ),
    "malformed ID in --ids": BadInput(
        ("star", "--ids", "{a},12345"),
        ("--ids", "'12345'", "not a contact ID"),
    ),
    "unknown field": BadInput(
        ("set", "compnay=Acme", "--ids", "{a}"),
        ("unknown field 'compnay'", "did you mean 'company'"),
    ),
    "wrong type": BadInput(
        ("set", "company=Acme", "birthday_year=19x0", "--ids", "{a}"),
        ("'birthday_year=19x0'", "not an integer"),
    ),
    "bad frequency": BadInput(
        ("set", "frequency=sometimes", "--ids", "{a}"),
        ("'sometimes'", "frequency", "monthly"),
    ),
    "empty selection file": BadInput(
        ("star", "--from", "ids.txt"),
        ("no contact IDs found in ids.txt",),
        {"ids.txt": "# nobody yet\n\n"},
    ),
    "empty selection on stdin": BadInput(
        ("star",), ("no contact IDs found in <stdin>",), stdin="\n"
    ),
    "empty patch file": BadInput(
        ("apply", "patch.yaml", "--ids", "{a}"),
        ("patch.yaml", "empty"),
        {"patch.yaml": "\n"},
    ),
    "patch with no fields": BadInput(
        ("apply", "patch.json", "--ids", "{a}"),
        ("patch.json", "no fields"),
        {"patch.json": "{}"},
    ),
    "missing ID file": BadInput(("star", "--from", "missing.txt"), ("missing.txt: no such file",)),
    "missing patch file": BadInput(
        ("apply", "missing.yaml", "--ids", "{a}"),
        ("missing.yaml: no such file",),
    ),
    "malformed JSON patch": BadInput(
        ("apply", "patch.json", "--ids", "{a}"),
        ("patch.json", "not valid JSON", "line 2"),
        {"patch.json": '{"company": "Acme",\n'},
    ),
    "malformed YAML patch": BadInput(
        ("apply", "patch.yaml", "--ids", "{a}"),
        ("patch.yaml", "not valid YAML"),
        {"patch.yaml": "company: [Acme\n"},
    ),
    "CSV patch with an unknown column": BadInput(
        ("apply", "updates.csv"),
        ("updates.csv", "unknown column 'compnay'", "did you mean 'company'"),
        {"updates.csv": "contactId,compnay\n{a},Acme\n"},
    ),
    "CSV patch with a bad cell after a good row": BadInput(
        ("apply", "updates.csv"),
        ("updates.csv line 3", "'19x0'", "not an integer"),
        {"updates.csv": "contactId,company,birthday_year\n{a},Acme,1990\n{b},Acme,19x0\n"},
    ),
    "batch size 0": BadInput(("star", "--ids", "{a}", "--batch-size", "0"), ("--batch-size",)),
    "plain http to a remote host": BadInput(
        ("star", "--ids", "{a}", "--api-url", "http://example.com/v1"),
        ("http://example.com/v1", "https"),
    ),
    "no API key at all": BadInput(("star", "--ids", "{a}"), ("DEX_API_KEY",), keyless=True),
    "unknown option": BadInput(
        ("star", "--ids", "{a}", "--dryrun"),
        ("error: No such option: --dryrun", "hint: 'dexbulk star --help'"),
    ),
    "option without its value": BadInput(
        ("star", "--ids", "{a}", "--batch-size"), ("--batch-size", "requires an argument")
    ),
    "misspelt command": BadInput(("stra", "--ids", "{a}"), ("'stra'", "Did you mean 'star'")),
}


# A dexbulk error and a usage error (Click's): two paths to exit 2, both through the real script.
THROUGH_THE_SCRIPT = ("malformed ID in a file", "unknown option")


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.subprocess) if case in THROUGH_THE_SCRIPT else case
        for case in BAD_INPUTS
    ],
)
def test_2_bad_input_sends_nothing(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, case: str
) -> None:
    bad = BAD_INPUTS[case]
    api = sandbox()
    ids = api.ids(2)
    before = snapshot(api, ids)

    def fill(text: str) -> str:
        return text.replace("{a}", ids[0]).replace("{b}", ids[1])

    for name, text in bad.files.items():
        (tmp_path / name).write_text(fill(text), encoding="utf-8")
    args = [fill(arg) for arg in bad.args]
    requests_before = api.stats()["requests"]

    if bad.keyless:  # the sandbox's URL, but no key anywhere
        result = dexbulk(*args, env={"DEX_API_URL": api.url}, input=bad.stdin)
    else:
        result = dexbulk(*args, api=api, input=bad.stdin)

    stats = api.stats()
    assert result.code == 2, result
    assert result.stdout == ""
    for words in bad.says:
        assert words in result.stderr, f"{words!r} not in the message:\n{result.stderr}"
    assert stats["requests"] == requests_before, "bad input must cost no request"
    assert stats["put_requests"] == 0
    assert snapshot(api, ids) == before


def test_2_plain_http_message_names_the_option_that_was_used(dexbulk: Dexbulk) -> None:
    result = dexbulk("star", "--ids", UNKNOWN_ID, "--api-url", "http://example.com/v1")
    assert result.code == 2, result
    assert "--api-url" in result.stderr, result.stderr


@pytest.mark.subprocess
def test_3_wrong_key_costs_one_request(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(20)
    before = snapshot(api, ids)
    wrong = "dex_wrong_0000000000000000"
    requests_before = api.stats()["requests"]

    result = dexbulk(
        "star", "--ids", ",".join(ids), "--batch-size", "2", "--concurrency", "4", api=api,
        env={"DEX_API_KEY": wrong},
    )  # fmt: skip

    stats = api.stats()
    assert result.code == 3, result
    assert result.stdout == ""
    assert "refused the API key" in result.stderr
    assert "DEX_API_KEY" in result.stderr
    assert wrong not in result.stderr
    # The first request is the read of current values: refused, nothing is sent.
    assert stats["requests"] == requests_before + 1, "10 batches, 4 workers: still one request"
    assert stats["by_status"].get("401") == 1
    assert snapshot(api, ids) == before


def test_3_wrong_key_still_writes_results_and_failed_to(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    # --failed-to promises the IDs not updated, failed or never sent, ready for --from;
    # --results one record per selected contact.
    api = sandbox()
    ids = api.ids(3)
    before = snapshot(api, ids)
    requests_before = api.stats()["requests"]

    result = dexbulk(
        "star", "--ids", ",".join(ids), "--failed-to", "failed.txt", "--results", "results.jsonl",
        api=api, env={"DEX_API_KEY": "dex_wrong_0000000000000000"},
    )  # fmt: skip

    assert result.code == 3, result
    assert api.stats()["requests"] == requests_before + 1  # the read, refused: nothing sent
    assert snapshot(api, ids) == before
    assert (tmp_path / "failed.txt").read_text().split() == ids, "nothing was updated"
    records = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(records) == len(ids), "one record per selected contact"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.subprocess
def test_4_api_unreachable(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    before = snapshot(api, ids)
    requests_before = api.stats()["requests"]
    dead = f"http://127.0.0.1:{_closed_port()}/v1"

    result = dexbulk(
        "star", "--ids", ",".join(ids), "--api-url", dead, "--max-attempts", "1", "--json",
        "--no-read", api=api,
    )  # fmt: skip

    assert result.code == 4, result
    document = result.json()
    assert (document["exitCode"], document["updated"], document["failed"]) == (4, 0, 0)
    assert (document["notSent"], document["state"]) == (3, "unreachable")
    cause = f"cannot reach {dead}: connection refused by {dead.split('/')[2]}"
    assert document["error"]["message"] == cause
    assert f"error: {cause}" in result.stderr
    assert api.stats()["requests"] == requests_before, "the run went to the dead URL only"
    assert snapshot(api, ids) == before
