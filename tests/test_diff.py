"""The planner's diff as a pure function: small hand-built tables, no server.

Each case runs against two kinds of target where it means something for both: an LDAP
directory (locators are DNs, entries move, references are DNs) and an id-keyed service
(locators are the ids it assigns, nothing moves, references are ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest

from syncd.markers import MarkedRule, Markers
from syncd.objects import (
    ACTIVE,
    DELETED,
    DISABLED,
    GROUP,
    OU,
    USER,
    Capabilities,
    Entry,
    Owned,
    Ref,
    Values,
    Wanted,
    norm_dn,
)
from syncd.plan.diff import Diff, Frozen, diff
from syncd.plan.guards import membership_removals
from syncd.plan.model import Action, AttrChange, Change
from syncd.targets.ldap.directory import CAPABILITIES as LDAP_CAPS

B = "dc=example,dc=org"
ANCHOR = "employeeNumber"  # holds the person id on a user
USERNAME = "uid"
MARKER = "businessCategory"


@dataclass(frozen=True)
class Target:
    """How one kind of target places and spells objects."""

    name: str
    caps: Capabilities
    members: str  # the groups' member attribute

    @property
    def places(self) -> bool:
        return self.caps.containers

    def place(self, uid: str, ou: str = "people") -> str | None:
        """Where the mapping wants user `uid` (None: the target assigns it)."""
        return f"uid={uid},ou={ou},{B}" if self.places else None

    def at(self, uid: str, ou: str = "people") -> str:
        """Where user `uid`'s entry is found."""
        return f"uid={uid},ou={ou},{B}" if self.places else f"id-{uid}"

    def group_place(self, name: str) -> str | None:
        return f"cn={name},ou=groups,{B}" if self.places else None

    def group_at(self, name: str) -> str:
        return f"cn={name},ou=groups,{B}" if self.places else f"gid-{name}"

    def where(self, locator: str | None) -> str:
        return self.caps.locator_key(locator) if locator else ""

    def markers(self) -> Markers:
        classes = ("groupOfNames",) if self.places else ()
        return Markers("t1", (MarkedRule(GROUP, "units", MARKER, classes),))


LDAP = Target("ldap", LDAP_CAPS, "member")
IDS = Target("ids", Capabilities(references=frozenset({"members", "manager"})), "members")
BOTH = pytest.mark.parametrize("t", [LDAP, IDS], ids=lambda t: t.name)


def pid(uid: str) -> str:
    return f"p-{uid}"


def user(t: Target, uid: str, *, ou: str = "people", state: str = ACTIVE,
         **attrs: Values) -> Wanted:
    return Wanted(USER, pid(uid), t.place(uid, ou), {ANCHOR: (pid(uid),), USERNAME: (uid,),
                                                     **attrs},
                  create_only={"objectClass": ("inetOrgPerson",)}, state=state,
                  rule="users", username=uid)


def found_user(t: Target, uid: str, *, ou: str = "people", at: str | None = None,
               anchor: str | None = None, **attrs: tuple[str, ...]) -> Entry:
    locator = at or t.at(uid, ou)
    base = {ANCHOR: (pid(uid),), USERNAME: (uid,), "objectClass": ("inetOrgPerson",)}
    return Entry(locator, {**base, **attrs},
                 anchor=anchor or (f"uuid-{uid}" if t.places else locator))


def owned_user(t: Target, uid: str, *, ou: str = "people", state: str = ACTIVE,
               anchor: str | None = None) -> Owned:
    locator = t.at(uid, ou)
    return Owned("t1", USER, pid(uid), locator, uid,
                 anchor or (f"uuid-{uid}" if t.places else locator), state)


def member(uid: str) -> Ref:
    """A member as the mapping names it: by person id only."""
    return Ref(USER, pid(uid))


