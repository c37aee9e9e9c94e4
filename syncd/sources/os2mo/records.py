"""OS2mo's objects as the snapshot's records: pure, so that it is tested without a server.

Each collection comes as a list of `{uuid, validities: [object, ...]}`, one object per
validity interval. A dated relation (an engagement, a manager post, an address, ...) is
one record per interval, with id `UUID@FIRST-DAY`: stable from read to read, and unique
where an object has several intervals (intervals starting on the same day are one record:
that day's last). A unit, a person, an IT system is one record per uuid (others refer to
it by uuid): its values are those of the interval of today (else the next one to come,
else the last), and a unit's validity spans all its intervals. Days are those of the
configured time zone (OS2mo's is Danish), whatever offset a timestamp is written with.
Facet classes are resolved to their names; an address's kind and visibility come from
the scopes of its classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

Object = dict[str, Any]  # one validity interval of an OS2mo object, as the API gives it
Responses = list[Object]  # what one collection gave: {uuid, validities}
Record = dict[str, Any]

# an address type class's scope -> the snapshot's address type
ADDRESS_TYPES = {"EMAIL": "email", "PHONE": "phone", "DAR": "postal", "WWW": "www",
                 "EAN": "ean", "PNUMBER": "pnumber", "TEXT": "text", "MULTIFIELD_TEXT": "text"}
# a visibility class's scope -> the snapshot's visibility; an unknown one is kept secret
VISIBILITIES = {"PUBLIC": "public", "INTERNAL": "internal", "SECRET": "secret"}
NO_VISIBILITY = "internal"  # an address without a visibility class


ALWAYS = datetime.min.replace(tzinfo=UTC)  # where an interval without a start sorts


def local_time(moment: str, zone: tzinfo) -> datetime:
    """`moment` in `zone`: 2026-02-28T23:00Z is 2026-03-01 in Copenhagen. One written
    without an offset is taken as the zone's own time."""
    parsed = datetime.fromisoformat(moment)
    return parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)


def first_day(moment: str | None, zone: tzinfo) -> date | None:
    """The first valid day of an interval starting at `moment` (None: always)."""
    return None if moment is None else local_time(moment, zone).date()


def last_day(moment: str | None, zone: tzinfo) -> date | None:
    """The store's inclusive last day of an interval that v29 gives half-open, `[from,
    to)`: a `to` of 2026-03-01T00:00 was last valid on 2026-02-28. None: open."""
    if moment is None:
        return None
    return (local_time(moment, zone) - timedelta(microseconds=1)).date()


def interval_id(item: Object, zone: tzinfo) -> str:
    return f"{item['uuid']}@{first_day(item['validity']['from'], zone)}"


def ref(item: Object, relation: str) -> str | None:
    """The uuid a `*_response { uuid }` relation names, if any."""
    target = item.get(relation)
    return str(target["uuid"]) if target else None


def _dates(item: Object, zone: tzinfo) -> Record:
    validity = item["validity"]
    return {"valid_from": first_day(validity["from"], zone),
            "valid_to": last_day(validity["to"], zone)}


def _in_order(validities: list[Object], zone: tzinfo) -> list[Object]:
    def starts(item: Object) -> datetime:
        moment = item["validity"]["from"]
        return ALWAYS if moment is None else local_time(moment, zone)

    return sorted(validities, key=starts)


def by_day(validities: list[Object], zone: tzinfo) -> list[Object]:
    """One interval per first day: the day's last. An edit at 10:00 gives [00:00, 10:00)
    and [10:00, ...); the first, superseded the day it began, is dropped, so that the ids
    `UUID@DAY` stay unique and the same from read to read."""
    last_of_day = {first_day(item["validity"]["from"], zone): item
                   for item in _in_order(validities, zone)}
    return list(last_of_day.values())


def _intervals(read: Read, name: str) -> Iterator[Object]:
    for response in read.of(name):
        yield from by_day(response["validities"], read.zone)


