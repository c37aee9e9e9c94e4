"""How a group or OU syncd made says so in the directory, and when that is believed.

A marker is `syncd:TARGET:group:RULE:KEY` (or `syncd:TARGET:ou:UNIT_ID`) in the attribute
a rule names as its `anchor`. It lets a lost or replaced store re-adopt what syncd made,
and since whatever is adopted may later be deleted, a marker is believed only where syncd
could have written it: with this target's name, in the attribute of one of this mapping's
rules, on an entry of that rule's object classes. Anyone can write a marker-looking value
(a helpdesk tool, an LDIF export cloned, a second install on the same tree); such an entry
stays foreign.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.objects import GROUP, OU, Entry

PREFIX = "syncd"
OU_CLASSES = ("organizationalUnit",)  # what an OU of the tree is created as


def marker_value(target: str, kind: str, key: str) -> str:
    """What a group's or OU's anchor attribute holds: `syncd:ldap:group:units:skole`."""
    return f"{PREFIX}:{target}:{kind}:{key}"


def parse_marker(value: str, target: str) -> tuple[str, str] | None:
    """(kind, key) from a marker this target wrote; None for any other value."""
    ours = f"{PREFIX}:{target}:"
    if not value.startswith(ours):
        return None
    kind, _, key = value.removeprefix(ours).partition(":")
    return (kind, key) if kind in (GROUP, OU) and key else None


@dataclass(frozen=True)
class MarkedRule:
    """One rule whose objects carry a marker: a group rule, or the OU tree."""

    kind: str
    name: str  # the group rule's name; unused for the OU tree
    attribute: str
    object_classes: tuple[str, ...]
    key: str | None = None  # a static group rule's one key

    def claims(self, kind: str, key: str) -> bool:
        """Whether this rule could have made an object of this kind and key."""
        if kind != self.kind:
            return False
        if kind == OU:
            return True
        rule, _, rest = key.partition(":")
        return rule == self.name and bool(rest) and self.key in (None, rest)

    def fits(self, entry: Entry) -> bool:
        """The entry has every object class the rule creates its objects with."""
        classes = {value.lower() for value in entry.get("objectClass")}
        return all(name.lower() in classes for name in self.object_classes)


@dataclass(frozen=True)
class Markers:
    """The markers one target's mapping writes, and how to read them back."""

    target: str
    rules: tuple[MarkedRule, ...] = ()

    @property
    def attributes(self) -> set[str]:
        return {rule.attribute for rule in self.rules}

    def value(self, kind: str, key: str) -> str:
        return marker_value(self.target, kind, key)

    def owner(self, entry: Entry) -> tuple[str, str] | None:
        """(kind, key) of the object the entry's marker names, if the marker is believed."""
        for rule in self.rules:
            for value in entry.get(rule.attribute):
                parsed = parse_marker(value, self.target)
                if parsed and rule.claims(*parsed) and rule.fits(entry) \
                        and entry.may_be(parsed[0]):
                    return parsed
        return None