def group(t: Target, name: str, members: list[Ref], **attrs: Values) -> Wanted:
    return Wanted(GROUP, f"units:{name}", t.group_place(name), {t.members: tuple(members),
                                                                **attrs},
                  create_only={"objectClass": ("groupOfNames",)}, rule="groups.units",
                  multi=frozenset({t.members}), username=name)


def found_group(t: Target, name: str, members: list[str], *, marker: str | None = None,
                **attrs: tuple[str, ...]) -> Entry:
    locator = t.group_at(name)
    marks = {MARKER: (marker,)} if marker else {}
    return Entry(locator, {"objectClass": ("groupOfNames",), t.members: tuple(members),
                           **marks, **attrs}, anchor=f"uuid-{name}" if t.places else locator)


def owned_group(t: Target, name: str) -> Owned:
    return Owned("t1", GROUP, f"units:{name}", t.group_at(name), name, None, ACTIVE)


def registry(*rows: Owned) -> dict[tuple[str, str], Owned]:
    return {(row.kind, row.key): row for row in rows}


def run(t: Target, wanted: list[Wanted], found: list[Entry], owned: Sequence[Owned] = (),
        *, frozen: Frozen | None = None, caps: Capabilities | None = None) -> Diff:
    return diff(wanted, found, registry(*owned), anchor=ANCHOR, username_attribute=USERNAME,
                frozen=frozen or Frozen(), capabilities=caps or t.caps, markers=t.markers())


def only(result: Diff) -> Change:
    assert len(result.changes) == 1, result.changes
    return result.changes[0]


def refs(values: Values) -> list[Ref]:
    """The references among attribute values (a kept foreign member is text)."""
    return [v for v in values if isinstance(v, Ref)]


def keys(values: Values) -> list[tuple[str, str]]:
    return sorted((v.kind, v.key) for v in refs(values))


def attr(change: Change, name: str) -> AttrChange:
    return next(a for a in change.attributes if a.name == name)


# --- creates and updates ----------------------------------------------------------------


@BOTH
def test_a_new_user_is_created_where_the_mapping_or_the_target_puts_it(t):
    change = only(run(t, [user(t, "ann", mail=("ann@x",))], []))
    assert (change.action, change.kind, change.key) == (Action.CREATE, USER, "p-ann")
    assert change.locator == t.place("ann")  # None: the id-keyed target assigns it
    assert {a.name: a.after for a in change.attributes} == {
        "objectClass": ("inetOrgPerson",), ANCHOR: ("p-ann",), USERNAME: ("ann",),
        "mail": ("ann@x",)}
    assert all(a.before == () for a in change.attributes)


@BOTH
@pytest.mark.parametrize(("before", "after", "expected"), [
    (("old@x",), ("new@x",), [AttrChange("mail", ("old@x",), ("new@x",))]),
    ((), ("new@x",), [AttrChange("mail", (), ("new@x",))]),
    (("old@x",), (), [AttrChange("mail", ("old@x",), ())]),
    (("same@x",), ("same@x",), []),
])
def test_a_single_valued_attribute_is_updated_only_when_it_differs(t, before, after,
                                                                   expected):
    found = found_user(t, "ann", **({"mail": before} if before else {}))
    result = run(t, [user(t, "ann", mail=after)], [found], [owned_user(t, "ann")])
    if not expected:
        assert result.changes == [] and [w.key for w, _ in result.in_sync] == ["p-ann"]
        return
    change = only(result)
    assert (change.action, change.locator, change.new_locator) == (
        Action.UPDATE, t.at("ann"), None)
    assert change.attributes == expected


@pytest.mark.parametrize("spelt", [
    "UID=ann,OU=People,DC=Example,DC=Org",
    f"uid=ann, ou=people, {B}",
    "uid=ann,ou=L\u00f8n\\2C HR," + B,  # slapd's hex escape of the comma
])
def test_ldap_no_change_when_only_the_dn_spelling_differs(spelt):
    ou = "L\u00f8n\\, HR" if "L\u00f8n" in spelt else "people"
    wanted = user(LDAP, "ann", ou=ou)
    found = replace(found_user(LDAP, "ann"), locator=spelt)
    group_found = found_group(LDAP, "staff", [spelt.upper()])
    result = run(LDAP, [wanted, group(LDAP, "staff", [member("ann")])],
                 [found, group_found], [owned_user(LDAP, "ann", ou=ou), owned_group(LDAP, "staff")])
    assert result.changes == []
    assert result.problems == []
    assert len(result.in_sync) == 2


