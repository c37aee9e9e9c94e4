"""The `type: sql` source against a real PostgreSQL (started in a temp dir) and SQLite.

The same payroll-system-like schema in both: views with Danish names, NULLs, a real
date column next to a date kept as text, and the same records read from each.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine

from syncd.errors import SourceError
from syncd.org import Snapshot
from syncd.sources import read_source
from syncd.sources.sql import SqlSource
from syncd.testing.postgres import Postgres
from syncd.testing.server import free_port
from tests.test_store_postgres import server, url  # noqa: F401 - the fixtures

TABLES = """
CREATE TABLE enhed (nr text, navn text, over_nr text, oprettet date);
CREATE TABLE medarbejder (nr text, fornavn text, efternavn text, kaldenavn text);
CREATE TABLE ansaettelse (nr text, medarbejder text, enhed text, stilling text, primaer {bool},
                          fra date, til text);
INSERT INTO enhed VALUES ('100', 'Kolding Kommune', NULL, '2020-01-01'),
                         ('110', 'Børn og Unge', '100', '2021-03-01');
INSERT INTO medarbejder VALUES ('1001', 'Åge', 'Ørsted', NULL),
                               ('1002', 'Zoë', 'Kühn-Brønd', ' '),
                               ('1003', 'Søren', 'Ærø', 'Sørre');
INSERT INTO ansaettelse VALUES ('e1', '1001', '110', 'Pædagog', {true}, '2024-01-01', '31-12-2026'),
                               ('e2', '1002', '100', 'Direktør', {false}, '2023-05-01', NULL),
                               ('e3', '1003', '110', NULL, {false}, NULL, '');
CREATE VIEW "løn_enheder" AS SELECT nr AS enhedsnr, navn, over_nr AS overordnet, oprettet
  FROM enhed;
CREATE VIEW "medarbejdere_på_løn" AS SELECT nr AS medarbejdernr, fornavn, efternavn, kaldenavn
  FROM medarbejder;
CREATE VIEW "ansættelser" AS SELECT nr, medarbejder, enhed, stilling, primaer AS "primær",
  {fra} AS startdato, til AS slutdato FROM ansaettelse;
