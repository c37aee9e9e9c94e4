"""SCIM attribute paths and the schema they are checked against, as pure functions:
hand-built resources and schemas, no server."""

from __future__ import annotations

from typing import Any

import pytest

from syncd.objects import GROUP, USER
from syncd.targets.scim.paths import ENTERPRISE, AttrPath, PathError, parse_path
from syncd.targets.scim.schema import CORE_GROUP, CORE_USER, builtin_schema, provider_schema

EXAMPLE = "urn:example:params:scim:schemas:extension:badge:2.0:User"

USER_JSON: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE],
    "id": "2819c223",
    "userName": "åse.øster",
    "Name": {"givenName": "Åse", "FamilyName": "Øster-李"},
    "active": False,
    "emails": [{"type": "Work", "value": "ase@example.org", "primary": True},
               {"type": "home", "value": "ase@home.example"}],
    "phoneNumbers": [{"type": "work", "value": "+45 1234"},
                     {"type": "mobile", "value": "+45 5678", "primary": False}],
    "ims": [{"type": 'say "hi"', "value": "quoted"}],
    ENTERPRISE.upper(): {"employeeNumber": "1001",
                         "manager": {"value": "m-1", "displayName": "Boss"}},
    "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z"},
}
GROUP_JSON: dict[str, Any] = {
    "schemas": [CORE_GROUP], "id": "g-1", "displayName": "Lærere",
    "members": [{"value": "2819c223", "display": "Åse"}, {"value": "m-1"}],
}


@pytest.mark.parametrize(("text", "urn", "attribute", "where", "sub"), [
    ("userName", None, "userName", None, None),
    ("name.givenName", None, "name", None, "givenName"),
    ('emails[type eq "work"].value', None, "emails", ("type", "work"), "value"),
    ('emails[ TYPE  EQ  "work" ].value', None, "emails", ("TYPE", "work"), "value"),
    ('ims[type eq "say \\"hi\\""].value', None, "ims", ("type", 'say "hi"'), "value"),
    ('ims[type eq "a\\\\b"].value', None, "ims", ("type", "a\\b"), "value"),
    (f"{ENTERPRISE}:employeeNumber", ENTERPRISE, "employeeNumber", None, None),
    (f"{ENTERPRISE}:manager", ENTERPRISE, "manager", None, None),
    (f"{ENTERPRISE}:manager.displayName", ENTERPRISE, "manager", None, "displayName"),
    (f"{CORE_USER}:userName", CORE_USER, "userName", None, None),
    ("members", None, "members", None, None),
    ("  userName ", None, "userName", None, None),
])
def test_a_path_is_parsed_into_its_parts(text, urn, attribute, where, sub):
    path = parse_path(text)
    assert (path.urn, path.attribute, path.where, path.sub) == (urn, attribute, where, sub)
    assert path.text == text.strip()


@pytest.mark.parametrize("text", [
    "", "user name", "name..givenName", 'emails[type eq work].value',
    'emails[type = "work"].value', 'emails[type eq "work"', "name.given.name",
    f"{ENTERPRISE}:", '"userName"', 'ims[type eq "a"b"].value',
])
def test_a_text_that_is_no_scim_path_is_refused(text):
    with pytest.raises(PathError, match="is not a SCIM attribute path"):
        parse_path(text)


