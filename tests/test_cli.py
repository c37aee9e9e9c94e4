"""The command line: ingest, show (text and JSON), exit codes, stdout kept clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import main
from tests.conftest import write_json


@pytest.fixture
def config(tmp_path: Path, tiny_org: dict[str, Any]) -> Path:
    write_json(tmp_path / "org.json", tiny_org)
    path = tmp_path / "config.yaml"
    path.write_text(
        "store:\n  url: sqlite:///store.db\n"
        "sources:\n  - name: hr\n    type: snapshot\n    path: org.json\n",
        encoding="utf-8",
    )
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_then_ingest_again(config, capsys):
    code, out, _ = run(capsys, "ingest", "-c", str(config))
    assert code == 0
    assert "persons +5 ~0 -0" in out
    code, out, _ = run(capsys, "ingest", "-c", str(config))
    assert (code, out.strip()) == (0, "ingested hr: no change")


def test_show_person_text(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    code, out, _ = run(capsys, "show", "person", "p2", "-c", str(config), "--today", "2026-12-01")
    assert code == 0
    assert out.splitlines()[0] == 'person p2  Åse Øster "Åsa"  (as of 2026-12-01)'
    assert "    Lærer, Ærtebjerg Skole (skole), 2015-08-01 to open  [primary]" in out
    assert "  manager:  Jens Hansen (p3)" in out
    assert "  on leave: Barsel, 2026-11-01 to 2027-03-31" in out


def test_show_person_json_is_pure_json(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    code, out, _ = run(capsys, "show", "person", "p1", "--json", "-c", str(config),
                       "--today", "2026-12-01")
    assert code == 0
    card = json.loads(out)
    assert card["name"] == "Søren Ærø"
    assert card["manager"] is None
    assert card["manages"] == [{"id": "root", "name": "Kolding Kommune"}]
    assert card["contacts"] == [
        {"type": "email", "value": "soren@kolding.example", "visibility": "public"}
    ]  # the secret phone number is not in the address book


def test_show_unit(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    _, out, _ = run(capsys, "show", "unit", "skole", "--json", "-c", str(config),
                    "--today", "2026-12-01")
    card = json.loads(out)
    assert [u["id"] for u in card["parent_chain"]] == ["born", "root"]
    assert [m["id"] for m in card["managers"]] == ["p3"]
    assert [p["id"] for p in card["members"]] == ["p3", "p2"]
    _, out, _ = run(capsys, "show", "unit", "root", "-c", str(config), "--today", "2026-12-01")
    assert "  sub-units: Børn og Unge (born)" in out
    assert "Nedlagt" not in out
    _, out, _ = run(capsys, "show", "unit", "born", "-c", str(config), "--today", "2026-12-01")
    nearest = "(none in this unit; nearest: Søren Ærø (p1) of Kolding Kommune (root))"
    assert f"  managers:  {nearest}" in out


def test_show_is_evaluated_on_the_given_day(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    _, out, _ = run(capsys, "show", "unit", "skole", "--json", "-c", str(config),
                    "--today", "2026-12-10")
    assert "p5" in [p["id"] for p in json.loads(out)["members"]]


def test_show_unknown_id_exits_1(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    code, out, err = run(capsys, "show", "person", "nobody", "-c", str(config))
    assert (code, out) == (1, "")
    assert "no person with id 'nobody'" in err


def test_rejected_snapshot_exits_1_and_lists_problems(config, tmp_path, tiny_org, capsys):
    run(capsys, "ingest", "-c", str(config))
    tiny_org["engagements"][0]["unit"] = "gone"
    write_json(tmp_path / "org.json", tiny_org)
    code, _, err = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    assert "engagements 'e1': unit: no unit with id 'gone'" in err
    assert str(tmp_path / "org.json") in err


def test_shrink_guard_exits_1_until_forced(config, tmp_path, tiny_org, capsys):
    run(capsys, "ingest", "-c", str(config))
    write_json(tmp_path / "org.json", dict(tiny_org, persons=tiny_org["persons"][:2],
                                             engagements=[], leaves=[], managers=[],
                                             addresses=[], associations=[], roles=[]))
    code, _, err = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    assert "persons: 3 of 5 would be removed" in err
    code, out, _ = run(capsys, "ingest", "--force", "-c", str(config))
    assert code == 0
    assert "persons +0 ~0 -3" in out


def test_broken_snapshot_file_names_file_and_line(config, tmp_path, capsys):
    (tmp_path / "org.json").write_text('{"persons": [\n{"id": "p1",}\n]}')
    code, _, err = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    assert f"{tmp_path / 'org.json'}:2: JSON: " in err


def test_yaml_snapshot(config, tmp_path, tiny_org, capsys):
    import yaml

    (tmp_path / "org.yaml").write_text(yaml.safe_dump(tiny_org, allow_unicode=True))
    config.write_text(config.read_text().replace("org.json", "org.yaml"))
    code, out, _ = run(capsys, "ingest", "-c", str(config))
    assert code == 0, out
    assert "units +4" in out


def test_plan_exits_1_when_the_source_shrinks_too_much(config, tmp_path, tiny_org, capsys):
    run(capsys, "ingest", "-c", str(config))
    write_json(tmp_path / "org.json", dict(tiny_org, persons=tiny_org["persons"][:1],
                                             engagements=[], leaves=[], managers=[],
                                             addresses=[], associations=[], roles=[]))
    code, out, err = run(capsys, "plan", "--json", "-c", str(config))
    assert (code, out) == (1, "")
    assert "source_max_shrink" in err
