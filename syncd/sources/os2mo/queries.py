"""The GraphQL queries of the OS2mo source: one flat query per collection.

Date filters are not inherited by nested fields, so every collection is read on its own
and joined by uuid; relations are read through the `*_response { uuid }` fields, which
v29 keeps (the plain `person`, `org_unit`, ... are deprecated). Each object comes back
once per validity interval (`validities(start:, end: null)`), current and future ones
alike; how far back is the collection's span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VALIDITY = "validity { from to }"

# which objects, and which of their intervals, a collection is read with:
#   window:  those valid on or after the window's start, their intervals from it on
#   history: those same objects, with every interval (a unit's valid_from is its first day)
#   all:     every object there ever was, every interval (classes and IT systems: few, and
#            referred to long after they end)
Span = Literal["window", "history", "all"]


@dataclass(frozen=True)
class Collection:
    name: str  # the field of Query, e.g. org_units
    operation: str  # the query's name, for OS2mo's logs and syncd's messages
    fields: str  # what is read of each validity interval
    span: Span = "window"

    @property
    def windowed(self) -> bool:
        """Whether the query takes the window's start as $from."""
        return self.span != "all"

    def query(self) -> str:
        objects = "null" if self.span == "all" else "$from"
        intervals = "$from" if self.span == "window" else "null"
        start = ", $from: DateTime" if self.windowed else ""
        return (
            f"query {self.operation}($limit: int, $cursor: Cursor{start}) {{\n"
            f"  {self.name}(limit: $limit, cursor: $cursor,"
            f" filter: {{from_date: {objects}, to_date: null}}) {{\n"
            f"    objects {{ uuid validities(start: {intervals}, end: null)"
            f" {{ {self.fields} }} }}\n"
            f"    page_info {{ next_cursor }}\n"
            f"  }}\n"
            f"}}\n"
        )


def _uuid(*relations: str) -> str:
    return " ".join(f"{relation} {{ uuid }}" for relation in relations)


CLASSES = Collection("classes", "SyncdClasses", f"uuid name scope {VALIDITY}", "all")
ORG_UNITS = Collection("org_units", "SyncdOrgUnits",
                       f"uuid name {_uuid('parent_response', 'unit_type_response')} {VALIDITY}",
                       "history")
ENGAGEMENTS = Collection(
    "engagements", "SyncdEngagements",
    f"uuid is_primary {_uuid('person_response', 'org_unit_response', 'job_function_response')}"
    f" {_uuid('engagement_type_response')} {VALIDITY}")
ASSOCIATIONS = Collection(
    "associations", "SyncdAssociations",
    f"uuid {_uuid('person_response', 'org_unit_response', 'association_type_response')}"
    f" {VALIDITY}")
MANAGERS = Collection(
    "managers", "SyncdManagers",
    f"uuid {_uuid('person_response', 'org_unit_response', 'manager_type_response')}"
    f" responsibilities_response {{ objects {{ uuid }} }} {VALIDITY}")
ADDRESSES = Collection(
    "addresses", "SyncdAddresses",
    f"uuid value name {_uuid('person_response', 'org_unit_response')}"
    f" {_uuid('address_type_response', 'visibility_response')} {VALIDITY}")
LEAVES = Collection("leaves", "SyncdLeaves",
                    f"uuid {_uuid('person_response', 'leave_type_response')} {VALIDITY}")
ROLE_BINDINGS = Collection(
    "rolebindings", "SyncdRoleBindings",
    f"uuid {_uuid('ituser_response', 'org_unit_response', 'role_response')} {VALIDITY}")
IT_SYSTEMS = Collection("itsystems", "SyncdItSystems", f"uuid name {VALIDITY}", "all")
IT_USERS = Collection(
    "itusers", "SyncdItUsers",
    f"uuid user_key external_id {_uuid('person_response', 'itsystem_response')} {VALIDITY}")


def persons(cpr: bool) -> Collection:
    """The CPR number is asked for only where the config keeps it: never read is never
    leaked, and a client without the right to it still reads the rest."""
    fields = f"uuid given_name surname nickname_given_name{' cpr_number' if cpr else ''}"
    return Collection("persons", "SyncdPersons", f"{fields} {VALIDITY}")