@pytest.mark.parametrize(("t", "caps", "moved"), [
    (LDAP, LDAP.caps, True),
    (LDAP, replace(LDAP.caps, moves=False), False),
    (IDS, IDS.caps, False),
], ids=["ldap", "ldap-without-moves", "ids"])
def test_a_user_moves_only_where_the_target_moves_entries(t, caps, moved):
    wanted = replace(user(t, "ann", ou="staff"), locator=f"uid=ann,ou=staff,{B}")
    result = run(t, [wanted], [found_user(t, "ann")], [owned_user(t, "ann")], caps=caps)
    if not moved:
        assert result.changes == [] and len(result.in_sync) == 1
        return
    change = only(result)
    assert (change.action, change.locator, change.new_locator) == (
        Action.MOVE, t.at("ann"), f"uid=ann,ou=staff,{B}")


@pytest.mark.parametrize("kind", [USER, GROUP])
def test_ldap_a_create_at_a_dn_held_by_a_foreign_entry_is_a_problem(kind):
    if kind == USER:
        wanted = user(LDAP, "ann")
        foreign = Entry(LDAP.at("ann"), {USERNAME: ("ann",), ANCHOR: ("someone-else",)})
    else:
        wanted = group(LDAP, "staff", [])
        foreign = Entry(LDAP.group_at("staff"), {"objectClass": ("groupOfNames",)})
    result = run(LDAP, [wanted], [foreign])
    assert result.changes == []
    assert len(result.problems) == 1
    problem_kind, message = result.problems[0]
    assert problem_kind == kind and "syncd does not own" in message
    assert result.foreign == 1


def test_ldap_a_move_onto_a_foreign_entry_is_a_problem():
    foreign = Entry(f"uid=ann,ou=staff,{B}", {USERNAME: ("ann",)})
    result = run(LDAP, [user(LDAP, "ann", ou="staff")], [found_user(LDAP, "ann"), foreign],
                 [owned_user(LDAP, "ann")])
    assert result.changes == []
    assert [kind for kind, _ in result.problems] == [USER]
    assert "cannot move" in result.problems[0][1]


# --- finding our objects ----------------------------------------------------------------


@pytest.mark.parametrize(("entry_anchor", "owned_anchor", "found"), [
    ("uuid-ann", "uuid-ann", True),  # by the target's own id, though its person id is gone
    ("uuid-new", "uuid-ann", False),  # neither its id nor our person id: not ours
    ("uuid-new", None, False),
])
def test_ldap_a_registered_user_moved_by_someone_is_found_by_its_target_id(
        entry_anchor, owned_anchor, found):
    elsewhere = f"uid=ann,ou=somewhere,{B}"
    entry = Entry(elsewhere, {USERNAME: ("ann",)}, anchor=entry_anchor)
    own = replace(owned_user(LDAP, "ann"), anchor=owned_anchor)
    result = run(LDAP, [user(LDAP, "ann")], [entry], [own])
    change = only(result)
    if not found:
        assert change.action is Action.CREATE and change.locator == LDAP.place("ann")
        assert result.located == {}
        return
    assert (change.action, change.locator, change.new_locator) == (
        Action.MOVE, elsewhere, LDAP.place("ann"))
    assert attr(change, ANCHOR) == AttrChange(ANCHOR, (), ("p-ann",))
    assert result.located == {(USER, "p-ann"): elsewhere}


