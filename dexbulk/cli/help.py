"""Help pages as plain text, written with click's own ``HelpFormatter`` instead of rich.

Why: Typer's rich help imports ``rich.markdown`` and markdown-it-py on every ``--help``, about
45 ms of the 119 ms ``dexbulk --help`` took (2.5x a bare Typer start; the goal is 1.5x). These
pages keep what the panels carried (a section per help panel, aligned columns, the terminal's
width, bold where a help text says ``[bold]``) and read well in a pipe, a pager or a screen
reader. Click does the wrapping and the two-column layout (``write_usage``, ``section``,
``write_dl``, ``write_text``) into the formatter it passes to ``format_help``; this module
decides what goes where. ``docs/gen_reference.py`` uses the same markup parser, parameter
records and usage line, so ``--help`` and ``docs/reference/`` agree.

Help texts use two bits of rich's markup: ``[bold]...[/bold]`` spans (commands and fields) and
``\\[`` for a literal bracket. Paragraphs are separated by blank lines; an ``Example:``
paragraph becomes a section with one example per line, and a ``Title: TERM text · TERM text``
paragraph (the exit codes) a section listing each term with its text.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from typer.core import TyperCommand, TyperGroup

# Bold span markers and a non-breaking hyphen, while click wraps the text (see write_page).
BOLD, END, NOBREAK = "\ue000", "\ue001", "\u2011"
ANSI_BOLD, ANSI_RESET = "\x1b[1m", "\x1b[0m"
DEFAULT_PANEL, ARGUMENTS_PANEL, COMMANDS_PANEL = "Options", "Arguments", "Commands"
MAX_WIDTH, TERM_COLUMN, MIN_HELP_COLUMN = 100, 28, 30
SEPARATOR = " · "

# Compiled on first use (re caches them): a command that runs draws no help.
_TAG = r"(?<!\\)\[(/?)([a-z#@][^\[\]]*)?\]"
_LIST_PARAGRAPH = r"([A-Z][\w ]{0,30}):\s+(.*)"


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
    tags = list(re.finditer(_TAG, text))
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
    return f"{ctx.command_path} {usage_args(command, ctx)}"


def usage_args(command: Any, ctx: Any) -> str:
    """The usage line after the command's name: ``[OPTIONS] FIELD=VALUE...``."""
    words = ["[OPTIONS]"]
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
    """The whole help page of ``command`` as text, ``width`` columns wide (ANSI bold if ``color``).

    The page is drawn by click's own formatter (the class ``ctx`` makes its formatters with),
    exactly as ``--help`` draws it; this entry point fixes the width and colour for tests.
    """
    formatter = ctx.formatter_class(width=width)
    write_page(formatter, command, ctx, color=color)
    return str(formatter.getvalue()).rstrip("\n")


def write_page(formatter: Any, command: Any, ctx: Any, *, color: bool) -> None:
    """Write the help page of ``command`` into click's ``formatter``.

    Click wraps text with :mod:`textwrap`, which breaks words at hyphens (``--batch-`` /
    ``size``) and counts escape codes as columns. So every text to be wrapped has its hyphens
    made non-breaking and its bold spans marked with one-column markers; both are undone in
    the formatter's buffer once the page is written, so the layout is the same in colour and
    without, and an option's name is never split. Terms and headings, which click measures
    without escape codes and never wraps, get their bold directly.
    """
    bold = (ANSI_BOLD, ANSI_RESET) if color else ("", "")
    start = len(formatter.buffer)
    formatter.write_usage(
        ctx.command_path, _nobreak(usage_args(command, ctx)), _b("Usage:", bold) + " "
    )
    for paragraph in paragraphs(command.help, (BOLD, END)):
        _write_paragraph(formatter, paragraph, bold)
    tables = [
        (title, [(term, _nobreak(markup(text, (BOLD, END)))) for term, text in rows])
        for title, rows in sections(command, ctx)
    ]
    terms = [term for _, rows in tables for term, _ in rows]
    words = [word for _, rows in tables for _, text in rows for word in text.split()]
    column = min(TERM_COLUMN, max(map(len, terms), default=0))
    # Click cuts a word longer than the help column (a URL): then stack, as when too narrow.
    if formatter.width - column - 4 < max([MIN_HELP_COLUMN, *map(len, words)]):
        column = 0  # every help text goes under its term
    for title, rows in tables:
        with formatter.section(_b(title, bold)):
            # Terms padded to one column, so every section's help texts start at the same place.
            padded = [(_b(term, bold) + " " * (column - len(term)), text) for term, text in rows]
            formatter.write_dl(padded, col_max=column)
    for paragraph in paragraphs(command.epilog, (BOLD, END)):
        _write_paragraph(formatter, paragraph, bold)
    formatter.buffer[start:] = [
        chunk.replace(NOBREAK, "-").replace(BOLD, bold[0]).replace(END, bold[1])
        for chunk in formatter.buffer[start:]
    ]


def _write_paragraph(formatter: Any, paragraph: str, bold: tuple[str, str]) -> None:
    """Prose, wrapped; ``Example:`` one example per line; ``Title: a · b`` a list of terms."""
    if paragraph.startswith("Example:"):
        items = _examples(paragraph.removeprefix("Example:"))
        with formatter.section(_b("Examples" if len(items) > 1 else "Example", bold)):
            for item in items:
                formatter.write_text(_nobreak(item))
        return
    listed = re.fullmatch(_LIST_PARAGRAPH, paragraph, re.DOTALL)
    if listed and SEPARATOR in listed.group(2):
        pairs = [item.strip().partition(" ") for item in listed.group(2).split(SEPARATOR)]
        with formatter.section(_b(listed.group(1), bold)):
            formatter.write_dl([(term, _nobreak(text)) for term, _, text in pairs])
        return
    formatter.write_paragraph()
    formatter.write_text(_nobreak(paragraph))


def _b(text: str, bold: tuple[str, str]) -> str:
    return f"{bold[0]}{text}{bold[1]}" if bold[0] else text


def _nobreak(text: str) -> str:
    return text.replace("-", NOBREAK)


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


def wants_color(ctx: Any) -> bool:
    """Bold on a terminal, unless ``NO_COLOR`` is set or the terminal is dumb."""
    if ctx.color is not None:
        return bool(ctx.color)
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


# -- the click classes ------------------------------------------------------------------------


class _RenderedHelp:
    """``--help`` is :func:`write_page`'s page (a mixin for the command and the group)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        write_page(formatter, self, ctx, color=wants_color(ctx))


class DexbulkCommand(_RenderedHelp, TyperCommand):
    """A Typer command whose ``--help`` is :func:`write_page`'s page."""


class DexbulkGroup(_RenderedHelp, TyperGroup):
    """A Typer group with :func:`write_page`'s page and one-line usage errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Up to MAX_WIDTH columns on a wide terminal (click's own limit is 80); commands and
        # sub-groups inherit it from this, the top-level group's context.
        settings = {"max_content_width": MAX_WIDTH, **(kwargs.pop("context_settings", None) or {})}
        super().__init__(*args, context_settings=settings, **kwargs)

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
