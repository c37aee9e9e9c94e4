"""When a group's or OU's marker is believed: this target's, one of this mapping's rules,
on an entry of that rule's object classes. Anything else is a foreign entry."""

from __future__ import annotations

import pytest

from syncd.markers import OU_CLASSES, MarkedRule, Markers, marker_value, parse_marker
from syncd.objects import GROUP, OU, Entry

GROUPS = ("groupOfNames",)
MARKERS = Markers("ldap", (
    MarkedRule(GROUP, "units", "businessCategory", GROUPS),
    MarkedRule(GROUP, "managers", "businessCategory", GROUPS, key="managers"),
    MarkedRule(OU, "ou_tree", "businessCategory", OU_CLASSES),
))


def _entry(marker: str, *classes: str, attribute: str = "businessCategory") -> Entry:
    return Entry("cn=x,dc=example,dc=org", {"objectClass": classes, attribute: (marker,)})


@pytest.mark.parametrize(("entry", "owner"), [
    (_entry("syncd:ldap:group:units:skole", "top", "groupOfNames"), (GROUP, "units:skole")),
    (_entry("syncd:ldap:group:units:skole", "GROUPOFNAMES"), (GROUP, "units:skole")),
    (_entry("syncd:ldap:group:managers:managers", "groupOfNames"),
     (GROUP, "managers:managers")),
    (_entry("syncd:ldap:ou:it", "organizationalUnit"), (OU, "it")),
    # a service account someone gave a group's marker
    (_entry("syncd:ldap:group:units:old", "inetOrgPerson"), None),
    # an OU marker on a group, a group marker on an OU
    (_entry("syncd:ldap:ou:it", "groupOfNames"), None),
    (_entry("syncd:ldap:group:units:old", "organizationalUnit"), None),
    # another target's (another install's) marker, and the form without a target
    (_entry("syncd:other:group:units:old", "groupOfNames"), None),
    (_entry("syncd:group:units:old", "groupOfNames"), None),
    # a rule this mapping does not have, a key a static rule never makes
    (_entry("syncd:ldap:group:teams:x", "groupOfNames"), None),
    (_entry("syncd:ldap:group:managers:boss", "groupOfNames"), None),
    (_entry("syncd:ldap:group:units:", "groupOfNames"), None),
    # in an attribute no rule names as its anchor
    (_entry("syncd:ldap:group:units:old", "groupOfNames", attribute="description"), None),
    (_entry("Skoler", "groupOfNames"), None),
])
def test_a_marker_is_believed_only_where_syncd_could_have_written_it(entry, owner):
    assert MARKERS.owner(entry) == owner


@pytest.mark.parametrize(("value", "parsed"), [
    ("syncd:ldap:group:units:skole", ("group", "units:skole")),
    ("syncd:ldap:group:managers:managers", ("group", "managers:managers")),
    ("syncd:ldap:ou:it", ("ou", "it")),
    ("syncd:ldap:user:p1", None),  # users have their anchor
    ("syncd:ldap:group:", None),
    ("syncd:ldap2:group:units:x", None),
    ("syncd:group:units:skole", None),
    ("Skoler", None),  # a businessCategory someone wrote
    ("SYNCD:ldap:group:units:x", None),
])
def test_marker_values(value, parsed):
    assert parse_marker(value, "ldap") == parsed
    if parsed:
        assert marker_value("ldap", *parsed) == value


def test_a_target_name_with_colons_reads_back():
    assert parse_marker(marker_value("a:b", GROUP, "units:x"), "a:b") == (GROUP, "units:x")
    assert parse_marker(marker_value("a:b", GROUP, "units:x"), "a") is None
