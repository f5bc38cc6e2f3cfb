"""Every command, end to end: dexbulk's entry point against a sandbox on 127.0.0.1.

Each test asserts the exit code, stdout, stderr and the sandbox's state afterwards: the fields
that should change did, and nothing else did. The helpers at the top are shared with the other
e2e modules of this set (``test_inputs.py``, ``test_exit_codes.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import dexbulk as dexbulk_package
from tests.e2e.conftest import Result, SandboxApi

Sandbox = Callable[..., SandboxApi]
Dexbulk = Callable[..., Result]

UNKNOWN_ID = "00000000-0000-4000-8000-000000000001"
"""A well-formed contact ID that is not in the sandbox's address book."""


def snapshot(api: SandboxApi, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every listed contact as the sandbox stores it now."""
    found = {cid: api.contact(cid) for cid in ids}
    missing = [cid for cid, contact in found.items() if contact is None]
    assert not missing, f"not in the sandbox: {missing}"
    return found  # type: ignore[return-value]


def changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per contact, the fields whose value changed (with the new value); ``updated_at`` aside."""
    found: dict[str, dict[str, Any]] = {}
    for cid, old in before.items():
        new = after[cid]
        diff = {
            key: new.get(key)
            for key in sorted(set(old) | set(new))
            if key != "updated_at" and old.get(key) != new.get(key)
        }
        if diff:
            found[cid] = diff
    return found


def assert_changed(
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    expected: Mapping[str, Mapping[str, Any]],
) -> None:
    """Exactly ``expected`` changed; every other contact is byte-for-byte as it was."""
    assert changes(before, after) == expected
    for cid in before:
        if cid not in expected:
            assert after[cid] == before[cid], f"{cid} was touched"


def preset(api: SandboxApi, ids: Sequence[str], data: Mapping[str, Any]) -> None:
    """Put known values in place straight through the sandbox's API (not through dexbulk)."""
    body = [{"contactId": cid, "data": dict(data)} for cid in ids]
    answer = api.http.put(f"{api.url}/contacts/", json=body, timeout=5)
    answer.raise_for_status()


def write(directory: Path, name: str, text: str, *, raw: bytes | None = None) -> Path:
    """Write a file into the directory the command runs in (its cwd)."""
    path = directory / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def clean_run(stderr: str) -> int:
    """How many contacts the one-line summary of a clean run says were updated."""
    match = re.search(r"^✓ \w+ ([\d,]+) contacts? in [\d.]+ s", stderr, re.MULTILINE)
    assert match, f"no one-line summary:\n{stderr}"
    return int(match.group(1).replace(",", ""))


# -- star / unstar / archive / unarchive ---------------------------------------------------------

FLAG_COMMANDS = [
    ("star", "starred", True),
    ("unstar", "starred", False),
    ("archive", "is_archived", True),
    ("unarchive", "is_archived", False),
]


@pytest.mark.parametrize(("command", "field", "value"), FLAG_COMMANDS)
def test_flag_command_takes_ids_from_every_source(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, command: str, field: str, value: bool
) -> None:
    api = sandbox()
    ids = api.ids(14)
    preset(api, ids, {field: not value})
    before = snapshot(api, ids)
    write(tmp_path, "ids.txt", f"{ids[6]}\n{ids[7]}\n")
    selections: list[tuple[tuple[str, ...], str | None]] = [
        (("--ids", f"{ids[0]},{ids[1]}"), None),
        (("--ids", ids[2], "--ids", ids[3]), None),
        (("--ids", f"{ids[4]} {ids[5]}"), None),
        (("--from", "ids.txt"), None),
        ((), f"{ids[8]}\n{ids[9]}\n"),
        (("--from", "-"), f"{ids[10]}\n{ids[11]}\n"),
    ]
    puts = api.stats()["put_requests"]
    for args, stdin in selections:
        result = dexbulk(command, *args, api=api, input=stdin)
        assert result.code == 0, (args, result)
        assert result.stdout == "", "a human run prints nothing on stdout"
        assert clean_run(result.stderr) == 2
    assert api.stats()["put_requests"] == puts + len(selections)
    # ids[12] and ids[13] were never selected: untouched.
    assert_changed(before, snapshot(api, ids), {cid: {field: value} for cid in ids[:12]})


# -- set / unset -------------------------------------------------------------------------------


def test_set_text_fields_from_ids_file(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    ids = api.ids(4)
    preset(api, ids, {"company": "Old Co", "job_title": "Old Title"})
    before = snapshot(api, ids)
    write(tmp_path, "ids.txt", "\n".join(ids[:3]) + "\n")

    result = dexbulk("set", "company=Acme", "job_title=Head of Sales", "--from", "ids.txt", api=api)

    assert result.code == 0, result
    assert result.stdout == ""
    assert clean_run(result.stderr) == 3
    expected = {"company": "Acme", "job_title": "Head of Sales"}
    assert_changed(before, snapshot(api, ids), dict.fromkeys(ids[:3], expected))


def test_set_coerces_each_value_by_its_field_type(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {
        "starred": False, "birthday_year": None, "birthday": None, "next_reminder_at": None,
        "frequency": None,
    })  # fmt: skip
    before = snapshot(api, ids)

    result = dexbulk(
        "set", "starred=true", "birthday_year=1990", "birthday=1990-05-02",
        "next_reminder_at=2026-12-01T09:00:00Z", "frequency=monthly",
        "--ids", f"{ids[0]},{ids[1]}", "--json", api=api,
    )  # fmt: skip

    assert result.code == 0, result
    assert result.json()["updated"] == 2
    expected = {
        "starred": True, "birthday_year": 1990, "birthday": "1990-05-02",
        "next_reminder_at": "2026-12-01T09:00:00Z", "frequency": "1 mon",
    }  # fmt: skip
    assert_changed(before, snapshot(api, ids), {ids[0]: expected, ids[1]: expected})


def test_set_json_values_for_lists_and_tag_operations(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    before = snapshot(api, ids)
    tags = api.http.get(f"{api.url}/search/tags", timeout=5).json()["data"]["items"]
    held = {t["id"] for cid in ids[:2] for t in before[cid]["tags"]}
    tag = next(t for t in tags if t["id"] not in held)

    result = dexbulk(
        "set", 'contact_emails:=[{"email":"a@b.co"}]',
        "tags_contacts:=" + json.dumps({"append": [{"tag_id": tag["id"]}]}),
        "--ids", f"{ids[0]},{ids[1]}", "--json", api=api,
    )  # fmt: skip

    assert result.code == 0, result
    assert result.json()["updated"] == 2
    after = snapshot(api, ids)
    found = changes(before, after)
    assert set(found) == {ids[0], ids[1]}
    for cid in ids[:2]:
        assert set(found[cid]) == {"contact_emails", "tags"}
        assert [e["email"] for e in after[cid]["contact_emails"]] == ["a@b.co"]
        old_tags = {t["id"] for t in before[cid]["tags"]}
        assert {t["id"] for t in after[cid]["tags"]} == old_tags | {tag["id"]}, "append kept old"
    assert after[ids[2]] == before[ids[2]]


def test_unset_stores_null_and_leaves_other_fields(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"job_title": "Engineer", "company": "Keep Co"})
    before = snapshot(api, ids)

    result = dexbulk("unset", "job_title", "--ids", f"{ids[0]},{ids[1]}", api=api)

    assert result.code == 0, result
    assert result.stdout == ""
    after = snapshot(api, ids)
    assert_changed(before, after, {ids[0]: {"job_title": None}, ids[1]: {"job_title": None}})
    assert after[ids[0]]["company"] == "Keep Co"


# -- apply ---------------------------------------------------------------------------------------


def test_apply_yaml_mapping_to_ids_from_file(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"company": None, "birthday": None, "frequency": None})
    before = snapshot(api, ids)
    write(tmp_path, "ids.txt", f"{ids[0]}\n{ids[1]}\n")
    write(tmp_path, "patch.yaml", "company: Initech\nbirthday: 1990-05-02\nfrequency: quarterly\n")

    result = dexbulk("apply", "patch.yaml", "--from", "ids.txt", api=api)

    assert result.code == 0, result
    assert result.stdout == ""
    expected = {"company": "Initech", "birthday": "1990-05-02", "frequency": "3 mons"}
    assert_changed(before, snapshot(api, ids), {ids[0]: expected, ids[1]: expected})


def test_apply_api_shaped_json_with_per_contact_data(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"company": "Old Co", "job_title": "Old Title"})
    before = snapshot(api, ids)
    body = [
        {"contactId": ids[0], "data": {"company": "Alpha"}},
        {"contactId": ids[1], "data": {"job_title": "Beta", "starred": True}},
        {"contactId": ids[0], "data": {"company": "Alpha"}},  # the same again: sent once
    ]
    write(tmp_path, "updates.json", json.dumps(body))

    result = dexbulk("apply", "updates.json", "--json", api=api)

    assert result.code == 0, result
    document = result.json()
    assert (document["selected"], document["duplicates"], document["updated"]) == (2, 1, 2)
    assert_changed(before, snapshot(api, ids), {
        ids[0]: {"company": "Alpha"},
        ids[1]: {"job_title": "Beta", **({} if before[ids[1]]["starred"] else {"starred": True})},
    })  # fmt: skip


