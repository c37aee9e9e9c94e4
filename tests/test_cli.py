"""The command line: ingest, show (text and JSON), options, help, exit codes, stdout kept clean."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncd import cli
from syncd.cli import BROKEN_PIPE, main
from syncd.store import open_store
from tests.conftest import REPO, write_json


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
    assert "no person with id, username or email 'nobody'" in err


def test_rejected_snapshot_exits_1_and_lists_problems(config, tmp_path, tiny_org, capsys):
    run(capsys, "ingest", "-c", str(config))
    tiny_org["engagements"][0]["unit"] = "gone"
    write_json(tmp_path / "org.json", tiny_org)
    code, _, err = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    assert "engagements 'e1': no unit with id 'gone'" in err
    assert str(tmp_path / "org.json") in err


def test_alike_snapshot_problems_are_one_line(config, tmp_path, tiny_org, capsys):
    for engagement in tiny_org["engagements"]:
        engagement["unit"] = "gone"
    write_json(tmp_path / "org.json", tiny_org)
    code, _, err = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    [line] = [line for line in err.splitlines() if "no unit with id 'gone'" in line]
    assert "(6 times: engagements 'e1', engagements 'e2', engagements 'e3', and 3 more)" in line


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


# --- the command line itself -----------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["-c", "{config}", "ingest"],
    ["ingest", "-c", "{config}"],
    ["-v", "-c", "{config}", "ingest"],
    ["--config", "{config}", "ingest", "-v"],
])
def test_common_options_go_before_or_after_the_command(config, capsys, argv):
    code, out, _ = run(capsys, *[arg.format(config=config) for arg in argv])
    assert (code, out.splitlines()[0][:12]) == (0, "ingested hr:")


def test_an_option_after_the_command_wins_over_one_before(config, tmp_path, capsys):
    code, _, err = run(capsys, "-c", str(tmp_path / "absent.yaml"), "ingest", "-c", str(config))
    assert code == 0, err


@pytest.mark.parametrize("command", ["validate", "ingest", "plan", "apply", "run", "show",
                                     "completion"])
def test_each_command_help_has_exit_codes_and_examples(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "exit status:\n  0  " in out
    assert f"examples:\n  syncd {command}" in out or "examples:\n  syncd -c" in out
    assert "CONTRACT" not in out and "section" not in out


def test_show_person_by_email_as_well_as_by_id(config, capsys):
    run(capsys, "ingest", "-c", str(config))
    code, out, err = run(capsys, "show", "person", "Soren@Kolding.example", "--json",
                         "-c", str(config))
    assert code == 0, err
    assert json.loads(out)["id"] == "p1"


def test_show_person_names_every_match_when_an_email_is_shared(config, tmp_path, tiny_org,
                                                               capsys):
    tiny_org["addresses"].append({"id": "a9", "owner": "p2", "type": "email",
                                  "value": "soren@kolding.example", "visibility": "internal"})
    write_json(tmp_path / "org.json", tiny_org)
    run(capsys, "ingest", "-c", str(config))
    code, out, err = run(capsys, "show", "person", "soren@kolding.example", "-c", str(config))
    assert (code, out) == (1, "")
    assert "'soren@kolding.example' names 2 persons (p1, p2); give the person's id" in err


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete"), ("zsh", "#compdef")])
def test_completion_scripts_know_the_commands_and_options(capsys, shell, marker):
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0
    assert marker in out
    assert all(word in out for word in ("validate", "plan", "--detailed-exitcode", "--person"))


def test_the_sqlite_store_and_its_journal_are_private(config, tmp_path, capsys):
    old = os.umask(0o022)  # what most systems have: new files readable by all
    try:
        run(capsys, "ingest", "-c", str(config))
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")  # open: -wal and -shm exist
        try:
            store.last_ingest()
            files = [tmp_path / name for name in ("store.db", "store.db-wal", "store.db-shm")]
            assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
                f.name: 0o600 for f in files}
        finally:
            store.close()
    finally:
        os.umask(old)


def test_a_reader_that_leaves_early_is_no_crash(tmp_path):
    """`syncd ... | head -1`: exit quietly, no BrokenPipe traceback, no "please report"."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the output
    child = subprocess.Popen([sys.executable, "-m", "syncd", "completion", "bash"],
                             stdout=write_end, stderr=subprocess.PIPE, cwd=REPO)
    os.close(write_end)
    assert os.read(read_end, 80)  # the first line, unbuffered: the rest waits in the child
    os.close(read_end)
    _, err = child.communicate(timeout=30)
    assert child.returncode == BROKEN_PIPE
    assert err == b""


def test_a_bug_is_reported_with_its_traceback(config, capsys, monkeypatch, caplog):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_ingest", broken)
    code, _, _ = run(capsys, "ingest", "-c", str(config))
    assert code == 1
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "this is a bug in syncd, please report it" in record.getMessage()
    assert record.exc_info and "boom" in str(record.exc_info[1])
