"""Tests that every command is documented: the generated reference, examples, the index.

The reference in docs/reference/ is generated from the Typer app by docs/gen_reference.py; these
tests keep it in step with the code, and keep every help text's example runnable in the sense
that the command and every option it uses exist.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run `python docs/gen_reference.py` and commit docs/reference/"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs/gen_reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
NODES = gen.walk()
COMMANDS = [node for node in NODES if node.words]
TOP_LEVEL = [node for node in COMMANDS if len(node.words) == 1]
# Commands that do something when invoked: leaves, and groups that run without a sub-command.
RUNNABLE = [
    node
    for node in COMMANDS
    if not node.subcommands or getattr(node.command, "invoke_without_command", False)
]
KNOWN_GAPS: dict[tuple[str, ...], str] = {}
"""Commands allowed to lack an example for now (with the reason); keep it empty."""


def _ids(nodes: list[Any]) -> list[str]:
    return [" ".join(node.words) or "dexbulk" for node in nodes]


# -- (a) the reference on disk is what the generator renders now ------------------------------


def test_reference_matches_the_generated_pages():
    stale = gen.stale(gen.render(), gen.REFERENCE_DIR)
    assert not stale, f"docs/reference/ is stale ({', '.join(stale)}): {REGENERATE}"


def test_every_command_has_a_page_and_the_index_is_readme():
    pages = gen.render()
    assert set(pages) == {node.page for node in NODES}
    assert {"README.md", "star.md", "set.md", "runs-show.md", "auth-login.md"} <= set(pages)


def test_pages_do_not_depend_on_the_terminal(monkeypatch):
    before = gen.render()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert gen.render() == before


def test_pages_are_plain_markdown_without_rich_markup():
    for name, text in gen.render().items():
        assert not re.search(r"\[/?(bold|dim|italic|red|green|yellow|cyan)\]", text), name
        assert "╭" not in text, name
        assert "```\ndexbulk" in text, f"{name}: no usage line"
        assert "## Exit codes" in text, name


def test_check_names_stale_and_orphaned_pages_and_write_fixes_them(tmp_path, monkeypatch, capsys):
    directory = tmp_path / "reference"
    monkeypatch.setattr(gen, "REFERENCE_DIR", directory)
    config_doc = tmp_path / "configuration.md"
    config_doc.write_text(gen.CONFIG_DOC.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(gen, "CONFIG_DOC", config_doc)
    assert gen.main(["--check"]) == 1  # nothing written yet
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    (directory / "star.md").write_text("# hand edited\n")
    (directory / "gone.md").write_text(f"# dexbulk gone\n\n{gen.MARKER}\n")
    (directory / "notes.md").write_text("# not generated: left alone\n")
    capsys.readouterr()
    assert gen.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "star.md" in err
    assert "gone.md" in err
    assert "notes.md" not in err
    assert "python docs/gen_reference.py" in err
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert not (directory / "gone.md").exists()
    assert (directory / "notes.md").exists()


# -- (a2) the settings table of docs/configuration.md is the one in dexbulk/settings.py --------


def test_configuration_doc_lists_every_setting_as_declared():
    text = gen.CONFIG_DOC.read_text(encoding="utf-8")
    assert gen.splice(text, gen.settings_table()) == text, f"docs/configuration.md: {REGENERATE}"
    from dexbulk.settings import SETTINGS

    for spec in SETTINGS:
        assert f"| `{spec.config_key}` | `{spec.flag}`" in text
        assert f"`{spec.env}`" in text


def test_a_stale_settings_table_is_found_and_rewritten(tmp_path, monkeypatch, capsys):
    config_doc = tmp_path / "configuration.md"
    text = gen.CONFIG_DOC.read_text(encoding="utf-8")
    config_doc.write_text(text.replace("| 1..500 |", "| 1..100 |"), encoding="utf-8")
    monkeypatch.setattr(gen, "CONFIG_DOC", config_doc)
    assert gen.main(["--check"]) == 1
    assert "configuration.md" in capsys.readouterr().err
    assert gen.main([]) == 0
    assert config_doc.read_text(encoding="utf-8") == text


def test_splice_needs_its_markers():
    with pytest.raises(ValueError, match="markers are missing"):
        gen.splice("# Configuration\n", "| a |\n")


# -- (b) every command's help has an example ---------------------------------------------------


def _gap(node: Any) -> Any:
    reason = KNOWN_GAPS.get(node.words)
    return pytest.param(node, marks=pytest.mark.xfail(strict=True, reason=reason) if reason else ())


@pytest.mark.parametrize("node", [_gap(node) for node in RUNNABLE], ids=_ids(RUNNABLE))
def test_every_command_help_has_an_example(node):
    assert any(p.startswith("Example:") for p in gen.paragraphs(node.command.help)), (
        f"'{node.title} --help' has no 'Example: ...' paragraph"
    )


# -- (c) the index lists every command -------------------------------------------------------


def test_every_command_appears_in_the_reference_index():
    index = (gen.REFERENCE_DIR / "README.md").read_text(encoding="utf-8")
    for node in COMMANDS:
        assert f"[`{node.title}`]({node.page})" in index, f"{node.title} missing: {REGENERATE}"
    assert [n.words[0] for n in TOP_LEVEL] == list(gen.walk()[0].subcommands)


# -- (d) examples use real commands and options -----------------------------------------------

# Where one shell command of an example ends: "a  ·  b", pipes, "$(...)", "a, then b".
_BETWEEN = re.compile(r"·|\||;|&&|\$\(|\)|, then\b")
_INVOCATION = re.compile(r"(?<![\w./-])dexbulk\b(.*)", re.DOTALL)


def example_invocations(help_text: str | None) -> list[list[str]]:
    """The argument lists of every ``dexbulk ...`` in the help's Example paragraph(s)."""
    found = []
    for paragraph in gen.paragraphs(help_text):
        if paragraph.startswith("Example:"):
            for command in _BETWEEN.split(paragraph.removeprefix("Example:")):
                match = _INVOCATION.search(command)
                if match:
                    found.append(shlex.split(match.group(1)))
    return found


