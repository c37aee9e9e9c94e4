"""pytest fixtures for a real OpenLDAP server (register with `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.testing.slapd import Slapd


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A fresh, started slapd per test: no test sees another's entries.

    Its files (config, database, slapd.log) stay in tmp_path for post-mortems.
    """
    server = Slapd(tmp_path / "slapd")
    server.start()
    try:
        yield server
    finally:
        server.close()
