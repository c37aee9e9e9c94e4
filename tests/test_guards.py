"""The guards as pure functions over plans: what trips them and what they hold back."""

from __future__ import annotations

import pytest

from syncd.objects import Ref, norm_dn
from syncd.plan.guards import Limits, check_guards, hold_back, membership_removals
from syncd.plan.model import Action, AttrChange, Change, Plan
from syncd.plan.resolve import Locations

B = "dc=example,dc=org"


def user_dn(uid: str, ou: str = "people") -> str:
    return f"uid={uid},ou={ou},{B}"


def member(uid: str, ou: str = "people", dn: str | None = None) -> Ref:
    """A group's member: user `uid`, placed at its DN in `ou`."""
    dn = dn or user_dn(uid, ou)
    return Ref("user", uid, norm_dn(dn), dn)


def member_change(group: str, remove: list[Ref], add: list[Ref]) -> Change:
    before = tuple(sorted(remove, key=str))
    return Change(Action.UPDATE, "group", group, f"cn={group},ou=groups,{B}", attributes=[
        AttrChange("member", before, tuple(sorted(add, key=str)), multi=True)])


def move(uid: str, to_ou: str) -> Change:
    return Change(Action.MOVE, "user", uid, user_dn(uid), user_dn(uid, to_ou))


def phone_change(uid: str, before: str | None, after: str | None) -> Change:
    return Change(Action.UPDATE, "user", uid, user_dn(uid), attributes=[
        AttrChange("telephoneNumber", (before,) if before else (), (after,) if after else ())])


def plan_of(changes: list[Change], users: int = 100, memberships: int = 100) -> Plan:
    return Plan("ldap", {"flavour": "openldap", "base_dn": B}, "2026-12-01", changes=changes,
                managed=users + 10, managed_by_kind={"user": users, "group": 10},
                memberships=memberships)


DEFAULTS = Limits()


def guard(plan: Plan, name: str, limits: Limits = DEFAULTS):
    return next(g for g in check_guards(plan, limits) if g.name == name)


@pytest.mark.parametrize(("changes", "removals"), [
    # a person who moves OU is rewritten in the group, not removed from it
    ([move("a", "skole"), member_change("g", [member("a")], [member("a", "skole")])], 0),
    # one person out, another in: a real removal
    ([member_change("g", [member("a")], [member("b")])], 1),
    # moved, but not re-added to this group: removed
    ([move("a", "skole"), member_change("g", [member("a")], [])], 1),
    # slapd's own escaping of the old DN is the same member
    ([Change(Action.MOVE, "user", "l", "uid=l,ou=Løn\\2C HR," + B, "uid=l,ou=Løn\\, HR2," + B),
      member_change("g", [member("l", dn="uid=l,ou=Løn\\, HR," + B)],
                    [member("l", dn="uid=l,ou=Løn\\2C HR2," + B)])], 0),
    # a disabled person is the deletes guard's, never counted twice
    ([Change(Action.DISABLE, "user", "a", user_dn("a"), user_dn("a", "disabled")),
      member_change("g", [member("a")], [])], 0),
])
def test_membership_removals_count_people_who_lose_a_group(changes, removals):
    assert membership_removals(changes) == removals


def test_a_reorganisation_that_moves_everyone_trips_no_member_guard():
    moves = [move(f"u{i}", "tree") for i in range(200)]
    rewrites = [member_change("g", [member(f"u{i}") for i in range(200)],
                              [member(f"u{i}", "tree") for i in range(200)])]
    plan = plan_of(moves + rewrites, users=200, memberships=200)
    assert not guard(plan, "member_removals").tripped
    allowed, held = hold_back(plan, Limits())
    assert held == [] and allowed == plan.changes


@pytest.mark.parametrize(("wiped", "limits", "tripped"), [
    (60, Limits(), True),                                   # 60 > 50 and 60% > 20%
    (50, Limits(), False),                                  # not more than 50 objects
    (60, Limits(max_attribute_change_ratio=0.7), False),    # 60% is within 70%
    (60, Limits(allow_changes=60), False),                  # accepted once
    (60, Limits(allow_changes=59), True),
])
def test_attribute_guard_trips_on_mass_rewrites(wiped, limits, tripped):
    changes = [phone_change(f"u{i}", "+45 1234", None) for i in range(wiped)]
    result = guard(plan_of(changes), "attribute_changes", limits)
    assert result.tripped is tripped
    assert result.detail == f"telephoneNumber: {wiped} of 100 users"
    assert result.value == pytest.approx(wiped / 100)


def test_new_values_where_there_were_none_are_not_rewrites():
    changes = [phone_change(f"u{i}", None, "+45 1234") for i in range(90)]
    assert not guard(plan_of(changes), "attribute_changes").tripped


def test_the_attribute_guard_holds_only_the_attribute_that_tripped():
    wipes = [phone_change(f"u{i}", "+45 1234", None) for i in range(60)]
    title = Change(Action.UPDATE, "user", "u0", user_dn("u0"), attributes=[
        AttrChange("title", ("Clerk",), ("Senior clerk",))])
    wipes[0].attributes.append(title.attributes[0])
    plan = plan_of(wipes)
    plan.guards = check_guards(plan, Limits())
    allowed, held = hold_back(plan, Limits())
    assert [c.key for c in allowed] == ["u0"]
    assert [a.name for a in allowed[0].attributes] == ["title"]
    assert len(held) == 60 and all(a.name == "telephoneNumber" for c in held
                                   for a in c.attributes)