def test_ldap_a_moved_user_without_target_id_is_found_by_person_id_and_username():
    elsewhere = f"uid=ann,ou=somewhere,{B}"
    own = replace(owned_user(LDAP, "ann"), anchor=None)
    result = run(LDAP, [user(LDAP, "ann")], [found_user(LDAP, "ann", at=elsewhere)], [own])
    change = only(result)
    assert (change.action, change.locator) == (Action.MOVE, elsewhere)


def test_ldap_a_user_the_registry_places_wrongly_is_found_where_it_is_wanted():
    """A run killed after a move left the old DN in the registry; a copy of the entry
    with the same person id and username makes the username no help."""
    stale = replace(owned_user(LDAP, "ann", ou="old"), anchor=None)
    ours = found_user(LDAP, "ann", anchor="uuid-1")
    copy = found_user(LDAP, "ann", ou="copy", anchor="uuid-2")
    result = run(LDAP, [user(LDAP, "ann")], [copy, ours], [stale])
    assert result.changes == [] and result.problems == []
    assert result.located == {(USER, "p-ann"): ours.locator}


def test_ldap_containers_are_kept_but_not_counted_as_ours():
    people = f"ou=people,{B}"
    container = Wanted(OU, norm_dn(people), people, {}, create_only={
        "objectClass": ("organizationalUnit",), "ou": ("people",)}, rule="containers")
    result = run(LDAP, [container], [Entry(people, {"objectClass": ("organizationalUnit",)})])
    assert result.changes == [] and result.located == {}
    assert result.managed[OU] == 0 and result.foreign == 1
    assert only(run(LDAP, [container], [])).action is Action.CREATE


@BOTH
def test_an_entry_that_merely_carries_our_person_id_is_not_taken_over(t):
    impostor = Entry("uid=annie,ou=other," + B if t.places else "id-annie",
                     {ANCHOR: ("p-ann",), USERNAME: ("annie",)}, anchor="uuid-annie")
    result = run(t, [user(t, "ann")], [impostor], [owned_user(t, "ann")])
    change = only(result)
    assert change.action is Action.CREATE and change.locator == t.place("ann")
    assert result.located == {} and result.foreign == 1


@BOTH
def test_a_correlation_adopts_the_entry_it_names(t):
    legacy = f"uid=ann,ou=legacy,{B}" if t.places else "id-legacy"
    entry = Entry(legacy, {USERNAME: ("ann",), "mail": ("ann@x",)}, anchor="uuid-legacy")
    wanted = replace(user(t, "ann", mail=("ann@x",)), adopt=legacy.upper() if t.places
                     else legacy, why="engaged")
    result = run(t, [wanted], [entry])
    change = only(result)
    assert change.action is (Action.MOVE if t.places else Action.UPDATE)
    assert change.locator == legacy
    assert change.why == "adopts a pre-existing entry (correlation); engaged"
    assert change.attributes == [AttrChange(ANCHOR, (), ("p-ann",))]
    assert result.located == {(USER, "p-ann"): legacy}
    assert result.foreign == 0 and result.managed[USER] == 1


@BOTH
def test_located_says_where_each_of_ours_was_found_as_found(t):
    ann = found_user(t, "ann", at="UID=ann,ou=people," + B if t.places else None)
    foreign = Entry(t.at("svc"), {USERNAME: ("svc",)})
    grp = found_group(t, "staff", [ann.locator, foreign.locator])
    result = run(t, [user(t, "ann"), group(t, "staff", [member("ann")])],
                 [ann, foreign, grp], [owned_user(t, "ann"), owned_group(t, "staff")])
    assert result.located == {(USER, "p-ann"): ann.locator, (GROUP, "units:staff"): grp.locator}
    assert result.managed == {OU: 0, USER: 1, GROUP: 1}
    assert result.foreign == 1 and result.memberships == 1


# --- group membership -------------------------------------------------------------------