"""
# PostgreSQL has real dates and booleans; SQLite keeps both as text and numbers, so its
# view gives the start date as text in the source's date_format.
DIALECTS = {
    "postgresql": {"bool": "boolean", "true": "true", "false": "false", "fra": "fra"},
    "sqlite": {"bool": "integer", "true": "1", "false": "0", "fra": "strftime('%d-%m-%Y', fra)"},
}

KINDS = {
    "units": {"query": 'SELECT * FROM "løn_enheder"',
              "fields": {"id": "enhedsnr", "name": "navn", "parent": "overordnet",
                         "valid_from": "oprettet"},
              "date_format": "%Y-%m-%d"},
    "persons": {"query": 'SELECT *\n  FROM "medarbejdere_på_løn"\n ORDER BY medarbejdernr',
                "fields": {"id": "medarbejdernr", "given_name": "fornavn",
                           "surname": "efternavn", "nickname": "kaldenavn"}},
    "engagements": {"query": 'SELECT * FROM "ansættelser" ORDER BY nr',
                    "fields": {"id": "nr", "person": "medarbejder", "unit": "enhed",
                               "job_function": "stilling", "primary": "primær",
                               "valid_from": "startdato", "valid_to": "slutdato"},
                    "defaults": {"engagement_type": "Ansat"}},
}

EXPECTED = {
    "units": [
        {"id": "100", "name": "Kolding Kommune", "parent": None, "valid_from": "2020-01-01"},
        {"id": "110", "name": "Børn og Unge", "parent": "100", "valid_from": "2021-03-01"},
    ],
    "persons": [
        {"id": "1001", "given_name": "Åge", "surname": "Ørsted", "nickname": None},
        {"id": "1002", "given_name": "Zoë", "surname": "Kühn-Brønd", "nickname": None},
        {"id": "1003", "given_name": "Søren", "surname": "Ærø", "nickname": "Sørre"},
    ],
    "engagements": [
        {"id": "e1", "person": "1001", "unit": "110", "job_function": "Pædagog",
         "engagement_type": "Ansat", "primary": True, "valid_from": "2024-01-01",
         "valid_to": "2026-12-31"},
        {"id": "e2", "person": "1002", "unit": "100", "job_function": "Direktør",
         "engagement_type": "Ansat", "primary": False, "valid_from": "2023-05-01",
         "valid_to": None},
        {"id": "e3", "person": "1003", "unit": "110", "job_function": None,
         "engagement_type": "Ansat", "primary": False, "valid_from": None, "valid_to": None},
    ],
}


def fill(database_url: str, dialect: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for statement in TABLES.format(**DIALECTS[dialect]).split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
    engine.dispose()


def sql_source(database_url: str, **changes: Any) -> SqlSource:
    settings = {"name": "hr", "type": "sql", "url": database_url, "date_format": "%d-%m-%Y",
                "kinds": KINDS, **changes}
    return SqlSource.model_validate(settings)


def with_query(source: SqlSource, kind: str, query: str) -> SqlSource:
    kinds = {**source.kinds, kind: source.kinds[kind].model_copy(update={"query": query})}
    return source.model_copy(update={"kinds": kinds})


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A filled database of each dialect, by its SQLAlchemy URL (no password)."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'løn.db'}"
    else:
        database_url = request.getfixturevalue("url")
    fill(database_url, request.param)
    return database_url


def test_views_with_danish_names_nulls_and_both_kinds_of_date(database):
    snapshot = read_source(sql_source(database))
    assert snapshot.records == EXPECTED
    assert snapshot.origin["persons"].endswith(" (persons query)")


def test_the_records_are_taken_by_the_store(database, tmp_path):
    from syncd.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    merged = Snapshot()
    merged.merge(read_source(sql_source(database)), "hr")
    result = store.ingest(merged, "hr", 0.1, False)
    assert result.summary().startswith("units +2")


def test_a_query_that_writes_is_refused_by_the_read_only_transaction(database):
    delete = "DELETE FROM medarbejder RETURNING nr AS medarbejdernr, fornavn, efternavn, kaldenavn"
    query = delete  # SQLite; PostgreSQL reads through a cursor, whose query is a SELECT
    if database.startswith("postgresql"):
        engine = create_engine(database)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE FUNCTION slet() RETURNS SETOF "
                                       f'"medarbejdere_på_løn" LANGUAGE sql AS $$ {delete} $$')
        engine.dispose()
        query = "SELECT * FROM slet()"
    source = with_query(sql_source(database), "persons", query)
    with pytest.raises(SourceError, match=r"^hr: persons: query '(DELETE|SELECT) .*': "
                                          r".*read-?only"):
        read_source(source)
    assert len(read_source(sql_source(database)).records["persons"]) == 3  # nothing deleted


def test_a_bad_query_names_the_source_the_kind_and_its_first_line(database):
    source = with_query(sql_source(database), "engagements",
                        'SELECT *\n  FROM "ansættelser_findes_ikke"')
    with pytest.raises(SourceError) as error:
        read_source(source)
    assert re.match(r"hr: engagements: query 'SELECT \*': .*ansættelser_findes_ikke",
                    str(error.value))
    assert "[SQL:" not in str(error.value)


def test_a_column_the_mapping_needs_is_named_when_the_query_lacks_it(database):
    source = with_query(sql_source(database), "persons", 'SELECT medarbejdernr, fornavn '
                                                         'FROM "medarbejdere_på_løn"')
    with pytest.raises(SourceError, match=r"^hr: persons: query 'SELECT medarbejdernr, "
                                          r"fornavn FROM .*': persons: no column 'efternavn' "
                                          r"\(surname\)"):
        read_source(source)


def test_a_percent_sign_or_colon_in_the_query_is_no_placeholder(database):
    source = with_query(sql_source(database), "persons",
                        "SELECT * FROM \"medarbejdere_på_løn\" WHERE fornavn LIKE '%e%' "
                        "OR efternavn = 'x:y'")
    assert [p["id"] for p in read_source(source).records["persons"]] == ["1001", "1003"]


# -- PostgreSQL: passwords, a server away, streaming ----------------------------------


@pytest.fixture
def reader(server: Postgres, url: str) -> str:  # noqa: F811 - the fixtures
    """The filled database's URL for a role `reader` that must give its password."""
    fill(url, "postgresql")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'reader'").fetchone():
            conn.execute("CREATE ROLE reader LOGIN PASSWORD 'Rød-Grød@med:Fløde/1'")  # one a server
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        hba = server.directory / "data" / "pg_hba.conf"
        if "reader" not in hba.read_text():
            hba.write_text("host all reader 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
            conn.execute("SELECT pg_reload_conf()")
    return url.replace("//syncd@", "//reader@")


def test_the_password_from_a_file_or_the_environment_goes_into_the_url(reader, tmp_path,
                                                                         monkeypatch):
    secret = tmp_path / "db.secret"
    secret.write_text("Rød-Grød@med:Fløde/1\n", encoding="utf-8")
    assert read_source(sql_source(reader, password_file=secret)).records == EXPECTED
    monkeypatch.setenv("HR_DB_PASSWORD", "Rød-Grød@med:Fløde/1")
    from_env = sql_source(reader, password="${env:HR_DB_PASSWORD}")
    assert read_source(from_env).records == EXPECTED


def test_a_wrong_password_is_named_but_never_shown(reader, tmp_path):
    secret = tmp_path / "db.secret"
    secret.write_text("forkert-kodeord-123", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        read_source(sql_source(reader, password_file=secret))
    message = str(error.value)
    assert message.startswith(f"hr: cannot connect to {reader.replace('reader@', 'reader:***@')}: ")
    assert "password authentication failed" in message
    assert "forkert-kodeord-123" not in message


def test_no_password_where_one_is_needed_says_so(reader):
    with pytest.raises(SourceError, match=r"^hr: cannot connect to .*reader@.*password"):
        read_source(sql_source(reader))


def test_an_unreachable_server_is_a_source_error_naming_it(tmp_path):
    away = f"postgresql+psycopg://reader@127.0.0.1:{free_port()}/hr"
    secret = tmp_path / "db.secret"
    secret.write_text("hemmeligt-ord", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        read_source(sql_source(away, password_file=secret))
    message = str(error.value)
    assert message.startswith(f"hr: cannot connect to {away.replace('reader@', 'reader:***@')}: ")
    assert "hemmeligt-ord" not in message


def test_a_dialect_without_its_driver_says_so():
    with pytest.raises(SourceError, match=r"^hr: nosuchdb://hr@db/loen: no driver for nosuchdb "
                                          r"\(.*\); install the one the URL names$"):
        read_source(sql_source("nosuchdb://hr@db/loen"))


def test_rows_come_through_a_server_side_cursor(url):  # noqa: F811 - the fixture
    """A query that counts the session's open cursors sees the one it is read through."""
    fill(url, "postgresql")
    source = with_query(sql_source(url), "persons",
                        'SELECT *, (SELECT count(*) FROM pg_cursors) AS markører '
                        'FROM "medarbejdere_på_løn"')
    kinds = {"persons": source.kinds["persons"].model_copy(update={"extra": {"m": "markører"}})}
    persons = read_source(source.model_copy(update={"kinds": kinds})).records["persons"]
    assert {person["extra"]["m"] for person in persons} == {"1"}


def test_a_read_past_statement_timeout_is_cancelled_and_named(url):  # noqa: F811 - fixture
    fill(url, "postgresql")
    source = with_query(sql_source(url, statement_timeout=1), "persons",
                        'SELECT m.* FROM "medarbejdere_på_løn" m, pg_sleep(60)')
    with pytest.raises(SourceError, match=r"^hr: persons: query 'SELECT m\.\* .*': "
                                          r"canceling statement due to statement timeout$"):
        read_source(source)


def test_a_server_that_never_answers_is_given_up_on_after_timeout():
    """It takes the connection and says nothing: without a connect timeout the read
    would wait for ever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        away = f"postgresql+psycopg://reader@127.0.0.1:{silent.getsockname()[1]}/hr"
        with pytest.raises(SourceError, match=r"^hr: cannot connect to .*timeout"):
            read_source(sql_source(away, timeout=2))


# -- the config ----------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "problem"), [
    ({"url": "postgresql+psycopg://hr:hemmelig@db/hr"}, "a password does not belong in the URL"),
    ({"url": "postgresql+psycopg://u:pa/ss@db/hr"}, "a password does not belong in the URL"),
    ({"url": "postgresql+psycopg://u@db/hr?password=x"}, "a password does not belong in the URL"),
    ({"url": "hr.db"}, "want a SQLAlchemy URL"),
    ({"password": "hemmelig"}, "secrets are never inline"),
    ({"password": "${env:X}", "password_file": "x"}, "at most one of password_file or password"),
    ({"kinds": {"persons": {"query": " "}}}, "an empty query"),
    ({"kinds": {"persons": {"query": "SELECT 1", "fields": {"fornavn": "x"}}}},
     "'fornavn' is not a field of persons"),
])
def test_config_mistakes_are_refused(changes: dict[str, Any], problem: str):
    with pytest.raises(ValueError, match=re.escape(problem)):
        sql_source("sqlite:///x.db", **changes)

