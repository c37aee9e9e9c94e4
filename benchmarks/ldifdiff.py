"""What syncd changed in a directory, as the LDIF ldapmodify would need to make the same
changes: the baseline of benchmarks/scale.py's churn cycle.

Two exports of the same entries (`ldapsearch -LLL -o ldif-wrap=no ... '*' entryUUID`),
before and after, are matched by entryUUID: a new one is an add, a gone one a delete, a
new DN a modrdn, and changed attributes one modify per entry (a replace for single values,
added and deleted values for lists). References (member, manager) are compared by the
entry they name, not by its DN: slapd's refint overlay already renames them when an entry
moves, so ldapmodify must not.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

UUID = "entryUUID"
REFERENCES = frozenset({"member", "manager"})
# RFC 2849's SAFE-STRING: else the value is written base64
_SAFE = re.compile(
    r"^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$"
)
_FIRST_RDN = re.compile(r"^((?:[^,\\]|\\.)*),(.*)$")

Attributes = dict[str, list[str]]


@dataclass
class Entry:
    dn: str
    attributes: Attributes

    @property
    def uuid(self) -> str:
        return self.attributes[UUID][0]


def read_ldif(path: Path) -> list[Entry]:
    """The entries of an unwrapped LDIF export (base64 values decoded, comments skipped)."""
    entries: list[Entry] = []
    attributes: Attributes = {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line:
            if attributes:
                dn = attributes.pop("dn")[0]
                entries.append(Entry(dn, attributes))
                attributes = {}
        elif not line.startswith("#"):
            name, _, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode("utf-8")
            attributes.setdefault(name, []).append(value[1:] if value[:1] == " " else value)
    return entries


def write_ldif(records: Iterable[list[tuple[str, str]]], path: Path) -> int:
    """LDIF records (each a list of (attribute, value) lines) written to `path`; how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write("".join(map(_line, record)) + "\n")
            count += 1
    return count


def entries_to_add(entries: Iterable[Entry]) -> Iterator[list[tuple[str, str]]]:
    """The entries as ldapadd takes them: without the server's entryUUID."""
    for entry in entries:
        yield [("dn", entry.dn), *_values(entry.attributes)]


def churn(before: list[Entry], after: list[Entry]) -> Iterator[list[tuple[str, str]]]:
    """The ldapmodify records that turn `before` into `after`: adds, then moves, then
    modifies, then deletes; within each, groups after users when adding, before when
    deleting, so that every DN a record names exists when it is applied."""
    was = {entry.uuid: entry for entry in before}
    now = {entry.uuid: entry for entry in after}
    names = _Names(was, now)
    added = [entry for uuid, entry in now.items() if uuid not in was]
    kept = [(was[uuid], entry) for uuid, entry in now.items() if uuid in was]
    gone = [entry for uuid, entry in was.items() if uuid not in now]
    for entry in sorted(added, key=is_group):
        yield [("dn", entry.dn), ("changetype", "add"), *_values(entry.attributes)]
    for old, new in kept:
        if old.dn.lower() != new.dn.lower():
            rdn, superior = _split(new.dn)
            yield [("dn", old.dn), ("changetype", "modrdn"), ("newrdn", rdn),
                   ("deleteoldrdn", "1"), ("newsuperior", superior)]
    for old, new in sorted(kept, key=lambda pair: is_group(pair[1])):
        changes = list(_modifications(_renamed(old, new.dn), new, names))
        if changes:
            yield [("dn", new.dn), ("changetype", "modify"), *changes]
    for entry in sorted(gone, key=lambda entry: not is_group(entry)):
        yield [("dn", entry.dn), ("changetype", "delete")]


def unlike(these: list[Entry], those: list[Entry]) -> list[str]:
    """The DNs whose entries differ between the two (in any value but entryUUID)."""
    one, other = _by_dn(these), _by_dn(those)
    return sorted(dn for dn in one.keys() | other.keys() if one.get(dn) != other.get(dn))


def _by_dn(entries: list[Entry]) -> dict[str, dict[str, list[str]]]:
    return {
        entry.dn.lower(): {name: sorted(values) for name, values in entry.attributes.items()
                           if name != UUID}
        for entry in entries
    }


class _Names:
    """Who a reference names (the entry's UUID, else the DN itself) before and after, and
    the DN that names an entry once the moves are done."""

    def __init__(self, was: dict[str, Entry], now: dict[str, Entry]):
        self.was = {entry.dn.lower(): uuid for uuid, entry in was.items()}
        self.now = {entry.dn.lower(): uuid for uuid, entry in now.items()}
        self.current = {uuid: entry.dn for uuid, entry in was.items()}
        self.current.update((uuid, entry.dn) for uuid, entry in now.items())

    def before(self, dn: str) -> str:
        return self.was.get(dn.lower(), dn)

    def after(self, dn: str) -> str:
        return self.now.get(dn.lower(), dn)

    def dn(self, named: str) -> str:
        return self.current.get(named, named)


def _modifications(
    old: Attributes, new: Entry, names: _Names
) -> Iterator[tuple[str, str]]:
    """The modify lines for each attribute whose values differ."""
    for attribute in dict.fromkeys([*old, *new.attributes]):
        if attribute == UUID:
            continue
        was, now = old.get(attribute, []), new.attributes.get(attribute, [])
        if attribute in REFERENCES:
            was_named = {names.before(dn): dn for dn in was}
            now_named = {names.after(dn): dn for dn in now}
            gone = [names.dn(named) for named in was_named if named not in now_named]
            came = [dn for named, dn in now_named.items() if named not in was_named]
        else:
            gone = [value for value in was if value not in now]
            came = [value for value in now if value not in was]
        if not gone and not came:
            continue
        if len(was) > 1 or len(now) > 1:
            yield from _delta(attribute, gone, came)
        else:
            yield from _op("replace" if now else "delete", attribute, now)


def _delta(attribute: str, gone: list[str], came: list[str]) -> Iterator[tuple[str, str]]:
    if gone:
        yield from _op("delete", attribute, gone)
    if came:
        yield from _op("add", attribute, came)


def _op(operation: str, attribute: str, values: list[str]) -> Iterator[tuple[str, str]]:
    yield operation, attribute
    yield from ((attribute, value) for value in values)
    yield "-", ""


def _renamed(entry: Entry, dn: str) -> Attributes:
    """The entry's attributes as a modrdn to `dn` leaves them (old RDN value replaced)."""
    attributes = {name: list(values) for name, values in entry.attributes.items()}
    if entry.dn.lower() == dn.lower():
        return attributes
    (old_name, old_value), (new_name, new_value) = (_split(entry.dn)[0].split("=", 1),
                                                    _split(dn)[0].split("=", 1))
    for name, values in attributes.items():
        if name.lower() == old_name.lower() and old_value in values:
            values.remove(old_value)
        if name.lower() == new_name.lower() and new_value not in values:
            values.append(new_value)
    return attributes


def _split(dn: str) -> tuple[str, str]:
    """(first RDN, the rest) of a DN."""
    match = _FIRST_RDN.match(dn)
    if not match:
        raise ValueError(f"not a DN below a base: {dn!r}")
    return match[1], match[2]


def is_group(entry: Entry) -> bool:
    return "member" in entry.attributes


def _values(attributes: Attributes) -> Iterator[tuple[str, str]]:
    for name, values in attributes.items():
        if name != UUID:
            yield from ((name, value) for value in values)


def _line(pair: tuple[str, str]) -> str:
    name, value = pair
    if name == "-":
        return "-\n"
    if not value or (_SAFE.match(value) and not value.endswith(" ")):
        return f"{name}: {value}\n"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}\n"
