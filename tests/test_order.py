"""The order a plan is applied in, as a pure function over changes."""

from __future__ import annotations

from itertools import permutations

import pytest

from syncd.objects import GROUP, OU, USER, Ref
from syncd.plan.model import Action, AttrChange, Change
from syncd.plan.order import ordered
from syncd.targets.ldap.directory import CAPABILITIES

B = "dc=example,dc=org"
DEPTH = CAPABILITIES.depth


def ou(action: Action, dn: str) -> Change:
    return Change(action, OU, dn.lower(), dn)


def user(action: Action, uid: str, locator: str | None = "") -> Change:
    where = f"uid={uid},ou=people,{B}" if locator == "" else locator
    return Change(action, USER, f"p-{uid}", where, username=uid)


def group(action: Action, name: str, locator: str | None = "") -> Change:
    where = f"cn={name},ou=groups,{B}" if locator == "" else locator
    return Change(action, GROUP, f"units:{name}", where)


# Alphabetically the child (ou=a) sorts before its parent (ou=z): only depth puts the
# parent first.
PARENT, CHILD, GRANDCHILD = f"ou=z,{B}", f"ou=a,ou=z,{B}", f"ou=m,ou=a,ou=z,{B}"


@pytest.mark.parametrize(("changes", "expected"), [
    # OUs are built parent-first
    ([ou(Action.CREATE, GRANDCHILD), ou(Action.CREATE, CHILD), ou(Action.CREATE, PARENT)],
     [PARENT, CHILD, GRANDCHILD]),
    # and torn down child-first
    ([ou(Action.DELETE, PARENT), ou(Action.DELETE, GRANDCHILD), ou(Action.DELETE, CHILD)],
     [GRANDCHILD, CHILD, PARENT]),
    # an escaped comma is no level: ou=a\,b is as deep as ou=c
    ([ou(Action.CREATE, f"ou=z,ou=y,{B}"), ou(Action.CREATE, f"ou=a\\,b\\,c\\,d,{B}"),
      ou(Action.CREATE, f"ou=y,{B}")],
     [f"ou=a\\,b\\,c\\,d,{B}", f"ou=y,{B}", f"ou=z,ou=y,{B}"]),
])
def test_ous_are_built_parent_first_and_torn_down_child_first(changes, expected):
    assert [c.locator for c in ordered(changes, DEPTH)] == expected


def test_without_depth_ous_fall_back_to_their_locators():
    """The default (a target with no containers) reads no locator: order is by text."""
    changes = [ou(Action.CREATE, PARENT), ou(Action.CREATE, CHILD)]
    assert [c.locator for c in ordered(changes)] == [CHILD, PARENT]


def test_ous_then_users_then_groups_then_destructive_changes():
    changes = [
        ou(Action.DELETE, f"ou=old,{B}"),
        group(Action.DELETE, "gone"),
        user(Action.DELETE, "del"),
        user(Action.DISABLE, "dis"),
        group(Action.UPDATE, "staff"),
        group(Action.CREATE, "new"),
        user(Action.MOVE, "mover"),
        user(Action.ENABLE, "back"),
        user(Action.CREATE, "new"),
        ou(Action.CREATE, f"ou=new,{B}"),
    ]
    result = [(c.action.word, c.kind, c.key) for c in ordered(changes, DEPTH)]
    assert result == [
        ("create", OU, f"ou=new,{B}"),
        ("enable", USER, "p-back"),
        ("move", USER, "p-mover"),
        ("create", USER, "p-new"),
        ("create", GROUP, "units:new"),
        ("update", GROUP, "units:staff"),  # members out before anyone is disabled
        ("delete", USER, "p-del"),
        ("disable", USER, "p-dis"),
        ("delete", GROUP, "units:gone"),
        ("delete", OU, f"ou=old,{B}"),
    ]


def test_every_destructive_change_comes_after_every_other():
    changes = [user(Action.DISABLE, "a"), group(Action.CREATE, "z"), user(Action.UPDATE, "b"),
               group(Action.DELETE, "y"), ou(Action.CREATE, f"ou=q,{B}")]
    actions = [c.action.destructive for c in ordered(changes, DEPTH)]
    assert actions == sorted(actions)


ID_KEYED = [user(Action.CREATE, "cy", None), user(Action.CREATE, "ann", None),
            user(Action.UPDATE, "bob", "id-0042"), group(Action.CREATE, "staff", None),
            group(Action.UPDATE, "all", "gid-0001"), user(Action.DISABLE, "dee", "id-0007")]


def test_id_keyed_changes_without_a_locator_sort_the_same_whatever_came_first():
    results = {tuple((c.kind, c.key) for c in ordered(list(p))) for p in permutations(ID_KEYED)}
    assert len(results) == 1
    (result,) = results
    assert result == (
        (USER, "p-bob"),  # by its id: "id-0042" sorts before "p-ann"
        (USER, "p-ann"),
        (USER, "p-cy"),
        (GROUP, "units:all"),  # "gid-0001" < "units:staff"
        (GROUP, "units:staff"),
        (USER, "p-dee"),
    )


def managed_by(uid: str, manager: str | None) -> Change:
    """A new user of an id-keyed target, naming its manager by reference."""
    change = user(Action.CREATE, uid, None)
    if manager:
        change.attributes.append(AttrChange("manager", (), (Ref(USER, f"p-{manager}"),)))
    return change


@pytest.mark.parametrize(("chain", "expected"), [
    # a report sorts before its manager: the manager moves ahead
    ({"ann": "zoe", "zoe": None}, ["zoe", "ann"]),
    # a chain three deep, and one unrelated user keeping its slot order
    ({"a": "b", "b": "c", "c": None, "m": None}, ["c", "b", "a", "m"]),
    # a cycle (two managing each other): each placed once, one still needs a follow-up
    ({"a": "b", "b": "a"}, ["b", "a"]),
    # a manager not created this cycle changes nothing
    ({"a": "existing", "b": None}, ["a", "b"]),
])
def test_new_users_come_after_the_new_users_they_name(chain, expected):
    changes = [managed_by(uid, manager) for uid, manager in chain.items()]
    result = ordered(changes, references_first=True)
    assert [c.username for c in result] == expected
    assert [c.username for c in ordered(changes)] == sorted(chain)  # by default: by key


def test_only_new_users_move_for_their_references():
    changes = [group(Action.CREATE, "g", None), managed_by("ann", "zoe"),
               user(Action.UPDATE, "bob", "id-bob"), managed_by("zoe", None)]
    result = ordered(changes, references_first=True)
    assert [(c.action.word, c.key) for c in result] == [  # bob sorts first by its id
        ("update", "p-bob"), ("create", "p-zoe"), ("create", "p-ann"), ("create", "units:g")]
