"""The pure parts of the os2mo source: v29's dates, OS2mo's objects as records, its
config, and what a GraphQL error says. No server."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
from pydantic import ValidationError

from syncd.sources.os2mo import Os2moSource
from syncd.sources.os2mo.reader import refused, worth_retrying
from syncd.sources.os2mo.records import (
    Classes,
    Read,
    address_type,
    first_day,
    last_day,
    records,
    representative,
    visibility,
)

TODAY = date(2026, 12, 2)
ZONE = ZoneInfo("Europe/Copenhagen")


@pytest.mark.parametrize(("to", "last"), [
    (None, None),
    ("2026-03-01T00:00:00+01:00", date(2026, 2, 28)),  # half-open: the day before
    ("2024-03-01T00:00:00+01:00", date(2024, 2, 29)),  # a leap year
    ("2027-01-01T00:00:00+01:00", date(2026, 12, 31)),
    ("2026-03-01T12:00:00+01:00", date(2026, 3, 1)),  # valid for part of the day
    ("2026-03-01", date(2026, 2, 28)),
    ("2026-07-01T00:00:00+02:00", date(2026, 6, 30)),  # summer time
    ("2026-02-28T23:00:00Z", date(2026, 2, 28)),  # Copenhagen's midnight, in UTC
    ("2026-06-30T22:00:00Z", date(2026, 6, 30)),
])
def test_half_open_to_is_the_inclusive_last_day(to: str | None, last: date | None) -> None:
    assert last_day(to, ZONE) == last


@pytest.mark.parametrize(("start", "first"), [
    (None, None),
    ("2026-03-01T00:00:00+01:00", date(2026, 3, 1)),
    ("2026-07-01T00:00:00+02:00", date(2026, 7, 1)),  # summer time
    ("2026-02-28T23:00:00Z", date(2026, 3, 1)),  # Copenhagen's midnight, in UTC
    ("2026-06-30T22:00:00+00:00", date(2026, 7, 1)),
    ("2026-03-01T08:00:00", date(2026, 3, 1)),  # no offset: Copenhagen's own time
])
def test_from_is_the_first_day_in_copenhagen(start: str | None, first: date | None) -> None:
    assert first_day(start, ZONE) == first


def _validity(start: str | None, end: str | None, **fields: Any) -> dict[str, Any]:
    return {"validity": {"from": start, "to": end}, **fields}


@pytest.mark.parametrize(("intervals", "chosen"), [
    ([_validity("2020-01-01", None, n=1)], 1),
    ([_validity("2020-01-01", "2026-12-10", n=1), _validity("2026-12-10", None, n=2)], 1),
    ([_validity("2026-12-10", None, n=2), _validity("2020-01-01", "2026-12-10", n=1)], 1),
    ([_validity("2020-01-01", "2026-12-02", n=1), _validity("2026-12-02", None, n=2)], 2),
    ([_validity("2027-01-01", None, n=2), _validity("2027-06-01", None, n=3)], 2),  # to come
    ([_validity("2019-01-01", "2020-01-01", n=1), _validity("2020-01-01", "2021-01-01", n=2)],
     2),  # ended: the last
])
def test_representative_interval(intervals: list[dict[str, Any]], chosen: int) -> None:
    found = representative(intervals, TODAY, ZONE)
    assert found is not None and found["n"] == chosen


CLASSES = Classes({
    "c-public": {"name": "Må vises eksternt", "scope": "PUBLIC"},
    "c-internal": {"name": "Må vises internt", "scope": "INTERNAL"},
    "c-secret": {"name": "Hemmelig", "scope": "SECRET"},
    "c-odd": {"name": "Særlig", "scope": "SPECIAL"},
    "c-lærer": {"name": "Lærer", "scope": None},
})


@pytest.mark.parametrize(("uuid", "shown"), [
    ("c-public", "public"), ("c-internal", "internal"), ("c-secret", "secret"),
    (None, "internal"),  # no visibility class
    ("c-odd", "secret"),  # a scope syncd does not know: kept secret
    ("c-unknown", "secret"),  # a class not read
])
def test_visibility_from_the_class_scope(uuid: str | None, shown: str) -> None:
    assert visibility(CLASSES, uuid) == shown


@pytest.mark.parametrize(("scope", "kind"), [
    ("EMAIL", "email"), ("PHONE", "phone"), ("DAR", "postal"), ("WWW", "www"),
    ("EAN", "ean"), ("PNUMBER", "pnumber"), ("TEXT", "text"), ("MULTIFIELD_TEXT", "text"),
    ("INSTITUTION", "institution"), (None, "text"),
])
def test_address_type_from_the_class_scope(scope: str | None, kind: str) -> None:
    assert address_type(scope) == kind


def _response(uuid: str, *intervals: dict[str, Any]) -> dict[str, Any]:
    return {"uuid": uuid, "validities": [{"uuid": uuid, **item} for item in intervals]}


def _class(uuid: str, name: str, scope: str | None = None) -> dict[str, Any]:
    return _response(uuid, _validity(None, None, name=name, scope=scope))


OPEN = ("2020-01-01T00:00:00+01:00", None)
READ = Read(today=TODAY, zone=ZONE, cpr=False, collections={
    "classes": [_class("job", "Lærer"), _class("type", "Ansat"), _class("lead", "Leder"),
                _class("duty", "Personale"), _class("mail", "Email", "EMAIL"),
                _class("dar", "Postadresse", "DAR"), _class("pub", "Ekstern", "PUBLIC"),
                _class("role", "Administrator")],
    "org_units": [_response("root", _validity(*OPEN, name="Kolding Kommune",
                                              parent_response={"uuid": "the-organisation"},
                                              unit_type_response=None)),
                  _response("u1", _validity(*OPEN, name="Skole", parent_response={"uuid": "root"},
                                            unit_type_response=None))],
    "persons": [_response("p1", _validity(None, None, given_name="Åse", surname="Ærø",
                                          nickname_given_name="", cpr_number="0101011234"))],
    "engagements": [_response(
        "e1",
        _validity("2020-01-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00", is_primary=True,
                  person_response={"uuid": "p1"}, org_unit_response={"uuid": "u1"},
                  job_function_response={"uuid": "job"}, engagement_type_response=None),
        _validity("2026-12-01T00:00:00+01:00", None, is_primary=False,
                  person_response={"uuid": "p1"}, org_unit_response={"uuid": "u1"},
                  job_function_response={"uuid": "job"},
                  engagement_type_response={"uuid": "type"}))],
    "managers": [
        _response("m1", _validity(*OPEN, person_response={"uuid": "p1"},
                                  org_unit_response={"uuid": "u1"},
                                  manager_type_response={"uuid": "lead"},
                                  responsibilities_response={"objects": [{"uuid": "duty"}]})),
        _response("vacant", _validity(*OPEN, person_response=None,
                                      org_unit_response={"uuid": "root"},
                                      manager_type_response={"uuid": "lead"},
                                      responsibilities_response={"objects": []}))],
    "addresses": [
        _response("a1", _validity(*OPEN, value="aase@kolding.dk", name="aase@kolding.dk",
                                  person_response={"uuid": "p1"}, org_unit_response=None,
                                  address_type_response={"uuid": "mail"},
                                  visibility_response={"uuid": "pub"})),
        _response("a2", _validity(*OPEN, value="0a3f50a0-dar", name="Akseltorv 1, 6000 Kolding",
                                  person_response=None, org_unit_response={"uuid": "u1"},
                                  address_type_response={"uuid": "dar"},
                                  visibility_response=None))],
    "itusers": [_response("i1", _validity(*OPEN, user_key="aase", external_id="guid-1",
                                          person_response={"uuid": "p1"},
                                          itsystem_response={"uuid": "ad"})),
                _response("i2", _validity(*OPEN, user_key="fælles", external_id=None,
                                          person_response=None,
                                          itsystem_response={"uuid": "ad"}))],
    "rolebindings": [
        _response("r1", _validity(*OPEN, ituser_response={"uuid": "i1"},
                                  org_unit_response=None, role_response={"uuid": "role"})),
        _response("r2", _validity(*OPEN, ituser_response={"uuid": "i2"},
                                  org_unit_response=None, role_response={"uuid": "role"}))],
    "itsystems": [_response("ad", _validity(None, None, name="Active Directory"))],
})
D2020 = date(2020, 1, 1)


@pytest.mark.parametrize(("kind", "expected"), [
    ("units", [
        {"id": "root", "name": "Kolding Kommune", "parent": None, "unit_type": None,
         "valid_from": D2020, "valid_to": None},
        {"id": "u1", "name": "Skole", "parent": "root", "unit_type": None,
         "valid_from": D2020, "valid_to": None}]),
    ("persons", [{"id": "p1", "given_name": "Åse", "surname": "Ærø", "nickname": None}]),
    ("engagements", [
        {"id": "e1@2020-01-01", "person": "p1", "unit": "u1", "job_function": "Lærer",
         "engagement_type": None, "primary": True, "valid_from": D2020,
         "valid_to": date(2026, 11, 30)},
        {"id": "e1@2026-12-01", "person": "p1", "unit": "u1", "job_function": "Lærer",
         "engagement_type": "Ansat", "primary": False, "valid_from": date(2026, 12, 1),
         "valid_to": None}]),
    ("managers", [{"id": "m1@2020-01-01", "person": "p1", "unit": "u1", "manager_type": "Leder",
                   "responsibilities": ["Personale"], "valid_from": D2020, "valid_to": None}]),
    ("addresses", [
        {"id": "a1@2020-01-01", "owner": "p1", "type": "email", "value": "aase@kolding.dk",
         "visibility": "public", "valid_from": D2020, "valid_to": None},
        {"id": "a2@2020-01-01", "owner": "u1", "type": "postal",
         "value": "Akseltorv 1, 6000 Kolding", "visibility": "internal", "valid_from": D2020,
         "valid_to": None}]),
    ("roles", [{"id": "r1@2020-01-01", "person": "p1", "unit": None,
                "role_type": "Administrator", "valid_from": D2020, "valid_to": None}]),
    ("it_systems", [{"id": "ad", "name": "Active Directory"}]),
    ("it_users", [{"id": "i1@2020-01-01", "person": "p1", "it_system": "ad", "username": "aase",
                   "external_id": "guid-1", "valid_from": D2020, "valid_to": None}]),
    ("leaves", []), ("associations", []),
])
def test_objects_become_records(kind: str, expected: list[dict[str, Any]]) -> None:
    assert records(READ)[kind] == expected


def _engagement(start: str, end: str | None, job: str) -> dict[str, Any]:
    return _validity(start, end, is_primary=True, person_response={"uuid": "p1"},
                     org_unit_response={"uuid": "u1"}, job_function_response={"uuid": job},
                     engagement_type_response=None)


def _dated(ident: str, job: str, first: date, last: date | None) -> dict[str, Any]:
    return {"id": ident, "person": "p1", "unit": "u1", "job_function": job,
            "engagement_type": None, "primary": True, "valid_from": first, "valid_to": last}


D1201, D1202 = date(2026, 12, 1), date(2026, 12, 2)


@pytest.mark.parametrize(("intervals", "expected"), [
    # an edit at 10:00: the day's last interval stands for the day
    ([_engagement("2026-12-01T00:00:00+01:00", "2026-12-01T10:00:00+01:00", "job"),
      _engagement("2026-12-01T10:00:00+01:00", None, "lead")],
     [_dated("e1@2026-12-01", "Leder", D1201, None)]),
    # three the same day, given out of order
    ([_engagement("2026-12-01T14:00:00+01:00", "2026-12-06T00:00:00+01:00", "lead"),
      _engagement("2026-12-01T00:00:00+01:00", "2026-12-01T10:00:00+01:00", "job"),
      _engagement("2026-12-01T10:00:00+01:00", "2026-12-01T14:00:00+01:00", "job")],
     [_dated("e1@2026-12-01", "Leder", D1201, date(2026, 12, 5))]),
    # the same day in Copenhagen, written in UTC and with Copenhagen's offset
    ([_engagement("2026-11-30T23:00:00Z", "2026-12-01T09:00:00Z", "job"),
      _engagement("2026-12-01T10:00:00+01:00", None, "lead")],
     [_dated("e1@2026-12-01", "Leder", D1201, None)]),
    # an edit at 10:00 of an interval that began the day before: two days, two records
    ([_engagement("2026-11-30T00:00:00+01:00", "2026-12-01T10:00:00+01:00", "job"),
      _engagement("2026-12-01T10:00:00+01:00", "2026-12-03T00:00:00+01:00", "lead"),
      _engagement("2026-12-03T00:00:00+01:00", None, "job")],
     [_dated("e1@2026-11-30", "Lærer", date(2026, 11, 30), D1201),
      _dated("e1@2026-12-01", "Leder", D1201, D1202),
      _dated("e1@2026-12-03", "Lærer", date(2026, 12, 3), None)]),
])
def test_intervals_starting_the_same_day_are_one_record(
        intervals: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Ids are UUID@DAY: two intervals of one day would clash and the snapshot be refused."""
    read = Read({**READ.collections, "engagements": [_response("e1", *intervals)]}, TODAY, ZONE)
    assert records(read)["engagements"] == expected


