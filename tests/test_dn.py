"""RFC 4514 DNs: one parse -> unescape -> canonical form for every comparison and build."""

from __future__ import annotations

import pytest

from syncd.mapping.templating import dn_escape
from syncd.objects import (
    InvalidDn,
    build_dn,
    escape_dn_value,
    norm_dn,
    parent_dn,
    parse_dn,
    rdn,
    rdn_values,
    split_dn,
)

# Values a real organisation has in unit and person names: every RFC 4514 special,
# leading and trailing spaces, and letters outside ASCII.
VALUES = [
    "Løn, Personale + HR",
    '"Skole" Nord',
    " Leading space",
    "Trailing space ",
    "  ",
    " ",
    "#1 Team",
    "Team #1",
    "A;B<C>=D\\E",
    "back\\slash at end\\",
    "a\\,b",
    "x=y",
    "Ærø Å",
    "Ελληνικά",
    "中文部门",
    "nul\0byte",
]
POSITIONS = range(3)  # the value as the leaf RDN, in the middle, next to the suffix


def dn_with(value: str, position: int) -> tuple[str, list[tuple[str, str]]]:
    """A DN holding `value` in one RDN position, and the (type, value) pairs it stands for."""
    pairs = [("uid", "jens"), ("ou", "people"), ("o", "Kolding")]
    pairs[position] = (pairs[position][0], value)
    text = ",".join(f"{name}={escape_dn_value(v)}" for name, v in pairs)
    return text + ",dc=example,dc=org", [*pairs, ("dc", "example"), ("dc", "org")]


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("value", VALUES)
def test_an_escaped_value_parses_back_to_itself_in_every_position(value, position):
    dn, pairs = dn_with(value, position)
    assert [avas for avas in parse_dn(dn)] == [((name, v),) for name, v in pairs]
    assert rdn_values(dn) == ((pairs[0][0], pairs[0][1]),)
    assert len(split_dn(dn)) == 5
    assert norm_dn(build_dn(parse_dn(dn))) == norm_dn(dn)


def hex_escaped(value: str) -> str:
    """`value` spelled as slapd hands it back: specials, and a leading/trailing space or
    leading #, as hex pairs (measured: `ou=Skole\\, Nord` comes back `ou=Skole\\2C Nord`)."""
    out = "".join(f"\\{ord(c):02X}" if c in ',+"\\<>;=\0' else c for c in value)
    if out.startswith((" ", "#")):
        out = f"\\{ord(out[0]):02X}" + out[1:]
    if out.endswith(" ") and len(out) > 1:
        out = out[:-1] + "\\20"
    return out


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("value", VALUES)
def test_hex_and_backslash_spellings_of_a_value_are_one_dn(value, position):
    dn, pairs = dn_with(value, position)
    spelled = ",".join(f"{name}={hex_escaped(v)}" for name, v in pairs)
    assert norm_dn(spelled) == norm_dn(dn)
    assert norm_dn(spelled.upper()) == norm_dn(dn.lower())


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (r"ou=Skole\2C Nord,dc=x", r"ou=Skole\, Nord,dc=x"),
        (r"ou=L\C3\B8n,dc=x", "ou=Løn,dc=x"),  # UTF-8 bytes as hex pairs
        (r"ou=\ Leading,dc=x", r"ou=\20Leading,dc=x"),
        (r"ou=Trailing\ ,dc=x", r"ou=Trailing\20,dc=x"),
        (r"ou=\#1,dc=x", r"ou=\231,dc=x"),
        ("uid=Jens, ou=People ,DC=X", "uid=jens,ou=people,dc=x"),  # spaces around separators
        ("cn=a+uid=b,dc=x", "UID=B+CN=A,dc=x"),  # a multi-valued RDN in either order
        (r"cn=a\+b+uid=c\,d,dc=x", r"uid=c\2Cd+cn=a\2Bb,dc=x"),
        ("ou=Ελληνικά,dc=x", "ou=ΕΛΛΗΝΙΚΆ,dc=x"),
    ],
)
def test_spellings_of_one_dn_normalise_alike(one, other):
    assert norm_dn(one) == norm_dn(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (r"ou=a\,b,dc=x", "ou=a,b=c,dc=x"),
        (r"ou=a\\,dc=x", r"ou=a\,dc=x"),  # an escaped backslash is not an escaped comma
        (r"ou=\ x,dc=x", "ou=x,dc=x"),  # an escaped space is part of the value
        (r"cn=a\+uid=b,dc=x", "cn=a+uid=b,dc=x"),  # one value with a plus, or two values
        ("ou=a,ou=b,dc=x", "ou=b,ou=a,dc=x"),
    ],
)
def test_different_dns_stay_different(one, other):
    assert norm_dn(one) != norm_dn(other)