def representative(validities: list[Object], today: date, zone: tzinfo) -> Object | None:
    """The interval of today, else the first still to come, else the last one."""
    ordered = by_day(validities, zone)
    for item in ordered:
        end = last_day(item["validity"]["to"], zone)
        if end is None or end >= today:
            return item
    return ordered[-1] if ordered else None


@dataclass(frozen=True)
class Classes:
    """Facet classes by uuid: what a relation to a class means in words."""

    by_uuid: dict[str, Object]

    @classmethod
    def of(cls, responses: Responses, today: date, zone: tzinfo) -> Classes:
        found = {str(r["uuid"]): representative(r["validities"], today, zone)
                 for r in responses}
        return cls({uuid: item for uuid, item in found.items() if item is not None})

    def name(self, uuid: str | None) -> str | None:
        found = self.by_uuid.get(uuid or "")
        return found["name"] if found else None

    def scope(self, uuid: str | None) -> str | None:
        found = self.by_uuid.get(uuid or "")
        return found.get("scope") if found else None


@dataclass(frozen=True)
class Read:
    """What the collections gave, by the Query field's name, the day it was read and the
    time zone whose days the records are in."""

    collections: dict[str, Responses]
    today: date
    zone: tzinfo
    cpr: bool = False

    def of(self, name: str) -> Responses:
        return self.collections.get(name, [])


def units(read: Read, classes: Classes) -> list[Record]:
    """Roots point to the organisation, which is no unit: a parent not read is none."""
    known = {str(r["uuid"]) for r in read.of("org_units")}
    out = []
    for response in read.of("org_units"):
        item = representative(response["validities"], read.today, read.zone)
        if item is None:
            continue
        parent = ref(item, "parent_response")
        out.append({"id": str(response["uuid"]), "name": item["name"],
                    "parent": parent if parent in known else None,
                    "unit_type": classes.name(ref(item, "unit_type_response")),
                    **_span(response["validities"], read.zone)})
    return out


def _span(validities: list[Object], zone: tzinfo) -> Record:
    starts = [first_day(v["validity"]["from"], zone) for v in validities]
    ends = [last_day(v["validity"]["to"], zone) for v in validities]
    return {"valid_from": None if None in starts else min(d for d in starts if d),
            "valid_to": None if None in ends else max(d for d in ends if d)}


def persons(read: Read, classes: Classes) -> list[Record]:
    out = []
    for response in read.of("persons"):
        item = representative(response["validities"], read.today, read.zone)
        if item is None:
            continue
        record = {"id": str(response["uuid"]), "given_name": item["given_name"],
                  "surname": item["surname"], "nickname": item.get("nickname_given_name") or None}
        if read.cpr and item.get("cpr_number"):
            record["extra"] = {"cpr": item["cpr_number"]}
        out.append(record)
    return out


def engagements(read: Read, classes: Classes) -> list[Record]:
    return [{"id": interval_id(item, read.zone), "person": ref(item, "person_response"),
             "unit": ref(item, "org_unit_response"),
             "job_function": classes.name(ref(item, "job_function_response")),
             "engagement_type": classes.name(ref(item, "engagement_type_response")),
             "primary": bool(item["is_primary"]), **_dates(item, read.zone)}
            for item in _intervals(read, "engagements")]


def associations(read: Read, classes: Classes) -> list[Record]:
    """An association without a person (an IT association) is no person's."""
    return [{"id": interval_id(item, read.zone), "person": ref(item, "person_response"),
             "unit": ref(item, "org_unit_response"),
             "association_type": classes.name(ref(item, "association_type_response")),
             **_dates(item, read.zone)}
            for item in _intervals(read, "associations") if ref(item, "person_response")]


