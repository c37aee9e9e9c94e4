"""The mapping stage on its own: an org dict through a real store to `desired_state`."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

from syncd.mapping.desired import Desired, desired_state
from syncd.mapping.rules import CompiledMapping, load_mapping
from syncd.objects import Owned
from syncd.org import Snapshot
from syncd.store import open_store
from tests.conftest import REPO

DAY = date(2026, 12, 1)
BASE = "dc=example,dc=org"
SHIPPED = REPO / "mappings" / "openldap.yaml"


def desired_for(tmp_path: Path, org: dict[str, Any], mapping: CompiledMapping | None = None,
                known: dict[str, Owned] | None = None,
                known_groups: dict[str, Owned] | None = None) -> Desired:
    """What `mapping` (the shipped one by default) wants for `org` on DAY."""
    store = open_store(f"sqlite:///{tmp_path / 'mapping-env.db'}")
    store.ingest(Snapshot(copy.deepcopy(org)), "test", max_shrink=1.0, force=True)
    return desired_state(store.org(DAY), mapping or load_mapping(SHIPPED),
                         context={"base_dn": BASE}, target="ldap",
                         variables={"mail_domain": "kolding.example"}, known=known or {},
                         taken=set(), lookup=lambda attribute, value: [],
                         known_groups=known_groups)