@BOTH
def test_a_groups_members_change_by_delta_and_a_foreign_member_stays(t):
    svc = Entry(t.at("svc", "services"), {USERNAME: ("svc",)})
    users = [found_user(t, uid) for uid in ("ann", "bob", "cy")]
    grp = found_group(t, "staff", [t.at("ann"), t.at("bob"), svc.locator])
    result = run(t, [*(user(t, uid) for uid in ("ann", "bob", "cy")),
                     group(t, "staff", [member("ann"), member("cy")])],
                 [*users, svc, grp],
                 [*(owned_user(t, uid) for uid in ("ann", "bob", "cy")),
                  owned_group(t, "staff")])
    change = only(result)
    assert (change.action, change.kind, change.locator) == (Action.UPDATE, GROUP, grp.locator)
    members = attr(change, t.members)
    assert members.multi
    assert keys(members.add) == [(USER, "p-cy")]
    assert keys(members.remove) == [(USER, "p-bob")]
    assert svc.locator in members.after and svc.locator not in members.remove
    assert refs(members.add)[0].where == t.where(t.at("cy"))
    assert result.memberships == 2 and result.foreign == 1
    assert membership_removals(result.changes) == 1


@BOTH
@pytest.mark.parametrize(("frozen", "removed"), [
    (set(), [(USER, "p-bob")]),
    ({"p-bob"}, []),  # bob's template failed: his memberships stay as they are
])
def test_a_frozen_persons_memberships_are_kept(t, frozen, removed):
    grp = found_group(t, "staff", [t.at("ann"), t.at("bob")])
    result = run(t, [user(t, "ann"), group(t, "staff", [member("ann")])],
                 [found_user(t, "ann"), found_user(t, "bob"), grp],
                 [owned_user(t, "ann"), owned_user(t, "bob"), owned_group(t, "staff")],
                 frozen=Frozen(persons=frozen))
    if not removed:
        assert result.changes == []
        return
    assert keys(attr(only(result), t.members).remove) == removed


@BOTH
def test_a_member_rewritten_after_a_move_is_no_removal(t):
    grp = found_group(t, "staff", [t.at("ann")])
    wanted_ann = (user(t, "ann", ou="staff") if t.places else user(t, "ann"))
    result = run(t, [wanted_ann, group(t, "staff", [member("ann")])],
                 [found_user(t, "ann"), grp], [owned_user(t, "ann"), owned_group(t, "staff")])
    assert membership_removals(result.changes) == 0
    if not t.places:  # an id never moves: nothing to rewrite
        assert result.changes == []
        return
    move, update = result.changes
    assert (move.action, move.new_locator) == (Action.MOVE, f"uid=ann,ou=staff,{B}")
    members = attr(update, t.members)
    assert keys(members.remove) == keys(members.add) == [(USER, "p-ann")]
    assert refs(members.remove)[0].where == norm_dn(t.at("ann"))
    assert refs(members.add)[0].where == norm_dn(f"uid=ann,ou=staff,{B}")


@BOTH
def test_a_new_users_reference_in_a_new_group_is_placed_where_it_will_be(t):
    result = run(t, [user(t, "nina"), group(t, "new", [member("nina")])], [])
    user_create, group_create = result.changes
    assert (user_create.action, group_create.action) == (Action.CREATE, Action.CREATE)
    (ref,) = refs(attr(group_create, t.members).after)
    assert (ref.kind, ref.key) == (USER, "p-nina")
    if t.places:
        assert (ref.where, str(ref)) == (norm_dn(t.place("nina")), t.place("nina"))
    else:  # the service assigns the id on create: no place yet, shown by username
        assert (ref.where, str(ref)) == ("", "nina")


def test_a_text_member_naming_a_wanted_dn_becomes_a_reference():
    """A mapping may render a member as a DN: it is the wanted object there."""
    wanted_group = group(LDAP, "new", [])
    wanted_group.attrs["member"] = ("UID=nina,ou=people," + B,)
    result = run(LDAP, [user(LDAP, "nina"), wanted_group], [])
    (ref,) = attr(result.changes[1], "member").after
    assert isinstance(ref, Ref) and (ref.kind, ref.key) == (USER, "p-nina")


