"""Shared fixtures. Real servers live in tests/fixtures_*.py and syncd/testing/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from syncd.store import Store, open_store

pytest_plugins = ["tests.fixtures_slapd", "tests.fixtures_samba", "tests.fixtures_scim",
                  "tests.fixtures_oidc", "tests.fixtures_os2mo"]

REPO = Path(__file__).resolve().parent.parent

TINY_ORG: dict[str, Any] = {
    "units": [
        {"id": "root", "name": "Kolding Kommune", "parent": None, "unit_type": "Kommune"},
        {"id": "born", "name": "Børn og Unge", "parent": "root", "unit_type": "Forvaltning"},
        {"id": "skole", "name": "Ærtebjerg Skole", "parent": "born", "unit_type": "Skole"},
        {"id": "old", "name": "Nedlagt Afdeling", "parent": "root",
         "valid_from": "2000-01-01", "valid_to": "2020-12-31"},
    ],
    "persons": [
        {"id": "p1", "given_name": "Søren", "surname": "Ærø"},
        {"id": "p2", "given_name": "Åse", "surname": "Øster", "nickname": "Åsa"},
        {"id": "p3", "given_name": "Jens", "surname": "Hansen"},
        {"id": "p4", "given_name": "Jens", "surname": "Hansen"},
        {"id": "p5", "given_name": "Émile", "surname": "Müller"},
    ],
    "engagements": [
        {"id": "e1", "person": "p1", "unit": "root", "job_function": "Direktør",
         "engagement_type": "fast", "primary": True, "valid_from": "2010-01-01"},
        {"id": "e2", "person": "p2", "unit": "skole", "job_function": "Lærer",
         "primary": True, "valid_from": "2015-08-01"},
        {"id": "e3", "person": "p2", "unit": "born", "job_function": "Konsulent",
         "primary": False, "valid_from": "2020-01-01"},
        {"id": "e4", "person": "p3", "unit": "skole", "job_function": "Skoleleder",
         "primary": True, "valid_from": "2012-01-01"},
        {"id": "e5", "person": "p4", "unit": "born", "job_function": "Sagsbehandler",
         "primary": True, "valid_from": "2018-01-01", "valid_to": "2025-06-30"},
        {"id": "e6", "person": "p5", "unit": "skole", "job_function": "Pædagog",
         "primary": True, "valid_from": "2026-12-10"},
    ],
    "managers": [
        {"id": "m1", "person": "p1", "unit": "root", "manager_type": "Direktør",
         "responsibilities": ["Personale"]},
        {"id": "m2", "person": "p3", "unit": "skole", "manager_type": "Leder"},
        {"id": "m3", "person": None, "unit": "born", "manager_type": "Vakant"},
    ],
    "addresses": [
        {"id": "a1", "owner": "p1", "type": "email", "value": "soren@kolding.example",
         "visibility": "public"},
        {"id": "a2", "owner": "p1", "type": "phone", "value": "+45 7979 0000",
         "visibility": "secret"},
        {"id": "a3", "owner": "skole", "type": "postal", "value": "Skolevej 1, 6000 Kolding",
         "visibility": "public"},
    ],
    "leaves": [
        {"id": "l1", "person": "p2", "leave_type": "Barsel", "valid_from": "2026-11-01",
         "valid_to": "2027-03-31"},
    ],
    "associations": [
        {"id": "as1", "person": "p4", "unit": "skole", "association_type": "Tillidsrepræsentant"},
    ],
    "roles": [{"id": "r1", "person": "p3", "unit": "skole", "role_type": "Arbejdsmiljø"}],
    "it_systems": [{"id": "ad", "name": "Active Directory"}],
}


@pytest.fixture
def tiny_org() -> dict[str, Any]:
    """A small org (a deep copy: tests mutate it freely)."""
    return copy.deepcopy(TINY_ORG)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'store.db'}")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
