"""Every documented format of an ID file, end to end: ``set ... --from FILE``.

Each case selects two of three contacts; the test checks that exactly those two changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_commands import Dexbulk, Sandbox, assert_changed, preset, snapshot

# name -> (file name, contents built from the IDs a and b)
FORMATS: dict[str, tuple[str, Callable[[str, str], bytes]]] = {
    "plain lines, comments, upper case": (
        "ids.txt",
        lambda a, b: f"# picked by hand\n{a.upper()}  # first\n\n{b}\n".encode(),
    ),
    "CSV with an id column, BOM and CRLF": (
        "people.csv",
        lambda a, b: f"\ufeffname,id\r\nAda,{a}\r\nBob,{b}\r\n".encode(),
    ),
    "CSV with a contactId column": (
        "export.csv",
        lambda a, b: f'contactId,company\n{a},X\n{b},"Y, Inc"\n'.encode(),
    ),
    "TSV": ("people.tsv", lambda a, b: f"id\tname\n{a}\tAda\n{b}\tBob\n".encode()),
    "JSON array of strings": ("ids.json", lambda a, b: json.dumps([a, b]).encode()),
    "JSON array of objects": (
        "people.json",
        lambda a, b: json.dumps([{"id": a, "name": "Ada"}, {"contactId": b}], indent=2).encode(),
    ),
    "JSON Lines of objects": (
        "people.jsonl",
        lambda a, b: f'{{"id": "{a}", "name": "Ada"}}\n{{"contact_id": "{b}"}}\n'.encode(),
    ),
    "JSON Lines of strings": ("ids.jsonl", lambda a, b: f'"{a}"\n"{b}"\n'.encode()),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_set_with_ids_from_file_format(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, name: str
) -> None:
    api = sandbox()
    ids = api.ids(3)
    preset(api, ids, {"company": "Old Co"})
    before = snapshot(api, ids)
    filename, contents = FORMATS[name]
    (tmp_path / filename).write_bytes(contents(ids[0], ids[1]))

    result = dexbulk("set", "company=Acme", "--from", filename, "--json", api=api)

    assert result.code == 0, result
    document = result.json()
    assert (document["selected"], document["updated"], document["failed"]) == (2, 2, 0)
    expected = {"company": "Acme"}
    assert_changed(before, snapshot(api, ids), {ids[0]: expected, ids[1]: expected})


def test_several_sources_are_combined_and_deduplicated(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = api.ids(4)
    preset(api, ids, {"company": "Old Co"})
    before = snapshot(api, ids)
    (tmp_path / "a.txt").write_text(f"{ids[0]}\n{ids[1]}\n")
    (tmp_path / "b.json").write_text(json.dumps([ids[1], ids[2]]))

    result = dexbulk(
        "set", "company=Acme", "--from", "a.txt", "--from", "b.json", "--ids", ids[0],
        "--json", api=api,
    )  # fmt: skip

    assert result.code == 0, result
    document = result.json()
    assert (document["selected"], document["duplicates"], document["updated"]) == (3, 2, 3)
    assert_changed(before, snapshot(api, ids), {cid: {"company": "Acme"} for cid in ids[:3]})
