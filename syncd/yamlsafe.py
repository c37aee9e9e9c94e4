"""YAML that cannot blow up: aliases are counted and their expansion bounded.

A YAML alias (`*name`) stands for a whole earlier block, and nine lines of aliases to
aliases ("billion laughs") stand for a billion values: whatever then walks the data (a
line-keeping loader, a validator, a JSON serialiser) spends minutes and gigabytes. PyYAML
follows every alias, so the bounds are kept while composing, before anything walks it.

Snapshots refuse aliases outright (`refuse_aliases`): HR data has no use for them. Config
and mappings may use a few to share settings (`compose_bounded`). Both raise YamlRefused
with the 1-based line of the offending alias; callers add the file name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

MAX_ALIASES = 100  # aliases in one config or mapping file
MAX_ALIAS_NODES = 10_000  # values (scalars, lists, mappings) the aliases stand for, in all


class YamlRefused(Exception):
    """YAML that is well-formed but refused: `line` (1-based) and what is wrong there."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def refuse_aliases(text: str, loader: type[Any] = yaml.SafeLoader) -> None:
    """YamlRefused at the first alias in `text`; the parse is cheap (no data is built)."""
    if "*" not in text:  # an alias starts with '*': most snapshots need no parse at all
        return
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(_line(event),
                              f"alias *{event.anchor}: aliases are not allowed in this file (they "
                              "can expand without bound); write the values out")


def compose_bounded(text: str, max_aliases: int = MAX_ALIASES,
                    max_alias_nodes: int = MAX_ALIAS_NODES) -> yaml.Node | None:
    """`yaml.compose(text, Loader=yaml.SafeLoader)`, but YamlRefused for more than
    `max_aliases` aliases, for aliases standing for more than `max_alias_nodes` values in
    all, for an alias inside the block it names, and for nesting too deep to walk.
    Syntax errors are raised as by `yaml.compose`."""
    loader = _BoundedLoader(text, max_aliases, max_alias_nodes)
    try:
        return loader.get_single_node()
    except RecursionError:
        line = loader.get_mark().line + 1
        raise YamlRefused(line, "nested too deeply to read") from None
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """Counts each alias and the size of what it stands for as the composer meets it."""

    def __init__(self, text: str, max_aliases: int, max_alias_nodes: int):
        super().__init__(text)
        self.max_aliases = max_aliases
        self.max_alias_nodes = max_alias_nodes
        self.aliases = 0
        self.alias_nodes = 0
        self.open_anchors: set[str] = set()  # blocks being composed: no alias to them yet
        self.sizes: dict[int, int] = {}  # id(node) -> values it holds, itself included

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            # types-PyYAML leaves Parser.peek_event unannotated; it returns the next event
            self._count_alias(self.peek_event())  # type: ignore[no-untyped-call]
        return super().compose_node(parent, index)

    # the anchor is the block's name (str | None); types-PyYAML has it as a dict, hence Any
    def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
        with self._composing(anchor):
            return super().compose_sequence_node(anchor)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        with self._composing(anchor):
            return super().compose_mapping_node(anchor)

    @contextmanager
    def _composing(self, anchor: str | None) -> Iterator[None]:
        """Marks an anchor's block as open while it is composed."""
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            yield
        finally:
            self.open_anchors.discard(anchor)

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        line, name = _line(event), event.anchor
        if name in self.open_anchors:
            raise YamlRefused(line, f"alias *{name} is inside the block &{name} it names: "
                                    "it would repeat forever")
        self.aliases += 1
        if self.aliases > self.max_aliases:
            raise YamlRefused(line, f"more than {self.max_aliases} aliases in one file")
        if name in self.anchors:  # else compose_node reports the undefined alias
            self.alias_nodes += self._size(self.anchors[name])
        if self.alias_nodes > self.max_alias_nodes:
            raise YamlRefused(line, f"alias *{name}: the aliases so far stand for "
                                    f"{self.alias_nodes} values, more than the "
                                    f"{self.max_alias_nodes} allowed in one file")

    def _size(self, node: yaml.Node) -> int:
        """Values `node` stands for with every alias in it expanded (memoised: linear)."""
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(key) + self._size(value) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(item) for item in node.value)
        else:
            size = 1
        self.sizes[id(node)] = size
        return size


def _line(event: yaml.Event) -> int | None:
    """The 1-based line an event starts on (the parser always marks it; the stubs allow None)."""
    return None if event.start_mark is None else event.start_mark.line + 1


__all__ = ["MAX_ALIASES", "MAX_ALIAS_NODES", "YamlRefused", "compose_bounded",
           "refuse_aliases"]
