"""SCIM attribute paths as a mapping names them (RFC 7644 section 3.10), and reading them.

A mapping addresses a resource's attributes as SCIM itself does: `userName`, a
sub-attribute `name.givenName`, one element of a multi-valued attribute by its type
`emails[type eq "work"].value`, and an extension's attribute by its schema URN
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`. A complex
attribute named without a sub-attribute (`members`, the Enterprise `manager`) stands for
its `value`s: a group's members are the ids of its members.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER = f"{ENTERPRISE}:manager"
# the attributes whose values name other resources by id (lower case), written as
# references: named whole, never by a sub-attribute (`members`, not `members.value`)
REFERENCES = frozenset({"members", MANAGER.lower()})
_CORE = "urn:ietf:params:scim:schemas:core:"  # a core attribute may be named with its URN

_PATH = re.compile(
    r"""^(?:(?P<urn>urn:[^\[\]"]+):)?
    (?P<attribute>[A-Za-z$][\w$-]*)
    (?:\[\s*(?P<filter>[A-Za-z][\w-]*)\s+eq\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*\])?
    (?:\.(?P<sub>[A-Za-z$][\w$-]*))?$""",
    re.VERBOSE | re.IGNORECASE,
)


class PathError(ValueError):
    """A mapping names an attribute in a way SCIM does not."""


@dataclass(frozen=True)
class AttrPath:
    """One attribute path: `urn` is the extension's schema (None for the core schema),
    `where` the `[name eq "value"]` that picks elements of a multi-valued attribute."""

    text: str
    urn: str | None
    attribute: str
    where: tuple[str, str] | None = None
    sub: str | None = None

    @property
    def extension(self) -> str | None:
        """The extension schema whose part of the JSON holds it; None for the core
        schema, whether named (`urn:...:core:2.0:User:userName`) or not."""
        return None if self.urn is None or self.urn.lower().startswith(_CORE) else self.urn

    @property
    def element(self) -> str:
        """The path of the element `where` picks, for a PATCH (`emails[type eq "work"]`)."""
        assert self.where, f"{self.text} picks no element"
        name, wanted = self.where
        return f"{self.top}[{name} eq {json_string(wanted)}]"

    @property
    def top(self) -> str:
        """The top-level attribute a resource's JSON holds it under (for PATCH paths)."""
        return f"{self.urn}:{self.attribute}" if self.urn else self.attribute

    def container(self, resource: dict[str, Any], create: bool = False) -> dict[str, Any] | None:
        """The object this attribute is a key of: the resource, or its extension's part."""
        if self.extension is None:
            return resource
        part = get_key(resource, self.extension)
        if part is None and create:
            part = resource[self.extension] = {}
        return part if isinstance(part, dict) else None

    def elements(self, resource: dict[str, Any]) -> list[Any]:
        """The attribute's values (elements of a multi-valued one), filtered by `where`."""
        container = self.container(resource)
        value = get_key(container, self.attribute) if container is not None else None
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [item for item in items if self.picks(item)] if self.where else items

    def picks(self, item: Any) -> bool:
        """Whether `where` picks this element (`[type eq "work"]`: no case)."""
        if self.where is None:
            return True
        name, wanted = self.where
        value = get_key(item, name) if isinstance(item, dict) else None
        return value is not None and as_text(value).lower() == wanted.lower()

    def read(self, resource: dict[str, Any]) -> tuple[str, ...]:
        """The values at this path, as text (`true`/`false` for booleans). Of the
        elements a `where` picks, only the first is syncd's: a second work address that
        someone else keeps is neither read nor written."""
        values = []
        elements = self.elements(resource)
        for item in elements[:1] if self.where else elements:
            if isinstance(item, dict):
                item = get_key(item, self.sub or "value")
            elif self.sub:
                item = None
            if item is not None:
                values.append(as_text(item))
        return tuple(values)


@cache
def parse_path(text: str) -> AttrPath:
    """An AttrPath, or PathError saying what SCIM path syntax this text breaks."""
    match = _PATH.match(text.strip())
    if not match:
        raise PathError(f"{text!r} is not a SCIM attribute path (name, name.sub, "
                        f'name[type eq "work"].sub, or urn:...:name)')
    where = (match["filter"], _unquoted(text, match["value"])) if match["filter"] else None
    return AttrPath(text.strip(), match["urn"], match["attribute"], where, match["sub"])


def _unquoted(text: str, value: str) -> str:
    """A filter's value: a JSON string (`\\"` a quote, `\\\\` a backslash)."""
    try:
        return str(json.loads(f'"{value}"'))
    except ValueError:
        raise PathError(f"{text!r}: \"{value}\" is not a JSON string") from None


def get_key(data: dict[str, Any] | None, name: str) -> Any:
    """A JSON object's member by name, without case (SCIM attribute names have none)."""
    if data is None:
        return None
    if name in data:
        return data[name]
    lowered = name.lower()
    return next((value for key, value in data.items() if key.lower() == lowered), None)


def json_string(value: str) -> str:
    """A filter's value as SCIM writes it: a JSON string, its quotes and backslashes
    escaped (`members[value eq "a\\"b"]`)."""
    return json.dumps(value, ensure_ascii=False)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def crowded(resource: dict[str, Any], paths: list[AttrPath]) -> dict[str, list[Any]]:
    """The multi-valued attributes in which a path's `where` picks more than one element,
    as found (by `top`, lower case): there a filtered PATCH path would write or remove
    every picked element, the ones syncd does not keep too."""
    found = {}
    for path in paths:
        if path.where and len(path.elements(resource)) > 1:
            container = path.container(resource)
            found[path.top.lower()] = list(get_key(container, path.attribute) or [])
    return found
