"""OS2mo test data from the Kolding demo dump, and the snapshot it must give.

`build()` reads OS2mo's public Kolding units and persons (both trees: Kolding Kommune and
Lønorganisation) from the shared data folder at test time, places the persons into units
itself (fixed seed) and adds what the dump lacks: engagements in both trees, managers (a
vacant one too), addresses of each visibility, leaves, associations, IT systems, IT users
and role bindings, with current, future, recently ended and long ended validities. It
gives the test server's data (validity intervals per collection, half-open as v29 gives
them) and, worked out on its own in inclusive days, the EQUIVALENT snapshot: what a
correct os2mo source must put in the store.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KOLDING = SHARED / "os2mo-kolding"
SCHEMA = SHARED / "os2mo-graphql" / "schema-v29.graphql"
WINDOW_DAYS = 31  # the source's from_days_back default
NAMESPACE = uuid.UUID("5c1d0e7a-3f0b-4c39-9a43-3a4c6a0c2b11")

Record = dict[str, Any]


def stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def moment(day: date | None) -> str | None:
    """A day's start as OS2mo writes it (Danish time, summer or winter)."""
    return None if day is None else datetime.combine(
        day, time(), ZoneInfo("Europe/Copenhagen")).isoformat()


@dataclass
class Built:
    data: dict[str, list[Record]] = field(default_factory=dict)  # the server's collections
    snapshot: dict[str, list[Record]] = field(default_factory=dict)  # what the store gets
    cprs: list[str] = field(default_factory=list)  # every person's CPR-like number

    def write_snapshot(self, path: Path) -> Path:
        path.write_text(json.dumps(self.snapshot, ensure_ascii=False, default=str),
                        encoding="utf-8")
        return path


class _Builder:
    def __init__(self, today: date, cpr: bool):
        self.today, self.cpr = today, cpr
        self.window = today - timedelta(days=WINDOW_DAYS)
        self.built = Built(data={name: [] for name in COLLECTIONS},
                           snapshot={kind: [] for kind in KINDS})
        self.classes: dict[str, str] = {}  # (facet/name) -> uuid

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def interval(self, collection: str, ident: str, first: date | None, last: date | None,
                 **fields: Any) -> bool:
        """One validity interval [first, last] (inclusive days) of object `ident`, served
        half-open; True where it reaches into the window, so the store gets it."""
        to = None if last is None else last + timedelta(days=1)
        self.built.data[collection].append(
            {"uuid": ident, "validity": {"from": moment(first), "to": moment(to)}, **fields})
        return last is None or last >= self.window

    def expect(self, kind: str, record: Record) -> None:
        self.built.snapshot[kind].append(record)

    def dated(self, kind: str, collection: str, ident: str, first: date, last: date | None,
              served: dict[str, Any], record: Record) -> None:
        if self.interval(collection, ident, first, last, **served):
            self.expect(kind, {"id": f"{ident}@{first.isoformat()}", **record,
                               "valid_from": first.isoformat(),
                               "valid_to": last.isoformat() if last else None})

    def klass(self, facet: str, name: str, scope: str | None = None,
              ended: date | None = None) -> dict[str, str]:
        """A facet's class; one `ended` long ago is still read where it is referred to."""
        key = f"{facet}/{name}"
        if key not in self.classes:
            self.classes[key] = ident = stable_uuid("class", key)
            self.interval("classes", ident, None, ended, name=name, scope=scope,
                          user_key=name)
        return {"uuid": self.classes[key]}


COLLECTIONS = ("classes", "org_units", "persons", "engagements", "associations", "managers",
               "addresses", "leaves", "rolebindings", "itsystems", "itusers")
KINDS = ("units", "persons", "engagements", "associations", "managers", "addresses",
         "leaves", "roles", "it_systems", "it_users")
JOBS = ("Lærer", "Pædagog", "Sagsbehandler", "Konsulent", "Sygeplejerske", "Økonom",
        "Social- og sundhedsassistent", "Specialkonsulent")


def kolding_units() -> list[dict[str, Any]]:
    """{uuid, name, parent} of each unit in the dump; a root's parent is the organisation."""
    dump = json.loads((KOLDING / "org_unit.json").read_text(encoding="utf-8"))
    out = []
    for item in dump["results"][0]:
        registration = item["registreringer"][0]
        out.append({"uuid": item["id"],
                    "name": registration["attributter"]["organisationenhedegenskaber"][0][
                        "enhedsnavn"],
                    "parent": registration["relationer"]["overordnet"][0]["uuid"]})
    return out