@pytest.mark.parametrize(("text", "values"), [
    ("userName", ("åse.øster",)),
    ("USERNAME", ("åse.øster",)),
    ("name.givenName", ("Åse",)),
    ("NAME.familyname", ("Øster-李",)),
    ("active", ("false",)),
    ('emails[type eq "work"].value', ("ase@example.org",)),
    ('emails[TYPE eq "WORK"].primary', ("true",)),
    ('emails[type eq "home"].value', ("ase@home.example",)),
    ('emails[type eq "home"].primary', ()),
    ('emails[type eq "other"].value', ()),
    ('emails[primary eq "true"].value', ("ase@example.org",)),
    ('phoneNumbers[primary eq "false"].value', ("+45 5678",)),
    ('phoneNumbers[type eq "mobile"].primary', ("false",)),
    ('ims[type eq "say \\"hi\\""].value', ("quoted",)),
    ("emails", ("ase@example.org", "ase@home.example")),
    (f"{ENTERPRISE}:employeeNumber", ("1001",)),
    (f"{ENTERPRISE}:manager", ("m-1",)),
    (f"{ENTERPRISE}:manager.displayName", ("Boss",)),
    (f"{CORE_USER}:userName", ("åse.øster",)),
    (f"{CORE_USER}:name.givenName", ("Åse",)),
    ("nickName", ()),
    ("name.middleName", ()),
    (f"{ENTERPRISE}:department", ()),
    ("urn:example:none:User:badge", ()),
    ("userName.value", ()),
    ("x509Certificates", ()),
])
def test_a_user_path_reads_its_values_as_text(text, values):
    assert parse_path(text).read(USER_JSON) == values


@pytest.mark.parametrize(("text", "values"), [
    ("members", ("2819c223", "m-1")),
    ("Members.value", ("2819c223", "m-1")),
    ("members.display", ("Åse",)),
    ("displayName", ("Lærere",)),
    (f"{CORE_GROUP}:displayName", ("Lærere",)),
])
def test_a_group_path_reads_its_values_as_text(text, values):
    assert parse_path(text).read(GROUP_JSON) == values


def test_a_filter_value_that_is_no_json_string_is_refused():
    with pytest.raises(PathError, match=r'"a\\qb" is not a JSON string'):
        parse_path('emails[type eq "a\\qb"].value')


def test_a_path_is_parsed_once():
    assert parse_path("userName") is parse_path("userName")
    assert isinstance(parse_path("userName"), AttrPath)


# --- the schema a path is checked against --------------------------------------------

USERS, GROUPS = builtin_schema().users, builtin_schema().groups


@pytest.mark.parametrize(("kind", "text"), [
    (USER, "userName"), (USER, "USERNAME"), (USER, "externalId"), (USER, "active"),
    (USER, "name.givenName"), (USER, "Name.FamilyName"), (USER, 'emails[type eq "work"].value'),
    (USER, 'emails[type eq "work"].primary'), (USER, 'phoneNumbers[type eq "work"].value'),
    (USER, 'addresses[type eq "work"].locality'), (USER, "emails"), (USER, "password"),
    (USER, f"{ENTERPRISE}:employeeNumber"), (USER, f"{ENTERPRISE}:manager"),
    (USER, f"{ENTERPRISE}:manager.value"), (USER, f"{CORE_USER}:userName"),
    (GROUP, "displayName"), (GROUP, "members"), (GROUP, "externalId"),
    (GROUP, f"{CORE_GROUP}:displayName"),
])
def test_a_writable_path_has_no_problem(kind, text):
    assert builtin_schema().of(kind).problem(text) is None


