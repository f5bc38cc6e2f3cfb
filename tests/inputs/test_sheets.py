"""Tests for dexbulk.inputs.sheets: patch files from spreadsheets (issue 15)."""

from __future__ import annotations

import io

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.inputs.patches import load_patch
from dexbulk.inputs.sheets import Columns
from dexbulk.plan import Update, UpdateList

A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
B = "0b5e7f0a-1111-4222-8333-944455556666"


def load(text: str, columns: Columns | None = None, fmt: str = "auto") -> UpdateList:
    loaded = load_patch("-", stdin=io.StringIO(text), fmt=fmt, columns=columns)
    assert isinstance(loaded, UpdateList)
    return loaded


def error(text: str, columns: Columns | None = None, fmt: str = "auto") -> InvalidInput:
    with pytest.raises(InvalidInput) as excinfo:
        load(text, columns, fmt)
    assert "\n" not in str(excinfo.value)
    return excinfo.value


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        # Excel's CSV in much of Europe: semicolons, and commas inside cells.
        (
            f"id;company;job_title\r\n{A};Acme, Inc;CEO\r\n",
            "auto",
            [Update(A, {"company": "Acme, Inc", "job_title": "CEO"})],
        ),
        (f"id;company\n{A};Acme\n", "csv", [Update(A, {"company": "Acme"})]),
        (f"id\tcompany\n{A}\tAcme; Inc\n", "auto", [Update(A, {"company": "Acme; Inc"})]),
        # Headers in any case and spacing.
        (
            f"Contact ID,Company,Job Title\n{A},Acme,CEO\n",
            "auto",
            [Update(A, {"company": "Acme", "job_title": "CEO"})],
        ),
        (f"\ufeffID;COMPANY\n{A};Acme\n", "auto", [Update(A, {"company": "Acme"})]),
        (f"contact-id,is archived\n{A},yes\n", "auto", [Update(A, {"is_archived": True})]),
    ],
)
def test_spreadsheet_csv(text: str, fmt: str, expected: list[Update]) -> None:
    assert load(text, fmt=fmt) == expected


SHEET = f"Contact ID,Name,Company,Notes\n{A},Ada,Acme,met at a fair\n{B},Bob,,\n"


def test_columns_applies_only_the_named_columns() -> None:
    loaded = load(SHEET, Columns(only=("company",)))
    assert loaded == [Update(A, {"company": "Acme"})]
    assert loaded.skipped_rows == 1  # Bob has no company: nothing to change


def test_ignore_columns_leaves_columns_out() -> None:
    loaded = load(SHEET, Columns(ignore=("name", "NOTES")))
    assert loaded == [Update(A, {"company": "Acme"})]


def test_columns_and_id_column_together() -> None:
    text = f"Ref;Name;Description\n{A};Ada;x\n"
    loaded = load(text, Columns(id_column="ref", only=("description",)))
    assert loaded == [Update(A, {"description": "x"})]


def test_a_column_that_is_not_a_field_is_still_an_error_with_a_hint() -> None:
    problem = error(SHEET)
    assert str(problem) == "<stdin>: unknown column 'Name' (did you mean 'full_name'?)"
    assert problem.hint == (
        "leave it out with --ignore-columns 'Name', or name the columns to apply with --columns"
    )


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            Columns(only=("company", "phone")),
            "--columns: <stdin> has no column 'phone' "
            "(found: 'Contact ID', 'Name', 'Company', 'Notes')",
        ),
        (Columns(ignore=("email",)), "--ignore-columns: <stdin> has no column 'email'"),
        (Columns(only=("name",)), "<stdin>: unknown column 'Name' (did you mean 'full_name'?)"),
        (Columns(only=("contact id",)), "<stdin>: no field columns besides 'Contact ID'"),
        (
            Columns(id_column="Ref"),
            "<stdin>: no column 'Ref' (found: 'Contact ID', 'Name', 'Company', 'Notes')",
        ),
    ],
)
def test_column_errors(columns: Columns, expected: str) -> None:
    assert str(error(SHEET, columns)).startswith(expected)


def test_two_headers_naming_one_field_are_an_error() -> None:
    assert str(error(f"id,Company,company\n{A},A,B\n")) == (
        "<stdin>: column 'company' appears twice"
    )


def test_columns_apply_to_csv_only() -> None:
    assert str(error('{"company": "Acme"}', Columns(only=("company",)))) == (
        "<stdin>: --columns and --ignore-columns apply to CSV and TSV files"
    )


@pytest.mark.parametrize(
    ("only", "ignore", "expected"),
    [
        (["company,job_title", " notes "], [], Columns(None, ("company", "job_title", "notes"))),
        ([], ["a", "b,,c"], Columns(None, (), ("a", "b", "c"))),
        ([], [], Columns()),
    ],
)
def test_columns_parse(only: list[str], ignore: list[str], expected: Columns) -> None:
    assert Columns.parse(None, only, ignore) == expected


def test_columns_parse_refuses_both() -> None:
    with pytest.raises(InvalidInput, match="pass either --columns or --ignore-columns, not both"):
        Columns.parse(None, ["a"], ["b"])


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"{""a"": 1, ""a"": 2}"', "<stdin> line 2: field 'linkedin_data': key 'a' appears twice"),
        ('"' + "[" * 100 + "]" * 100 + '"', "<stdin> line 2: field 'linkedin_data': nested deeper"),
    ],
)
def test_json_cells_are_checked_for_depth_and_repeated_keys(cell: str, expected: str) -> None:
    assert str(error(f"id,linkedin_data\n{A},{cell}\n")).startswith(expected)


def test_an_unclosed_quote_is_refused_naming_its_line() -> None:
    text = f'id,description\n{A},ok\n{B},"never closed\n' + "more text\n" * 20_000
    assert str(error(text)).startswith("<stdin> line 3: not valid CSV (field larger than")


def test_a_record_of_many_lines_is_bounded_as_a_whole() -> None:
    """Each cell and line is short, but the record is not: it is refused, not collected."""
    cells = ",".join(['"x\ny"'] * 300_000)
    text = f"id,description\n{A},ok\n{B},{cells}\n"
    assert str(error(text)) == (
        "<stdin> line 3: a record longer than 1,048,576 characters (an unclosed quote?)"
    )