# --- what nothing wants -----------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(("frozen_groups", "deleted"), [(set(), True), ({"units:old"}, False)])
def test_an_orphan_group_is_deleted_with_our_members_shown(t, frozen_groups, deleted):
    svc = Entry(t.at("svc", "services"), {USERNAME: ("svc",)})
    grp = found_group(t, "old", [t.at("ann"), svc.locator])
    result = run(t, [user(t, "ann")], [found_user(t, "ann"), svc, grp],
                 [owned_user(t, "ann"), owned_group(t, "old")],
                 frozen=Frozen(groups=frozen_groups))
    if not deleted:
        assert result.changes == []
        return
    change = only(result)
    assert (change.action, change.kind, change.key, change.locator, change.rule) == (
        Action.DELETE, GROUP, "units:old", grp.locator, "orphans")
    (members,) = change.attributes
    assert keys(members.before) == [(USER, "p-ann")] and members.after == ()
    assert membership_removals(result.changes) == 1


def test_an_orphan_group_naming_a_frozen_person_is_kept():
    grp = found_group(LDAP, "old", [LDAP.at("ann")])
    result = run(LDAP, [], [found_user(LDAP, "ann"), grp],
                 [owned_user(LDAP, "ann"), owned_group(LDAP, "old")],
                 frozen=Frozen(persons={"p-ann"}))
    assert result.changes == []


TREE = f"ou=tree,{B}"


def ou_entry(dn: str) -> Entry:
    return Entry(dn, {"objectClass": ("organizationalUnit",)})


def owned_ou(dn: str) -> Owned:
    return Owned("t1", OU, norm_dn(dn), dn, None, None, ACTIVE)


@pytest.mark.parametrize(("inside", "deleted"), [
    ([], [f"ou=old,{TREE}"]),
    ([Entry(f"uid=svc,ou=old,{TREE}", {USERNAME: ("svc",)})], []),  # someone's entry
    (["registered child"], [f"ou=child,ou=old,{TREE}", f"ou=old,{TREE}"]),  # child-first
    (["our user moving out"], [f"ou=old,{TREE}"]),
])
def test_an_orphan_ou_is_deleted_only_when_empty(inside, deleted):
    old = f"ou=old,{TREE}"
    found, owned, wanted = [ou_entry(TREE), ou_entry(old)], [owned_ou(old)], []
    for item in inside:
        if item == "registered child":
            found.append(ou_entry(f"ou=child,{old}"))
            owned.append(owned_ou(f"ou=child,{old}"))
        elif item == "our user moving out":
            found.append(found_user(LDAP, "ann", at=f"uid=ann,{old}"))
            owned.append(replace(owned_user(LDAP, "ann"), locator=f"uid=ann,{old}"))
            wanted.append(user(LDAP, "ann"))
        else:
            found.append(item)
    result = run(LDAP, wanted, found, owned)
    assert [c.locator for c in result.changes if c.action is Action.DELETE] == deleted


# --- markers ----------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(("registry_rows", "whose"), [
    (0, "the store has no record of"),
    (1, "the store has lost its record of"),
])
def test_a_marked_group_the_store_lost_is_readopted_and_said_so(t, registry_rows, whose):
    grp = found_group(t, "staff", [t.at("ann")], marker="syncd:t1:group:units:staff")
    owned = [owned_user(t, "ann")][:registry_rows]
    result = run(t, [user(t, "ann"), group(t, "staff", [member("ann")])],
                 [found_user(t, "ann"), grp], owned)
    assert all(c.action is not Action.CREATE for c in result.changes if c.kind == GROUP)
    assert result.located[(GROUP, "units:staff")] == grp.locator
    (notice,) = result.notices
    assert notice.startswith(f"{whose} 1 object(s)") and "re-adopting" in notice


@BOTH
def test_a_marked_group_nothing_wants_is_registered_not_deleted(t):
    grp = found_group(t, "gone", [], marker="syncd:t1:group:units:gone")
    result = run(t, [], [grp])
    assert result.changes == []
    assert [(w.kind, w.key, w.rule) for w, _ in result.in_sync] == [
        (GROUP, "units:gone", "orphans")]