def kolding_persons() -> list[dict[str, str]]:
    """{uuid, given_name, surname, cpr} of each person in the dump."""
    dump = json.loads((KOLDING / "user.json").read_text(encoding="utf-8"))
    out = []
    for item in dump["results"][0]:
        registration = item["registreringer"][0]
        names = registration["attributter"]["brugerudvidelser"][0]
        urn = registration["relationer"]["tilknyttedepersoner"][0]["urn"]
        out.append({"uuid": item["id"], "given_name": names["fornavn"],
                    "surname": names["efternavn"], "cpr": urn.rsplit(":", 1)[1]})
    return out


def _more_persons(known: list[dict[str, str]], count: int, rng: random.Random
                  ) -> list[dict[str, str]]:
    """`count` persons beyond the dump, their names mixed from the dump's."""
    return [{"uuid": stable_uuid("person", n),
             "given_name": rng.choice(known)["given_name"],
             "surname": rng.choice(known)["surname"],
             "cpr": f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(40, 99)}"
                    f"{rng.randint(1000, 9999)}"} for n in range(count)]


def build(today: date, *, persons: int | None = None, cpr: bool = False,
          seed: int = 13) -> Built:
    """The server's data and the equivalent snapshot, as of `today`; `persons` more or
    fewer than the dump's 897 (the benchmark's 10,000), `cpr` whether the snapshot keeps
    CPR numbers (as the source's `cpr: true`)."""
    rng = random.Random(seed)
    builder = _Builder(today, cpr)
    units = _units(builder)
    people = kolding_persons()
    if persons is not None:
        people = people[:persons] + _more_persons(people, max(0, persons - len(people)), rng)
    _persons(builder, people)
    trees = _trees(units)
    _engagements(builder, rng, people, trees)
    _managers(builder, rng, people, trees["Kolding Kommune"])
    _addresses(builder, rng, people, trees["Kolding Kommune"])
    _leaves_and_associations(builder, rng, people, trees["Kolding Kommune"])
    _it(builder, rng, people, trees["Kolding Kommune"])
    builder.built.cprs = [person["cpr"] for person in people]
    return builder.built


def _units(builder: _Builder) -> list[dict[str, Any]]:
    units = kolding_units()
    known = {unit["uuid"] for unit in units}
    unit_type = builder.klass("org_unit_type", "Afdeling")
    renamed = units[5]  # a unit renamed next month: read as it is named today
    renamed_long_ago = units[6]  # before the window: still valid from its first day
    for unit in units:
        served = {"name": unit["name"], "user_key": unit["name"],
                  "parent_response": {"uuid": unit["parent"]},  # a root's: the organisation
                  "unit_type_response": unit_type}
        first = date(1960, 1, 1)
        if unit is renamed:
            builder.interval("org_units", unit["uuid"], first, builder.day(29), **served)
            served = {**served, "name": unit["name"] + " (ny)"}
            first = builder.day(30)
        if unit is renamed_long_ago:
            builder.interval("org_units", unit["uuid"], first, builder.day(-41), **served)
            served = {**served, "name": unit["name"] + " (ny)"}
            first = builder.day(-40)
        builder.interval("org_units", unit["uuid"], first, None, **served)
        builder.expect("units", {"id": unit["uuid"], "name": served["name"]
                                 if unit is renamed_long_ago else unit["name"],
                                 "parent": unit["parent"] if unit["parent"] in known else None,
                                 "unit_type": "Afdeling", "valid_from": "1960-01-01",
                                 "valid_to": None})
    ended = stable_uuid("unit", "ended")  # closed long ago: not read at all
    builder.interval("org_units", ended, date(2000, 1, 1), date(2010, 12, 31),
                     name="Nedlagt", user_key="Nedlagt", parent_response=None,
                     unit_type_response=unit_type)
    return units