def test_apply_json_lines(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"company": "Old Co"})
    before = snapshot(api, ids)
    lines = [{"contactId": ids[0], "data": {"company": "J1"}}]
    lines.append({"contactId": ids[2], "data": {"company": None}})
    write(tmp_path, "updates.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    result = dexbulk("apply", "updates.jsonl", api=api)

    assert result.code == 0, result
    assert result.stdout == ""
    expected = {ids[0]: {"company": "J1"}, ids[2]: {"company": None}}
    assert_changed(before, snapshot(api, ids), expected)


def test_apply_csv_empty_cell_leaves_the_field_unchanged(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(4)
    preset(api, ids, {"company": "Old Co", "job_title": "Old Title"})
    before = snapshot(api, ids)
    write(tmp_path, "updates.csv", (
        "contactId,company,job_title\n"
        f"{ids[0]},Foo,\n"
        f"{ids[1]},,Bar\n"
        f"{ids[2]},null,\n"
    ))  # fmt: skip

    result = dexbulk("apply", "updates.csv", "--json", api=api)

    assert result.code == 0, result
    assert result.json()["updated"] == 3
    after = snapshot(api, ids)
    assert_changed(before, after, {
        ids[0]: {"company": "Foo"}, ids[1]: {"job_title": "Bar"}, ids[2]: {"company": None},
    })  # fmt: skip
    assert after[ids[0]]["job_title"] == "Old Title", "an empty cell must not clear the field"
    assert after[ids[1]]["company"] == "Old Co", "an empty cell must not clear the field"


def test_apply_patch_from_stdin_with_ids(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"company": "Old Co"})
    before = snapshot(api, ids)

    result = dexbulk("apply", "-", "--ids", f"{ids[0]},{ids[1]}", api=api, input="company: Piped\n")

    assert result.code == 0, result
    expected = {"company": "Piped"}
    assert_changed(before, snapshot(api, ids), {ids[0]: expected, ids[1]: expected})


# -- duplicates ----------------------------------------------------------------------------------


def test_duplicate_ids_are_sent_once_and_counted(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"starred": False})
    before = snapshot(api, ids)
    write(tmp_path, "ids.txt", f"{ids[0]}\n{ids[1]}\n{ids[0].upper()}\n")
    puts = api.stats()["put_requests"]

    # One contact per request: the number of PUTs is the number of contacts sent.
    result = dexbulk("star", "--from", "ids.txt", "--batch-size", "1", "--json", api=api)

    assert result.code == 0, result
    document = result.json()
    assert (document["selected"], document["duplicates"], document["updated"]) == (2, 1, 2)
    assert api.stats()["put_requests"] == puts + 2
    assert_changed(before, snapshot(api, ids), {cid: {"starred": True} for cid in ids[:2]})

    # --no-read: ids[2] is already unstarred, and a read would rightly leave it unsent.
    human = dexbulk(
        "unstar", "--ids", f"{ids[2]},{ids[2]}", "--batch-size", "1", "--no-read", api=api
    )
    assert human.code == 0, human
    assert clean_run(human.stderr) == 1
    assert ", 1 duplicate dropped (run " in human.stderr
    assert api.stats()["put_requests"] == puts + 3


