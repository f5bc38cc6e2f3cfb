"""Help pages, drawn as plain text instead of through Typer's rich help.

Why: Typer's rich help imports ``rich.markdown`` and markdown-it-py on every ``--help``, about
45 ms of the 119 ms ``dexbulk --help`` took (2.5x a bare Typer start; the goal is 1.5x). These
pages keep what the panels carried (a section per help panel, aligned columns, the terminal's
width, bold where a help text says ``[bold]``) at the cost of a few string operations, and they
read well in a pipe, a pager or a screen reader. ``docs/gen_reference.py`` uses the same markup
parser and the same parameter records, so ``--help`` and ``docs/reference/`` agree.

Help texts use two bits of rich's markup: ``[bold]...[/bold]`` spans (commands and fields) and
``\\[`` for a literal bracket. Paragraphs are separated by blank lines; an ``Example:`` paragraph
and a ``Title: a · b`` paragraph become a section with one item per line.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from typer.core import TyperCommand, TyperGroup

BOLD, END = "\x00", "\x01"  # span markers until the page is printed; zero width when wrapping
ANSI_BOLD, ANSI_RESET = "\x1b[1m", "\x1b[0m"
DEFAULT_PANEL, ARGUMENTS_PANEL, COMMANDS_PANEL = "Options", "Arguments", "Commands"
MAX_WIDTH, TERM_COLUMN, MIN_HELP_COLUMN = 100, 28, 30
SEPARATOR = " · "

_TAG = re.compile(r"(?<!\\)\[(/?)([a-z#@][^\[\]]*)?\]")
_LIST_PARAGRAPH = re.compile(r"([A-Z][\w ]{0,30}):\s+(.*)", re.DOTALL)


# -- markup -----------------------------------------------------------------------------------


def markup(text: str | None, bold: tuple[str, str] = ("", "")) -> str:
    """``text`` without rich style tags; ``[bold]`` spans are wrapped in ``bold``.

    Only tags that are closed (``[x]...[/x]`` or ``[/]``) count as markup, so bracketed text
    such as ``[env DEX_API_URL]`` or ``[default: 8765]`` stays as written.
    """
    text = text or ""
    out: list[str] = []
    opened: list[str] = []
    pos = 0
    tags = list(_TAG.finditer(text))
    closers = {m.group(2) or "" for m in tags if m.group(1)}
    for match in tags:
        closing, name = bool(match.group(1)), match.group(2) or ""
        if not closing and name not in closers and "" not in closers:
            continue  # an unclosed "[...]": plain text
        if closing and not opened:
            continue
        out.append(text[pos : match.start()])
        pos = match.end()
        if closing:
            out.append(bold[1] if opened.pop() == "bold" else "")
        else:
            opened.append(name)
            out.append(bold[0] if name == "bold" else "")
    out.append(text[pos:])
    return "".join(out).replace("\\[", "[")


def plain(text: str | None) -> str:
    """A help text as plain text, without markup."""
    return markup(text).strip()


def paragraphs(text: str | None, bold: tuple[str, str] = ("", "")) -> list[str]:
    """A help text's paragraphs, markup applied, each on one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", markup(text, bold)) if p.strip()]


# -- the page ---------------------------------------------------------------------------------


def param_record(param: Any) -> tuple[str, str] | None:
    """``("--batch-size N", "help text  [default: 100]")`` for a visible parameter, else None.

    Built from click's stable parameter attributes rather than ``get_help_record``, whose
    metavars (``<int range>``) and suffixes (``[1<=x<=500]``) differ between Typer versions.
    """
    if param.hidden:
        return None
    help_text = param.help or ""
    extras = []
    if param.param_type_name == "argument":
        names = _argument_name(param)
    else:
        names = ", ".join(sorted(param.opts, key=len))
        if param.secondary_opts:
            names += " / " + ", ".join(param.secondary_opts)
        if not param.is_flag:
            names += " " + (param.metavar or param.name.upper())
        default = _default_text(param)
        if default:
            extras.append(f"default: {default}")
    if param.required:
        extras.append("required")
    if extras:
        help_text = f"{help_text}  [{'; '.join(extras)}]".strip()
    return names, help_text


def _argument_name(param: Any) -> str:
    return str(param.metavar or param.name.upper()) + ("..." if param.nargs != 1 else "")


def _default_text(param: Any) -> str:
    """The default worth showing: what ``show_default`` says, or a non-empty, non-flag value."""
    if isinstance(param.show_default, str):
        return param.show_default
    value = param.default
    if not param.show_default or param.is_flag or value in (None, "", (), []) or callable(value):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def usage(command: Any, ctx: Any) -> str:
    """``dexbulk set [OPTIONS] FIELD=VALUE...``: arguments in brackets when optional."""
    words = [ctx.command_path, "[OPTIONS]"]
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = _argument_name(param)
            words.append(name if param.required else f"[{name}]")
    if isinstance(command, TyperGroup):
        words.append("COMMAND [ARGS]...")
    return " ".join(words)


