"""The CSV source against a realistic Danish HR export: cp1252, `;`, dd-mm-yyyy, Ja/Nej."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncd.errors import SnapshotRejected, SourceError
from syncd.org import Snapshot
from syncd.sources import read_source
from syncd.sources.csv import CsvSource
from syncd.store import open_store
from syncd.store.accept import accept

EXPORT = {
    "afdelinger.csv": """\
Afdelingsnr;Afdelingsnavn;Overafdeling;Afdelingstype;Startdato;Slutdato
100;Kolding Kommune;;Kommune;01-01-2000;
110;Børn og Unge;100;Forvaltning;01-01-2007;
111;Ærtebjerg Skole;110;Skole;01-08-2010;
120;Økonomi og Løn;100;Afdeling;;31-12-2030
""",
    "medarbejdere.csv": """\
Medarbejdernr;Fornavn;Efternavn;Kaldenavn;Lønnr
1001;Søren;Ærø;;L-77
1002; Åse ;Østergård;Åsa;L-78
1003;Jens;Hansen;;
""",
    "ansaettelser.csv": """\
Ansættelsesnr;Medarbejdernr;Afdelingsnr;Stilling;primary;Startdato;Slutdato
A1;1001;100;Direktør;Ja;01-01-2010;
A2;1002;111;Lærer;Ja;01-08-2015;
A3;1002;110;Konsulent;Nej;01-01-2020;31-12-2026
A4;1003;120;Lønkonsulent;;15-03-2021;
""",
    "ledere.csv": """\
Id;Medarbejdernr;Afdelingsnr;Ledertype;Ansvar
L1;1001;100;Direktør;Personale | Budget
L2;1003;120;Afdelingsleder;
""",
    "adresser.csv": """\