def problems_of(args: list[str]) -> list[str]:
    """Why ``dexbulk ARGS`` would not parse: unknown commands or options (values unchecked)."""
    node, problems, expects_value = NODES[0], [], False
    for arg in args:
        if expects_value:
            expects_value = False
        elif arg.startswith("-") and arg != "-":
            options = {
                name: param
                for param in node.command.get_params(node.ctx)
                if param.param_type_name == "option"
                for name in (*param.opts, *param.secondary_opts)
            }
            name = arg.split("=", 1)[0]
            if name not in options:
                problems.append(f"'{node.title}' has no option {name}")
            else:
                param = options[name]
                expects_value = "=" not in arg and not (param.is_flag or param.count)
        elif node.subcommands:
            child = next((n for n in NODES if n.words == (*node.words, arg)), None)
            if child is None:
                return [f"'{node.title}' has no command {arg!r}"]
            node = child
    if node.subcommands and not getattr(node.command, "invoke_without_command", False):
        problems.append(f"'{node.title}' needs a command")
    return problems


def _examples() -> list[Any]:
    return [
        pytest.param(node, args, id=f"{' '.join(node.words)}: {shlex.join(args)}")
        for node in RUNNABLE
        for args in example_invocations(node.command.help)
    ]


@pytest.mark.parametrize(("node", "args"), _examples())
def test_every_example_uses_real_commands_and_options(node, args):
    assert problems_of(args) == []


@pytest.mark.parametrize("node", RUNNABLE, ids=_ids(RUNNABLE))
def test_every_example_paragraph_runs_dexbulk(node):
    has_example = any(p.startswith("Example:") for p in gen.paragraphs(node.command.help))
    assert example_invocations(node.command.help) or not has_example


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["star", "--idz", "x"], "'dexbulk star' has no option --idz"),
        (["stars"], "'dexbulk' has no command 'stars'"),
        (["auth"], "'dexbulk auth' needs a command"),
        (["runs", "shw", "last"], "'dexbulk runs' has no command 'shw'"),
    ],
)
def test_a_drifted_example_is_caught(args, problem):
    assert problems_of(args) == [problem]


def test_examples_are_found_in_help_texts():
    help_text = (
        "Run it.\n\nExample: [bold]dexbulk sandbox --port 1[/bold], then\n"
        "[bold]A=1 dexbulk star --ids x[/bold]  ·  [bold]cat f | dexbulk unstar[/bold]"
        '  ·  [bold]$EDITOR "$(dexbulk config path)"[/bold]'
    )
    assert example_invocations(help_text) == [
        ["sandbox", "--port", "1"], ["star", "--ids", "x"], ["unstar"], ["config", "path"],
    ]  # fmt: skip
    assert problems_of(["runs", "--limit", "5"]) == []
    assert problems_of(["set", "company=Acme", "--from=ids.txt", "-n"]) == []
