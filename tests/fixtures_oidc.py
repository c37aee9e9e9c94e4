"""pytest fixtures for a real OpenID Connect provider (syncd.testing.oidc; registered in
conftest.py): a factory, since the provider must know its client's redirect URI, which
names the port of a daemon the test has yet to start."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syncd.testing.oidc import OidcProvider
from tests.conftest import REPO

PROJECT = REPO / "tests" / "oidc"


@pytest.fixture
def oidc_provider(tmp_path: Path) -> Iterator[Callable[[str], OidcProvider]]:
    """`oidc_provider(redirect_uri)`: a started provider whose one client may send users
    back to `redirect_uri`; stopped after the test, its log left in tmp_path/oidc."""
    started: list[OidcProvider] = []

    def start(redirect_uri: str) -> OidcProvider:
        provider = OidcProvider(tmp_path / "oidc", project=PROJECT, redirect_uri=redirect_uri)
        started.append(provider.start())
        return provider

    yield start
    for provider in started:
        provider.close()