Id;Ejer;Type;Værdi;Synlighed
ad1;1001;email;soren@kolding.example;public
ad2;111;postal;"Skolevej 1; 6000 Kolding";
""",
}

KINDS = {
    "units": {"file": "afdelinger.csv", "fields": {
        "id": "Afdelingsnr", "name": "Afdelingsnavn", "parent": "Overafdeling",
        "unit_type": "Afdelingstype", "valid_from": "Startdato", "valid_to": "Slutdato"}},
    "persons": {"file": "medarbejdere.csv", "fields": {
        "id": "Medarbejdernr", "given_name": "Fornavn", "surname": "Efternavn",
        "nickname": "Kaldenavn"}, "extra": {"payroll": "Lønnr"}},
    "engagements": {"file": "ansaettelser.csv", "fields": {
        "id": "Ansættelsesnr", "person": "Medarbejdernr", "unit": "Afdelingsnr",
        "job_function": "Stilling", "valid_from": "Startdato", "valid_to": "Slutdato"},
        "defaults": {"engagement_type": "fast"}},
    "managers": {"file": "ledere.csv", "fields": {
        "id": "Id", "person": "Medarbejdernr", "unit": "Afdelingsnr",
        "manager_type": "Ledertype", "responsibilities": "Ansvar"}},
    "addresses": {"file": "adresser.csv", "fields": {
        "id": "Id", "owner": "Ejer", "type": "Type", "value": "Værdi",
        "visibility": "Synlighed"}, "defaults": {"visibility": "internal"}},
}


def write_export(folder: Path, encoding: str = "cp1252", **changed: str) -> Path:
    """The HR export in `folder`; `changed` replaces files by name (dots as underscores)."""
    folder.mkdir(exist_ok=True)
    files = EXPORT | {name.replace("_", "."): text for name, text in changed.items()}
    for name, text in files.items():
        (folder / name).write_text(text, encoding=encoding, newline="\r\n")
    return folder


def csv_source(folder: Path, **settings: Any) -> CsvSource:
    config = {"name": "hr", "type": "csv", "path": str(folder), "encoding": "cp1252",
              "delimiter": ";", "date_format": "%d-%m-%Y", "kinds": KINDS}
    return CsvSource.model_validate(config | settings)


def by_id(snapshot: Snapshot, kind: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in snapshot.records[kind]}


def test_reads_a_danish_hr_export(tmp_path):
    folder = write_export(tmp_path / "hr")
    snapshot = read_source(csv_source(folder))
    persons = by_id(snapshot, "persons")
    assert persons["1002"] == {"id": "1002", "given_name": "Åse", "surname": "Østergård",
                               "nickname": "Åsa", "extra": {"payroll": "L-78"}}
    assert persons["1003"] == {"id": "1003", "given_name": "Jens", "surname": "Hansen",
                               "nickname": None, "extra": {"payroll": None}}
    units = by_id(snapshot, "units")
    assert units["111"]["name"] == "Ærtebjerg Skole"
    assert units["100"] == {"id": "100", "name": "Kolding Kommune", "parent": None,
                                 "unit_type": "Kommune", "valid_from": "2000-01-01",
                                 "valid_to": None}
    assert units["120"]["valid_to"] == "2030-12-31"
    engagements = by_id(snapshot, "engagements")
    assert [engagements[e]["primary"] for e in ("A1", "A2", "A3", "A4")] == [
        True, True, False, False]
    assert engagements["A3"]["valid_to"] == "2026-12-31"
    assert engagements["A4"]["engagement_type"] == "fast"
    assert by_id(snapshot, "managers")["L1"]["responsibilities"] == ["Personale", "Budget"]
    assert by_id(snapshot, "managers")["L2"]["responsibilities"] is None
    addresses = by_id(snapshot, "addresses")
    assert addresses["ad2"]["value"] == "Skolevej 1; 6000 Kolding"
    assert addresses["ad2"]["visibility"] == "internal"
    assert snapshot.origin["persons"] == str(folder / "medarbejdere.csv")


@pytest.mark.parametrize(("written", "configured"), [
    ("cp1252", "cp1252"), ("latin-1", "latin-1"), ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"), ("utf-8-sig", "utf-8"),  # Excel's BOM, not configured
])
def test_encodings_keep_danish_letters(tmp_path, written, configured):
    snapshot = read_source(csv_source(write_export(tmp_path / "hr", written), encoding=configured))
    assert by_id(snapshot, "persons")["1001"]["surname"] == "Ærø"
    assert by_id(snapshot, "engagements")["A4"]["job_function"] == "Lønkonsulent"


def test_decomposed_letters_are_composed(tmp_path):
    folder = write_export(tmp_path / "hr", "utf-8",
                          medarbejdere_csv="Medarbejdernr;Fornavn;Efternavn;Kaldenavn;Lønnr\n"
                                           "1001;A\u030ase;Ø;;\n")
    snapshot = read_source(csv_source(folder, encoding="utf-8"))
    assert by_id(snapshot, "persons")["1001"]["given_name"] == "Åse"


def test_wrong_encoding_names_file_and_line(tmp_path):
    folder = write_export(tmp_path / "hr")
    with pytest.raises(SourceError) as caught:
        read_source(csv_source(folder, encoding="utf-8"))
    assert str(caught.value).startswith(
        f"{folder / 'afdelinger.csv'}:3: not utf-8: byte 0xf8 (invalid start byte); "
        "set the source's encoding")


def test_missing_mapped_column_is_reported_once_with_the_columns_there(tmp_path):
    rows = "\n".join(f"{n};Per;Hansen" for n in range(50))
    folder = write_export(tmp_path / "hr",
                          medarbejdere_csv=f"Medarbejdernr;Fornavn;Eftername\n{rows}\n")
    with pytest.raises(SourceError) as caught:
        read_source(csv_source(folder))
    assert str(caught.value) == (
        f"{folder / 'medarbejdere.csv'}:1: persons: no column 'Efternavn' (surname), "
        "'Kaldenavn' (nickname), 'Lønnr' (extra.payroll); "
        "the file has: Medarbejdernr, Fornavn, Eftername")


def test_unmapped_required_field_needs_its_column(tmp_path):
    folder = write_export(tmp_path / "hr")
    kinds = {"it_systems": {"file": "medarbejdere.csv", "fields": {"id": "Medarbejdernr"}}}
    with pytest.raises(SourceError, match=r"it_systems: no column 'name' \(name\); the file has"):
        read_source(csv_source(folder, kinds=kinds))


def test_missing_file(tmp_path):
    folder = write_export(tmp_path / "hr")
    (folder / "ledere.csv").unlink()
    with pytest.raises(SourceError, match=rf"^{folder / 'ledere.csv'}: no such file$"):
        read_source(csv_source(folder))


def test_empty_file(tmp_path):
    folder = write_export(tmp_path / "hr", ledere_csv="")
    with pytest.raises(SourceError, match=r"ledere.csv: empty file; want a header line"):
        read_source(csv_source(folder))


def test_row_with_too_many_fields_names_the_line(tmp_path):
    bad = EXPORT["adresser.csv"] + "ad3;111;postal;Skolevej 2; 6000 Kolding;public\n"
    folder = write_export(tmp_path / "hr", adresser_csv=bad)
    with pytest.raises(SnapshotRejected) as caught:
        accept(read_source(csv_source(folder)))
    [problem] = caught.value.problems
    assert str(problem).startswith(f"{folder / 'adresser.csv'}:4: addresses 'ad3': 6 fields, "
                                   "the header has 5")


def test_malformed_quoting_names_the_line(tmp_path):
    bad = EXPORT["adresser.csv"] + 'ad3;111;postal;"Skolevej 2" 6000 Kolding;public\n'
    folder = write_export(tmp_path / "hr", adresser_csv=bad)
    with pytest.raises(SourceError, match=r"adresser.csv:4: malformed CSV: "):
        read_source(csv_source(folder))


def test_bad_dates_and_yes_no_values_reach_the_store_with_kind_and_id(tmp_path):
    bad = EXPORT["ansaettelser.csv"].replace("Ja;01-08-2015", "Måske;31-02-2024")
    folder = write_export(tmp_path / "hr", ansaettelser_csv=bad)
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    with pytest.raises(SnapshotRejected) as caught:
        store.ingest(read_source(csv_source(folder)), sources="hr", max_shrink=0.1)
    where = f"{folder / 'ansaettelser.csv'}:3"
    assert [str(p) for p in caught.value.problems] == [
        f"{where}: primary: engagements 'A2': 'Måske' is neither true (1, true, yes, ja, j, x: "
        "the source's true_values) nor false (0, false, no, nej, n or empty)",
        f"{where}: valid_from: engagements 'A2': date '31-02-2024' is not a date (day is out "
        "of range for month)"]
    store.close()


def test_end_to_end_into_the_store(tmp_path):
    folder = write_export(tmp_path / "hr")
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    result = store.ingest(read_source(csv_source(folder)), sources="hr", max_shrink=0.1)
    assert result.deltas["persons"].added == ["1001", "1002", "1003"]
    assert result.deltas["units"].counts["added"] == 4
    assert result.deltas["engagements"].counts["added"] == 4
    assert result.deltas["addresses"].counts["added"] == 2
    again = store.ingest(read_source(csv_source(folder)), sources="hr", max_shrink=0.1)
    assert not again.changed
    store.close()