# -- dry run, --json, --quiet --------------------------------------------------------------------


def test_dry_run_shows_the_plan_and_sends_nothing(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(3)
    before = snapshot(api, ids)
    write(tmp_path, "ids.txt", f"{ids[0]}\n{ids[1]}\n{ids[0]}\n")
    requests_before = api.stats()["requests"]

    human = dexbulk(
        "set", "company=Dry", "--from", "ids.txt", "--dry-run", api=api,
        env={"DEX_API_KEY": ""},
    )  # fmt: skip
    machine = dexbulk(
        "set", "company=Dry", "--from", "ids.txt", "--dry-run", "--json", api=api,
        env={"DEX_API_KEY": ""},
    )  # fmt: skip

    stats = api.stats()
    assert stats["requests"] == requests_before, "a dry run sends no request at all"
    assert stats["put_requests"] == 0
    assert snapshot(api, ids) == before

    assert human.code == 0, human
    assert human.stdout == ""
    assert "Dry run" in human.stderr
    assert f"PUT {api.url}/contacts/ (key redacted)" in human.stderr
    assert ids[0] in human.stderr
    assert ids[1] in human.stderr
    assert "contacts  2 (1 duplicate dropped)" in human.stderr

    assert machine.code == 0, machine
    assert machine.stderr == ""
    plan = machine.json()
    assert plan["dryRun"] is True
    assert (plan["selected"], plan["duplicates"], plan["batches"]) == (2, 1, 1)
    assert plan["data"] == {"company": "Dry"}
    request = plan["firstRequest"]
    assert request["method"] == "PUT"
    assert request["url"] == f"{api.url}/contacts/"
    assert request["headers"]["Authorization"] == "Bearer <redacted>"
    assert request["body"] == [
        {"contactId": ids[0], "data": {"company": "Dry"}},
        {"contactId": ids[1], "data": {"company": "Dry"}},
    ]


def test_dry_run_needs_no_api_settings_at_all(dexbulk: Dexbulk) -> None:
    result = dexbulk("star", "--ids", UNKNOWN_ID, "--dry-run", "--json")
    assert result.code == 0, result
    plan = result.json()
    assert plan["apiUrl"] == "https://api.prod.getdex.com/v1"
    assert plan["firstRequest"]["headers"]["Authorization"] == "Bearer <redacted>"


@pytest.mark.subprocess  # what reaches each file descriptor of the real process
def test_json_is_one_document_and_quiet_is_silent(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(4)
    preset(api, ids, {"starred": False})
    before = snapshot(api, ids)

    result = dexbulk("star", "--ids", f"{ids[0]},{ids[1]}", "--json", api=api)
    quiet = dexbulk("star", "--ids", ids[2], "--json", "--quiet", api=api)
    silent = dexbulk("unstar", "--ids", ids[2], "-q", api=api)

    assert result.code == 0, result
    document = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert isinstance(document, dict)
    assert (document["updated"], document["failed"], document["exitCode"]) == (2, 0, 0)
    assert document["failures"] == []
    assert clean_run(result.stderr) == 2, "the human summary still goes to stderr"
    assert quiet.code == 0, quiet
    assert json.loads(quiet.stdout)["updated"] == 1
    assert quiet.stderr == ""
    assert (silent.code, silent.stdout, silent.stderr) == (0, "", "")
    after = snapshot(api, ids)
    # ids[2] was starred, then unstarred: back where it was.
    assert changes(before, after) == {cid: {"starred": True} for cid in ids[:2]}
    assert after[ids[3]] == before[ids[3]]


# -- --results, --failed-to ----------------------------------------------------------------------


def test_results_and_failed_to_files(sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path) -> None:
    api = sandbox()  # unknown IDs are skipped and left out of Dex's count
    ids = api.ids(3)
    preset(api, ids, {"starred": False})
    before = snapshot(api, ids)

    result = dexbulk(
        "star", "--ids", f"{ids[0]},{UNKNOWN_ID},{ids[1]}",
        "--results", "results.jsonl", "--failed-to", "failed.txt", api=api,
    )  # fmt: skip

    assert result.code == 1, result
    assert result.stdout == ""
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["contactId"], r["ok"]) for r in records] == [
        (ids[0], True), (UNKNOWN_ID, False), (ids[1], True),
    ]  # fmt: skip
    assert "not found or not yours" in records[1]["error"]
    assert (tmp_path / "failed.txt").read_text() == UNKNOWN_ID + "\n"
    assert_changed(before, snapshot(api, ids), {cid: {"starred": True} for cid in ids[:2]})

    again = dexbulk("unstar", "--from", "failed.txt", "--dry-run", "--json", api=api)
    assert again.code == 0, again
    assert [item["contactId"] for item in again.json()["firstRequest"]["body"]] == [UNKNOWN_ID]