def managers(read: Read, classes: Classes) -> list[Record]:
    """Vacant posts (no person) are left out: nobody's account follows from them."""
    out = []
    for item in _intervals(read, "managers"):
        if not ref(item, "person_response"):
            continue
        duties = (item.get("responsibilities_response") or {}).get("objects") or []
        names = [name for duty in duties if (name := classes.name(str(duty["uuid"])))]
        out.append({"id": interval_id(item, read.zone), "person": ref(item, "person_response"),
                    "unit": ref(item, "org_unit_response"),
                    "manager_type": classes.name(ref(item, "manager_type_response")),
                    "responsibilities": names or None, **_dates(item, read.zone)})
    return out


def addresses(read: Read, classes: Classes) -> list[Record]:
    out = []
    for item in _intervals(read, "addresses"):
        owner = ref(item, "person_response") or ref(item, "org_unit_response")
        if owner is None:
            continue
        scope = classes.scope(ref(item, "address_type_response"))
        out.append({"id": interval_id(item, read.zone), "owner": owner,
                    "type": address_type(scope),
                    "value": item.get("name") if scope == "DAR" and item.get("name")
                    else item["value"],
                    "visibility": visibility(classes, ref(item, "visibility_response")),
                    **_dates(item, read.zone)})
    return out


def address_type(scope: str | None) -> str:
    """email, phone, postal (a DAR address), ... from the address type's scope."""
    if scope is None:
        return "text"
    return ADDRESS_TYPES.get(scope, scope.lower())


def visibility(classes: Classes, uuid: str | None) -> str:
    """public, internal or secret from the visibility class's scope; a class syncd does
    not know is kept secret rather than shown."""
    if uuid is None:
        return NO_VISIBILITY
    return VISIBILITIES.get(classes.scope(uuid) or "", "secret")


def leaves(read: Read, classes: Classes) -> list[Record]:
    return [{"id": interval_id(item, read.zone), "person": ref(item, "person_response"),
             "leave_type": classes.name(ref(item, "leave_type_response")),
             **_dates(item, read.zone)}
            for item in _intervals(read, "leaves")]


def roles(read: Read, classes: Classes) -> list[Record]:
    """A role is bound to an IT user; its person is that IT user's person."""
    owners = {str(item["uuid"]): person for item in _intervals(read, "itusers")
              if (person := ref(item, "person_response"))}
    return [{"id": interval_id(item, read.zone), "person": owners[ituser],
             "unit": ref(item, "org_unit_response"),
             "role_type": classes.name(ref(item, "role_response")), **_dates(item, read.zone)}
            for item in _intervals(read, "rolebindings")
            if (ituser := ref(item, "ituser_response") or "") in owners]


def it_systems(read: Read, classes: Classes) -> list[Record]:
    return [{"id": str(response["uuid"]), "name": item["name"]}
            for response in read.of("itsystems")
            if (item := representative(response["validities"], read.today, read.zone))]


def it_users(read: Read, classes: Classes) -> list[Record]:
    return [{"id": interval_id(item, read.zone), "person": ref(item, "person_response"),
             "it_system": ref(item, "itsystem_response"), "username": item["user_key"],
             "external_id": item.get("external_id"), **_dates(item, read.zone)}
            for item in _intervals(read, "itusers") if ref(item, "person_response")]


KindMapper = Callable[[Read, Classes], list[Record]]
# the snapshot's kind -> its records from what was read
MAPPERS: dict[str, KindMapper] = {
    "units": units, "persons": persons, "engagements": engagements,
    "associations": associations, "managers": managers, "addresses": addresses,
    "leaves": leaves, "roles": roles, "it_systems": it_systems, "it_users": it_users,
}


def records(read: Read) -> dict[str, list[Record]]:
    """Every kind's records from what the collections gave."""
    classes = Classes.of(read.of("classes"), read.today, read.zone)
    return {kind: mapper(read, classes) for kind, mapper in MAPPERS.items()}


# the snapshot's kind -> the collection it is read from (where its problems are reported)
COLLECTION_OF = {"units": "org_units", "persons": "persons", "engagements": "engagements",
                 "associations": "associations", "managers": "managers",
                 "addresses": "addresses", "leaves": "leaves", "roles": "rolebindings",
                 "it_systems": "itsystems", "it_users": "itusers"}
