"""Tests for dexbulk.inputs.reading: lines, records and documents read within bounds."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from dexbulk.errors import InvalidInput
from dexbulk.inputs.reading import (
    HEAD_CHARS,
    Prefixed,
    Records,
    lines,
    open_text,
    read_head,
    read_whole,
)


class Endless(io.TextIOBase):
    """A stream that never ends (like /dev/zero) and counts what was taken from it."""

    def __init__(self, char: str = "x") -> None:
        self.char = char
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> str:
        if size is None or size < 0:
            raise AssertionError("asked to read an endless stream whole")
        self.taken += size
        return self.char * size

    def readline(self, size: int | None = -1, /) -> str:
        return self.read(size)


def test_lines_yields_lines_with_their_ends() -> None:
    assert list(lines(io.StringIO("a\nb\r\nc"), "f")) == ["a\n", "b\r\n", "c"]


def test_lines_refuses_a_long_line_naming_it() -> None:
    stream = io.StringIO("ok\nok\n" + "x" * 101 + "\nok\n")
    with pytest.raises(InvalidInput) as excinfo:
        list(lines(stream, "ids.txt", limit=100))
    assert (
        str(excinfo.value) == "ids.txt line 3: longer than 100 characters, the limit for one line"
    )


def test_lines_accepts_a_line_of_exactly_the_limit_with_crlf() -> None:
    text = "x" * 100 + "\r\n" + "y\r\n"
    assert list(lines(io.StringIO(text), "f", limit=100)) == ["x" * 100 + "\r\n", "y\r\n"]


def test_lines_numbers_from_start() -> None:
    with pytest.raises(InvalidInput, match="f line 7:"):
        list(lines(io.StringIO("x" * 20), "f", start=7, limit=10))


def test_lines_reads_at_most_the_limit_of_an_endless_stream() -> None:
    stream = Endless()
    with pytest.raises(InvalidInput, match="line 1: longer than 1,000 characters"):
        list(lines(stream, "/dev/zero", limit=1000))
    assert stream.taken <= 1002


def test_records_refuse_an_unclosed_quote_naming_the_line_it_opened_on() -> None:
    text = 'id,name\nA,ok\nB,"never closed\n' + "more\n" * 100
    records = Records(lines(io.StringIO(text), "p.csv"), "p.csv", limit=200)
    reader = csv.reader(records)

    def read_all() -> None:
        for _ in reader:
            records.next_record()

    with pytest.raises(InvalidInput) as excinfo:
        read_all()
    assert str(excinfo.value) == (
        "p.csv line 3: a record longer than 200 characters (an unclosed quote?)"
    )


def test_records_number_each_record_by_its_first_line() -> None:
    text = 'a\n"two\nlines"\nb\n'
    records = Records(lines(io.StringIO(text), "f"), "f")
    starts = []
    for _ in csv.reader(records):
        starts.append(records.number)
        records.next_record()
    assert starts == [1, 2, 4]


def test_read_whole_reads_a_stream_below_the_limit() -> None:
    assert read_whole(io.StringIO("abc"), "f", 10, "JSON") == "abc"


def test_read_whole_stops_reading_an_endless_stream_past_the_limit() -> None:
    stream = Endless()
    with pytest.raises(InvalidInput) as excinfo:
        read_whole(stream, "<stdin>", 3 << 20, "YAML")
    assert str(excinfo.value) == "<stdin>: larger than 3 MiB, the limit for a YAML file read whole"
    assert excinfo.value.hint is not None
    assert "JSON Lines or CSV" in excinfo.value.hint
    assert stream.taken <= (4 << 20)  # one chunk past the limit at most


def test_read_whole_counts_what_was_already_read() -> None:
    with pytest.raises(InvalidInput, match="larger than"):
        read_whole(io.StringIO("abc"), "f", 10, "JSON", already=8)


def test_read_whole_measures_a_regular_file_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as out:
        out.truncate(500 << 20)  # a sparse 500 MB file: measured, never read
    with open_text(str(path)) as stream:
        with pytest.raises(InvalidInput, match="larger than 64 MiB"):
            read_whole(stream, "big.json", 64 << 20, "JSON")
        assert stream.tell() == 0


def test_prefixed_joins_a_line_split_by_the_head() -> None:
    stream = io.StringIO("defghi\njkl\n")
    joined = Prefixed("abc", stream)
    assert list(lines(joined, "f")) == ["abcdefghi\n", "jkl\n"]


def test_prefixed_reads_whole() -> None:
    stream = io.StringIO("rest")
    assert read_whole(Prefixed("head-", stream), "f", 100, "JSON") == "head-rest"


def test_read_head_never_splits_crlf() -> None:
    text = "x" * (HEAD_CHARS - 1) + "\r\n" + "y\r\n"
    stream = io.StringIO(text, newline="")
    head = read_head(stream)
    assert head.endswith("\r\n")
    assert list(lines(Prefixed(head, stream), "f")) == ["x" * (HEAD_CHARS - 1) + "\r\n", "y\r\n"]