def test_a_marker_on_an_object_the_target_says_is_a_user_is_not_believed():
    """A SCIM User whose externalId reads like a group marker is no group of ours."""
    user_resource = replace(found_group(IDS, "staff", [], marker="syncd:t1:group:units:staff"),
                            kind=USER)
    result = run(IDS, [group(IDS, "staff", [])], [user_resource])
    assert result.notices == [] and result.located == {} and result.foreign == 1
    assert only(result).action is Action.CREATE


def test_a_group_carrying_a_persons_id_is_never_taken_for_their_account():
    """A registered user is found by id or anchor only among objects that may be users."""
    grp = replace(found_user(IDS, "ann"), kind=GROUP)
    result = run(IDS, [user(IDS, "ann")], [grp], [owned_user(IDS, "ann")])
    assert only(result).action is Action.CREATE and result.located == {}


@BOTH
@pytest.mark.parametrize("marker", ["syncd:other:group:units:staff",  # another target's
                                    "syncd:t1:group:nosuchrule:staff"])
def test_a_marker_syncd_could_not_have_written_is_not_believed(t, marker):
    grp = found_group(t, "staff", [], marker=marker)
    result = run(t, [group(t, "staff", [])], [grp])
    assert result.notices == [] and result.located == {}
    assert result.foreign == 1
    if t.places:  # its DN is taken by an entry not ours
        assert result.changes == [] and len(result.problems) == 1
    else:
        assert only(result).action is Action.CREATE


# --- lifecycle --------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(("was", "wanted", "found_in", "mail", "action"), [
    (ACTIVE, ACTIVE, "people", "a@x", None),
    (ACTIVE, DISABLED, "people", "old@x", Action.DISABLE),
    (DISABLED, DISABLED, "disabled", "a@x", None),
    (DISABLED, DISABLED, "disabled", "old@x", Action.UPDATE),
    (DISABLED, DISABLED, None, "a@x", None),  # a disabled account is never created
    (DISABLED, ACTIVE, "disabled", "old@x", Action.ENABLE),
    (DISABLED, DELETED, "disabled", "a@x", Action.DELETE),
    (DISABLED, DELETED, None, "a@x", None),
], ids=lambda v: str(v) if not isinstance(v, Action) else v.word)
def test_lifecycle_actions_follow_the_registry_state(t, was, wanted, found_in, mail, action):
    ou = "people" if wanted == ACTIVE else "disabled"
    found = [found_user(t, "ann", ou=found_in, mail=(mail,))] if found_in else []
    result = run(t, [user(t, "ann", ou=ou, state=wanted, mail=("a@x",))], found,
                 [owned_user(t, "ann", ou=found_in or "disabled", state=was)])
    if action is None:
        assert result.changes == []
        return
    change = only(result)
    assert change.action is action and change.locator == found[0].locator
    moves = t.places and found_in != ou and action is not Action.DELETE
    assert change.new_locator == (t.place("ann", ou) if moves else None)


@BOTH
@pytest.mark.parametrize(("fill_only", "found", "wanted", "changed"), [
    ({"title"}, ("Boss",), (), False),  # a leaver's empty render blanks nothing
    ({"title"}, ("Boss",), ("Clerk",), False),  # nor rewrites what is there
    ({"title"}, (), ("Clerk",), True),  # but fills what is missing
    (set(), ("Boss",), (), True),
])
def test_fill_only_attributes_are_written_only_where_there_is_none(t, fill_only, found,
                                                                   wanted, changed):
    entry = found_user(t, "ann", ou="disabled", **({"title": found} if found else {}))
    want = replace(user(t, "ann", ou="disabled", state=DISABLED, title=wanted),
                   fill_only=frozenset(fill_only))
    result = run(t, [want], [entry], [owned_user(t, "ann", ou="disabled", state=DISABLED)])
    if not changed:
        assert result.changes == []
        return
    assert only(result).attributes == [AttrChange("title", found, wanted)]


