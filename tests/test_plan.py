"""Tests for dexbulk.plan: the item grammar, unset/flags, and every patch-file shape."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.inputs.patches import load_patch
from dexbulk.plan import (
    IDS_HINT,
    Patch,
    Plan,
    Update,
    UpdateList,
    data_size,
    encoded_size,
    flag_patch,
    item_overhead,
    parse_items,
    plan_for_updates,
    unset_fields,
)

A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
T = "ffffffff-ffff-4fff-8fff-ffffffffffff"


def error_of(call: object) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as excinfo:
        call()
    assert "\n" not in str(excinfo.value)
    return excinfo.value


# -- items -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["company=Acme"], {"company": "Acme"}),
        (
            ["company=Acme", "job_title=Head of Sales"],
            {"company": "Acme", "job_title": "Head of Sales"},
        ),
        (["description=a=b"], {"description": "a=b"}),
        (["description=x:=y"], {"description": "x:=y"}),
        (['company:=""'], {"company": ""}),
        (["starred=yes", "is_archived=0"], {"starred": True, "is_archived": False}),
        (
            ["birthday_year=1990", "birthday=1990-05-02"],
            {"birthday_year": 1990, "birthday": "1990-05-02"},
        ),
        (["frequency=quarterly"], {"frequency": "3 mons"}),
        (["last_seen_at=2024-03-01T12:00:00+02:00"], {"last_seen_at": "2024-03-01T10:00:00Z"}),
        (['company:="Acme"'], {"company": "Acme"}),
        (["starred:=true"], {"starred": True}),
        (["birthday_year:=1990"], {"birthday_year": 1990}),
        (["birthday:=null", "company:=null"], {"birthday": None, "company": None}),
        (
            [f'tags_contacts:={{"append":[{{"tag_id":"{T.upper()}"}}]}}'],
            {"tags_contacts": {"append": [{"tag_id": T}]}},
        ),
        (
            ['contact_emails:=[{"email":"a@b.c","label":"work"}]'],
            {"contact_emails": [{"email": "a@b.c", "label": "work"}]},
        ),
        (['frequency:="monthly"'], {"frequency": "1 mon"}),
    ],
)
def test_parse_items(tokens: list[str], expected: dict[str, object]) -> None:
    patch = parse_items(tokens)
    assert patch.data == expected
    assert list(patch.data) == list(expected)


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (
            ["birthday_year=19x0"],
            "'birthday_year=19x0': field 'birthday_year': '19x0' is not an integer",
        ),
        (
            ["birthday=1990-13-01"],
            "'birthday=1990-13-01': field 'birthday': '1990-13-01' is not a date "
            "(expected YYYY-MM-DD)",
        ),
        (
            ["starred=maybe"],
            "'starred=maybe': field 'starred': 'maybe' is not a boolean (expected true or false)",
        ),
        (
            ["frequency=daily"],
            "'frequency=daily': field 'frequency': 'daily' is not a known frequency",
        ),
        (["compnay=Acme"], "'compnay=Acme': unknown field 'compnay' (did you mean 'company'?)"),
        (["compnay:=1"], "'compnay:=1': unknown field 'compnay'"),
        (["company"], "'company': expected FIELD=VALUE or FIELD:=JSON, e.g. company=Acme"),
        (["starred"], "'starred': expected FIELD=VALUE or FIELD:=JSON, e.g. starred=true"),
        (["Acme"], "'Acme': expected FIELD=VALUE or FIELD:=JSON, e.g. company=Acme"),
        (["=Acme"], "'=Acme': missing field name before '='"),
        ([":=1"], "':=1': missing field name before '='"),
        (["company=A", 'company:="B"'], "'company:=\"B\"': field 'company' is given twice"),
        (
            ["company:=Acme"],
            "'company:=Acme': not valid JSON after ':=' (Expecting value at column 1)",
        ),
        (
            ['starred:="true"'],
            "'starred:=\"true\"': field 'starred': expected true or false (got a string 'true')",
        ),
        (
            ["tags_contacts=x"],
            "'tags_contacts=x': field 'tags_contacts': needs a JSON value: use tags_contacts:=JSON",
        ),
        (
            ["tags_contacts:={}"],
            "field 'tags_contacts': expected at least one of: append, remove, replace",
        ),
        (['contact_emails:=[{"emial":"x"}]'], "field 'contact_emails[0].emial': unknown key"),
        ([], "empty patch: no fields to change"),
    ],
)
def test_parse_items_errors(tokens: list[str], expected: str) -> None:
    assert expected in str(error_of(lambda: parse_items(tokens)))


def test_parse_items_json_error_hints_at_plain_text() -> None:
    assert (
        error_of(lambda: parse_items(["company:=Acme"])).hint == "for plain text, use company=Acme"
    )
    assert error_of(lambda: parse_items(["tags_contacts:={"])).hint is None


def test_unset_fields() -> None:
    assert unset_fields(["birthday", "job_title"]).data == {"birthday": None, "job_title": None}
    assert unset_fields(["birthday, birthday_year", "birthday"]).data == {
        "birthday": None,
        "birthday_year": None,
    }
    assert "did you mean 'birthday'?" in str(error_of(lambda: unset_fields(["birthdy"])))
    assert "no fields to clear" in str(error_of(lambda: unset_fields([])))
    assert "no fields to clear" in str(error_of(lambda: unset_fields([" , "])))


@pytest.mark.parametrize(
    ("field", "value"),
    [("starred", True), ("starred", False), ("is_archived", True), ("is_archived", False)],
)
def test_flag_patch(field: str, value: bool) -> None:
    assert flag_patch(field, value) == Patch({field: value})


def test_flag_patch_rejects_other_fields() -> None:
    assert "field 'company' is not a flag" in str(error_of(lambda: flag_patch("company", True)))
    assert "unknown field 'stared'" in str(error_of(lambda: flag_patch("stared", True)))


def test_update_to_api_and_patch_describe() -> None:
    patch = parse_items(["company=Acme", "starred=true", "birthday:=null"])
    update = patch.for_contact(A)
    assert update == Update(A, patch.data)
    assert update.to_api() == {
        "contactId": A,
        "data": {"company": "Acme", "starred": True, "birthday": None},
    }
    json.dumps(update.to_api())
    assert patch.describe() == "set company='Acme', starred=true; clear birthday"
    assert unset_fields(["company"]).describe() == "clear company"


# -- patch files -------------------------------------------------------------------------------


def load(tmp_path: Path, name: str, text: str, fmt: str = "auto") -> Patch | list[Update]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_patch(str(path), stdin=io.StringIO("must not be read"), fmt=fmt)


def load_error(tmp_path: Path, name: str, text: str, fmt: str = "auto") -> InvalidInput:
    return error_of(lambda: load(tmp_path, name, text, fmt))


def updates(result: Patch | list[Update]) -> UpdateList:
    assert isinstance(result, UpdateList)
    return result


API_BODY = json.dumps(
    [
        {"contactId": A.upper(), "data": {"company": "Acme", "frequency": "monthly"}},
        {"contactId": B, "data": {"starred": True}},
    ]
)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "patch.json",
            '{"company": "Acme", "starred": true}',
            {"company": "Acme", "starred": True},
        ),
        ("patch.yaml", "company: Acme\nstarred: yes\n", {"company": "Acme", "starred": True}),
        (
            "patch.yml",
            "# a comment\nbirthday: 1990-05-02\nbirthday_year: 1990\n",
            {"birthday": "1990-05-02", "birthday_year": 1990},
        ),
        ("patch.yaml", "company: '2020-01-01'\n", {"company": "2020-01-01"}),
        ("patch.yaml", "company: 2020-01-01\n", {"company": "2020-01-01"}),
        (
            "patch.yaml",
            "last_seen_at: 2024-03-01 12:00:00\n",
            {"last_seen_at": "2024-03-01T12:00:00Z"},
        ),
        (
            "patch.yaml",
            "last_seen_at: 2024-03-01T12:00:00+02:00\n",
            {"last_seen_at": "2024-03-01T10:00:00Z"},
        ),
        (
            "patch.yaml",
            "next_reminder_at: 2024-03-01\n",
            {"next_reminder_at": "2024-03-01T00:00:00Z"},
        ),
        ("patch.yaml", "birthday: null\ncompany: ~\n", {"birthday": None, "company": None}),
        (
            "patch.yaml",
            f"tags_contacts:\n  append:\n    - tag_id: {T}\n",
            {"tags_contacts": {"append": [{"tag_id": T}]}},
        ),
        ("patch.yaml", '{"company": "Acme"}', {"company": "Acme"}),
        ("one.jsonl", '\n{"company": "Acme"}\n\n', {"company": "Acme"}),
        ("patch.txt", '{"company": "Acme"}', {"company": "Acme"}),
        ("patch.txt", "company: Acme, Inc\n", {"company": "Acme, Inc"}),
    ],
)
def test_load_patch_mapping(
    tmp_path: Path, name: str, text: str, expected: dict[str, object]
) -> None:
    result = load(tmp_path, name, text)
    assert isinstance(result, Patch)
    assert result.data == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("updates.json", API_BODY),
        ("updates.yaml", API_BODY),
        ("updates.jsonl", "\n".join(json.dumps(item) for item in json.loads(API_BODY)) + "\n"),
        ("updates.ndjson", "\r\n".join(json.dumps(item) for item in json.loads(API_BODY))),
        (
            "updates.yaml",
            f"- contactId: {A}\n  data:\n    company: Acme\n    frequency: monthly\n"
            f"- contactId: {B}\n  data: {{starred: true}}\n",
        ),
        (
            "updates.csv",
            f"contactId,company,frequency,starred\n{A},Acme,monthly,\n{B},,,true\n",
        ),
        (
            "updates.tsv",
            f"id\tcompany\tfrequency\tstarred\r\n{A}\tAcme\tmonthly\t\r\n{B}\t\t\tyes\r\n",
        ),
    ],
)
def test_load_patch_per_contact(tmp_path: Path, name: str, text: str) -> None:
    result = updates(load(tmp_path, name, text))
    assert result == [
        Update(A, {"company": "Acme", "frequency": "1 mon"}),
        Update(B, {"starred": True}),
    ]
    assert result.duplicates == 0
    assert result.skipped_rows == 0


def test_load_patch_single_api_item(tmp_path: Path) -> None:
    text = json.dumps({"contactId": A, "data": {"company": "Acme"}})
    assert updates(load(tmp_path, "one.json", text)) == [Update(A, {"company": "Acme"})]


def test_load_patch_csv_sparse_cells(tmp_path: Path) -> None:
    text = (
        "\ufeffcontact_id,company,birthday,tags_contacts,description,\r\n"
        f'{A},Acme,null,"{{""append"":[{{""tag_id"":""{T}""}}]}}",NULL,\r\n'
        f"{B},,,,,\r\n"
        "\r\n"
        ",,,,,\r\n"
        f'{T},,1990-05-02,,"multi\nline",\r\n'
    )
    result = updates(load(tmp_path, "updates.csv", text))
    assert result == [
        Update(
            A,
            {
                "company": "Acme",
                "birthday": None,
                "tags_contacts": {"append": [{"tag_id": T}]},
                "description": "NULL",
            },
        ),
        Update(T, {"birthday": "1990-05-02", "description": "multi\nline"}),
    ]
    assert result.skipped_rows == 1
    assert result.duplicates == 0


def test_load_patch_duplicates_with_identical_data_are_counted(tmp_path: Path) -> None:
    item = {"contactId": A, "data": {"company": "Acme"}}
    same = {"contactId": A.upper(), "data": {"company": "Acme"}}
    result = updates(
        load(
            tmp_path, "u.json", json.dumps([item, {"contactId": B, "data": {"company": "B"}}, same])
        )
    )
    assert [u.contact_id for u in result] == [A, B]
    assert result.duplicates == 1
    csv_result = updates(load(tmp_path, "u.csv", f"id,company\n{A},Acme\n{A},Acme\n{A},Acme\n"))
    assert len(csv_result) == 1
    assert csv_result.duplicates == 2


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "updates.json",
            json.dumps(
                [{"contactId": A, "data": {"company": "A"}}] * 2
                + [{"contactId": A, "data": {"company": "B"}}]
            ),
            f"updates.json item 3: contact {A} already appears at item 1 with different data",
        ),
        (
            "updates.csv",
            f"contactId,company\n{A},A\n{B},B\n{A.upper()},C\n",
            f"updates.csv line 4: contact {A} already appears at line 2 with different data",
        ),
        (
            "updates.jsonl",
            json.dumps({"contactId": A, "data": {"company": "A"}})
            + "\n\n"
            + json.dumps({"contactId": A, "data": {"starred": True}}),
            f"updates.jsonl line 3: contact {A} already appears at line 1 with different data",
        ),
    ],
)
def test_load_patch_conflicting_duplicates(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    assert expected in str(load_error(tmp_path, name, text))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # whole-document shapes
        (
            "patch.yaml",
            "just text\n",
            "patch.yaml: expected a mapping of fields or a list of {contactId, data} "
            "(got a string)",
        ),
        (
            "patch.json",
            "42",
            "patch.json: expected a mapping of fields or a list of {contactId, data} "
            "(got an integer)",
        ),
        ("patch.json", "[]", "patch.json: empty list, nothing to change"),
        ("patch.json", "{}", "patch.json: empty patch: no fields to change"),
        ("patch.json", "  \n", "patch.json: empty, nothing to change"),
        (
            "patch.json",
            '{"company": "A",}',
            "patch.json: not valid JSON "
            "(Expecting property name enclosed in double quotes at line 1 column 17)",
        ),
        ("patch.yaml", "company: [1\n", "patch.yaml: not valid YAML ("),
        (
            "patch.json",
            '{"compnay": "A"}',
            "patch.json: unknown field 'compnay' (did you mean 'company'?)",
        ),
        (
            "patch.yaml",
            "birthday: 1990-13-01\n",
            "patch.yaml: field 'birthday': '1990-13-01' is not a date",
        ),
        (
            "patch.yaml",
            "birthday_year: '1990'\n",
            "patch.yaml: field 'birthday_year': expected an integer (got a string '1990')",
        ),
        # API-body items
        (
            "updates.json",
            json.dumps([{"contactId": A, "data": {"company": "A"}}, {"data": {}}]),
            "updates.json item 2: missing 'contactId'",
        ),
        ("updates.json", json.dumps([{"contactId": A}]), "updates.json item 1: missing 'data'"),
        (
            "updates.json",
            json.dumps([{"contact_id": A, "data": {}}]),
            "updates.json item 1: unexpected key 'contact_id' (expected contactId and data)",
        ),
        (
            "updates.json",
            json.dumps([{"contactId": "abc", "data": {"company": "A"}}]),
            "updates.json item 1: 'abc' is not a contact ID (expected a UUID)",
        ),
        (
            "updates.json",
            json.dumps([{"contactId": A, "data": []}]),
            "updates.json item 1: 'data' must be an object of fields (got a list)",
        ),
        (
            "updates.json",
            json.dumps([{"contactId": A, "data": {}}]),
            "updates.json item 1: empty patch: no fields to change",
        ),
        (
            "updates.json",
            json.dumps([{"contactId": A, "data": {"starred": "x"}}]),
            "updates.json item 1: field 'starred'",
        ),
        (
            "updates.json",
            json.dumps(["x"]),
            "updates.json item 1: expected an object {contactId, data} (got a string)",
        ),
        (
            "updates.yaml",
            f"- contactId: {A}\n  data:\n    compnay: x\n",
            "updates.yaml item 1: unknown field 'compnay'",
        ),
        # JSON Lines
        (
            "u.jsonl",
            '{"company": "A"}\n{"company": "B"}\n',
            'u.jsonl line 2: expected {"contactId": ..., "data": {...}}',
        ),
        (
            "u.jsonl",
            json.dumps({"contactId": A, "data": {"company": "A"}}) + '\n{"company": "B"}\n',
            'u.jsonl line 2: expected {"contactId"',
        ),
        (
            "u.jsonl",
            json.dumps({"contactId": A, "data": {"company": "A"}}) + "\n{oops\n",
            "u.jsonl line 2: not valid JSON",
        ),
        ("u.jsonl", '{"starred": "x"}\n', "u.jsonl line 1: field 'starred'"),
        ("u.jsonl", '["x"]\n', "u.jsonl line 1: expected an object {contactId, data} (got a list)"),
        # CSV
        (
            "u.csv",
            "name,company\nAda,A\n",
            "u.csv: no contactId, contact_id, Contact ID or id column (found: 'name', 'company')",
        ),
        (
            "u.csv",
            f"contactId,compnay\n{A},A\n",
            "u.csv: unknown column 'compnay' (did you mean 'company'?)",
        ),
        ("u.csv", f"contactId,company,company\n{A},A,B\n", "u.csv: column 'company' appears twice"),
        ("u.csv", f"contactId\n{A}\n", "u.csv: no field columns besides 'contactId'"),
        (
            "u.csv",
            f"contactId,birthday\n{A},1990-05-02\n{B},1990-13-01\n",
            "u.csv line 3: field 'birthday': '1990-13-01' is not a date (expected YYYY-MM-DD)",
        ),
        (
            "u.csv",
            f"contactId,company\n{A},A\nabc,B\n",
            "u.csv line 3: 'abc' is not a contact ID (expected a UUID)",
        ),
        (
            "u.csv",
            "contactId,company\n,Acme\n",
            "u.csv line 2: no contact ID in column 'contactId'",
        ),
        (
            "u.csv",
            f"contactId,company,\n{A},A,oops\n",
            "u.csv line 2: a value in column 3, which has no name",
        ),
        (
            "u.csv",
            f"contactId,company\n{A},A,oops\n",
            "u.csv line 2: a value in column 3, which has no name",
        ),
        (
            "u.csv",
            f"contactId,tags_contacts\n{A},{{oops\n",
            "u.csv line 2: field 'tags_contacts': '{oops' is not valid JSON",
        ),
        (
            "u.csv",
            f'contactId,tags_contacts\n{A},"{{""add"":[]}}"\n',
            "u.csv line 2: field 'tags_contacts.add': unknown key",
        ),
        (
            "u.csv",
            f"id,starred\n{A},maybe\n",
            "u.csv line 2: field 'starred': 'maybe' is not a boolean",
        ),
    ],
)
def test_load_patch_errors(tmp_path: Path, name: str, text: str, expected: str) -> None:
    message = str(load_error(tmp_path, name, text))
    assert message.endswith(expected) or expected in message
    assert message.startswith(str(tmp_path))


def test_load_patch_yaml_type_surprise_gets_a_hint(tmp_path: Path) -> None:
    error = load_error(tmp_path, "patch.yaml", "company: yes\n")
    assert "field 'company': expected a string (got a boolean true)" in str(error)
    assert error.hint is not None
    assert "quote" in error.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"company": "Acme"}', Patch({"company": "Acme"})),
        ("company: Acme\n", Patch({"company": "Acme"})),
        (
            API_BODY,
            [Update(A, {"company": "Acme", "frequency": "1 mon"}), Update(B, {"starred": True})],
        ),
        (
            "\n".join(json.dumps(item) for item in json.loads(API_BODY)),
            [Update(A, {"company": "Acme", "frequency": "1 mon"}), Update(B, {"starred": True})],
        ),
        (f"contactId,company\r\n{A},Acme\r\n", [Update(A, {"company": "Acme"})]),
        (f"contactId\tcompany\n{A}\tAcme\n", [Update(A, {"company": "Acme"})]),
        (f"\ufeffcontactId,company\n{A},Acme\n", [Update(A, {"company": "Acme"})]),
    ],
)
def test_load_patch_from_stdin_sniffs_the_format(text: str, expected: object) -> None:
    assert load_patch("-", stdin=io.StringIO(text)) == expected


def test_load_patch_stdin_errors_name_stdin() -> None:
    message = str(error_of(lambda: load_patch("-", stdin=io.StringIO("[1]"))))
    assert message.startswith("<stdin> item 1: ")


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("json", '{"company": "Acme"}', Patch({"company": "Acme"})),
        ("yaml", "company: Acme", Patch({"company": "Acme"})),
        ("jsonl", '{"company": "Acme"}', Patch({"company": "Acme"})),
        ("csv", f"contactId,company\n{A},Acme", [Update(A, {"company": "Acme"})]),
        ("tsv", f"contactId\tcompany\n{A}\tAcme", [Update(A, {"company": "Acme"})]),
    ],
)
def test_load_patch_format_overrides_extension(
    tmp_path: Path, fmt: str, text: str, expected: object
) -> None:
    assert load(tmp_path, "patch.data", text, fmt) == expected


def test_load_patch_extension_beats_sniffing(tmp_path: Path) -> None:
    # "{...}" on two lines would sniff as JSON Lines; .json says JSON and reports it as such.
    message = str(load_error(tmp_path, "p.json", '{"company": "A"}\n{"company": "B"}\n'))
    assert "not valid JSON (Extra data at line 2 column 1)" in message


def test_load_patch_bad_format_and_missing_file(tmp_path: Path) -> None:
    assert "unknown patch format 'xml'" in str(
        error_of(lambda: load(tmp_path, "p.json", "{}", "xml"))
    )
    missing = str(tmp_path / "nope.yaml")
    message = str(error_of(lambda: load_patch(missing, stdin=io.StringIO())))
    assert message == f"{missing}: no such file"


# -- mistakes people make with items (issue 15) and hostile items (issue 11) --------------------


@pytest.mark.parametrize(
    ("call", "expected", "hint"),
    [
        (
            lambda: parse_items(["company=Acme", A]),
            f"'{A}': a contact ID, where FIELD=VALUE was expected",
            IDS_HINT,
        ),
        (lambda: unset_fields(["company", A]), f"'{A}' is a contact ID, not a field", IDS_HINT),
        (
            lambda: parse_items(["company="]),
            "'company=': field 'company': no value after '='",
            "to clear it, use 'dexbulk unset company'; for an empty string, company:='\"\"'",
        ),
    ],
)
def test_items_that_are_ids_or_empty_say_what_to_do(call: object, expected: str, hint: str) -> None:
    error = error_of(call)
    assert str(error) == expected
    assert error.hint == hint


def test_ids_hint_names_the_options() -> None:
    assert IDS_HINT == "contact IDs go after --ids (--ids ID,ID) or in a file (--from FILE)"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            "linkedin_data:=" + '{"a":' * 100_000 + "1" + "}" * 100_000,
            "field 'linkedin_data': nested deeper than 64 levels",
        ),
        ("linkedin_data:=" + "[" * 100 + "]" * 100, "field 'linkedin_data': nested deeper"),
        ('linkedin_data:={"a": 1, "a": 2}', "field 'linkedin_data': key 'a' appears twice"),
        ("birthday_year:=" + "1" * 5000, "a number too long to read"),
        ("birthday_year=" + "1" * 5000, "is out of range (expected 1 to 9999)"),
    ],
)
def test_hostile_items_are_one_line_errors(token: str, expected: str) -> None:
    assert expected in str(error_of(lambda: parse_items([token])))


# -- request-size limit ------------------------------------------------------------------------


def test_encoded_size_is_the_size_sent() -> None:
    from dexbulk.dex import encode_batch

    batch = [
        Update(A, {"company": "Ünïcødé ✓", "linkedin_data": {"q": 'a "quoted" \\ \n text'}}),
        Update(B, {"starred": True, "birthday": None}),
    ]
    assert len(encode_batch(batch)) == 2 + sum(encoded_size(u) for u in batch) + 1
    for update in batch:
        assert encoded_size(update) == item_overhead(update.contact_id) - 1 + data_size(update.data)


def big_data(size: int) -> dict[str, object]:
    return {"linkedin_data": {"chunks": ["x" * 9_000] * (size // 9_000)}}


def test_a_contact_over_the_request_limit_is_refused_when_the_plan_is_built() -> None:
    updates = [Update(A, {"company": "Acme"}), Update(B, big_data(5 << 20))]
    error = error_of(lambda: plan_for_updates(updates, "apply x", source="big.jsonl"))
    assert str(error).startswith(f"big.jsonl: contact {B}: its update is 5 MiB as JSON")
    assert str(error).endswith("over the 4 MiB limit of one request")


def test_a_shared_change_over_the_request_limit_is_refused() -> None:
    patch = Patch.of(big_data(5 << 20))
    error = error_of(lambda: Plan.for_ids([A, B], patch))
    assert str(error).startswith(f"contact {A}: its update is 5 MiB as JSON, over the 4 MiB")


def test_updates_just_under_the_limit_are_planned() -> None:
    updates = [Update(A, big_data((4 << 20) - 20_000))]
    assert plan_for_updates(updates, "apply x").total == 1


def test_the_dry_run_counts_and_shows_batches_cut_by_bytes() -> None:
    """--dry-run shows the first request exactly as it will be sent, size limit included."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1_000)]
    shared = Plan.for_ids(ids, {"description": "x" * 10_000})
    assert shared.batch_count(500) == 3
    assert len(shared.first_body(500)) == 416  # 10,079 bytes a contact, 4 MiB a request
    per_contact = plan_for_updates([Update(i, {"description": "x" * 10_000}) for i in ids], "x")
    assert per_contact.batch_count(500) == 3
    assert per_contact.batch_count(100) == 10
    assert Plan.for_ids(ids, {"starred": True}).batch_count(100) == 10
