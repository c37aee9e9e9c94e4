"""What the SCIM target sends, as pure functions of the plan's changes and RFC 7643's
schemas: a create's document, PATCH operations, and the whole resource for a PUT."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from syncd.errors import ObjectRejected
from syncd.plan.model import AttrChange
from syncd.targets.scim.paths import ENTERPRISE, crowded, parse_path
from syncd.targets.scim.payload import document, operations, replaced
from syncd.targets.scim.schema import CORE_GROUP, CORE_USER, builtin_schema, provider_schema
from tests.test_scim_paths import EXAMPLE, RESOURCE_TYPES, SCHEMAS

USERS, GROUPS = builtin_schema().users, builtin_schema().groups
WORK_EMAIL = 'emails[type eq "work"].value'
WORK_PRIMARY = 'emails[type eq "work"].primary'
WORK_PHONE = 'phoneNumbers[type eq "work"].value'
MANAGER = f"{ENTERPRISE}:manager"
EMPLOYEE_NUMBER = f"{ENTERPRISE}:employeeNumber"


def change(name: str, before: tuple[str, ...], after: tuple[str, ...],
           multi: bool = False) -> AttrChange:
    return AttrChange(name, before, after, multi=multi)


# --- create -------------------------------------------------------------------------

@pytest.mark.parametrize(("attrs", "expected"), [
    ({"userName": ("åse",)}, {"schemas": [CORE_USER], "userName": "åse"}),
    ({"userName": ("a",), EMPLOYEE_NUMBER: ("1001",)},
     {"schemas": [CORE_USER, ENTERPRISE], "userName": "a",
      ENTERPRISE: {"employeeNumber": "1001"}}),
    ({"userName": ("a",), MANAGER: ("m-1",)},
     {"schemas": [CORE_USER, ENTERPRISE], "userName": "a",
      ENTERPRISE: {"manager": {"value": "m-1"}}}),
    ({"userName": ("a",), EMPLOYEE_NUMBER: (), MANAGER: ()},
     {"schemas": [CORE_USER], "userName": "a"}),
    ({WORK_EMAIL: ("åse@example.org",), WORK_PRIMARY: ("true",)},
     {"schemas": [CORE_USER],
      "emails": [{"type": "work", "value": "åse@example.org", "primary": True}]}),
    ({'Emails[TYPE eq "work"].VALUE': ("a@example.org",), 'emails[type eq "home"].value':
      ("a@home.example",)},
     {"schemas": [CORE_USER], "emails": [{"type": "work", "value": "a@example.org"},
                                         {"type": "home", "value": "a@home.example"}]}),
    ({WORK_PRIMARY: ("true",), WORK_EMAIL: ("a@example.org",)},
     {"schemas": [CORE_USER], "emails": [{"type": "work", "value": "a@example.org",
                                         "primary": True}]}),
    ({WORK_EMAIL: (), WORK_PHONE: ("+45 1234",)},
     {"schemas": [CORE_USER], "phoneNumbers": [{"type": "work", "value": "+45 1234"}]}),
    ({"active": ("true",)}, {"schemas": [CORE_USER], "active": True}),
    ({"Active": ("FALSE",)}, {"schemas": [CORE_USER], "active": False}),
    ({"name.givenName": ("Åse",), "NAME.familyName": ('Øster "李"',)},
     {"schemas": [CORE_USER], "name": {"givenName": "Åse", "familyName": 'Øster "李"'}}),
    ({f"{CORE_USER}:userName": ("a",), f"{CORE_USER}:name.givenName": ("A",)},
     {"schemas": [CORE_USER], "userName": "a", "name": {"givenName": "A"}}),
    ({'ims[type eq "say \\"hi\\""].value': ("x",)},
     {"schemas": [CORE_USER], "ims": [{"type": 'say "hi"', "value": "x"}]}),
    ({"nickName": (), "name.givenName": ()}, {"schemas": [CORE_USER]}),
])
def test_a_create_document_holds_each_attribute_at_its_path(attrs, expected):
    assert document(USERS, attrs) == expected


def test_a_provider_extension_is_written_with_its_types():
    users = provider_schema(SCHEMAS, RESOURCE_TYPES).users
    assert document(users, {"userName": ("a",), f"{EXAMPLE}:badge": ("7",)}) == {
        "schemas": [CORE_USER, EXAMPLE], "userName": "a", EXAMPLE: {"badge": 7}}
    with pytest.raises(ObjectRejected) as refused:
        document(users, {f"{EXAMPLE}:badge": ("seven",)})
    assert str(refused.value) == f"{EXAMPLE}:badge: 'seven' is not an integer"


def test_a_group_is_created_with_its_members_as_values():
    assert document(GROUPS, {"displayName": ("Lærere",), "members": ("u-1", 'u"2')}) == {
        "schemas": [CORE_GROUP], "displayName": "Lærere",
        "members": [{"value": "u-1"}, {"value": 'u"2'}]}


@pytest.mark.parametrize(("attrs", "names"), [
    ({"active": ("yes",)}, "active: 'yes' is not a boolean"),
    ({WORK_EMAIL: ("a@example.org",), WORK_PRIMARY: ("yes",)},
     f"{WORK_PRIMARY}: 'yes' is not a boolean"),
])
def test_a_value_not_of_its_attributes_type_is_refused_by_name(attrs, names):
    with pytest.raises(ObjectRejected) as refused:
        document(USERS, attrs)
    assert str(refused.value) == names


# --- PATCH --------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "expected"), [
    ([change("userName", ("åse",), ("åse.øster",))],
     [{"op": "replace", "path": "userName", "value": "åse.øster"}]),
    ([change("active", ("true",), ("false",))],
     [{"op": "replace", "path": "active", "value": False}]),
    ([change("name.givenName", ("Åse",), ("Åsa",))],
     [{"op": "replace", "path": "name.givenName", "value": "Åsa"}]),
    ([change("name.givenName", ("Åse",), ())], [{"op": "remove", "path": "name.givenName"}]),
    ([change("name.givenName", (), ("Åse",))],
     [{"op": "replace", "path": "name.givenName", "value": "Åse"}]),
    ([change(MANAGER, ("m-1",), ("m-2",))],
     [{"op": "replace", "path": MANAGER, "value": {"value": "m-2"}}]),
    ([change(MANAGER, (), ("m-2",))],
     [{"op": "replace", "path": MANAGER, "value": {"value": "m-2"}}]),
    ([change(MANAGER, ("m-1",), ())], [{"op": "remove", "path": MANAGER}]),
    ([change(EMPLOYEE_NUMBER, ("1",), ("2",))],
     [{"op": "replace", "path": EMPLOYEE_NUMBER, "value": "2"}]),
    # a work email the resource has: its value replaced in place
    ([change(WORK_EMAIL, ("a@example.org",), ("b@example.org",))],
     [{"op": "replace", "path": WORK_EMAIL, "value": "b@example.org"}]),
    # ... and a sub-attribute it lacks set on that same element, not a second one
    ([change(WORK_EMAIL, ("a@example.org",), ("b@example.org",)),
      change(WORK_PRIMARY, (), ("true",))],
     [{"op": "replace", "path": WORK_EMAIL, "value": "b@example.org"},
      {"op": "replace", "path": WORK_PRIMARY, "value": True}]),
    # a work email it has none of: added whole, every sub-attribute in one op
    ([change(WORK_EMAIL, (), ("åse@example.org",)), change("userName", ("a",), ("b",)),
      change(WORK_PRIMARY, (), ("true",))],
     [{"op": "replace", "path": "userName", "value": "b"},
      {"op": "add", "path": "emails",
       "value": [{"type": "work", "value": "åse@example.org", "primary": True}]}]),
    ([change('Emails[TYPE eq "work"].Value', (), ("a@example.org",))],
     [{"op": "add", "path": "Emails", "value": [{"type": "work", "value": "a@example.org"}]}]),
    # an emptied work phone or email: the element goes, whatever else it held
    ([change(WORK_PHONE, ("+45 1234",), ())],
     [{"op": "remove", "path": 'phoneNumbers[type eq "work"]'}]),
    ([change(WORK_EMAIL, ("a@example.org",), ()), change(WORK_PRIMARY, ("true",), ("false",))],
     [{"op": "remove", "path": 'emails[type eq "work"]'}]),
    ([change(WORK_PRIMARY, ("true",), ())], [{"op": "remove", "path": WORK_PRIMARY}]),
    ([change('ims[type eq "say \\"hi\\""].value', ("x",), ())],
     [{"op": "remove", "path": 'ims[type eq "say \\"hi\\""]'}]),
    ([change('ims[type eq "say \\"hi\\""].value', (), ("x",))],
     [{"op": "add", "path": "ims", "value": [{"type": 'say "hi"', "value": "x"}]}]),
    ([change('ims[type eq "arbejde-æø"].value', ("x",), ("ø",))],
     [{"op": "replace", "path": 'ims[type eq "arbejde-æø"].value', "value": "ø"}]),
    ([change('ims[type eq "a.b"].value', ("x",), ())],
     [{"op": "remove", "path": 'ims[type eq "a.b"]'}]),
    # emails rendered as a single value still go as elements
    ([change("emails", ("a@example.org",), ("b@example.org",))],
     [{"op": "replace", "path": "emails", "value": [{"value": "b@example.org"}]}]),
])
def test_a_user_change_is_the_fewest_patch_operations(changes, expected):
    assert operations(USERS, changes) == expected


def test_a_sub_attribute_new_to_an_element_the_resource_holds_goes_on_that_element():
    """A mapping that starts to set a work email's primary: the email is unchanged, so
    only what was read says that the element is there."""
    changes = [change(WORK_PRIMARY, (), ("true",))]
    found = {WORK_EMAIL: ("a@example.org",), "userName": ("a",)}
    assert operations(USERS, changes, found) == [
        {"op": "replace", "path": WORK_PRIMARY, "value": True}]
    assert operations(USERS, changes, {WORK_EMAIL: ()}) == [
        {"op": "add", "path": "emails", "value": [{"type": "work", "primary": True}]}]


@pytest.mark.parametrize(("before", "after", "expected"), [
    (("u-1", "u-2"), ("u-2", "u-3", "u-4"),
     [{"op": "add", "path": "members", "value": [{"value": "u-3"}, {"value": "u-4"}]},
      {"op": "remove", "path": 'members[value eq "u-1"]'}]),
    (("u-1", "u-2", "u-3"), ("u-2",),
     [{"op": "remove", "path": 'members[value eq "u-1"]'},
      {"op": "remove", "path": 'members[value eq "u-3"]'}]),
    ((), ("Åse-李",), [{"op": "add", "path": "members", "value": [{"value": "Åse-李"}]}]),
    (("Åse-李",), (), [{"op": "remove", "path": 'members[value eq "Åse-李"]'}]),
    (('u"1', "u\\2"), (),
     [{"op": "remove", "path": 'members[value eq "u\\"1"]'},
      {"op": "remove", "path": 'members[value eq "u\\\\2"]'}]),
])
def test_members_are_added_in_one_op_and_removed_one_by_one(before, after, expected):
    ops = operations(GROUPS, [change("members", before, after, multi=True)])
    assert ops == expected
    assert all(op["op"] != "replace" for op in ops)


def test_a_bad_boolean_in_a_patch_is_refused_by_name():
    with pytest.raises(ObjectRejected) as refused:
        operations(USERS, [change("active", ("true",), ("yes",))])
    assert str(refused.value) == "active: 'yes' is not a boolean"


# --- PUT (a provider without PATCH) -------------------------------------------------

FOUND_USER: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE], "id": "u-1",
    "meta": {"resourceType": "User", "version": 'W/"1"'},
    "userName": "åse", "name": {"givenName": "Åse", "familyName": "Øster"},
    "emails": [{"type": "home", "value": "ase@home.example"},
               {"type": "work", "value": "ase@example.org", "primary": True}],
    "phoneNumbers": [{"type": "work", "value": "+45 1234", "display": "1234"}],
    ENTERPRISE: {"employeeNumber": "1001", "manager": {"value": "m-1", "displayName": "Boss"}},
}
FOUND_GROUP: dict[str, Any] = {
    "schemas": [CORE_GROUP], "id": "g-1", "meta": {"resourceType": "Group"},
    "displayName": "Lærere",
    "members": [{"value": "u-1", "display": "Åse"}, {"value": "u-2", "display": "Bo"}],
}
HOME = {"type": "home", "value": "ase@home.example"}


@pytest.mark.parametrize(("changes", "expected"), [
    ([], {}),
    ([change("name.givenName", ("Åse",), ("Åsa",))],
     {"name": {"givenName": "Åsa", "familyName": "Øster"}}),
    ([change(WORK_EMAIL, ("ase@example.org",), ("åse@example.org",))],
     {"emails": [HOME, {"type": "work", "value": "åse@example.org", "primary": True}]}),
    ([change(WORK_EMAIL, ("ase@example.org",), ())], {"emails": [HOME]}),
    ([change(WORK_PRIMARY, ("true",), ())],
     {"emails": [HOME, {"type": "work", "value": "ase@example.org"}]}),
    ([change(WORK_PHONE, ("+45 1234",), ())], {"phoneNumbers": None}),
    ([change('phoneNumbers[type eq "mobile"].value', (), ("+45 5678",))],
     {"phoneNumbers": [{"type": "work", "value": "+45 1234", "display": "1234"},
                       {"type": "mobile", "value": "+45 5678"}]}),
    ([change(f"{CORE_USER}:userName", ("åse",), ('å"se',))], {"userName": 'å"se'}),
    ([change('emails[type eq "home"].value', ("ase@home.example",), ()),
      change(WORK_EMAIL, ("ase@example.org",), ())], {"emails": None}),
    ([change(MANAGER, ("m-1",), ("m-2",))],  # not the old manager's displayName
     {ENTERPRISE: {"employeeNumber": "1001", "manager": {"value": "m-2"}}}),
    ([change(MANAGER, ("m-1",), ()), change(EMPLOYEE_NUMBER, ("1001",), ())],
     {ENTERPRISE: None, "schemas": [CORE_USER]}),
])
def test_a_put_is_the_found_user_with_the_changes_made(changes, expected):
    found = copy.deepcopy(FOUND_USER)
    doc = replaced(USERS, found, changes)
    want = {k: v for k, v in FOUND_USER.items() if k not in ("id", "meta")}
    want.update(expected)
    assert doc == {k: v for k, v in want.items() if v is not None}
    assert found == FOUND_USER  # what was read is left as it was


def test_a_put_applies_the_member_delta_to_the_found_list():
    found = copy.deepcopy(FOUND_GROUP)
    doc = replaced(GROUPS, found, [change("members", ("u-1", "u-9"), ("u-9", "u-3"),
                                          multi=True)])
    assert doc == {"schemas": [CORE_GROUP], "displayName": "Lærere",
                   "members": [{"value": "u-2", "display": "Bo"}, {"value": "u-3"}]}
    assert found == FOUND_GROUP


# --- several elements that one filter picks ---------------------------------------------

SHARED = {"type": "work", "value": "shared-mailbox@other.example"}  # not syncd's
OURS = {"type": "work", "value": "direktoer@kolding.example", "primary": True}


def test_of_several_elements_a_filter_picks_only_the_first_is_read():
    resource = {"emails": [OURS, SHARED]}
    assert parse_path(WORK_EMAIL).read(resource) == ("direktoer@kolding.example",)
    assert crowded(resource, [parse_path(WORK_EMAIL)]) == {"emails": [OURS, SHARED]}
    assert crowded({"emails": [OURS, HOME]}, [parse_path(WORK_EMAIL)]) == {}


@pytest.mark.parametrize(("after", "expected"), [
    # our address changes: the list is replaced whole, the shared mailbox as it was
    (("ny@kolding.example",),
     [{"op": "replace", "path": "emails",
       "value": [{**OURS, "value": "ny@kolding.example"}, SHARED]}]),
    # our address goes: ours only
    ((), [{"op": "replace", "path": "emails", "value": [SHARED]}]),
])
def test_a_crowded_attribute_changes_only_syncds_element(after, expected):
    changes = [change(WORK_EMAIL, ("direktoer@kolding.example",), after)]
    found = {WORK_EMAIL: ("direktoer@kolding.example",)}
    ops = operations(USERS, changes, found, {"emails": [OURS, SHARED]})
    assert ops == expected
    assert all("[" not in op["path"] for op in ops)  # never a filter that picks both