def test_results_to_stdout_in_input_order(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"starred": True})
    before = snapshot(api, ids)

    result = dexbulk("unstar", "--ids", f"{ids[1]},{ids[0]},{ids[1]}", "--results", "-", api=api)

    assert result.code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["contactId"], r["ok"], r["error"]) for r in records] == [
        (ids[1], True, None), (ids[0], True, None),
    ]  # fmt: skip
    assert clean_run(result.stderr) == 2
    assert_changed(before, snapshot(api, ids), {cid: {"starred": False} for cid in ids[:2]})


# -- fields, --version, --help -------------------------------------------------------------------


def test_fields_lists_fields_and_advanced_adds_sync_fields(dexbulk: Dexbulk) -> None:
    plain = dexbulk("fields")
    advanced = dexbulk("fields", "--advanced")
    as_json = dexbulk("fields", "--json")

    assert plain.code == 0, plain
    assert "company" in plain.stdout
    assert "birthday" in plain.stdout
    assert "gmail_last_interaction_at" not in plain.stdout
    assert advanced.code == 0, advanced
    assert "gmail_last_interaction_at" in advanced.stdout
    assert as_json.code == 0, as_json
    assert as_json.stderr == ""
    by_name = {f["name"]: f for f in as_json.json()}
    assert by_name["company"]["type"] == "string"
    assert by_name["birthday"]["type"] == "date"
    assert by_name["gmail_last_interaction_at"]["advanced"] is True


