"""Neutral values passed between mapping, plan and targets: directory entries.

An attribute maps to a tuple of strings, always, so that single- and multi-valued
attributes compare the same way; names keep the spelling the mapping gave them and are
compared without case, as LDAP does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TypeVar

from syncd.errors import InvalidDn

Attrs = dict[str, tuple[str, ...]]
T = TypeVar("T")

USER = "user"
GROUP = "group"
OU = "ou"
KINDS = (OU, USER, GROUP)  # the order creations are applied in

# The life of an object syncd owns (registry state; for users also the wanted state).
PENDING = "pending"  # reserved in the registry, not yet seen in the target
ACTIVE = "active"
DISABLED = "disabled"
DELETED = "deleted"  # users only: the row stays so the username is never given again
KEPT = "kept"  # an OU the server would not delete (it holds what syncd cannot see): left


@dataclass(frozen=True)
class Ref:
    """A reference to an object syncd manages: a group's member, a user's manager.

    Known by (kind, key), never by where the object lives, so that a group can name a
    user whose id the server assigns only when it is created; the target resolves it to
    a DN or an id when the change is applied. `where` is the locator the reference
    points at (as `Capabilities.locator_key` spells it; "" while the object has none),
    so a member whose entry moves reads as rewritten where the target keeps locators in
    its values. `shown` is how a plan prints it, and no part of equality."""

    kind: str
    key: str
    where: str = ""
    shown: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.shown or f"{self.kind} {self.key}"


Value = str | Ref  # an attribute value: text, or (in reference attributes) a Ref
Values = tuple[Value, ...]


def same_locator(locator: str) -> str:
    """The locator key of a target whose locators are ids: compared as they are."""
    return locator


def no_depth(locator: str) -> int:
    return 0


def no_parent(locator: str) -> str:
    return ""


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, and how its locators compare: what the planner asks.

    `containers`: it has OUs (an OU tree, containers to create, parents before children;
    `depth` and `parent` read a locator for that). `moves`: an object can change its
    locator (an LDAP rename); without it a locator is fixed for life. `references`: the
    attributes (lower case) whose values name other objects (member, manager), diffed as
    `Ref`s. `locator_key`: a locator spelt for comparison (a DN without case and
    escapes). `references_must_exist`: the target refuses a reference to an object
    that is not there yet (AD's manager, a SCIM member): one made later in the same
    cycle is added once it exists, never named ahead of it."""

    containers: bool = False
    moves: bool = False
    references: frozenset[str] = frozenset()
    references_must_exist: bool = False
    locator_key: Callable[[str], str] = same_locator
    depth: Callable[[str], int] = no_depth
    parent: Callable[[str], str] = no_parent

    def is_reference(self, attribute: str) -> bool:
        return attribute.lower() in self.references


@dataclass
class Owned:
    """A registry row: an object syncd created or adopted in a target. The store keeps
    them, the mapping reads users' usernames and states, the planner knows ours by them.
    `locator` (a DN) and `anchor` (the target's own id: entryUUID, objectGUID, SCIM id)
    are known once the object exists; a reservation has neither."""

    target: str
    kind: str
    key: str
    locator: str | None = None
    username: str | None = None
    anchor: str | None = None
    state: str = PENDING
    disabled_on: date | None = None


