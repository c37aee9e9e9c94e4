"""The CSV source on data as a real municipality exports it, and the mistakes made with it.

The export: Danish column names, `;`, dd-mm-yyyy, UTF-8 with a BOM (Excel's "CSV UTF-8"),
names like Åge Ørsted and Zoë, a unit named `Løn, Personale + HR`, two units named
`Administration`, Danish words for visibility and address type, and an address with a
line break inside its quoted value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncd.config import load_config
from syncd.errors import ConfigError, SnapshotRejected, SourceError
from syncd.org import Place, Snapshot
from syncd.sources import read_source
from syncd.sources.csv import CsvSource
from syncd.sources.fieldmap import FieldMap
from syncd.sources.http import HttpSource
from syncd.sources.snapshot import SnapshotSource
from syncd.store.accept import accept

ENHEDER = """\
Enhedsnr;Enhedsnavn;Overenhed;Startdato
100;Kolding Kommune;;01-01-2007
110;Børn og Uddannelse;100;01-01-2007
111;Administration;110;01-01-2007
120;Social og Sundhed;100;01-01-2007
121;Administration;120;01-01-2007
130;Løn, Personale + HR;100;15-08-2019
"""
MEDARBEJDERE = """\
Medarbejdernr;Fornavn;Efternavn
1001;Åge;Ørsted
1002;Zoë;Hansen
1003;Søren;Ærø
1004;Åse;Østergård
"""
ANSAETTELSER = """\
Ansættelsesnr;Medarbejdernr;Enhed;Stilling;Primær;Startdato;Slutdato
A1;1001;111;Sekretær;Ja;01-02-2015;
A2;1002;121;Sagsbehandler;Ja;15-03-2021;31-12-2027
A3;1003;130;Lønkonsulent;Ja;01-09-2019;
A4;1004;130;Leder;Ja;01-01-2010;
"""
ADRESSER = """\
Id;Ejer;Type;Værdi;Synlighed
ad1;1001;Email;aage.orsted@kolding.example;Offentlig
ad2;1002;Telefon;+45 79 79 00 00;Intern
ad3;130;Adresse;"Akseltorv 1
6000 Kolding";Offentlig
ad4;1003;Telefon;+45 20 20 20 20;Hemmelig
"""
FILES = {"enheder.csv": ENHEDER, "medarbejdere.csv": MEDARBEJDERE,
         "ansaettelser.csv": ANSAETTELSER, "adresser.csv": ADRESSER}
VALUES = {"visibility": {"Offentlig": "public", "Intern": "internal", "Hemmelig": "secret"},
          "type": {"Email": "email", "Telefon": "phone", "Adresse": "postal"}}
KINDS: dict[str, dict[str, Any]] = {
    "units": {"file": "enheder.csv", "fields": {
        "id": "Enhedsnr", "name": "Enhedsnavn", "parent": "Overenhed", "valid_from": "Startdato"}},
    "persons": {"file": "medarbejdere.csv", "fields": {
        "id": "Medarbejdernr", "given_name": "Fornavn", "surname": "Efternavn"}},
    "engagements": {"file": "ansaettelser.csv", "fields": {
        "id": "Ansættelsesnr", "person": "Medarbejdernr", "unit": "Enhed",
        "job_function": "Stilling", "primary": "Primær", "valid_from": "Startdato",
        "valid_to": "Slutdato"}},
    "addresses": {"file": "adresser.csv", "fields": {
        "id": "Id", "owner": "Ejer", "type": "Type", "value": "Værdi",
        "visibility": "Synlighed"}, "values": VALUES},
}


def export(folder: Path, encoding: str = "utf-8-sig", **changed: str) -> Path:
    """The export in `folder` (Excel's CRLF line ends); `changed` replaces files by stem."""
    folder.mkdir(exist_ok=True)
    files = FILES | {f"{stem}.csv": text for stem, text in changed.items()}
    for name, text in files.items():
        (folder / name).write_text(text, encoding=encoding, newline="\r\n")
    return folder


def source(folder: Path, **settings: Any) -> CsvSource:
    config = {"name": "sd", "type": "csv", "path": str(folder), "encoding": "utf-8",
              "delimiter": ";", "date_format": "%d-%m-%Y", "kinds": KINDS}
    return CsvSource.model_validate(config | settings)


def refused(snapshot: Snapshot) -> SnapshotRejected:
    with pytest.raises(SnapshotRejected) as caught:
        accept(snapshot)
    return caught.value


def by_id(snapshot: Snapshot, kind: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in snapshot.records[kind]}


def test_the_export_reads_whole_and_is_accepted(tmp_path):
    snapshot = read_source(source(export(tmp_path / "sd")))
    rows = accept(snapshot)
    persons = by_id(snapshot, "persons")
    assert [persons[i]["given_name"] + " " + persons[i]["surname"] for i in sorted(persons)] == [
        "Åge Ørsted", "Zoë Hansen", "Søren Ærø", "Åse Østergård"]
    units = by_id(snapshot, "units")
    assert units["130"]["name"] == "Løn, Personale + HR"
    assert [u["id"] for u in units.values() if u["name"] == "Administration"] == ["111", "121"]
    assert units["130"]["valid_from"] == "2019-08-15"
    addresses = by_id(snapshot, "addresses")
    assert [(a["type"], a["visibility"]) for a in addresses.values()] == [
        ("email", "public"), ("phone", "internal"), ("postal", "public"), ("phone", "secret")]
    assert addresses["ad3"]["value"] == "Akseltorv 1\r\n6000 Kolding"
    assert by_id(snapshot, "engagements")["A2"]["valid_to"] == "2027-12-31"
    assert len(rows["addresses"]) == 4


def test_records_know_their_line_across_a_value_with_a_line_break(tmp_path):
    snapshot = read_source(source(export(tmp_path / "sd")))
    lines = [place.line for place in snapshot.places["addresses"]]
    assert lines == [2, 3, 4, 6]  # ad3's value spans lines 4 and 5
    assert snapshot.place("addresses", 3).file == str(tmp_path / "sd" / "adresser.csv")


@pytest.mark.parametrize(("row", "problem"), [
    ("A5;1004;130;Leder", "4 fields, the header has 7 (a row cut short"),
    ("A5;1004;130;Leder;Ja;01-01-2010;;x", "8 fields, the header has 7 (a delimiter inside"),
])
def test_a_row_that_does_not_fit_the_header_is_refused_with_its_line(tmp_path, row, problem):
    quoted = ANSAETTELSER.replace("Lønkonsulent", '"Løn-\nkonsulent"')  # line 4 ends on 5
    folder = export(tmp_path / "sd", ansaettelser=f"{quoted}{row}\n")
    [found] = refused(read_source(source(folder))).problems
    assert str(found).startswith(f"{folder / 'ansaettelser.csv'}:7: engagements 'A5': {problem}")


def test_short_rows_are_grouped_into_one_line(tmp_path):
    rows = "".join(f"A{n};1001;111\n" for n in range(5, 105))
    folder = export(tmp_path / "sd", ansaettelser=ANSAETTELSER + rows)
    rejected = refused(read_source(source(folder)))
    assert len(rejected.problems) == 100
    [line] = rejected.lines()
    assert line.startswith(f"{folder / 'ansaettelser.csv'}:6: 3 fields, the header has 7")
    assert line.endswith("(100 times: line 6, line 7, line 8, and 97 more)")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_a_byte_order_mark_is_dropped_whatever_the_encoding(tmp_path, encoding):
    ascii_only = {"persons": {"file": "staff.csv",
                              "fields": {"given_name": "first", "surname": "last"}}}
    folder = tmp_path / "sd"
    folder.mkdir()
    (folder / "staff.csv").write_bytes(b"\xef\xbb\xbfid;first;last\r\n1;Ann;Lee\r\n")
    snapshot = read_source(source(folder, encoding=encoding, kinds=ascii_only))
    assert snapshot.records["persons"] == [{"id": "1", "given_name": "Ann", "surname": "Lee"}]


@pytest.mark.parametrize(("written", "configured", "expected"), [
    ("utf-8-sig", "cp1252", "medarbejdere.csv:2: looks like UTF-8 read as cp1252 ('Ã…ge' is 'Åge' "
                            "in UTF-8) and starts with a UTF-8 byte order mark; "
                            "set encoding: utf-8"),
    ("utf-8", "latin-1", "medarbejdere.csv:2: looks like UTF-8 read as latin-1 ('Ã\\x85ge' is "
                         "'Åge' in UTF-8); set encoding: utf-8"),
])
def test_utf8_read_as_a_one_byte_encoding_is_refused_with_the_fix(tmp_path, written,
                                                                  configured, expected):
    folder = export(tmp_path / "sd", written, enheder="Enhedsnr;Enhedsnavn;Overenhed;Startdato\n"
                                                      "100;Kolding Kommune;;01-01-2007\n")
    with pytest.raises(SourceError) as caught:
        read_source(source(folder, encoding=configured))
    assert str(caught.value) == f"{folder}/{expected}"


def test_the_mojibake_line_is_the_first_one_that_shows_it(tmp_path):
    names = "".join(f"{n};Jens;Hansen\n" for n in range(2000, 2010)) + "2010;Zoë;Hansen\n"
    folder = export(tmp_path / "sd", "utf-8", medarbejdere=f"Medarbejdernr;Fornavn;Efternavn\n"
                                                          f"{names}",
                    enheder="Enhedsnr;Enhedsnavn;Overenhed;Startdato\n")
    with pytest.raises(SourceError, match=r"medarbejdere.csv:12: looks like UTF-8 read as cp1252 "
                                          r"\('ZoÃ«' is 'Zoë' in UTF-8\)"):
        read_source(source(folder, encoding="cp1252"))


@pytest.mark.parametrize(("written", "configured", "expected"), [
    ("cp1252", "utf-8", "enheder.csv:3: not utf-8: byte 0xf8 (invalid start byte); set the "
                        "source's encoding: cp1252 (what Excel on Windows writes) or latin-1"),
    ("utf-8", "cp1252", "enheder.csv:5: not cp1252: byte 0x81 (character maps to <undefined>); "
                        "set the source's encoding: utf-8 (the file is UTF-8)"),
    ("utf-16", "utf-8", "enheder.csv:1: the file is UTF-16 (it starts with a UTF-16 byte order "
                        "mark, as Excel's 'Unicode text' does); set encoding: utf-16"),
])
def test_undecodable_files_name_the_line_and_the_encoding_to_set(tmp_path, written, configured,
                                                                 expected):
    units = ENHEDER.replace("Social og Sundhed", "Ádministration")  # UTF-8 C3 81, line 5
    folder = export(tmp_path / "sd", written, enheder=units)
    with pytest.raises(SourceError) as caught:
        read_source(source(folder, encoding=configured))
    assert str(caught.value) == f"{folder}/{expected}"


def test_utf16_export_configured_so_reads(tmp_path):
    snapshot = read_source(source(export(tmp_path / "sd", "utf-16"), encoding="utf-16"))
    assert by_id(snapshot, "persons")["1001"]["given_name"] == "Åge"


def test_an_unmapped_word_is_refused_grouped_with_the_allowed_values_and_a_hint(tmp_path):
    rows = "".join(f"x{n};1001;email;a{n}@kolding.example;Offentlig\n" for n in range(271))
    kinds = KINDS | {"addresses": KINDS["addresses"] | {"values": {}}}
    folder = export(tmp_path / "sd", adresser=f"Id;Ejer;Type;Værdi;Synlighed\n{rows}")
    rejected = refused(read_source(source(folder, kinds=kinds)))
    assert rejected.lines() == [
        f"{folder / 'adresser.csv'}:2: visibility: 'Offentlig' is not one of public, internal, "
        "secret; if that is the export's word for one of them, map it with values: "
        "{visibility: {Offentlig: ...}} (271 times: line 2, line 3, line 4, and 268 more)"]


@pytest.mark.parametrize(("value", "problem"), [
    ("2015-02-01", "date '2015-02-01' does not match date_format '%d-%m-%Y' (dd-mm-yyyy)"),
    ("31-02-2015", "date '31-02-2015' is not a date (day is out of range for month)"),
    ("Måske", None),
])
def test_dates_and_yes_no_words_are_checked_against_the_config(tmp_path, value, problem):
    if problem is None:  # the primary flag
        changed, path = ANSAETTELSER.replace("Ja;01-02-2015", f"{value};01-02-2015"), "primary"
        problem = ("'Måske' is neither true (1, true, yes, ja, j, x: the source's true_values) "
                   "nor false (0, false, no, nej, n or empty)")
    else:
        changed, path = ANSAETTELSER.replace("01-02-2015", value), "valid_from"
    folder = export(tmp_path / "sd", ansaettelser=changed)
    rejected = refused(read_source(source(folder)))
    assert [str(p) for p in rejected.problems] == [
        f"{folder / 'ansaettelser.csv'}:2: {path}: engagements 'A1': {problem}"]


def test_every_problem_of_a_record_is_reported(tmp_path):
    changed = ANSAETTELSER.replace("A1;1001;111;Sekretær;Ja;01-02-2015",
                                   "A1;9999;111;Sekretær;Ja;2015-02-01")
    folder = export(tmp_path / "sd", ansaettelser=changed)
    rejected = refused(read_source(source(folder)))
    where = f"{folder / 'ansaettelser.csv'}:2"
    assert [str(p) for p in rejected.problems] == [
        f"{where}: valid_from: engagements 'A1': date '2015-02-01' does not match date_format "
        "'%d-%m-%Y' (dd-mm-yyyy)",
        f"{where}: person: engagements 'A1': no person with id '9999'"]


@pytest.mark.parametrize(("item", "expected"), [
    ({"type": "Telefon", "visibility": "Hemmelig"}, ("phone", "secret")),
    ({"type": "email", "visibility": 3}, ("email", "secret")),  # a JSON code
    ({"type": "Fax", "visibility": True}, ("Fax", True)),  # not mapped: the store says why
])
def test_value_maps_work_for_the_http_source_too(item, expected):
    values = VALUES | {"visibility": VALUES["visibility"] | {"3": "secret", "True": "public"}}
    http = HttpSource.model_validate({
        "name": "api", "type": "http", "base_url": "https://hr.example/api/",
        "kinds": {"addresses": {"path": "addresses", "values": values}}})
    fieldmap = FieldMap.of("addresses", http.kinds["addresses"], http)
    record = fieldmap.record({"id": "a1", "owner": "p1", "value": "12", **item})
    assert (record["type"], record["visibility"]) == expected


def test_a_column_the_mapping_reads_may_not_come_twice(tmp_path):
    folder = export(tmp_path / "sd", medarbejdere="Medarbejdernr;Fornavn;Efternavn;Fornavn\n")
    with pytest.raises(SourceError, match=r"medarbejdere.csv:1: persons: the header has column "
                                          r"'Fornavn' \(given_name\) more than once$"):
        read_source(source(folder))


@pytest.mark.parametrize("name", ["org.json", "org.yaml"])
def test_a_snapshot_file_with_a_byte_order_mark_reads(tmp_path, name):
    path = tmp_path / name
    path.write_text('{"persons": [{"id": "1", "given_name": "Åge", "surname": "Ørsted"}]}',
                    encoding="utf-8-sig")
    snapshot = read_source(SnapshotSource(name="hr", type="snapshot", path=path))
    assert snapshot.records["persons"][0]["given_name"] == "Åge"


def test_merged_sources_keep_each_records_place():
    first = Snapshot({"persons": [{"id": "1"}]}, {"persons": "a.csv"},
                     {"persons": [Place("a.csv", 2)]})
    second = Snapshot({"persons": [{"id": "2"}]}, {"persons": "org.json"})
    first.merge(second)
    assert first.places_of("persons") == [Place("a.csv", 2), Place("org.json")]


# --- the config: mistakes found by load, as FILE:LINE ---------------------------------


def config_problems(tmp_path: Path, kind_lines: str, source_lines: str = "") -> list[str]:
    folder = export(tmp_path / "sd")
    path = tmp_path / "config.yaml"
    path.write_text(f"""\
sources:
  - name: sd
    type: csv
    path: {folder}
    delimiter: ";"
{source_lines}    kinds:
      addresses:
        file: adresser.csv
{kind_lines}""", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(("lines", "expected"), [
    ('    date_format: "dd-mm-yyyy"\n',
     "config.yaml:6: sources[0].date_format: 'dd-mm-yyyy' has no strptime directives (like "
     "%d, %m, %Y), so no date matches it; did you mean '%d-%m-%Y'?"),
    ('    date_format: "%d-%m"\n',
     "config.yaml:6: sources[0].date_format: '%d-%m' does not hold a whole date: it needs a "
     "year, a month and a day, like '%d-%m-%Y'"),
    ("    encoding: utf8x\n",
     "config.yaml:6: sources[0].encoding: unknown encoding 'utf8x'; e.g. utf-8, cp1252 (Excel "
     "on Windows) or latin-1"),
])
def test_source_settings_that_cannot_work_are_config_problems(tmp_path, lines, expected):
    assert config_problems(tmp_path, "", lines) == [f"{tmp_path}/{expected}"]


@pytest.mark.parametrize(("lines", "expected"), [
    ("        date_format: DD.MM.YYYY\n", "'%d.%m.%Y'"),
    ("        values: {visibility: {Offentlig: publik}}\n",
     "kinds.addresses.values.visibility: Offentlig: 'publik' is not one of public, internal, "
     "secret"),
    ("        values: {synlighed: {Offentlig: public}}\n",
     "kinds.addresses: 'synlighed' is not a field of addresses"),
])
def test_kind_settings_that_cannot_work_are_config_problems(tmp_path, lines, expected):
    [problem] = config_problems(tmp_path, lines)
    assert problem.startswith(f"{tmp_path}/config.yaml:")
    assert expected in problem