@BOTH
@pytest.mark.parametrize(("was", "wanted"), [(ACTIVE, DISABLED), (DISABLED, ACTIVE)])
def test_a_state_change_with_nothing_to_write_or_move_is_in_sync(t, was, wanted):
    """The target already is as wanted (an entry disabled and moved by a run whose
    registry write was lost, a backup of the store restored): nothing to apply, no
    guard to trip; the registry takes the state from `in_sync`."""
    result = run(t, [user(t, "ann", state=wanted)], [found_user(t, "ann")],
                 [owned_user(t, "ann", state=was)])
    assert result.changes == []
    assert [(w.key, w.state) for w, _ in result.in_sync] == [("p-ann", wanted)]


# --- protected entries ------------------------------------------------------------------


@BOTH
def test_a_protected_entry_is_never_changed_even_when_the_registry_names_it(t):
    """A service account the config protects stays as it is: no update, no disable,
    no delete, and no second account where it is (the create is refused as a problem)."""
    admin = replace(found_user(t, "ann", title=("Admin",)), protected=True)
    for wanted in (user(t, "ann", title=("Clerk",)), user(t, "ann", state=DISABLED),
                   user(t, "ann", state=DELETED)):
        result = run(t, [wanted], [admin], [owned_user(t, "ann")])
        assert result.changes == []
        # the plan says so: a leaver who is not disabled is no surprise to find later
        [(kind, message)] = result.problems
        assert kind == USER and f"{admin.locator} is protected" in message
        assert f"wants it {wanted.state}" in message


@BOTH
def test_a_protected_member_and_a_protected_group_are_left_alone(t):
    admin = replace(found_user(t, "adm"), protected=True)
    ours = found_user(t, "ann")
    members = [t.at("adm"), t.at("ann")]
    grp = found_group(t, "it", members)
    kept = run(t, [user(t, "ann"), group(t, "it", [])], [admin, ours, grp],
               [owned_user(t, "ann"), owned_user(t, "adm"), owned_group(t, "it")])
    removed = [v for c in kept.changes if c.kind == GROUP for a in c.attributes
               for v in a.remove]
    assert [str(v) for v in removed] == [t.at("ann")]  # ours goes; the protected one stays
    locked = replace(grp, protected=True)
    orphan = run(t, [user(t, "ann")], [ours, locked], [owned_user(t, "ann"),
                                                       owned_group(t, "it")])
    assert [c for c in orphan.changes if c.kind == GROUP] == []


# --- adoptions ---------------------------------------------------------------------------


def test_an_adoption_is_marked_and_listed_apart_in_the_plan():
    from syncd.plan.model import Plan
    from syncd.plan.render import render_text

    t = LDAP
    theirs = found_user(t, "jhansen-old", title=("old",))
    wanted = replace(user(t, "jhansen-old", title=("Udvikler",)), adopt=theirs.locator)
    change = only(run(t, [wanted], [theirs]))
    assert change.adopts and "adopts a pre-existing entry" in change.why
    plan = Plan("t1", {"flavour": "openldap", "base_dn": B}, "2026-12-01", changes=[change])
    data = plan.as_dict()
    assert [a["key"] for a in data["adoptions"]] == ["p-jhansen-old"]
    text = render_text(data)
    assert "adopts 1 existing entry" in text
    assert "  = user  p-jhansen-old  uid=jhansen-old,ou=people  (jhansen-old)" in text


@BOTH
def test_an_object_the_store_says_syncd_made_created_again_is_said_so(t):
    result = run(t, [user(t, "ann"), user(t, "bob")], [], [owned_user(t, "ann")])
    assert [c.action for c in result.changes] == [Action.CREATE, Action.CREATE]
    [notice] = result.notices
    assert notice.startswith("1 object(s) the store says syncd made are not in the target")
