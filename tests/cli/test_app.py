"""Every command through Typer's CliRunner, with the HTTP layer mocked by ``responses``.

Asserts exit code, stdout, stderr and the exact requests sent (or that none were).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from typer.testing import CliRunner

from dexbulk import __version__
from dexbulk.cli.app import app
from tests.cli.runner import Run
from tests.conftest import TEST_KEY

API = "https://api.test.getdex.com/v1"  # a Dex host: no "key sent to another host" warning
PUT_URL = f"{API}/contacts/"
A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "8df02237-1111-4b50-8888-8dd25736052b"
C = "0a1b2c3d-2222-4b50-8888-8dd25736052c"


def invoke(*args: str, stdin: str = "", key: str | None = TEST_KEY, **env: str) -> Run:
    environ = {"DEX_API_URL": API, "COLUMNS": "200", "NO_COLOR": "1", **env}
    if key is not None:
        environ["DEX_API_KEY"] = key
    return Run(CliRunner().invoke(app, list(args), input=stdin, env=environ))


FILTER_URL = f"{API}/contacts/filter"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The mocked API. Its first filter request (the read of current values before an update)
    answers that Dex holds none of the contacts: every one is sent, as before that read existed.
    A test that registers its own filter answers gets them from the second request on."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(FILTER_URL, json={"error": False, "data": {"items": []}})
        yield mock


def puts(mock: responses.RequestsMock) -> list[responses.Call]:
    return [call for call in mock.calls if call.request.method == "PUT"]


def ok(count: int) -> dict[str, object]:
    return {"error": False, "data": {"count": count}}


def bodies(mock: responses.RequestsMock) -> list[list[dict[str, object]]]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "PUT"]


# --- the flag commands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "field", "value", "verb"),
    [
        ("star", "starred", True, "Starred"),
        ("unstar", "starred", False, "Unstarred"),
        ("archive", "is_archived", True, "Archived"),
        ("unarchive", "is_archived", False, "Unarchived"),
    ],
)
def test_flag_commands_send_the_flag_for_every_id(
    api: responses.RequestsMock, command: str, field: str, value: bool, verb: str
) -> None:
    api.put(PUT_URL, json=ok(2))
    run = invoke(command, "--ids", f"{A},{B.upper()}")
    assert run.code == 0, run
    assert bodies(api) == [
        [{"contactId": A, "data": {field: value}}, {"contactId": B, "data": {field: value}}]
    ]
    request = puts(api)[0].request
    assert request.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"dexbulk/{__version__}"
    # A clean run answers in one line.
    assert re.fullmatch(rf"✓ {verb} 2 contacts in \d+\.\d s \(run \S+\)\n", run.stderr), run


def test_ids_from_stdin_when_it_is_not_a_terminal(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(2))
    run = invoke("archive", stdin=f"{A}\n# a comment\n\n{B}\n{A}\n")
    assert run.code == 0, run
    assert [u["contactId"] for u in bodies(api)[0]] == [A, B]
    assert ", 1 duplicate dropped (run " in run.stderr


def count_every_contact(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """A PUT answer that confirms every contact of the batch it answers."""
    return 200, {}, json.dumps(ok(len(json.loads(request.body or b"[]"))))


def test_batches_follow_batch_size(api: responses.RequestsMock, tmp_path: Path) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(7)]
    (tmp_path / "ids.txt").write_text("\n".join(ids))
    # Batches 2 and 3 go out concurrently: answer each with its own size, not in arrival order.
    api.add_callback(responses.PUT, PUT_URL, callback=count_every_contact)
    run = invoke("star", "--from", str(tmp_path / "ids.txt"), "--batch-size", "3", "--json")
    assert run.code == 0, run
    sent = sorted(len(b) for b in bodies(api))
    assert sent == [1, 3, 3]
    document = json.loads(run.stdout)
    assert document["updated"] == 7
    assert document["batches"] == 3


# --- set, unset, apply ----------------------------------------------------------------------


def test_set_coerces_values_by_field_type(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke(
        "set", "company=Acme", "starred=yes", "birthday_year=1990", "frequency=quarterly",
        'contact_emails:=[{"email": "a@b.co"}]', "--ids", A,
    )  # fmt: skip
    assert run.code == 0, run
    assert bodies(api)[0][0]["data"] == {
        "company": "Acme",
        "starred": True,
        "birthday_year": 1990,
        "frequency": "3 mons",
        "contact_emails": [{"email": "a@b.co"}],
    }


def test_unset_sends_null(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke("unset", "job_title", "birthday", "--ids", A)
    assert run.code == 0, run
    assert bodies(api)[0][0]["data"] == {"job_title": None, "birthday": None}


def test_apply_mapping_file_to_selected_ids(api: responses.RequestsMock, tmp_path: Path) -> None:
    patch = tmp_path / "patch.yaml"
    patch.write_text("company: Acme\nbirthday: 1990-05-02\n")
    api.put(PUT_URL, json=ok(1))
    run = invoke("apply", str(patch), "--ids", A)
    assert run.code == 0, run
    assert bodies(api)[0] == [
        {"contactId": A, "data": {"company": "Acme", "birthday": "1990-05-02"}}
    ]


def test_apply_api_shaped_file_uses_its_own_ids(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    updates = [
        {"contactId": A, "data": {"company": "X"}},
        {"contactId": B, "data": {"starred": True}},
    ]
    path = tmp_path / "updates.json"
    path.write_text(json.dumps(updates))
    api.put(PUT_URL, json=ok(2))
    run = invoke("apply", str(path))
    assert run.code == 0, run
    assert bodies(api)[0] == updates


def test_apply_csv_skips_empty_cells(api: responses.RequestsMock, tmp_path: Path) -> None:
    path = tmp_path / "updates.csv"
    path.write_text(f"contactId,company,job_title\n{A},Acme,\n{B},,CTO\n")
    api.put(PUT_URL, json=ok(2))
    run = invoke("apply", str(path))
    assert run.code == 0, run
    assert bodies(api)[0] == [
        {"contactId": A, "data": {"company": "Acme"}},
        {"contactId": B, "data": {"job_title": "CTO"}},
    ]


def test_apply_own_ids_refuses_a_selection(api: responses.RequestsMock, tmp_path: Path) -> None:
    path = tmp_path / "updates.json"
    path.write_text(json.dumps([{"contactId": A, "data": {"company": "X"}}]))
    run = invoke("apply", str(path), "--ids", B)
    assert run.code == 2
    assert "names its own contacts" in run.stderr
    assert len(api.calls) == 0


# --- dry run and output ---------------------------------------------------------------------


def test_dry_run_sends_nothing_and_needs_no_key(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=Acme", "--ids", f"{A},{B}", "--dry-run", "--json", key=None)
    assert run.code == 0, run
    assert len(api.calls) == 0
    plan = json.loads(run.stdout)
    assert plan["selected"] == 2
    assert plan["firstRequest"]["headers"]["Authorization"] == "Bearer <redacted>"
    assert plan["firstRequest"]["body"][0] == {"contactId": A, "data": {"company": "Acme"}}


def test_dry_run_human_plan_goes_to_stderr(api: responses.RequestsMock) -> None:
    run = invoke("star", "--ids", A, "--dry-run")
    assert run.code == 0, run
    assert run.stdout == ""
    assert "Dry run" in run.stderr
    assert "starred → true" in run.stderr
    assert f"PUT {PUT_URL} (key redacted)" in run.stderr
    assert not puts(api)


def test_json_output_is_one_document_with_failures(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    api.post(f"{API}/contacts/filter", json={"error": False, "data": {"items": [{"id": A}]}})
    run = invoke("star", "--ids", f"{A},{B}", "--json")
    assert run.code == 1, run
    document = json.loads(run.stdout)
    assert document["updated"] == 1
    assert document["exitCode"] == 1
    assert document["failures"] == [
        {
            "contactId": B,
            "outcome": "not_found",
            "status": 200,
            "error": "not found or not yours (Dex did not update it)",
            "attempts": 1,
        }
    ]


def test_results_and_failed_files(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.put(PUT_URL, json={"error": True, "message": f"contact {B} is invalid"}, status=400)
    api.put(PUT_URL, json=ok(1))
    api.put(PUT_URL, json={"error": True, "message": f"contact {B} is invalid"}, status=400)
    results, failed = tmp_path / "results.jsonl", tmp_path / "failed.txt"
    run = invoke("star", "--ids", f"{A},{B}", "--results", str(results), "--failed-to", str(failed))
    assert run.code == 1, run
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["contactId"], r["ok"]) for r in records] == [(A, True), (B, False)]
    assert records[1]["error"] == f"contact {B} is invalid"
    assert failed.read_text() == f"{B}\n"


def test_quiet_prints_nothing_on_success(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke("star", "--ids", A, "--quiet")
    assert run.code == 0, run
    assert run.stdout == ""
    assert run.stderr == ""


def test_quiet_still_names_the_failed_contacts(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    api.post(f"{API}/contacts/filter", json={"error": False, "data": {"items": [{"id": A}]}})
    run = invoke("star", "--ids", f"{A},{B}", "--quiet")
    assert run.code == 1, run
    assert run.stdout == ""
    # Not found is for good: no retry hint.
    assert run.stderr == f"  ✗ {B}: not found or not yours (Dex did not update it)\n", run


def test_quiet_still_names_the_retry_for_failures_a_retry_can_fix(
    api: responses.RequestsMock,
) -> None:
    api.put(PUT_URL, json=ok(1))
    api.put(PUT_URL, json={"error": True, "message": "unavailable"}, status=503)
    run = invoke("star", "--ids", f"{A},{B}", "--batch-size", "1", "--max-attempts", "1", "-q")
    assert run.code == 1, run
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"  ✗ {B}: "), run
    assert re.fullmatch(r"retry the failures with: dexbulk retry \S+ --failed", lines[1])
    assert len(lines) == 2, "no summary table, no progress"


# --- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["star", "--ids", "abc"], "'abc' is not a contact ID"),
        (["set", "compnay=Acme", "--ids", A], "did you mean 'company'"),
        (["set", "birthday_year=19x0", "--ids", A], "'19x0'"),
        (["set", "frequency=daily", "--ids", A], "'daily'"),
        (["star"], "no contact IDs found in <stdin>"),
        (["star", "--ids", A, "--batch-size", "0"], "--batch-size"),
        (["star", "--ids", A, "--api-url", "http://api.example.com/v1"], "https"),
        (["apply", "missing.yaml", "--ids", A], "missing.yaml"),
        (["star", "--from", "nope.txt"], "nope.txt"),
        (["star", "--ids", A, "--results", "-", "--json"], "stdout"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    api: responses.RequestsMock, args: list[str], message: str
) -> None:
    run = invoke(*args)
    assert run.code == 2, run
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert len(api.calls) == 0


def test_bad_id_in_a_file_names_file_and_line(api: responses.RequestsMock, tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(f"{A}\n{B}\nabc\n")
    run = invoke("star", "--from", str(path))
    assert run.code == 2
    assert f"{path} line 3: 'abc' is not a contact ID (expected a UUID)" in run.stderr
    assert len(api.calls) == 0


def test_missing_key_exits_2_naming_the_variable(api: responses.RequestsMock) -> None:
    run = invoke("star", "--ids", A, key=None)
    assert run.code == 2, run
    assert "DEX_API_KEY" in run.stderr
    assert len(api.calls) == 0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refused_exits_3_after_one_request(api: responses.RequestsMock, status: int) -> None:
    api.put(PUT_URL, json={"error": True, "message": "invalid API key"}, status=status)
    ids = ",".join(f"00000000-0000-4000-8000-{i:012d}" for i in range(10))
    run = invoke("star", "--ids", ids, "--batch-size", "2", "--concurrency", "4")
    assert run.code == 3, run
    assert len(puts(api)) == 1
    assert "refused" in run.stderr


def test_unreachable_api_exits_4(api: responses.RequestsMock) -> None:
    import requests

    api.put(PUT_URL, body=requests.ConnectionError("connection refused"))
    run = invoke("star", "--ids", A, "--max-attempts", "1")
    assert run.code == 4, run
    assert f"error: cannot reach {API}: connection refused by api.test.getdex.com:443" in run.stderr


def test_every_exit_code_is_in_the_help() -> None:
    run = invoke("--help")
    assert run.code == 0
    text = re.sub(r"\s+", " ", run.stdout)
    for code in ("0 all", "1 some", "2 bad", "3 auth", "4 API", "70 internal", "130 interrupted"):
        assert code in text


# --- the other commands ----------------------------------------------------------------------


def test_version() -> None:
    run = invoke("--version")
    assert run.code == 0
    assert run.stdout.strip() == f"dexbulk {__version__}"


def test_fields_lists_types_and_examples() -> None:
    run = invoke("fields", "--json")
    assert run.code == 0
    fields = {f["name"]: f for f in json.loads(run.stdout)}
    assert fields["birthday"]["type"] == "date"
    assert fields["starred"]["type"] == "boolean"
    assert fields["gmail_last_interaction_at"]["advanced"] is True


def test_runs_resume_and_retry(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    api.post(f"{API}/contacts/filter", json={"error": False, "data": {"items": [{"id": A}]}})
    first = invoke("star", "--ids", f"{A},{B}")
    assert first.code == 1, first
    listing = invoke("runs", "--json")
    runs = json.loads(listing.stdout)
    assert runs[0]["failed"] == 1
    assert runs[0]["updated"] == 1
    api.put(PUT_URL, json=ok(1))
    again = invoke("retry", runs[0]["runId"], "--json")
    assert again.code == 0, again
    assert bodies(api)[-1] == [{"contactId": B, "data": {"starred": True}}]
    shown = json.loads(invoke("runs", "show", "last", "--json").stdout)
    assert shown["updated"] == 2
    assert shown["failed"] == 0
    nothing = invoke("resume", "last")
    assert nothing.code == 0
    assert "nothing to send" in nothing.stderr


def test_runs_lists_a_command_and_a_reason_that_look_like_markup(
    api: responses.RequestsMock,
) -> None:
    api.put(PUT_URL, json={"error": True, "message": "note [/] is not allowed"}, status=400)
    sent = invoke("set", "job_title=[/]", "--ids", A)
    assert sent.code == 1, sent  # Dex refused its only contact: reached, so 1, not 4
    assert f"✗ {A}: note [/] is not allowed" in sent.stderr
    listing = invoke("runs")
    assert listing.code == 0, listing
    assert "set 'job_title=[/]'" in listing.stdout  # quoted as a shell would need it
    shown = invoke("runs", "show", "last")
    assert shown.code == 0, shown
    assert f"✗ {A}: note [/] is not allowed" in shown.stdout


def test_version_does_not_import_the_sending_stack() -> None:
    code = (
        "import sys; sys.argv = ['dexbulk', '--version'];"
        "from dexbulk.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('requests', 'urllib3', 'yaml', 'rich.progress', 'sqlite3',"
        " 'http.server', 'dexbulk.sandbox.server', 'dexbulk.sandbox.store') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# --- mistakes people make, and files from spreadsheets (issue 15) ---------------------------


def test_positional_ids_get_a_hint_to_use_ids(api: responses.RequestsMock) -> None:
    run = invoke("star", A, B)
    assert run.code == 2, run
    assert run.stderr.splitlines() == [
        f"error: Got unexpected extra argument(s) ({A} {B})",
        "hint: contact IDs go after --ids (--ids ID,ID) or in a file (--from FILE)",
    ]
    assert len(api.calls) == 0


def test_other_extra_arguments_keep_the_help_hint(api: responses.RequestsMock) -> None:
    run = invoke("star", "--ids", A, "extra")
    assert run.code == 2, run
    assert "hint: 'dexbulk star --help' shows what it accepts" in run.stderr
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["set", "company=Acme", A], f"error: '{A}': a contact ID, where FIELD=VALUE was expected"),
        (["unset", "company", A], f"error: '{A}' is a contact ID, not a field"),
    ],
)
def test_an_id_typed_as_an_item_gets_the_ids_hint(
    api: responses.RequestsMock, args: list[str], expected: str
) -> None:
    run = invoke(*args, "--dry-run")
    assert run.code == 2, run
    assert run.stderr.splitlines() == [
        expected,
        "hint: contact IDs go after --ids (--ids ID,ID) or in a file (--from FILE)",
    ]
    assert len(api.calls) == 0


def test_ids_option_still_ignores_stdin(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke("star", "--ids", A, stdin="not an id\n")
    assert run.code == 0, run
    assert bodies(api) == [[{"contactId": A, "data": {"starred": True}}]]


def test_empty_field_value_is_an_error_not_an_erased_field(api: responses.RequestsMock) -> None:
    run = invoke("set", "company=", "--ids", A)
    assert run.code == 2, run
    assert run.stderr.splitlines() == [
        "error: 'company=': field 'company': no value after '='",
        "hint: to clear it, use 'dexbulk unset company'; for an empty string, company:='\"\"'",
    ]
    assert len(api.calls) == 0


def test_an_empty_string_can_still_be_sent_on_purpose(api: responses.RequestsMock) -> None:
    api.put(PUT_URL, json=ok(1))
    run = invoke("set", 'company:=""', "--ids", A)
    assert run.code == 0, run
    assert bodies(api) == [[{"contactId": A, "data": {"company": ""}}]]


def test_ids_from_a_semicolon_csv_with_a_contact_id_header(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(f"Name;Company;Contact ID\r\nAda;Acme, Inc;{A}\r\nBob;X;{B}\r\n")
    api.put(PUT_URL, json=ok(2))
    run = invoke("star", "--from", str(sheet))
    assert run.code == 0, run
    assert [u["contactId"] for u in bodies(api)[0]] == [A, B]


def test_id_column_names_the_column_of_ids(api: responses.RequestsMock, tmp_path: Path) -> None:
    sheet = tmp_path / "people.tsv"
    sheet.write_text(f"Ref\tid\n{A}\t{B}\n")
    api.put(PUT_URL, json=ok(1))
    run = invoke("star", "--from", str(sheet), "--id-column", "ref")
    assert run.code == 0, run
    assert [u["contactId"] for u in bodies(api)[0]] == [A]


SHEET = "Contact ID;Name;Company;Job Title\n{a};Ada;Acme, Inc;CEO\n{b};Bob;;CTO\n"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--ignore-columns", "name"],
            [{"company": "Acme, Inc", "job_title": "CEO"}, {"job_title": "CTO"}],
        ),
        (["--columns", "Company"], [{"company": "Acme, Inc"}]),
        (
            ["--columns", "company", "--columns", "job title"],
            [{"company": "Acme, Inc", "job_title": "CEO"}, {"job_title": "CTO"}],
        ),
    ],
)
def test_apply_a_spreadsheet_with_chosen_columns(
    api: responses.RequestsMock, tmp_path: Path, options: list[str], expected: list[object]
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(SHEET.format(a=A, b=B))
    api.put(PUT_URL, json=ok(len(expected)))
    run = invoke("apply", str(sheet), *options)
    assert run.code == 0, run
    assert [u["data"] for u in bodies(api)[0]] == expected


def test_apply_a_spreadsheet_with_a_column_that_is_not_a_field(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(SHEET.format(a=A, b=B))
    run = invoke("apply", str(sheet))
    assert run.code == 2, run
    assert run.stderr.splitlines() == [
        f"error: {sheet}: unknown column 'Name' (did you mean 'full_name'?)",
        "hint: leave it out with --ignore-columns 'Name', or name the columns to apply with "
        "--columns",
    ]
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--columns", "a", "--ignore-columns", "b"],
            "error: pass either --columns or --ignore-columns, not both",
        ),
        (["--columns", "phone"], "error: --columns: {sheet} has no column 'phone'"),
    ],
)
def test_apply_column_option_errors(
    api: responses.RequestsMock, tmp_path: Path, options: list[str], expected: str
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text(SHEET.format(a=A, b=B))
    run = invoke("apply", str(sheet), *options)
    assert run.code == 2, run
    assert run.stderr.startswith(expected.format(sheet=sheet))
    assert len(api.calls) == 0


# --- hostile input: exit 2, one line, nothing sent (issue 11 items 3 and 8) -----------------

ALIAS_BOMB = "linkedin_data:\n a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f" a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 8)
)


@pytest.mark.parametrize(
    ("name", "text", "args", "expected"),
    [
        (
            "bomb.yaml",
            ALIAS_BOMB,
            ["--ids", A],
            "{path} line 3: YAML aliases (*a0) are not allowed in patch files",
        ),
        (
            "deep.json",
            "[" * 100_000 + "]" * 100_000,
            ["--ids", A],
            "{path}: nested deeper than 64 levels",
        ),
        (
            "twice.json",
            f'[{{"contactId": "{A}", "contactId": "{B}", "data": {{"starred": true}}}}]',
            [],
            "{path} item 1: key 'contactId' appears twice",
        ),
        (
            "twice.yaml",
            "company: A\ncompany: B\n",
            ["--ids", A],
            "{path} line 2: key 'company' appears twice (first on line 1)",
        ),
        (
            "big.json",
            json.dumps([{"contactId": A, "data": {"linkedin_data": {"x": ["y" * 9_000] * 600}}}]),
            [],
            f"{{path}}: contact {A}: its update is 5.2 MiB as JSON, over the 4 MiB limit of one "
            "request",
        ),
        (
            "huge.yaml",
            "company: " + "x" * 20_000 + "\n",
            ["--ids", A],
            "{path}: field 'company': 'xxx",
        ),
    ],
)
def test_apply_refuses_hostile_files_before_any_request(
    api: responses.RequestsMock,
    tmp_path: Path,
    name: str,
    text: str,
    args: list[str],
    expected: str,
) -> None:
    path = tmp_path / name
    path.write_text(text)
    run = invoke("apply", str(path), *args)
    assert run.code == 2, run
    assert run.stderr.splitlines()[0].startswith("error: " + expected.format(path=path)), run
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["apply", "/dev/zero", "--ids", A],
        ["star", "--from", "/dev/zero"],
        ["set", "birthday_year=" + "1" * 5000, "--ids", A],
        ["set", "linkedin_data:=" + "[" * 100_000 + "]" * 100_000, "--ids", A],
    ],
)
def test_hostile_sources_and_items_are_one_line_errors(
    api: responses.RequestsMock, args: list[str]
) -> None:
    run = invoke(*args)
    assert run.code == 2, run
    assert run.stderr.startswith("error: ")
    assert len(run.stderr.splitlines()) <= 2
    assert "Traceback" not in run.stderr
    assert len(api.calls) == 0