@pytest.mark.parametrize(
    ("dn", "rdns"),
    [
        ("uid=jens,ou=people,dc=x", [(("uid", "jens"),), (("ou", "people"),), (("dc", "x"),)]),
        (r"ou=Løn\, Personale \+ HR,dc=x", [(("ou", "Løn, Personale + HR"),), (("dc", "x"),)]),
        (r"ou=Løn\2C Personale \2B HR,dc=x", [(("ou", "Løn, Personale + HR"),), (("dc", "x"),)]),
        (r"cn=a\\,dc=x", [(("cn", "a\\"),), (("dc", "x"),)]),
        (r"cn=a\\\,b,dc=x", [(("cn", "a\\,b"),), (("dc", "x"),)]),
        (r"ou=\ \ ,dc=x", [(("ou", "  "),), (("dc", "x"),)]),
        (r"ou=x\\ ,dc=x", [(("ou", "x\\"),), (("dc", "x"),)]),  # the space was not escaped
        ("cn=a+uid=b,dc=x", [(("cn", "a"), ("uid", "b")), (("dc", "x"),)]),
        ("uid=x , ou = y", [(("uid", "x"),), (("ou", "y"),)]),
    ],
)
def test_parse_splits_and_unescapes(dn, rdns):
    assert parse_dn(dn) == rdns


@pytest.mark.parametrize(
    ("dn", "first", "parent"),
    [
        ("uid=jens,ou=people,dc=x", "uid=jens", "ou=people,dc=x"),
        (r"ou=Løn\2C Personale \2B HR,ou=units,dc=x", r"ou=Løn\, Personale \+ HR", "ou=units,dc=x"),
        (r"uid=jens,ou=Skole\2C Nord,dc=x", "uid=jens", r"ou=Skole\, Nord,dc=x"),
        ("cn=a+uid=b,dc=x", "cn=a+uid=b", "dc=x"),
        (r"ou=\231 Team,dc=x", r"ou=\#1 Team", "dc=x"),
        ("dc=x", "dc=x", ""),
    ],
)
def test_rdn_and_parent(dn, first, parent):
    assert rdn(dn) == first
    assert parent_dn(dn) == parent
    assert split_dn(dn)[0] == first


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("Hansen, Jens", r"Hansen\, Jens"),
        ("Sales+Marketing", r"Sales\+Marketing"),
        ("#1 team", r"\#1 team"),
        ("a#b", "a#b"),
        (" leading", r"\ leading"),
        ("trailing ", r"trailing\ "),
        (" ", "\\ "),
        ("  ", r"\ \ "),
        ('say "hi" <x>; \\', r"say \"hi\" \<x\>\; \\"),
        ("a=b", r"a\=b"),
        ("x\\ ", r"x\\\ "),  # a backslash before a trailing space: both escaped
        ("nul\0", r"nul\00"),
        ("Børn og Unge", "Børn og Unge"),
        ("中文", "中文"),
        ("", ""),
    ],
)
def test_escape_a_value(value, escaped):
    assert escape_dn_value(value) == escaped
    assert dn_escape(value) == escaped  # the template filter is the same escaping


@pytest.mark.parametrize(
    "text", ["", "dc=x,", "just words", "ou=#1 Team", "ou=a,b", "=x", "ou=x\\", "uid=x;ou=y"]
)
def test_text_that_is_no_dn_is_refused_but_still_compares(text):
    with pytest.raises(InvalidDn, match="not a DN"):
        parse_dn(text)
    assert norm_dn(text) == norm_dn(f"  {text.upper()}")  # comparing never fails


@pytest.mark.parametrize(("one", "other"), [
    (r"cn=\FF,dc=x", r"cn=\FE,dc=x"),          # bytes that are no UTF-8 ...
    (r"cn=\FF,dc=x", "cn=\ufffd,dc=x"),         # ... nor the replacement character
    (r"cn=a\C3,dc=x", r"cn=a\C4,dc=x"),         # a cut-off UTF-8 sequence
])
def test_undecodable_escapes_never_make_two_dns_one(one, other):
    assert norm_dn(one) != norm_dn(other)
    assert norm_dn(one) == norm_dn(one.lower())  # hex case still does not matter
