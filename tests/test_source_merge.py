"""Several sources of different types in one config: merged into one snapshot, and an id
that two sources both give refused with both sources named (`validate` and `ingest`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import main
from syncd.errors import SnapshotRejected
from syncd.org import Place, Snapshot
from syncd.store.accept import accept
from tests.conftest import write_json

CONSULTANTS = """\
Konsulentnr;Fornavn;Efternavn;Afdeling;Start
k1;Ida;Ekstern;born;01-09-2026
{clash};Bo;Dobbelt;skole;01-10-2026
"""

CSV_SOURCE = """\
  - name: konsulenter
    type: csv
    path: konsulenter
    delimiter: ";"
    date_format: "%d-%m-%Y"
    kinds:
      persons:
        file: personer.csv
        fields: {id: Konsulentnr, given_name: Fornavn, surname: Efternavn}
      engagements:
        file: personer.csv
        fields: {id: Konsulentnr, person: Konsulentnr, unit: Afdeling, valid_from: Start}
        defaults: {engagement_type: Konsulent, job_function: Ekstern konsulent}
"""


def consultants(folder: Path, clash: str) -> None:
    (folder / "konsulenter").mkdir()
    (folder / "konsulenter" / "personer.csv").write_text(CONSULTANTS.format(clash=clash),
                                                         encoding="utf-8")


def run(capsys: Any, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def snapshot_and_csv(tmp_path: Path, tiny_org: dict[str, Any], clash: str) -> Path:
    write_json(tmp_path / "org.json", tiny_org)
    consultants(tmp_path, clash)
    config = tmp_path / "config.yaml"
    config.write_text("store:\n  url: sqlite:///store.db\nsources:\n"
                      "  - name: hr\n    type: snapshot\n    path: org.json\n" + CSV_SOURCE,
                      encoding="utf-8")
    return config


def clash(tmp_path: Path) -> str:
    hr, csv = tmp_path / "org.json", tmp_path / "konsulenter" / "personer.csv"
    return (f"{csv}:3: id: persons 'p3': given by source hr ({hr}) and by source konsulenter "
            f"({csv}:3); ids must be unique across sources")


def test_validate_names_both_sources_of_an_id_they_both_give(tmp_path, tiny_org, capsys):
    config = snapshot_and_csv(tmp_path, tiny_org, clash="p3")
    code, out = run(capsys, "validate", "-c", str(config))
    assert code != 0
    assert clash(tmp_path) in out


def test_ingest_refuses_an_id_two_sources_give_naming_both(tmp_path, tiny_org, capsys):
    config = snapshot_and_csv(tmp_path, tiny_org, clash="p3")
    code, out = run(capsys, "ingest", "-c", str(config))
    assert code != 0
    assert clash(tmp_path) in out


def test_without_a_clash_the_sources_merge(tmp_path, tiny_org, capsys):
    config = snapshot_and_csv(tmp_path, tiny_org, clash="k2")
    code, out = run(capsys, "ingest", "-c", str(config))
    assert code == 0, out
    assert "persons +7" in out


def test_two_records_of_one_source_keep_the_message_they_had():
    records = [{"id": "p1", "given_name": "A", "surname": "B"}] * 2
    snapshot = Snapshot()
    snapshot.merge(Snapshot({"persons": records}, {"persons": "a.csv"},
                            {"persons": [Place("a.csv", 2), Place("a.csv", 3)]}), "hr")
    with pytest.raises(SnapshotRejected) as refused:
        accept(snapshot)
    assert [str(problem) for problem in refused.value.problems] == [
        "a.csv:3: id: persons 'p1': used by another record of this kind"]


# -- an OS2mo-like site: the organisation from a database, external consultants in a CSV


def payroll_database(path: Path, tiny_org: dict[str, Any]) -> None:
    database = sqlite3.connect(path)
    database.execute("CREATE TABLE enheder (id text, navn text, overordnet text)")
    database.execute("CREATE TABLE medarbejdere (id text, fornavn text, efternavn text)")
    database.executemany("INSERT INTO enheder VALUES (?, ?, ?)",
                         [(u["id"], u["name"], u["parent"]) for u in tiny_org["units"]])
    database.executemany("INSERT INTO medarbejdere VALUES (?, ?, ?)",
                         [(p["id"], p["given_name"], p["surname"]) for p in tiny_org["persons"]])
    database.commit()
    database.close()


def test_the_organisation_from_sql_and_consultants_from_csv_merge(tmp_path, tiny_org, capsys):
    payroll_database(tmp_path / "løn.db", tiny_org)
    consultants(tmp_path, clash="k2")
    config = tmp_path / "config.yaml"
    config.write_text(f"""\
store:
  url: sqlite:///store.db
sources:
  - name: løn
    type: sql
    url: sqlite:///{tmp_path / 'løn.db'}
    kinds:
      units:
        query: SELECT * FROM enheder
        fields: {{parent: overordnet, name: navn}}
      persons:
        query: SELECT * FROM medarbejdere
        fields: {{given_name: fornavn, surname: efternavn}}
{CSV_SOURCE}""", encoding="utf-8")
    code, out = run(capsys, "validate", "-c", str(config))
    assert code == 0, out
    code, out = run(capsys, "ingest", "-c", str(config))
    assert code == 0, out
    assert "units +4" in out and "persons +7" in out and "engagements +2" in out
    code, out = run(capsys, "show", "person", "k2", "-c", str(config), "--today", "2026-12-01")
    assert "Ekstern konsulent, Ærtebjerg Skole" in out
