"""pytest fixtures for the OS2mo test server (register with `pytest_plugins`).

The server is built from OS2mo's published schema in the shared data folder; where that
folder is absent (a clone without it), the tests that need it are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncd.testing.os2mo import Os2moServer
from tests.os2mo_data import KOLDING, SCHEMA

StartOs2mo = Callable[..., Os2moServer]


@pytest.fixture
def os2mo_schema() -> Path:
    """OS2mo's v29 schema file; the test is skipped where the shared data is missing."""
    for needed in (SCHEMA, KOLDING / "org_unit.json", KOLDING / "user.json"):
        if not needed.exists():
            pytest.skip(f"OS2mo test data missing: {needed} (the shared data folder beside "
                        "the checkout); these tests do not run without it")
    return SCHEMA


@pytest.fixture
def start_os2mo(os2mo_schema: Path, tmp_path: Path) -> Iterator[StartOs2mo]:
    """Start an OS2mo test server on the given data (and options of Os2moServer); every
    one started is stopped after the test."""
    started: list[Os2moServer] = []

    def start(data: dict[str, list[dict[str, Any]]], **options: Any) -> Os2moServer:
        server = Os2moServer(os2mo_schema, data, tmp_path / f"os2mo-{len(started)}", **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.close()
