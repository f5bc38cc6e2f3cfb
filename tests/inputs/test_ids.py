"""Tests for dexbulk.inputs.ids: --ids values, ID files in every format, stdin, the selection."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.inputs.ids import parse_ids_option, read_ids, select_ids
from dexbulk.plan import Selection

A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"
C = "ffffffff-ffff-4fff-8fff-ffffffffffff"


def read(text: str, fmt: str = "auto", name: str = "ids.txt") -> list[str]:
    return list(read_ids(io.StringIO(text), name, fmt))


def read_error(text: str, fmt: str = "auto", name: str = "ids.txt") -> str:
    with pytest.raises(InvalidInput) as excinfo:
        read(text, fmt, name)
    assert "\n" not in str(excinfo.value)
    return str(excinfo.value)


# -- --ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([A], [A]),
        ([A.upper()], [A]),
        ([f"{A},{B}"], [A, B]),
        ([f"{A}, {B}", f" {C} "], [A, B, C]),
        ([f"{A}\t{B}\n{C}"], [A, B, C]),
        ([f"{A},,{A},"], [A, A]),
        ([""], []),
        ([], []),
    ],
)
def test_parse_ids_option(values: list[str], expected: list[str]) -> None:
    assert parse_ids_option(values) == expected


@pytest.mark.parametrize(
    ("value", "token"), [("abc", "abc"), (f"{A},abc", "abc"), (f"{{{A}}}", f"{{{A}}}")]
)
def test_parse_ids_option_errors(value: str, token: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_ids_option([value])
    assert str(excinfo.value) == f"--ids: '{token}' is not a contact ID (expected a UUID)"


# -- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        # plain lines
        (f"{A}\n{B}\n", "auto", [A, B]),
        (f"{A}\n{B}", "auto", [A, B]),
        (f"{A}\r\n{B}\r\n", "auto", [A, B]),
        (f"\ufeff{A}\n", "auto", [A]),
        (f"  {A.upper()}  \n\n\t\n{B}\n", "auto", [A, B]),
        (f"# exported today\n{A}\n  # indented comment\n{B}  # Ada\n", "auto", [A, B]),
        (f"{A}\n{A}\n", "auto", [A, A]),
        (f"contactId\n{A}\n", "auto", [A]),
        (f"ID\r\n{A}\r\n", "lines", [A]),
        ("", "auto", []),
        ("\n# nothing here\n\n", "auto", []),
        # CSV / TSV
        (f"contactId,name\n{A},Ada\n{B},Bob\n", "auto", [A, B]),
        (f"name,email,contact_id\r\nAda,a@x,{A}\r\n", "auto", [A]),
        (f"\ufeffName,Id\r\nAda,{A}\r\n", "auto", [A]),
        (f'name,id\n"Lovelace, Ada",{A}\n"multi\nline",{B}\n', "auto", [A, B]),
        (f"id,name\n{A},Ada\n,\n\n,,\n{B},Bob\n", "auto", [A, B]),
        (f"id,contactId\n{B},{A}\n", "auto", [A]),
        (f"# from the CRM\nid,name\n{A},Ada\n", "auto", [A]),
        (f"name\tcontactId\nAda\t{A}\nBob\t{B}\n", "auto", [A, B]),
        (f"name\tcontactId\nAda\t{A}\n", "tsv", [A]),
        (f"contactId\n{A}\n", "csv", [A]),
        # JSON array
        (f'["{A}", "{B}"]', "auto", [A, B]),
        (f'  \n[\n  "{A.upper()}"\n]\n', "auto", [A]),
        (
            f'[{{"contactId": "{A}", "name": "Ada"}}, {{"contact_id": "{B}"}}, {{"id": "{C}"}}]',
            "auto",
            [A, B, C],
        ),
        (f'[{{"contactId": "{A}", "data": {{"company": "x"}}}}]', "json", [A]),
        ("[]", "auto", []),
        # JSON Lines
        (f'{{"id": "{A}"}}\n{{"contactId": "{B}"}}\n', "auto", [A, B]),
        (f'{{"id": "{A}"}}\r\n\r\n"{B}"\r\n', "auto", [A, B]),
        (f'"{A}"\n"{B}"\n', "jsonl", [A, B]),
    ],
)
def test_read_ids_formats(text: str, fmt: str, expected: list[str]) -> None:
    assert read(text, fmt) == expected


@pytest.mark.parametrize(
    ("name", "text", "fmt", "expected"),
    [
        (
            "ids.txt",
            f"{A}\n\n# c\n{B}\nabc\n",
            "auto",
            "ids.txt line 5: 'abc' is not a contact ID (expected a UUID)",
        ),
        ("ids.txt", f"\n{A},{B}\n", "auto", f"ids.txt line 2: '{A},{B[:20]}...' is not a"),
        (
            "ids.txt",
            "contactId\ncontactId\n",
            "auto",
            "ids.txt line 2: 'contactId' is not a contact ID",
        ),
        (
            "people.csv",
            "name,email\nAda,a@x\n",
            "auto",
            "people.csv: no contactId, contact_id, Contact ID or id column "
            "(found: 'name', 'email')",
        ),
        (
            "people.csv",
            f"id,name\n{A},Ada\nabc,Bob\n",
            "auto",
            "people.csv line 3: 'abc' is not a contact ID",
        ),
        ("people.csv", f'id,name\n{A},"two\nlines"\nabc,Bob\n', "auto", "people.csv line 4: 'abc'"),
        (
            "people.tsv",
            "name\temail\n",
            "auto",
            "people.tsv: no contactId, contact_id, Contact ID or id column "
            "(found: 'name', 'email')",
        ),
        (
            "people.csv",
            f"{A}\n",
            "csv",
            f"people.csv: no contactId, contact_id, Contact ID or id column (found: '{A}')",
        ),
        (
            "ids.json",
            "[1, ]",
            "auto",
            "ids.json: not valid JSON (Expecting value at line 1 column 5)",
        ),
        (
            "ids.json",
            "\n\n[\n1,\n",
            "auto",
            "ids.json: not valid JSON (Expecting value at line 5 column 1)",
        ),
        (
            "ids.json",
            f'{{"ids": ["{A}"]}}',
            "json",
            "ids.json: expected a JSON array of contact IDs (got an object)",
        ),
        ("ids.json", f'["{A}", "abc"]', "auto", "ids.json item 2: 'abc' is not a contact ID"),
        (
            "ids.json",
            "[42]",
            "auto",
            "ids.json item 1: expected a contact ID or an object with a contactId key "
            "(got an integer)",
        ),
        (
            "ids.json",
            '[{"name": "Ada", "email": "a@x"}]',
            "auto",
            "ids.json item 1: no contactId, contact_id, Contact ID or id key (found: name, email)",
        ),
        ("ids.json", '[{"id": 7}]', "auto", "ids.json item 1: 7 is not a contact ID"),
        ("ids.jsonl", f'{{"id": "{A}"}}\n{{"id": \n', "auto", "ids.jsonl line 2: not valid JSON"),
        (
            "ids.jsonl",
            f'{{"id": "{A}"}}\n\n{{"id": "nope"}}\n',
            "auto",
            "ids.jsonl line 3: 'nope' is not a contact ID",
        ),
        (
            "ids.txt",
            A,
            "xml",
            "unknown ID format 'xml' (expected one of: auto, lines, csv, tsv, jsonl, json)",
        ),
    ],
)
def test_read_ids_errors(name: str, text: str, fmt: str, expected: str) -> None:
    assert expected in read_error(text, fmt, name)


def test_read_ids_bad_format_fails_before_reading() -> None:
    with pytest.raises(InvalidInput):
        read_ids(io.StringIO(A), "x", "xml")  # raises on the call, not on iteration


def test_read_ids_streams_lines() -> None:
    """An ID before a bad line is yielded before the bad line is looked at."""

    class Stream(io.StringIO):
        def readline(self, size: int | None = -1, /) -> str:
            line = super().readline(size)
            if line.startswith("abc"):
                raise AssertionError("read too far")
            return line

    ids = read_ids(Stream(f"{A}\n{B}\nabc\n"), "ids.txt")
    assert next(ids) == A


def test_read_ids_200k_lines() -> None:
    text = "".join(f"{i:08x}-0000-4000-8000-{i:012x}\n" for i in range(200_000))
    ids = read(text)
    assert len(ids) == 200_000
    assert ids[-1] == "00030d3f-0000-4000-8000-000000030d3f"


# -- select_ids --------------------------------------------------------------------------------


def select(
    *,
    ids: list[str] | None = None,
    paths: list[str] | None = None,
    stdin: str = "",
    tty: bool = True,
    fmt: str = "auto",
    allow_empty: bool = False,
) -> Selection:
    return select_ids(
        ids_options=ids or [],
        from_paths=paths or [],
        stdin=io.StringIO(stdin),
        stdin_is_tty=tty,
        fmt=fmt,
        allow_empty=allow_empty,
    )


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_select_combines_sources_in_order_and_dedupes(tmp_path: Path) -> None:
    ids_txt = write(tmp_path, "ids.txt", f"{B}\n{A.upper()}\n{C}\n{C}\n")
    selection = select(ids=[f"{A},{B}"], paths=[ids_txt, "-"], stdin=f"{A}\n", tty=False)
    assert selection.ids == (A, B, C)
    assert selection.duplicates == 4
    assert selection.sources == ("--ids", ids_txt, "<stdin>")
    assert len(selection) == 3


def test_select_reads_files_with_bom_and_crlf(tmp_path: Path) -> None:
    csv_path = write(tmp_path, "people.csv", f"Name,contactId\r\nAda,{A}\r\n", "utf-8-sig")
    tsv_path = write(tmp_path, "people.tsv", f"id\tname\r\n{B}\tBob\r\n")
    jsonl_path = write(tmp_path, "ids.jsonl", f'{{"contactId": "{C}"}}\r\n')
    assert select(paths=[csv_path, tsv_path, jsonl_path]).ids == (A, B, C)


@pytest.mark.parametrize("tty", [True, False])
def test_select_ignores_stdin_when_ids_given(tty: bool) -> None:
    selection = select(ids=[A], stdin="not an id\n", tty=tty)
    assert selection.ids == (A,)
    assert selection.sources == ("--ids",)


def test_select_reads_stdin_when_piped_and_nothing_else_given() -> None:
    selection = select(stdin=f"{A}\n{A}\n", tty=False)
    assert selection == Selection((A,), 1, ("<stdin>",))


def test_select_reads_stdin_for_dash_once_even_on_a_tty() -> None:
    selection = select(paths=["-", "-"], stdin=f'["{A}"]', tty=True)
    assert selection.ids == (A,)
    assert selection.sources == ("<stdin>",)


def test_select_applies_the_format_to_every_source(tmp_path: Path) -> None:
    tabbed = write(tmp_path, "tabbed.dat", f"id\tx\n{A}\tAda\n")
    with pytest.raises(InvalidInput, match=r"tabbed\.dat line 1: 'id\\tx'"):
        select(paths=[tabbed], fmt="lines")
    assert select(paths=[tabbed], fmt="tsv").ids == (A,)
    one_column = write(tmp_path, "one.dat", f"contact_id\n{A}\n")
    assert select(paths=[one_column], fmt="csv").ids == (A,)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "no contacts selected: pass --ids, --from FILE, or pipe IDs on stdin"),
        ({"tty": False}, "no contact IDs found in <stdin>"),
        ({"tty": False, "stdin": "# only a comment\n"}, "no contact IDs found in <stdin>"),
        ({"ids": [""]}, "no contact IDs found in --ids"),
        ({"ids": [A], "paths": ["-"], "stdin": "\n"}, "no contact IDs found in <stdin>"),
        ({"paths": ["-"], "stdin": "abc\n"}, "<stdin> line 1: 'abc' is not a contact ID"),
        ({"ids": ["abc"], "tty": False, "stdin": A}, "--ids: 'abc' is not a contact ID"),
    ],
)
def test_select_errors(kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        select(**kwargs)  # type: ignore[arg-type]
    assert expected in str(excinfo.value)


def test_select_empty_file_is_an_error_unless_allowed(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.txt", "\n")
    with pytest.raises(InvalidInput, match=r"no contact IDs found in .*empty\.txt"):
        select(ids=[A], paths=[empty])
    assert select(ids=[A], paths=[empty], allow_empty=True).ids == (A,)
    assert select(paths=[empty], allow_empty=True) == Selection((), 0, (empty,))


def test_select_file_errors(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(InvalidInput, match=r"nope\.txt: no such file"):
        select(paths=[missing])
    with pytest.raises(InvalidInput, match="is a directory"):
        select(paths=[str(tmp_path)])
    latin1 = write(tmp_path, "latin1.txt", "caf\xe9\n", "latin-1")
    with pytest.raises(InvalidInput, match=r"latin1\.txt: not UTF-8 text"):
        select(paths=[latin1])


def test_select_validates_everything_before_returning(tmp_path: Path) -> None:
    good = write(tmp_path, "good.txt", f"{A}\n")
    bad = write(tmp_path, "bad.json", json.dumps([B, "oops"]))
    with pytest.raises(InvalidInput, match=r"bad\.json item 2: 'oops'"):
        select(paths=[good, bad])


# -- spreadsheets: separators, header spellings, --id-column (issue 15) -------------------------


@pytest.mark.parametrize(
    ("text", "id_key", "expected"),
    [
        # Excel in much of Europe separates cells with semicolons.
        (f"id;Name;Company\n{A};Ada;Acme, Inc\n{B};Bob;X\n", None, [A, B]),
        (f'Name;Company;contactId\r\n"Lovelace; Ada";Acme;{A}\r\n', None, [A]),
        (f"Name\tCompany, Inc\tid\nAda\tAcme\t{A}\n", None, [A]),
        # Any case and spacing of the known names.
        (f"Name,Contact ID\nAda,{A}\n", None, [A]),
        (f"Name,CONTACT_ID\nAda,{A}\n", None, [A]),
        (f"Name,contact-id\nAda,{A}\n", None, [A]),
        (f"ID,Name\n{A},Ada\n", None, [A]),
        (f"Contact ID\n{A}\n", None, [A]),
        (f"id;Contact Id\n{B};{A}\n", None, [A]),  # contactId is preferred over id
        # --id-column names another column, in any case and spacing.
        (f"Record,Name\n{A},Ada\n", "record", [A]),
        (f"Person Ref;id\n{A};{B}\n", "person_ref", [A]),
        (f"Record\n{A}\n", "Record", [A]),
        (f'{{"ref": "{A}", "id": "{B}"}}\n', "ref", [A]),
        (f'[{{"Person ID": "{A}"}}]', "person id", [A]),
        (f'[{{"Contact ID": "{A}"}}]', None, [A]),
    ],
)
def test_read_ids_spreadsheets(text: str, id_key: str | None, expected: list[str]) -> None:
    assert list(read_ids(io.StringIO(text), "people.csv", "auto", id_key)) == expected


@pytest.mark.parametrize(
    ("text", "fmt", "id_key", "expected", "hint"),
    [
        (
            "Name;Company\nAda;Acme\n", "auto", None,
            "people.csv: no contactId, contact_id, Contact ID or id column "
            "(found: 'Name', 'Company')",
            "name the column that holds the IDs with --id-column NAME",
        ),
        (
            f"Name,id\nAda,{A}\n", "auto", "Record",
            "people.csv: no column 'Record' (found: 'Name', 'id')", None,
        ),
        (f'{{"id": "{A}"}}\n', "auto", "ref", "people.csv line 1: no 'ref' key (found: id)", None),
    ],
)  # fmt: skip
def test_read_ids_spreadsheet_errors(
    text: str, fmt: str, id_key: str | None, expected: str, hint: str | None
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        list(read_ids(io.StringIO(text), "people.csv", fmt, id_key))
    assert str(excinfo.value) == expected
    assert excinfo.value.hint == hint


def test_select_passes_the_id_column_to_every_file(tmp_path: Path) -> None:
    sheet = write(tmp_path, "sheet.csv", f"Ref;Name\n{A};Ada\n")
    piped = f"Ref\tName\n{B}\tBob\n"
    selection = select_ids(
        ids_options=[], from_paths=[sheet, "-"], stdin=io.StringIO(piped),
        stdin_is_tty=False, id_column="ref",
    )  # fmt: skip
    assert selection.ids == (A, B)


# -- hostile input: every read is bounded (issue 11 item 3) --------------------------------------


def test_read_ids_refuses_binary_data() -> None:
    assert read_error("\0" * 100) == "ids.txt: not a text file (it contains NUL characters)"


def test_read_ids_refuses_a_line_over_the_limit_naming_it() -> None:
    text = f"{A}\n" + "x" * (1 << 21) + "\n"
    assert read_error(text) == (
        "ids.txt line 2: longer than 1,048,576 characters, the limit for one line"
    )


def test_read_ids_refuses_a_csv_line_over_the_limit() -> None:
    text = f"id,notes\n{A},ok\n{B}," + "x" * (1 << 21) + "\n"
    assert read_error(text, name="p.csv").startswith("p.csv line 3: longer than")


def test_read_ids_refuses_a_json_array_over_the_document_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("dexbulk.inputs.ids.MAX_DOCUMENT_BYTES", 1000)
    text = json.dumps([A] * 100)
    assert read_error(text, name="ids.json").startswith(
        "ids.json: larger than 1,000 bytes, the limit for a JSON file read whole"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "ids.json: nested deeper than 64 levels"),
        (
            json.dumps([{"id": A}, [[[[[[A]]]]]]])
            .replace("[[[[[[", "[" * 70)
            .replace("]]]]]]", "]" * 70),
            "ids.json item 2: nested deeper than 64 levels",
        ),
        (f'[{{"id": "{A}", "id": "{B}"}}]', "ids.json item 1: key 'id' appears twice"),
        (f'{{"id": "{A}"}}\n' + "[" * 5000 + "]" * 5000 + "\n", "ids.json line 2: nested deeper"),
        (f'{{"id": "{A}", "id": "{B}"}}\n', "ids.json line 1: key 'id' appears twice"),
    ],
)
def test_read_ids_refuses_deep_or_ambiguous_json(text: str, expected: str) -> None:
    assert read_error(text, name="ids.json").startswith(expected)


def test_a_csv_whose_header_cells_are_quoted_is_read_as_csv() -> None:
    """Many exports quote every header cell; the line is not a JSON string, so not JSON Lines."""
    text = f'"First Name","Last Name","Contact ID"\n"Ana","Santos","{QUOTED_ID}"\n'
    assert read(text, name="export.csv") == [QUOTED_ID]


def test_json_lines_of_quoted_ids_are_still_json_lines() -> None:
    assert read(f'"{QUOTED_ID}"\n', name="ids.jsonl") == [QUOTED_ID]


QUOTED_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"


@pytest.mark.parametrize("header", ['"Contact ID"', '"id"', '"contactId"'])
def test_a_lone_quoted_id_header_is_a_one_column_csv(header: str) -> None:
    assert read(f"{header}\n{QUOTED_ID}\n") == [QUOTED_ID]
