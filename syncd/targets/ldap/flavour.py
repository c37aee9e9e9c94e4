"""What differs between LDAP servers, kept in one strategy object per flavour.

`LdapDirectory` speaks LDAP (connections, retries, paged reads, renames); a `Flavour`
says what the server calls its anchor, which attributes hold DNs, how large a page may
be, how a read entry's values are presented to the planner, and how an object is
created and modified there. OpenLDAP is the plain case; Active Directory's is in `ad`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import ldap3

from syncd.objects import Values, norm_dn
from syncd.plan.model import AttrChange, Change

RawAttrs = dict[str, list[bytes]]  # attribute name (as the server spelt it) -> raw values
Modifications = dict[str, list[Any]]  # ldap3's modify changes

# Attributes whose values are DNs: references to other entries, compared as DNs.
DN_ATTRIBUTES = frozenset({"member", "uniquemember", "manager", "owner", "seealso", "secretary"})


class Session(Protocol):
    """What a flavour may ask of the directory: each call retried and translated (a
    refusal is ObjectRejected) as `LdapDirectory` does for its own operations."""

    def add_entry(self, dn: str, attributes: dict[str, list[str]]) -> None: ...

    def modify_entry(self, dn: str, modifications: Modifications) -> None: ...

    def entry_values(self, dn: str, attributes: list[str]) -> RawAttrs:
        """One entry's raw values keyed lower-case ({} if it is gone)."""
        ...

    def any_entry(self, base: str, ldap_filter: str) -> bool:
        """Whether an entry below `base` matches `ldap_filter`."""
        ...


class Fetch(Protocol):
    """A base-scope read on the connection a search runs on (keys lower-case)."""

    def __call__(self, dn: str, attributes: list[str]) -> RawAttrs: ...


class Flavour(Protocol):
    name: str
    anchor: str  # the attribute holding the server's own id for an entry
    references: frozenset[str]  # DN-valued attributes (lower case)
    references_must_exist: bool  # the server refuses a DN value naming no entry
    page_size_limit: int  # the most entries per page the server returns

    def decode_anchor(self, raw: bytes) -> str: ...

    def complete(self, fetch: Fetch, dn: str, raw: RawAttrs) -> RawAttrs:
        """One search entry's attributes as the planner compares them (AD: every value of
        a ranged attribute, userAccountControl as syncd's part of it)."""
        ...

    def create(self, session: Session, dn: str, change: Change) -> str | None:
        """Add the entry; the anchor to record when it is not read back later."""
        ...

    def prepare(self, session: Session, dn: str, change: Change) -> None:
        """What must be in effect before the entry at `dn` moves and its attributes
        change (AD: a disable), and checks that refuse the change before it does."""
        ...

    def modify(self, session: Session, dn: str, change: Change,
               attributes: list[AttrChange]) -> None:
        """Send `attributes` (the change's, rebased after a rename) to the entry at `dn`."""
        ...

    def marker(self, session: Session, base_dn: str) -> str | None:
        """A token any write below `base_dn` changes, read in a round trip or two; None
        where the server keeps none."""
        ...


class OpenLdap:
    """OpenLDAP (and any plain LDAPv3 server): entryUUID, attributes written as given."""

    name = "openldap"
    anchor = "entryUUID"
    references = DN_ATTRIBUTES
    references_must_exist = False  # slapd takes a DN before its entry exists
    page_size_limit = 100_000

    def decode_anchor(self, raw: bytes) -> str:
        return text(raw)

    def complete(self, fetch: Fetch, dn: str, raw: RawAttrs) -> RawAttrs:
        return raw

    def create(self, session: Session, dn: str, change: Change) -> str | None:
        session.add_entry(dn, added_attributes(change.attributes))
        return None

    def prepare(self, session: Session, dn: str, change: Change) -> None:
        return None

    def modify(self, session: Session, dn: str, change: Change,
               attributes: list[AttrChange]) -> None:
        modifications = modifications_of(attributes, self.references)
        if modifications:
            session.modify_entry(dn, modifications)

    def marker(self, session: Session, base_dn: str) -> str | None:
        """The contextCSN of the suffix that holds `base_dn`: every write to the
        database moves it (kept by the syncprov overlay, which replication loads). A
        server without syncprov keeps none, or one that no longer moves (a database
        loaded from a replica's export, the overlay since removed): an entry written
        after it tells; either way, every cycle is a full one."""
        contexts = session.entry_values("", ["namingContexts"]).get("namingcontexts", [])
        base = norm_dn(base_dn)
        holding = [text(c) for c in contexts if base == norm_dn(text(c))
                   or base.endswith("," + norm_dn(text(c)))]
        if not holding:
            return None
        suffix = max(holding, key=len)
        csns = sorted(text(csn) for csn in
                      session.entry_values(suffix, ["contextCSN"]).get("contextcsn", []))
        if not csns:
            return None
        newest = csns[-1]  # one per provider: the one that moved last is the largest
        if session.any_entry(base_dn, f"(&(entryCSN>={newest})(!(entryCSN={newest})))"):
            return None  # written after it, and it did not move: nothing keeps it now
        return " ".join(csns)


def added_attributes(changes: Iterable[AttrChange]) -> dict[str, list[str]]:
    return {item.name: texts(item.after) for item in changes if item.after}


def modifications_of(changes: Iterable[AttrChange], references: frozenset[str]) -> Modifications:
    """ldap3 modify changes: deltas for multi-valued attributes, replace for the rest
    (an empty replace removes the attribute)."""
    modifications: Modifications = {}
    for change in changes:
        if change.multi:
            add, remove = _real_delta(change, references)
            operations = [(ldap3.MODIFY_ADD, add), (ldap3.MODIFY_DELETE, remove)]
            operations = [(operation, values) for operation, values in operations if values]
        else:
            operations = [(ldap3.MODIFY_REPLACE, texts(change.after))]
        if operations:
            modifications[change.name] = operations
    return modifications


def _real_delta(change: AttrChange, references: frozenset[str]) -> tuple[list[str], list[str]]:
    """The values to add and to delete, without a DN that is only spelt anew: with
    Permissive Modify its add is a no-op, and its delete would remove the member."""
    add, remove = texts(change.add), texts(change.remove)
    if change.name.lower() not in references:
        return add, remove
    added, removed = {norm_dn(v) for v in add}, {norm_dn(v) for v in remove}
    return ([v for v in add if norm_dn(v) not in removed],
            [v for v in remove if norm_dn(v) not in added])


def texts(values: Values) -> list[str]:
    """A resolved change's values: text only (`syncd.plan.resolve` made them so)."""
    assert all(isinstance(v, str) for v in values), "a change reached LDAP unresolved"
    return [str(v) for v in values]


def text(value: bytes) -> str:
    return value.decode("utf-8", "replace")