def test_cpr_number_kept_in_extra_only_when_asked_for() -> None:
    asked = Read(READ.collections, TODAY, ZONE, cpr=True)
    assert records(asked)["persons"][0]["extra"] == {"cpr": "0101011234"}
    assert "extra" not in records(READ)["persons"][0]


@pytest.mark.parametrize(("errors", "said"), [
    ([{"message": "Permission denied", "path": ["persons", "objects", 0, "validities", 0,
                                                "cpr_number"]}],
     "field cpr_number (persons.objects.0.validities.0.cpr_number): Permission denied"),
    ([{"message": "Cannot query field 'x' on type 'Query'.", "locations": [{"line": 2}]}],
     "Cannot query field 'x' on type 'Query'."),
    ([{"message": "no CPR 0101011234 here", "path": ["persons"]}],
     "field persons (persons): no CPR <number> here"),
    ("odd", "odd"),
])
def test_graphql_errors_name_the_field_and_path(errors: Any, said: str) -> None:
    assert refused(errors) == f"OS2mo answered with errors: {said}"


BASE = {"name": "mo", "type": "os2mo", "url": "https://mo.example.org",
        "token_url": "https://sso.example.org/auth/realms/mo/protocol/openid-connect/token",
        "client_id": "syncd", "client_secret_file": "/etc/syncd/mo.secret"}