def test_hold_all_holds_every_change_of_a_tripped_plan():
    disables = [Change(Action.DISABLE, "user", f"u{i}", user_dn(f"u{i}"),
                       user_dn(f"u{i}", "disabled")) for i in range(60)]
    create = Change(Action.CREATE, "user", "new", user_dn("new"))
    plan = plan_of([create, *disables])
    limits = Limits(hold_all=True)
    plan.guards = check_guards(plan, limits)
    assert guard(plan, "deletes", limits).tripped
    allowed, held = hold_back(plan, limits)
    assert allowed == [] and len(held) == 61
    allowed, held = hold_back(plan, Limits())  # by default the create still goes ahead
    assert allowed == [create] and len(held) == 60


@pytest.mark.parametrize("action", [Action.DISABLE, Action.ENABLE])
def test_lifecycle_changes_are_never_split_by_the_attribute_guard(action):
    """A disable sets its lock, an enable lifts it: holding those values back would leave
    a leaver able to log in, or a re-hire locked out for good."""
    lifecycle = [Change(action, "user", f"l{i}", user_dn(f"l{i}"), user_dn(f"l{i}", "x"),
                        attributes=[AttrChange("pwdAccountLockedTime", ("0001",), ())])
                 for i in range(60)]
    wipes = [phone_change(f"u{i}", "+45 1234", None) for i in range(60)]
    plan = plan_of([*wipes, *lifecycle], users=120)
    limits = Limits(allow_deletes=60)  # the disables are accepted; only values are guarded
    plan.guards = check_guards(plan, limits)
    assert guard(plan, "attribute_changes", limits).detail.startswith("telephoneNumber")
    allowed, held = hold_back(plan, limits)
    assert [c for c in allowed if c.action is action] == lifecycle
    assert all(a.name == "telephoneNumber" for c in held for a in c.attributes)


@pytest.mark.parametrize(("landed", "members_after"), [
    # the move of a to ou=skole was refused: the group keeps naming a where it is, so
    # nothing is left to change
    ("refused move", None),
    # the creation of a was refused: the group names no entry that does not exist, so
    # it keeps what it has
    ("refused create", None),
    ("all", (user_dn("a", "skole"), user_dn("b"))),  # the move landed: a is named anew
])
def test_a_group_change_follows_what_the_server_refused(landed, members_after):
    created = landed == "refused create"
    found = {("user", "b"): user_dn("b")} | ({} if created else {("user", "a"): user_dn("a")})
    locations = Locations(found, norm_dn)
    user_a = Change(Action.CREATE if created else Action.MOVE, "user", "a",
                    user_dn("a", "skole") if created else user_dn("a"),
                    None if created else user_dn("a", "skole"))
    if landed == "all":
        locations.landed(user_a, None)
    else:
        locations.refused(user_a)
    before = [member("b")] if created else [member("a"), member("b")]
    change = locations.concrete(member_change("g", before, [member("a", "skole"), member("b")]))
    assert change is not None
    assert [a.after for a in change.attributes] == ([members_after] if members_after else [])


def test_a_new_group_waits_when_none_of_its_members_exist():
    locations = Locations({}, norm_dn)
    locations.refused(Change(Action.CREATE, "user", "a", user_dn("a")))
    create = Change(Action.CREATE, "group", "g", f"cn=g,{B}", attributes=[
        AttrChange("member", (), (member("a"),), multi=True)])
    assert locations.concrete(create) is None


def test_a_member_created_in_the_same_cycle_is_named_by_the_id_it_was_given():
    """A target that assigns ids (SCIM): the plan knows the new member by (kind, key)
    only; the group names it by the id its create returned."""
    locations = Locations({}, str)
    new_user = Change(Action.CREATE, "user", "p1", None)
    locations.landed(new_user, "id-17")
    group = Change(Action.CREATE, "group", "g", None, attributes=[
        AttrChange("members", (), (Ref("user", "p1", "", "alice"),), multi=True)])
    change = locations.concrete(group)
    assert change is not None and change.attributes[0].after == ("id-17",)


@pytest.mark.parametrize(("must_exist", "on_create", "later"), [
    (False, (user_dn("m"),), []),  # slapd takes the manager's DN ahead of its entry
    (True, (), [(user_dn("m"),)]),  # AD refuses it: a follow-up adds it once m exists
])
def test_a_reference_to_an_entry_made_later_waits_where_the_target_wants_it_to_exist(
        must_exist, on_create, later):
    manager = Ref("user", "m", norm_dn(user_dn("m")), user_dn("m"))
    locations = Locations({}, norm_dn, [("user", "a"), ("user", "m")], must_exist=must_exist)
    create = Change(Action.CREATE, "user", "a", user_dn("a"), attributes=[
        AttrChange("manager", (), (manager,))])
    made = locations.concrete(create)
    assert made is not None and made.attributes[0].after == on_create
    locations.landed(made, None)
    locations.landed(Change(Action.CREATE, "user", "m", user_dn("m")), None)
    follow_ups = [locations.concrete(c) for c in locations.later()]
    assert [c.attributes[0].after for c in follow_ups if c] == later