@pytest.mark.parametrize(("kind", "text", "problem"), [
    (USER, "nickname.", "is not a SCIM attribute path"),
    (USER, "favouriteColour", "User resources have no attribute 'favouriteColour'"),
    (GROUP, "userName", "Group resources have no attribute 'userName'"),
    (USER, "id", "'id' is read-only: the provider sets it"),
    (GROUP, "ID", "'ID' is read-only: the provider sets it"),
    (USER, "meta", "'meta' is read-only: the provider sets it"),
    (USER, "meta.lastModified", "'meta.lastModified' is read-only: the provider sets it"),
    (GROUP, "meta.created", "'meta.created' is read-only: the provider sets it"),
    (USER, "groups", "'groups' is read-only: the provider sets it"),
    (USER, f"{ENTERPRISE}:manager.displayName", "is read-only: the provider sets it"),
    (USER, "employeeNumber",
     f"User resources have no attribute 'employeeNumber' (did you mean "
     f"{ENTERPRISE}:employeeNumber?)"),
    (USER, "manager", f"(did you mean {ENTERPRISE}:manager?)"),
    (USER, "costCenter", f"(did you mean {ENTERPRISE}:costCenter?)"),
    (USER, "name", "'name': name is complex: name one of its sub-attributes "
                   "(formatted, familyName, givenName"),
    (USER, "name.nickName", "'name.nickName': name has no sub-attribute 'nickName'"),
    (USER, f"{ENTERPRISE}:manager.id", "manager has no sub-attribute 'id'"),
    (USER, "userName.value", "'userName.value': userName is not complex; it has no "
                             "sub-attributes"),
    (USER, "emails.value", 'pick one element of emails, e.g. emails[type eq "work"].value'),
    (USER, 'emails[type eq "work"]', "name the sub-attribute to write, e.g. "
                                     'emails[type eq "work"].value'),
    (USER, 'name[type eq "x"].givenName', "picks elements of a multi-valued complex "
                                          "attribute by a sub-attribute it has"),
    (USER, 'emails[colour eq "red"].value', "picks elements of a multi-valued complex"),
    (USER, 'emails[type eq "work"].colour', "emails has no sub-attribute 'colour'"),
    (USER, "urn:example:none:User:badge", "User resources have no schema urn:example:none:User"),
    (GROUP, f"{ENTERPRISE}:employeeNumber", f"Group resources have no schema {ENTERPRISE}"),
    (GROUP, f"{CORE_USER}:userName", f"Group resources have no schema {CORE_USER}"),
    (USER, f"{ENTERPRISE}:badge", "User resources have no attribute 'badge'"),
])
def test_a_path_the_schema_refuses_says_why(kind, text, problem):
    found = builtin_schema().of(kind).problem(text)
    assert found is not None and problem in found, found


# A provider's own /Schemas and /ResourceTypes: a badge extension on its Users, and no
# Group resource type described (taken as RFC 7643 has it).
SCHEMAS = [
    {"id": CORE_USER, "attributes": [
        {"name": "userName", "type": "string", "mutability": "readWrite"},
        {"name": "active", "type": "boolean"},
        {"name": "emails", "type": "complex", "multiValued": True, "subAttributes": [
            {"name": "value", "type": "string"}, {"name": "type", "type": "string"}]},
    ]},
    {"id": EXAMPLE, "attributes": [
        {"name": "badge", "type": "integer"},
        {"name": "issuedBy", "type": "string", "mutability": "readOnly"},
    ]},
]
RESOURCE_TYPES = [{"name": "User", "schema": CORE_USER,
                   "schemaExtensions": [{"schema": EXAMPLE}, {"schema": "urn:unknown"}]}]


@pytest.mark.parametrize(("kind", "text", "problem"), [
    (USER, "userName", None),
    (USER, f"{EXAMPLE}:badge", None),
    (USER, "badge", f"(did you mean {EXAMPLE}:badge?)"),
    (USER, f"{EXAMPLE}:issuedBy", "is read-only: the provider sets it"),
    (USER, 'emails[type eq "work"].primary', "emails has no sub-attribute 'primary'"),
    (USER, "name.givenName", "User resources have no attribute 'name'"),
    (USER, f"{ENTERPRISE}:employeeNumber", f"User resources have no schema {ENTERPRISE}"),
    (USER, "urn:unknown:x", "User resources have no schema urn:unknown"),
    (USER, "id", "is read-only"),
    (USER, "meta.version", "is read-only"),
    (GROUP, "members", None),
    (GROUP, "displayName", None),
])
def test_a_provider_schema_checks_paths_by_what_it_publishes(kind, text, problem):
    schema = provider_schema(SCHEMAS, RESOURCE_TYPES)
    found = schema.of(kind).problem(text)
    assert found == problem if problem is None else (found and problem in found), found
    assert schema.source == "the provider's /Schemas"