def test_config_defaults_and_api_url() -> None:
    source = Os2moSource(**BASE)
    assert (source.version, source.tls_verify, source.cpr) == (29, True, False)
    assert (source.timeout, source.zone) == (300.0, ZONE)
    assert source.graphql_url == "https://mo.example.org/graphql/v29"
    assert Os2moSource(**{**BASE, "version": 30, "url": "https://mo/"}).graphql_url == \
        "https://mo/graphql/v30"


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("version", 31, "Input should be 29 or 30"),
    ("url", "https://user:pw@mo.example.org", "credentials do not belong in the URL"),
    ("token_url", "ftp://sso", "must start with http:// or https://"),
    ("client_secret", "inline", "Extra inputs are not permitted"),
    ("timezone", "Europe/Kolding", "no such time zone 'Europe/Kolding'"),
])
def test_config_refuses(key: str, value: Any, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Os2moSource(**{**BASE, key: value})


REQUEST = httpx2.Request("POST", "https://mo.example.org/graphql/v29")


@pytest.mark.parametrize(("error", "retried"), [
    (httpx2.ConnectError("refused", request=REQUEST), True),
    (httpx2.ConnectTimeout("no answer", request=REQUEST), True),
    (httpx2.RemoteProtocolError("closed", request=REQUEST), True),
    (httpx2.HTTPStatusError("503", request=REQUEST,
                            response=httpx2.Response(503, request=REQUEST)), True),
    # the query may still be running: asking again would add to OS2mo's load
    (httpx2.ReadTimeout("no answer", request=REQUEST), False),
    (httpx2.HTTPStatusError("400", request=REQUEST,
                            response=httpx2.Response(400, request=REQUEST)), False),
])
def test_which_failures_are_retried(error: Exception, retried: bool) -> None:
    assert worth_retrying(error) is retried