def test_version(dexbulk: Dexbulk) -> None:
    result = dexbulk("--version")
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == f"dexbulk {dexbulk_package.__version__}\n"


COMMANDS = [
    "star", "unstar", "archive", "unarchive", "set", "unset", "apply", "fields", "runs",
    "runs show", "resume", "retry", "sandbox", "demo", "auth login", "auth status",
    "auth logout", "config show", "config path",
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command_has_an_example(dexbulk: Dexbulk, command: str) -> None:
    result = dexbulk(*command.split(), "--help")
    assert result.code == 0, result
    assert "Example" in result.stdout, f"'dexbulk {command} --help' shows no example"


def test_help_keeps_bracketed_defaults_and_env_names(dexbulk: Dexbulk) -> None:
    # The option help says "[env DEX_API_URL; default: https://...]" and "[default: 100]".
    result = dexbulk("star", "--help")
    assert result.code == 0, result
    text = " ".join(result.stdout.split())
    assert "DEX_API_URL" in text, "the env var of --api-url vanished from the help"
    assert "default: 100" in text, "the default of --batch-size vanished from the help"


# -- runs, resume --------------------------------------------------------------------------------


def test_runs_show_and_resume_of_a_finished_run(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    ids = api.ids(2)
    preset(api, ids, {"starred": False})

    empty = dexbulk("runs")
    assert empty.code == 0, empty
    assert "No runs yet" in empty.stdout

    first = dexbulk("star", "--ids", ids[0], "--json", api=api)
    assert first.code == 0, first
    run_id = first.json()["runId"]

    listed = dexbulk("runs")
    assert listed.code == 0, listed
    assert run_id in listed.stdout
    assert [r["runId"] for r in dexbulk("runs", "--json").json()] == [run_id]

    shown = dexbulk("runs", "show", "last", "--json")
    assert shown.code == 0, shown
    document = shown.json()
    assert document["runId"] == run_id
    assert (document["command"], document["total"], document["updated"]) == ("star", 1, 1)
    assert (document["failed"], document["failures"]) == (0, [])
    assert document["patch"] == {"starred": True}

    puts = api.stats()["put_requests"]
    resumed = dexbulk("resume", "last", api=api)
    assert resumed.code == 0, resumed
    assert resumed.stdout == ""
    assert "nothing to send" in resumed.stderr
    assert api.stats()["put_requests"] == puts

    failing = dexbulk("unstar", "--ids", f"{ids[1]},{UNKNOWN_ID}", "--json", api=api)
    assert failing.code == 1, failing
    failed_run = failing.json()["runId"]
    shown = dexbulk("runs", "show", failed_run, "--json")
    assert shown.code == 0, shown
    assert [f["contactId"] for f in shown.json()["failures"]] == [UNKNOWN_ID]


def test_runs_are_listed_newest_first_and_last_is_the_latest(
    sandbox: Sandbox, dexbulk: Dexbulk
) -> None:
    api = sandbox()
    ids = api.ids(6)
    preset(api, ids, {"starred": False})  # each run changes something, so each is journaled
    made = []
    for cid in ids:  # several runs within the same second or two
        result = dexbulk("star", "--ids", cid, "--json", api=api)
        assert result.code == 0, result
        made.append(result.json()["runId"])

    listed = dexbulk("runs", "--json")
    last = dexbulk("runs", "show", "last", "--json")

    assert listed.code == 0, listed
    assert [r["runId"] for r in listed.json()] == made[::-1]
    assert last.code == 0, last
    assert last.json()["runId"] == made[-1]


# -- demo ----------------------------------------------------------------------------------------


def test_demo_runs_without_a_key(dexbulk: Dexbulk) -> None:
    result = dexbulk("demo", "--contacts", "12", "--no-progress", env={"DEX_API_KEY": ""})

    assert result.code == 0, result
    assert result.stdout == ""
    assert clean_run(result.stderr) == 12
    assert "Before → after" in result.stderr
    assert "→ Acme Corp" in result.stderr