@dataclass(frozen=True)
class Entry:
    """An object read from a target, where it lives (`locator`: its DN, its SCIM id)
    and the target's own id (`anchor`: entryUUID, objectGUID, SCIM id) if it has one.
    A `protected` one (a service account, an admin) is never changed, adopted or
    deleted, even by a rule that matches it or a registry row that names it. `kind` is
    what the target says the object is (a SCIM resource type: USER or GROUP), None where
    only its attributes tell (LDAP): an object of another kind is never taken for one of
    ours, whatever its attributes hold."""

    locator: str
    attrs: Attrs
    anchor: str | None = None
    protected: bool = False  # the target's config protects it: never syncd's, whatever it says
    kind: str | None = None

    def may_be(self, kind: str) -> bool:
        """Whether this could be an object of `kind` (the target does not say otherwise)."""
        return self.kind is None or self.kind == kind

    def get(self, name: str) -> tuple[str, ...]:
        return get_attr(self.attrs, name)

    def first(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


@dataclass
class Wanted:
    """One object the mapping says should exist (or, for a user, be disabled or gone).

    `key` ties it to the org: the person id for a user, ``rule:key`` for a group, the
    normalised DN for an OU. `locator` is where the mapping puts it (a DN), None where
    the target assigns it. `attrs` are compared and kept in step (reference attributes
    may hold `Ref`s); `create_only` are written once, when the object is created.
    `why`, `rule` and `source` are carried into the plan and the audit.
    """

    kind: str
    key: str
    locator: str | None
    attrs: dict[str, Values]
    create_only: Attrs = field(default_factory=dict)
    state: str = ACTIVE  # users: ACTIVE, DISABLED or DELETED
    why: str = ""
    rule: str = ""
    source: str = ""
    username: str | None = None
    adopt: str | None = None  # the locator of a pre-existing entry a correlation adopts
    multi: frozenset[str] = frozenset()  # attributes compared as sets, changed by delta
    sensitive: frozenset[str] = frozenset()  # values never shown
    marker: tuple[str, str] | None = None  # (attribute, value) saying syncd made it
    fill_only: frozenset[str] = frozenset()  # a value found stays; written only where none


def get_attr(attrs: Mapping[str, tuple[T, ...]], name: str) -> tuple[T, ...]:
    """Case-insensitive attribute lookup."""
    if name in attrs:
        return attrs[name]
    lowered = name.lower()
    for key, values in attrs.items():
        if key.lower() == lowered:
            return values
    return ()


# --- DNs (RFC 4514) --------------------------------------------------------------------
# One parser for every DN syncd compares, splits or builds. Not ldap3's parse_dn: it
# leaves values escaped as written (so `\,` and slapd's `\2C` differ), refuses values
# RFC 4514 allows (`Team #1`, `x=y`, and with strip=False `dc=example, dc=org`) and with
# strip=True turns a trailing `\ ` into a bare backslash. Escaping follows ldap3's
# escape_rdn with its edge cases ("", " ", NUL) mended, written out here so that the
# core imports no LDAP library.

Ava = tuple[str, str]  # (attribute type, unescaped value)
Rdn = tuple[Ava, ...]  # more than one pair: a multi-valued RDN (`cn=a+uid=b`)


# One attribute=value pair and the separator after it. Spaces around separators are
# allowed (as libldap does); a value may not start with an unescaped `#` (a BER-encoded
# value, which syncd never writes) and must escape `, + " \ ; < >`. Unescaped spaces
# belong to the value only between other characters; an escaped one (`\ `) always does.
_AVA = re.compile(
    r"""\s*(?P<type>[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)\s*=\s*
    (?P<value>(?!\#)(?:[^,+"\\;<>\s]|\\(?:[0-9A-Fa-f]{2}|[^0-9A-Fa-f])|\s+(?=[^,+\s]))+)
    \s*(?P<separator>[,+]|\Z)""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"((?:\\[0-9A-Fa-f]{2})+)|\\(.)", re.DOTALL)
_MUST_ESCAPE = re.compile(r'[\\,+"<>;=\0]')
_RAW_BYTE = re.compile("[\udc80-\udcff]")  # a byte no UTF-8 decoder took (surrogateescape)
_SPECIAL = re.compile(r'[\\+"#<>;]')  # a DN without these needs no parser


def parse_dn(dn: str) -> list[Rdn]:
    """The RDNs of `dn`, first (leaf) first, each a tuple of (type, unescaped value)."""
    rdns: list[Rdn] = []
    position: int | None = 0
    while position is not None:
        avas, position = _read_rdn(dn, position)
        rdns.append(avas)
    return rdns


def _read_rdn(dn: str, position: int) -> tuple[Rdn, int | None]:
    """The RDN at `position`, and where the next one starts (None: it was the last)."""
    avas: list[Ava] = []
    while True:
        match = _AVA.match(dn, position)
        if match is None:
            raise InvalidDn(f"not a DN: {dn!r}: cannot read {dn[position:][:24]!r}")
        avas.append((match["type"], _unescape(match["value"])))
        position = match.end()
        if match["separator"] != "+":
            return tuple(avas), position if match["separator"] else None


def escape_dn_value(value: str) -> str:
    """One attribute value escaped for a DN (RFC 4514 section 2.4); UTF-8 stays as it is,
    and a byte that was no UTF-8 (kept by `_unescape` as a lone surrogate) is its `\\XX`
    again, so that two different DNs never read as one."""
    if not value:
        return value
    escaped = _MUST_ESCAPE.sub(lambda m: "\\00" if m[0] == "\0" else "\\" + m[0], value)
    if escaped[0] in "# ":
        escaped = "\\" + escaped
    if value[-1] == " " and len(value) > 1:  # a lone space was escaped as the first
        escaped = escaped[:-1] + "\\ "
    return _RAW_BYTE.sub(lambda m: f"\\{ord(m[0]) - 0xDC00:02X}", escaped)


def build_rdn(avas: Iterable[Ava]) -> str:
    """An RDN from (type, unescaped value) pairs."""
    return "+".join(f"{attribute}={escape_dn_value(value)}" for attribute, value in avas)


def build_dn(rdns: Iterable[Rdn]) -> str:
    return ",".join(build_rdn(avas) for avas in rdns)


# Two spellings of each DN (ours, and slapd's hex escapes) for 100k people must fit.
@lru_cache(maxsize=1 << 18)
def norm_dn(dn: str) -> str:
    """A DN for comparison: types and values lower-cased, escapes in one spelling, the
    pairs of a multi-valued RDN sorted. Text that is no DN is only trimmed and
    lower-cased, so that comparing never fails (the server refuses such a DN itself)."""
    if not _SPECIAL.search(dn):
        parts = [part.partition("=") for part in dn.lower().split(",")]
        if all(equals and "=" not in value for _, equals, value in parts):
            return ",".join(f"{name.strip()}={value.strip()}" for name, _, value in parts)
    try:
        first, rest = _read_rdn(dn, 0)
    except InvalidDn:
        return dn.strip().lower()
    head = "+".join(sorted(f"{name.lower()}={escape_dn_value(v.lower())}" for name, v in first))
    return head if rest is None else f"{head},{norm_dn(dn[rest:])}"  # parents: mostly cached


def split_dn(dn: str) -> list[str]:
    """The RDNs of a DN as text, leaf first."""
    return [build_rdn(avas) for avas in parse_dn(dn)]


def parent_dn(dn: str) -> str:
    return build_dn(parse_dn(dn)[1:])


def rdn(dn: str) -> str:
    return build_rdn(parse_dn(dn)[0])


def rdn_values(dn: str) -> Rdn:
    """The (type, unescaped value) pairs of a DN's first RDN: what an entry must hold."""
    return parse_dn(dn)[0]


def _unescape(value: str) -> str:
    """`\\,` -> `,`, and hex pairs (`\\2C`, `\\C3\\B8`) as the UTF-8 bytes they spell."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(
        lambda m: bytes.fromhex(m[1].replace("\\", "")).decode("utf-8", "surrogateescape")
        if m[1]
        else m[2],
        value,
    )


def values(items: Iterable[str] | str | None) -> tuple[str, ...]:
    """A rendered value as an attribute tuple: None and "" mean absent."""
    if items is None:
        return ()
    if isinstance(items, str):
        return (items,) if items != "" else ()
    return tuple(v for v in items if v not in (None, ""))
