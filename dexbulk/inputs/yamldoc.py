"""YAML patch files, parsed safely *and* boundedly.

``yaml.safe_load`` is safe against code execution but not against size: a 270-byte file of
nested aliases (``&a [*b, *b, ...]``) expands into hundreds of megabytes once it is turned into
JSON, and deep nesting ends in ``RecursionError``. So this loader refuses aliases outright (a
patch file has no need for them), stops at :data:`~dexbulk.limits.MAX_DEPTH`, refuses a key
given twice in one mapping, and keeps dates as the text that was typed. Every refusal names the
line.

With libyaml installed (PyYAML's usual wheels have it) events come from its C parser, and only
composing and constructing run in Python: a 10 MB value parses in a fraction of a second
instead of half a minute.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from dexbulk.errors import InvalidInput
from dexbulk.limits import MAX_DEPTH
from dexbulk.values import quote

_MAX_INT_CHARS = 64
"""Longer integers are refused before ``int()`` (Python refuses 4,300 digits with a crash)."""


class _Refused(Exception):
    """Raised inside the loader; :func:`load_yaml` turns it into an error naming the line."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.mark = problem, mark


class _Rules(Composer, SafeConstructor):
    """``SafeLoader``'s composer and constructor without aliases, deep nesting, repeated keys
    or date conversion. Combined below with a parser (libyaml's or PyYAML's) and a resolver."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Refuse an alias before it is resolved; count the nesting of collections."""
        event = self.peek_event()  # type: ignore[attr-defined]  # from the parser mixed in below
        if isinstance(event, yaml.AliasEvent):
            problem = f"YAML aliases (*{event.anchor}) are not allowed in patch files"
            raise _Refused(problem, event.start_mark)
        nests = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nests:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels of lists and mappings"
                raise _Refused(problem, event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key that appears twice (YAML would keep the last silently)."""
        self.flatten_mapping(node)
        first: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: not JSON, the validator refuses it
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first:
                problem = f"key {quote(key)} appears twice (first on line {first[key]})"
                raise _Refused(problem, key_node.start_mark)
            first[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """An integer, refusing one too long to convert without Python's own crash."""
        if len(str(node.value)) > _MAX_INT_CHARS:
            raise _Refused(f"a number longer than {_MAX_INT_CHARS} digits", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_timestamp_as_text(self, node: yaml.Node) -> str:
        """YAML would turn 2020-01-01 into a date (and 1990-13-01 into a crash); keep the text."""
        assert isinstance(node, yaml.ScalarNode)
        return self.construct_scalar(node)


# The stubs only accept PyYAML's own loader classes here.
_Rules.add_constructor("tag:yaml.org,2002:int", _Rules.construct_yaml_int)  # type: ignore[type-var]
_Rules.add_constructor("tag:yaml.org,2002:timestamp", _Rules.construct_timestamp_as_text)  # type: ignore[type-var]


class PyLoader(Reader, Scanner, Parser, _Rules, Resolver):
    """The bounded loader on PyYAML's pure-Python parser (about 1 MB/s)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


LOADER: type = PyLoader
"""The loader used: :class:`CLoader` when libyaml is there, else :class:`PyLoader`."""
try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    pass
else:
    # _Rules comes first, so composing runs in Python (where aliases and depth are checked) on
    # events from the C parser; CParser's own composer would resolve aliases unseen.
    class CLoader(_Rules, CParser, Resolver):
        """The bounded loader on libyaml's parser."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    LOADER = CLoader


def load_yaml(text: str, name: str, loader: type | None = None) -> object:
    """Parse one YAML document; every error is an :class:`InvalidInput` naming ``name``."""
    try:
        return yaml.load(text, Loader=loader or LOADER)  # safe: SafeConstructor's tags only
    except _Refused as error:
        at = f" line {error.mark.line + 1}" if error.mark else ""
        raise InvalidInput(f"{name}{at}: {error.problem}") from None
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).split("\n", 1)[0]
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InvalidInput(f"{name}: not valid YAML ({problem}{at})") from None