def sections(command: Any, ctx: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The page's tables: arguments, sub-commands by panel, options by panel, then the rest."""
    arguments: list[tuple[str, str]] = []
    panels: dict[str, list[tuple[str, str]]] = {}
    unpanelled: list[tuple[str, str]] = []
    for name in command.list_commands(ctx) if isinstance(command, TyperGroup) else ():
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            panel = getattr(sub, "rich_help_panel", None) or COMMANDS_PANEL
            panels.setdefault(panel, []).append((name, summary(sub)))
    for param in command.get_params(ctx):
        record = param_record(param)
        if record is None:
            continue
        if param.param_type_name == "argument":
            arguments.append(record)
            continue
        panel = getattr(param, "rich_help_panel", None)
        (panels.setdefault(panel, []) if panel else unpanelled).append(record)
    ordered = [(ARGUMENTS_PANEL, arguments), *panels.items(), (DEFAULT_PANEL, unpanelled)]
    return [(title, rows) for title, rows in ordered if rows]


def summary(command: Any) -> str:
    """A command's first help paragraph, plain, on one line (its line in a command list)."""
    first = paragraphs(command.short_help or command.help)
    return first[0] if first else ""


def render(command: Any, ctx: Any, *, width: int, color: bool) -> str:
    """The whole help page of ``command`` as text (ANSI bold only when ``color``)."""
    bold = (ANSI_BOLD, ANSI_RESET) if color else ("", "")
    out = _wrap(f"{BOLD}Usage:{END} {usage(command, ctx)}", width, indent=0, hang=4)
    for paragraph in paragraphs(command.help, (BOLD, END)):
        out += ["", *_paragraph(paragraph, width)]
    rows = sections(command, ctx)
    column = min(TERM_COLUMN, max((len(term) for _, table in rows for term, _ in table), default=0))
    if width - column - 4 < MIN_HELP_COLUMN:
        column = 0  # too narrow for two columns: every help text goes under its term
    for title, table in rows:
        out += ["", f"{BOLD}{title}:{END}"]
        for term, text in table:
            out += _row(term, markup(text, (BOLD, END)), column, width)
    for paragraph in paragraphs(command.epilog, (BOLD, END)):
        out += ["", *_paragraph(paragraph, width)]
    return "\n".join(out).replace(BOLD, bold[0]).replace(END, bold[1])


def _paragraph(paragraph: str, width: int) -> list[str]:
    """Prose wrapped to ``width``; a list paragraph becomes a heading and one item per line."""
    if paragraph.startswith("Example:"):
        items = _examples(paragraph.removeprefix("Example:"))
        heading = "Examples:" if len(items) > 1 else "Example:"
        return [f"{BOLD}{heading}{END}", *(line for item in items for line in _wrap(item, width))]
    listed = _LIST_PARAGRAPH.fullmatch(paragraph)
    if listed and SEPARATOR in listed.group(2):
        heading, items = listed.group(1), listed.group(2).split(SEPARATOR)
        lines = [f"{BOLD}{heading}:{END}"]
        return lines + [line for item in items for line in _wrap(item.strip(), width, hang=4)]
    return _wrap(paragraph, width, indent=0)


def _examples(text: str) -> list[str]:
    """One line per example: each bold span is a command; words after a span stay on its line."""
    lines: list[str] = []
    for piece in text.split(SEPARATOR):
        parts = re.split(f"{BOLD}(.*?){END}", piece)  # odd indexes are the spans
        for i, part in enumerate(parts):
            if i % 2:
                lines.append(part.strip())
            elif part.strip() and i and lines:
                lines[-1] = (lines[-1] + part).rstrip()
            elif part.strip():
                lines.append(part.strip())
    return lines


def _row(term: str, text: str, column: int, width: int) -> list[str]:
    """One table row: the term in bold, its help wrapped in the column to its right."""
    first = f"  {BOLD}{term}{END}"
    if not text:
        return [first]
    if len(term) > column:
        return [first, *_wrap(text, width, indent=column + 4)]
    wrapped = _wrap(text, width, indent=column + 4)
    return [first + " " * (column - len(term) + 2) + wrapped[0].lstrip(), *wrapped[1:]]


def _wrap(text: str, width: int, indent: int = 2, hang: int = 0) -> list[str]:
    """Greedy word wrap; span markers take no room. Later lines get ``hang`` more indent."""
    lines: list[str] = []
    words: list[str] = []
    pad = length = indent
    for word in text.split():
        size = len(word) - word.count(BOLD) - word.count(END)
        if words and length + 1 + size > width:
            lines.append(" " * pad + " ".join(words))
            words, pad = [], indent + hang
            length = pad
        length += size + (1 if words else 0)
        words.append(word)
    return [*lines, " " * pad + " ".join(words)]


def page_width() -> int:
    """The terminal's width (``COLUMNS`` wins), kept between 40 and 100 columns."""
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns))


def wants_color(ctx: Any) -> bool:
    """Bold on a terminal, unless ``NO_COLOR`` is set or the terminal is dumb."""
    if ctx.color is not None:
        return bool(ctx.color)
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


# -- the click classes ------------------------------------------------------------------------


class _RenderedHelp:
    """``--help`` is :func:`render`'s page (a mixin for the command and the group)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(render(self, ctx, width=page_width(), color=wants_color(ctx)) + "\n")


class DexbulkCommand(_RenderedHelp, TyperCommand):
    """A Typer command whose ``--help`` is :func:`render`'s page."""


class DexbulkGroup(_RenderedHelp, TyperGroup):
    """A Typer group with :func:`render`'s page and one-line usage errors."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the app; every error ends in :func:`dexbulk.cli.errors.run_main`'s one place."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        from dexbulk.cli.errors import run_main

        argv = list(sys.argv[1:] if args is None else args)
        return run_main(
            lambda: super(DexbulkGroup, self).main(args, prog_name, complete_var, False, **extra),
            argv,
        )
