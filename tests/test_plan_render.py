"""How a plan reads: attribute names never run into their values."""

from __future__ import annotations

import pytest

from syncd.plan.model import Action, AttrChange, Change, Plan
from syncd.plan.render import render_text


@pytest.mark.parametrize("name", ["cn", "telephoneNumber", "pwdAccountLockedTime"])
def test_an_attribute_name_and_its_value_are_apart(name):
    change = Change(Action.UPDATE, "user", "p1", "uid=a,ou=people,dc=x",
                    attributes=[AttrChange(name, ("old",), ("new",))])
    plan = Plan("ldap", {"flavour": "openldap", "base_dn": "dc=x"}, "2026-12-01", changes=[change])
    [line] = [line for line in render_text(plan.as_dict()).splitlines() if name in line]
    assert line.split() == [name, '"old"', "->", '"new"']