def _trees(units: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Root name -> the uuids of the units below it (the root too)."""
    by_uuid = {unit["uuid"]: unit for unit in units}

    def root(unit: dict[str, Any]) -> dict[str, Any]:
        while unit["parent"] in by_uuid:
            unit = by_uuid[unit["parent"]]
        return unit

    trees: dict[str, list[str]] = {}
    for unit in units:
        trees.setdefault(root(unit)["name"], []).append(unit["uuid"])
    return trees


def _persons(builder: _Builder, people: list[dict[str, str]]) -> None:
    for n, person in enumerate(people):
        nickname = person["given_name"].split()[0] if n % 7 == 3 else None
        served = {"given_name": person["given_name"], "surname": person["surname"],
                  "name": f"{person['given_name']} {person['surname']}",
                  "nickname_given_name": nickname or "", "cpr_number": person["cpr"]}
        if n % 50 == 9:  # a new surname from next week: read as it is today
            builder.interval("persons", person["uuid"], date(1960, 1, 1), builder.day(6),
                             **served)
            builder.interval("persons", person["uuid"], builder.day(7), None,
                             **{**served, "surname": person["surname"] + "-Holm"})
        else:
            builder.interval("persons", person["uuid"], date(1960, 1, 1), None, **served)
        record = {"id": person["uuid"], "given_name": person["given_name"],
                  "surname": person["surname"], "nickname": nickname}
        if builder.cpr:
            record["extra"] = {"cpr": person["cpr"]}
        builder.expect("persons", record)


def _engagements(builder: _Builder, rng: random.Random, people: list[dict[str, str]],
                 trees: dict[str, list[str]]) -> None:
    """A primary engagement in Kolding Kommune for each person, one in Lønorganisation for
    half of them; some starting soon, some later, some ended lately, some long ago."""
    ansat, timeloen = (builder.klass("engagement_type", name) for name in ("Ansat", "Timeløn"))
    for n, person in enumerate(people):
        unit = rng.choice(trees["Kolding Kommune"])
        job = rng.choice(JOBS)
        if n % 10 == 7:  # a job function whose class was closed long ago
            job = "Kontorelev"
        first, last = {0: (date(2012, 8, 1), None), 1: (builder.day(7), None),
                       2: (builder.day(60), None), 3: (date(2015, 1, 1), builder.day(-3)),
                       4: (date(2014, 1, 1), builder.day(-200))}.get(n % 10, (
                           date(2005 + n % 15, 1 + n % 12, 1), None))
        served = {"user_key": f"E{n}", "is_primary": True,
                  "person_response": {"uuid": person["uuid"]},
                  "org_unit_response": {"uuid": unit},
                  "job_function_response": builder.klass(
                      "engagement_job_function", job,
                      ended=date(2010, 12, 31) if job == "Kontorelev" else None),
                  "engagement_type_response": ansat}
        record = {"person": person["uuid"], "unit": unit, "job_function": job,
                  "engagement_type": "Ansat", "primary": True}
        ident = stable_uuid("engagement", n)
        if n % 10 == 5:  # promoted lately: two intervals, both read
            builder.dated("engagements", "engagements", ident, first, builder.day(-11),
                          served, record)
            first, job = builder.day(-10), "Specialkonsulent"
            served = {**served,
                      "job_function_response": builder.klass("engagement_job_function", job)}
            record = {**record, "job_function": job}
        builder.dated("engagements", "engagements", ident, first, last, served, record)
        if n % 2 == 0:
            pay_unit = rng.choice(trees["Lønorganisation"])
            builder.dated(
                "engagements", "engagements", stable_uuid("pay", n), date(2018, 1, 1), None,
                {**served, "user_key": f"L{n}", "is_primary": False,
                 "org_unit_response": {"uuid": pay_unit}, "engagement_type_response": timeloen},
                {**record, "unit": pay_unit, "engagement_type": "Timeløn", "primary": False,
                 "job_function": job})


def _managers(builder: _Builder, rng: random.Random, people: list[dict[str, str]],
              units: list[str]) -> None:
    leader = builder.klass("manager_type", "Leder")
    duties = [builder.klass("responsibility", name) for name in ("Personale", "Budget")]
    for n, unit in enumerate(units[:20]):
        ident, person = stable_uuid("manager", n), people[(n * 37) % len(people)]
        vacant = n == 4
        served = {"user_key": f"M{n}", "org_unit_response": {"uuid": unit},
                  "person_response": None if vacant else {"uuid": person["uuid"]},
                  "manager_type_response": leader,
                  "responsibilities_response": {"objects": duties[: 1 + n % 2],
                                                "page_info": {"next_cursor": None}}}
        record = {"person": person["uuid"], "unit": unit, "manager_type": "Leder",
                  "responsibilities": ["Personale", "Budget"][: 1 + n % 2]}
        if vacant:  # a vacant post: served, and not in the store
            builder.interval("managers", ident, date(2020, 1, 1), None, **served)
        else:
            builder.dated("managers", "managers", ident, date(2020, 1, 1), None, served, record)


def _addresses(builder: _Builder, rng: random.Random, people: list[dict[str, str]],
               units: list[str]) -> None:
    types = {kind: builder.klass("address_type", name, scope) for kind, name, scope in (
        ("email", "Email", "EMAIL"), ("phone", "Telefon", "PHONE"),
        ("postal", "Postadresse", "DAR"), ("www", "Webadresse", "WWW"))}
    shown = {level: builder.klass("visibility", name, level.upper()) for level, name in (
        ("public", "Må vises eksternt"), ("internal", "Må vises internt"),
        ("secret", "Hemmelig"))}
    for n, person in enumerate(people):
        mail = f"{person['given_name'].split()[0].lower()}.{n}@kolding.example"
        for kind, value, level in (("email", mail, "public"),
                                   ("phone", f"+45 7979 {n % 10000:04d}", "internal"),
                                   ("email", f"privat.{n}@example.net", "secret")):
            if kind == "email" and level == "secret" and n % 5:
                continue
            _address(builder, stable_uuid("address", n, kind, level), person["uuid"], None,
                     types[kind], shown[level], value, value, (kind, level))
    for n, unit in enumerate(units):
        dar = stable_uuid("dar", n)  # DAR gives the address by uuid, its name is the text
        _address(builder, stable_uuid("unit-address", n), None, unit, types["postal"],
                 shown["public"], dar, f"Akseltorv {n + 1}, 6000 Kolding", ("postal", "public"),
                 name=f"Akseltorv {n + 1}, 6000 Kolding")
    _address(builder, stable_uuid("unit-www"), None, units[0], types["www"], None,
             "https://kolding.dk", "https://kolding.dk", ("www", "internal"))


def _address(builder: _Builder, ident: str, person: str | None, unit: str | None,
             address_type: dict[str, str], shown: dict[str, str] | None, value: str,
             expected: str, kind_level: tuple[str, str], name: str | None = None) -> None:
    served = {"user_key": value, "value": value, "name": name or value,
              "person_response": {"uuid": person} if person else None,
              "org_unit_response": {"uuid": unit} if unit else None,
              "address_type_response": address_type, "visibility_response": shown}
    builder.dated("addresses", "addresses", ident, date(2019, 1, 1), None, served,
                  {"owner": person or unit, "type": kind_level[0], "value": expected,
                   "visibility": kind_level[1]})


def _leaves_and_associations(builder: _Builder, rng: random.Random,
                             people: list[dict[str, str]], units: list[str]) -> None:
    barsel = builder.klass("leave_type", "Barsel")
    tr = builder.klass("association_type", "Tillidsrepræsentant")
    for n, person in enumerate(people[::40]):
        builder.dated("leaves", "leaves", stable_uuid("leave", n), builder.day(-10),
                      builder.day(100),
                      {"user_key": f"B{n}", "person_response": {"uuid": person["uuid"]},
                       "leave_type_response": barsel},
                      {"person": person["uuid"], "leave_type": "Barsel"})
    for n, person in enumerate(people[5::60]):
        unit = units[n % len(units)]
        builder.dated("associations", "associations", stable_uuid("association", n),
                      date(2021, 3, 1), None,
                      {"user_key": f"T{n}", "person_response": {"uuid": person["uuid"]},
                       "org_unit_response": {"uuid": unit}, "association_type_response": tr},
                      {"person": person["uuid"], "unit": unit,
                       "association_type": "Tillidsrepræsentant"})
    builder.interval("associations", stable_uuid("association", "it"), date(2021, 3, 1), None,
                     user_key="IT", person_response=None, org_unit_response={"uuid": units[0]},
                     association_type_response=tr)  # no person's: not in the store


def _it(builder: _Builder, rng: random.Random, people: list[dict[str, str]],
        units: list[str]) -> None:
    systems = {name: stable_uuid("itsystem", name)
               for name in ("Active Directory", "OS2rollekatalog")}
    systems["Gammelt lønsystem"] = stable_uuid("itsystem", "old")  # closed, still referred to
    for name, ident in systems.items():
        ended = date(2012, 12, 31) if name == "Gammelt lønsystem" else None
        builder.interval("itsystems", ident, None, ended, name=name, user_key=name)
        builder.expect("it_systems", {"id": ident, "name": name})
    admin = builder.klass("role", "Administrator")
    for n, person in enumerate(people):
        if n % 3 == 2:
            continue
        ident = stable_uuid("ituser", n)
        username = f"kk{n:05d}"
        system = systems["Gammelt lønsystem" if n % 30 == 1 else "Active Directory"]
        builder.dated("it_users", "itusers", ident, date(2019, 6, 1), None,
                      {"user_key": username, "external_id": stable_uuid("ad", n),
                       "person_response": {"uuid": person["uuid"]},
                       "itsystem_response": {"uuid": system}},
                      {"person": person["uuid"], "it_system": system,
                       "username": username, "external_id": stable_uuid("ad", n)})
        if n % 25 == 0:
            unit = units[n % len(units)]
            builder.dated("roles", "rolebindings", stable_uuid("role", n), date(2022, 1, 1),
                          None, {"user_key": f"R{n}", "ituser_response": {"uuid": ident},
                                 "org_unit_response": {"uuid": unit}, "role_response": admin},
                          {"person": person["uuid"], "unit": unit,
                           "role_type": "Administrator"})
    builder.interval("itusers", stable_uuid("ituser", "unit"), date(2019, 6, 1), None,
                     user_key="kolding-fællespostkasse", external_id=None, person_response=None,
                     itsystem_response={"uuid": systems["Active Directory"]},
                     org_unit_response={"uuid": units[0]})  # a unit's: no person's
