"""A syncd set-up against a real slapd: config, org file, store, and ways to look.

Tests drive the real command line (`syncd.cli.main`) and read the directory back with
ldap3, so what is checked is what a sysadmin would see.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import ldap3

from syncd.cli import main
from syncd.testing.config import write_ldap_config
from syncd.testing.slapd import Slapd
from tests.conftest import REPO, write_json

DAY = "2026-12-01"

SMALL_ORG: dict[str, Any] = {
    "units": [
        {"id": "root", "name": "Kolding Kommune", "parent": None},
        {"id": "born", "name": "Børn og Unge", "parent": "root"},
        {"id": "skole", "name": "Ærtebjerg Skole", "parent": "born"},
        {"id": "it", "name": "IT-afdelingen", "parent": "root"},
    ],
    "persons": [
        {"id": "p1", "given_name": "Søren", "surname": "Ærø"},
        {"id": "p2", "given_name": "Åse", "surname": "Østergård", "nickname": "Åsa"},
        {"id": "p3", "given_name": "Jens", "surname": "Hansen"},
        {"id": "p4", "given_name": "Jens", "surname": "Hansen"},
        {"id": "p5", "given_name": "Renée", "surname": "Lefèvre"},
    ],
    "engagements": [
        {"id": "e1", "person": "p1", "unit": "root", "job_function": "Direktør",
         "primary": True, "valid_from": "2010-01-01"},
        {"id": "e2", "person": "p2", "unit": "skole", "job_function": "Lærer",
         "primary": True, "valid_from": "2015-08-01"},
        {"id": "e3", "person": "p3", "unit": "skole", "job_function": "Skoleleder",
         "primary": True, "valid_from": "2012-01-01"},
        {"id": "e4", "person": "p4", "unit": "it", "job_function": "Udvikler",
         "primary": True, "valid_from": "2018-01-01"},
        {"id": "e5", "person": "p5", "unit": "born", "job_function": "Konsulent",
         "primary": True, "valid_from": "2020-01-01"},
    ],
    "managers": [
        {"id": "m1", "person": "p1", "unit": "root", "manager_type": "Direktør"},
        {"id": "m2", "person": "p3", "unit": "skole", "manager_type": "Skoleleder"},
    ],
    "addresses": [
        {"id": "a1", "owner": "p1", "type": "email", "value": "direktoer@kolding.example",
         "visibility": "public"},
        {"id": "a2", "owner": "p2", "type": "phone", "value": "+45 7979 1234",
         "visibility": "public"},
        {"id": "a3", "owner": "p2", "type": "email", "value": "aase.privat@example.net",
         "visibility": "secret"},
    ],
}


class SyncEnv:
    """One slapd, one store, one org file; `apply`/`plan` run the real CLI."""

    def __init__(self, root: Path, slapd: Slapd, max_deletes: int = 50,
                 max_delete_ratio: float = 1.0):
        self.root, self.slapd = root, slapd
        self.base = slapd.base_dn
        self.config = write_ldap_config(root, slapd, REPO / "mappings" / "openldap.yaml",
                                        max_deletes=max_deletes,
                                        max_delete_ratio=max_delete_ratio)
        self.org: dict[str, Any] = copy.deepcopy(SMALL_ORG)
        self.write_org()

    def write_org(self) -> None:
        write_json(self.root / "org.json", self.org)

    def run(self, capsys: Any, *argv: str) -> tuple[int, str, str]:
        code = main([*argv, "-c", str(self.config)])
        out, err = capsys.readouterr()
        return code, out, err

    def apply(self, capsys: Any, day: str = DAY, *extra: str) -> tuple[int, str, str]:
        self.write_org()
        return self.run(capsys, "apply", "--today", day, *extra)

    def plan(self, capsys: Any, day: str | None = DAY) -> dict[str, Any]:
        """The plan as JSON; `day` None plans for the real today, as the daemon does."""
        self.write_org()
        code, out, err = self.run(capsys, "plan", "--json", *(("--today", day) if day else ()))
        assert code == 0, err
        return json.loads(out)

    # --- looking at the directory ---------------------------------------------------

    def connection(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.slapd.url), self.slapd.admin_dn,
                                self.slapd.admin_password, auto_bind=True)

    def search(self, ldap_filter: str, base: str | None = None) -> dict[str, dict[str, list]]:
        with self.connection() as conn:
            conn.search(base or self.base, ldap_filter, attributes=["*"])
            return {e.entry_dn: {k: list(v) for k, v in e.entry_attributes_as_dict.items()}
                    for e in conn.entries}

    def users(self) -> dict[str, tuple[str, dict[str, list]]]:
        """person id -> (DN, attributes) of every entry that carries an anchor."""
        found = self.search("(employeeNumber=*)")
        out = {}
        for dn, attrs in found.items():
            person = attrs["employeeNumber"][0]
            assert person not in out, f"two entries for {person}: {out[person][0]}, {dn}"
            out[person] = (dn, attrs)
        return out

    def user(self, person_id: str) -> tuple[str, dict[str, list]]:
        return self.users()[person_id]

    def members(self, group_cn: str) -> set[str]:
        found = self.search(f"(cn={group_cn})", f"ou=groups,{self.base}")
        if not found:
            return set()
        [attrs] = found.values()
        return {dn.lower() for dn in attrs.get("member", [])}

    def dn(self, person_id: str) -> str:
        return self.user(person_id)[0].lower()
