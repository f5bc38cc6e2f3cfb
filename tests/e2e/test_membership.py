"""Tags and groups by name, end to end: dexbulk's entry point against a sandbox on 127.0.0.1.

Each test reads the sandbox's own state (every contact's tags and groups) before and after,
and counts what was sent in the sandbox's stats: adds and removes by name, ``--create``,
unknown and ambiguous names (exit 2, nothing sent), contacts already in the target state
left out, a run cut short and resumed, and both ways of sending tags.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dexbulk import membership
from tests.e2e.conftest import Result, SandboxApi
from tests.e2e.faults import snapshot

Sandbox = Callable[..., SandboxApi]
Dexbulk = Callable[..., Result]


def book(api: SandboxApi) -> list[dict[str, Any]]:
    """Every contact, read straight from the sandbox (not through dexbulk)."""
    return list(snapshot(api).values())


def holders(api: SandboxApi, kind: str, name: str) -> set[str]:
    """IDs of the contacts that hold the tag or group called ``name``."""
    field = "tags" if kind == "tag" else "groups"
    return {c["id"] for c in book(api) if any(t["name"] == name for t in c.get(field) or [])}


def named(api: SandboxApi, kind: str) -> dict[str, str]:
    """Every tag or group, name → ID."""
    items = api.http.get(f"{api.url}/search/{kind}s", params={"searchQuery": ""}, timeout=10)
    return {i["name"]: i["id"] for i in items.json()["data"]["items"]}


def membership_sent(api: SandboxApi) -> dict[str, int]:
    return dict(api.stats()["membership_contacts"])


def write_ids(path: Path, ids: list[str]) -> str:
    path.write_text("".join(f"{cid}\n" for cid in ids))
    return str(path)


def test_tag_add_by_name_tags_exactly_the_selection_and_skips_holders(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    before = holders(api, "tag", "investor")
    ids = sorted(c["id"] for c in book(api))[:40]
    already = before & set(ids)
    assert already, "the seed should tag some of these contacts already"
    sent = membership_sent(api)
    result = dexbulk(
        "tag", "add", "INVESTOR", "--from", write_ids(tmp_path / "ids.txt", ids), "--json",
        api=api,
    )  # fmt: skip
    assert result.code == 0, result
    assert holders(api, "tag", "investor") == before | set(ids)
    document = result.json()
    assert (document["confirmed"], document["unchanged"]) == (40 - len(already), len(already))
    after = membership_sent(api)
    # Only the contacts that lacked the tag were sent, through the tags endpoint.
    assert after["tags_add"] - sent["tags_add"] == 40 - len(already)
    assert after["put_tags_contacts"] == sent["put_tags_contacts"]


def test_tag_remove_takes_the_tag_off_only_those_that_have_it(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    before = holders(api, "tag", "investor")
    ids = sorted(c["id"] for c in book(api))[:60]
    had = before & set(ids)
    sent = membership_sent(api)
    result = dexbulk("tag", "remove", "investor", "--from", write_ids(tmp_path / "i", ids),
                     "--json", "--yes", api=api)  # fmt: skip
    assert result.code == 0, result
    assert holders(api, "tag", "investor") == before - set(ids)
    assert result.json()["unchanged"] == 60 - len(had)
    assert membership_sent(api)["tags_remove"] - sent["tags_remove"] == len(had)


def test_group_add_and_remove_over_a_where_selection(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    oldco = {c["id"] for c in book(api) if c["company"] == "OldCo" and not c["is_archived"]}
    outside = holders(api, "group", "Board") - oldco
    added = dexbulk(
        "group", "add", "board", "--where", "company=OldCo", "--yes", api=api, no_stdin=True
    )
    assert added.code == 0, added
    assert holders(api, "group", "Board") == outside | oldco
    removed = dexbulk(
        "group", "remove", "Board", "--where", "company=OldCo", "--yes", api=api, no_stdin=True
    )
    assert removed.code == 0, removed
    assert holders(api, "group", "Board") == outside


def test_create_makes_a_missing_tag_only_when_the_run_is_sent(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:5]
    path = write_ids(tmp_path / "ids.txt", ids)
    dry = dexbulk("tag", "add", "Summit 2026", "--create", "--from", path, "--dry-run", api=api)
    assert dry.code == 0, dry
    assert "will create tag 'Summit 2026'" in dry.stderr
    assert "Summit 2026" not in named(api, "tag")
    scripted = dexbulk("tag", "add", "Summit 2026", "--create", "--from", path, "--dry-run",
                       "--json", api=api)  # fmt: skip
    assert scripted.code == 0, scripted
    assert scripted.json()["create"] == [{"kind": "tag", "name": "Summit 2026"}]
    assert "Summit 2026" not in named(api, "tag")
    sent = dexbulk("tag", "add", "Summit 2026", "--create", "--from", path, api=api)
    assert sent.code == 0, sent
    assert "created tag 'Summit 2026'" in sent.stderr
    assert holders(api, "tag", "Summit 2026") == set(ids)


def test_an_unknown_name_is_exit_2_with_close_names_and_nothing_sent(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    path = write_ids(tmp_path / "ids.txt", sorted(c["id"] for c in book(api))[:5])
    sent = membership_sent(api)
    result = dexbulk("tag", "add", "investr", "--from", path, api=api)
    assert result.code == 2, result
    assert "tag 'investr': no such tag in Dex (did you mean 'investor'?)" in result.stderr
    assert "--create" in result.stderr
    assert membership_sent(api) == sent


def test_an_ambiguous_name_lists_both_and_an_id_resolves_it(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    twin = api.http.post(f"{api.url}/tags", json={"tag": {"name": "Investor"}}, timeout=10)
    twin_id = twin.json()["data"]["tag"]["id"]
    ids = sorted(c["id"] for c in book(api))[:3]
    path = write_ids(tmp_path / "ids.txt", ids)
    sent = membership_sent(api)
    result = dexbulk("tag", "add", "investor", "--from", path, api=api)
    assert result.code == 2, result
    assert "tag 'investor' is ambiguous:" in result.stderr
    assert twin_id in result.stderr
    assert named(api, "tag")["investor"] in result.stderr
    assert membership_sent(api) == sent
    by_id = dexbulk("tag", "add", twin_id, "--from", path, api=api)
    assert by_id.code == 0, by_id
    assert holders(api, "tag", "Investor") == set(ids)


def test_a_membership_run_cut_short_is_finished_by_resume(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:30]
    before = holders(api, "group", "Founders")
    lacking = [cid for cid in ids if cid not in before]
    path = write_ids(tmp_path / "i", ids)
    canary = dexbulk("group", "add", "Founders", "--from", path, "--stop-after", "4",
                     "--batch-size", "2", "--json", "--yes", api=api)  # fmt: skip
    assert canary.code == 0, canary
    assert canary.json()["state"] == "stopped"
    assert len(holders(api, "group", "Founders") - before) == 4
    rest = dexbulk("resume", canary.json()["runId"], "--json", api=api)
    assert rest.code == 0, rest
    assert holders(api, "group", "Founders") == before | set(lacking)


def test_retry_failed_resends_only_the_rejected_membership(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    ids = None
    probe = sandbox()
    ids = sorted(c["id"] for c in book(probe) if not c["is_archived"])[:10]
    lacking = [cid for cid in ids if cid not in holders(probe, "tag", "Press")]
    bad = lacking[0]
    api = sandbox("--reject", bad)
    path = write_ids(tmp_path / "ids.txt", ids)
    first = dexbulk("tag", "add", "Press", "--from", path, "--json", api=api)
    assert first.code == 1, first
    assert [f["contactId"] for f in first.json()["failures"]] == [bad]
    assert holders(api, "tag", "Press") >= set(lacking) - {bad}
    again = dexbulk("retry", "last", "--failed", "--json", api=api)
    assert again.code == 1, again  # still rejected: the sandbox refuses that contact
    assert again.json()["sent"] == 1


@pytest.mark.parametrize("via_put", [False, True])
def test_both_ways_of_sending_tags_end_the_same(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    via_put: bool,
) -> None:  # fmt: skip
    monkeypatch.setattr(membership, "TAGS_VIA_PUT", via_put)
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:20]
    path = write_ids(tmp_path / "ids.txt", ids)
    before = holders(api, "tag", "Mentor")
    added = dexbulk("tag", "add", "Mentor", "--from", path, api=api)
    assert added.code == 0, added
    assert holders(api, "tag", "Mentor") == before | set(ids)
    removed = dexbulk("tag", "remove", "Mentor", "--from", path, api=api)
    assert removed.code == 0, removed
    assert holders(api, "tag", "Mentor") == before - set(ids)
    stats = membership_sent(api)
    used = "put_tags_contacts" if via_put else "tags_add"
    assert stats[used] > 0
    assert stats["tags_add" if via_put else "put_tags_contacts"] == 0


def test_tags_and_groups_list_names_and_ids(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    tags = dexbulk("tags", "--format", "csv", api=api)
    assert tags.code == 0, tags
    lines = tags.stdout.splitlines()
    assert lines[0] == "id,name"
    assert {line.split(",", 1)[1] for line in lines[1:]} == set(named(api, "tag"))
    groups = dexbulk("groups", "--format", "ids", api=api)
    assert groups.code == 0, groups
    assert set(groups.stdout.split()) == set(named(api, "group").values())


# -- undo ---------------------------------------------------------------------------------------


def whole_book(api: SandboxApi) -> dict[str, dict[str, Any]]:
    """Every contact with its tags and groups, ``updated_at`` aside (every write moves it)."""
    return {c["id"]: {k: v for k, v in c.items() if k != "updated_at"} for c in book(api)}


@pytest.mark.parametrize(
    "change",
    [
        ("tag", "add", "investor", "VIP"),  # some contacts hold one of the two already
        ("tag", "remove", "investor"),
        ("group", "add", "Board"),
        ("group", "remove", "Founders"),
    ],
)
def test_undo_restores_membership_exactly(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path, change: tuple[str, ...]
) -> None:
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:80]
    original = whole_book(api)
    path = write_ids(tmp_path / "ids.txt", ids)
    done = dexbulk(*change, "--from", path, "--yes", "--json", api=api)
    assert done.code == 0, done
    assert done.json()["confirmed"] > 0
    assert whole_book(api) != original
    undone = dexbulk("undo", done.json()["runId"], "--yes", "--json", api=api)
    assert undone.code == 0, undone
    assert undone.json()["confirmed"] == done.json()["confirmed"]
    assert whole_book(api) == original


def test_undo_skips_a_membership_already_taken_back_in_dex(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    """A membership is yes or no: one changed since the run is either what the run wrote (undone)
    or what it was before (already undone, not sent); it can never conflict."""
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:20]
    had = holders(api, "tag", "Hiring")
    lacking = [cid for cid in ids if cid not in had]
    done = dexbulk("tag", "add", "Hiring", "--from", write_ids(tmp_path / "i", ids), "--json",
                   api=api)  # fmt: skip
    assert done.code == 0, done
    edited = lacking[0]  # someone takes the tag off again in Dex
    tag_id = named(api, "tag")["Hiring"]
    api.http.post(f"{api.url}/tags/contacts/remove",
                  json={"contactIds": [edited], "tagIds": [tag_id]}, timeout=10)  # fmt: skip
    sent = membership_sent(api)["tags_remove"]
    undone = dexbulk("undo", "last", "--json", api=api)
    assert undone.code == 0, undone
    assert undone.json()["undo"]["conflicts"] == []
    assert undone.json()["unchanged"] == 1
    assert membership_sent(api)["tags_remove"] - sent == len(lacking) - 1
    assert holders(api, "tag", "Hiring") == had


def test_create_with_two_spellings_of_one_name_makes_one_tag(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:3]
    path = write_ids(tmp_path / "ids.txt", ids)
    result = dexbulk("tag", "add", "Summit", "summit", "--create", "--from", path, api=api)
    assert result.code == 0, result
    assert [name for name in named(api, "tag") if name.casefold() == "summit"] == ["Summit"]
    assert holders(api, "tag", "Summit") == set(ids)


def test_a_name_shaped_like_an_id_is_never_created(
    sandbox: Sandbox, dexbulk: Dexbulk, tmp_path: Path
) -> None:
    """Created, a tag named like an ID could never be found by its name again."""
    api = sandbox()
    ids = sorted(c["id"] for c in book(api))[:2]
    tags = named(api, "tag")
    result = dexbulk("tag", "add", ids[0], "--create", "--from", write_ids(tmp_path / "i", ids),
                     api=api)  # fmt: skip
    assert result.code == 2, result
    assert "hint: a tag name cannot look like an ID; give its name instead" in result.stderr
    assert named(api, "tag") == tags


def test_tags_json_is_format_json(sandbox: Sandbox, dexbulk: Dexbulk) -> None:
    api = sandbox()
    listed = dexbulk("tags", "--json", api=api)
    assert listed.code == 0, listed
    assert {t["name"] for t in listed.json()} == set(named(api, "tag"))
    both = dexbulk("groups", "--json", "--format", "csv", api=api)
    assert both.code == 2, both
