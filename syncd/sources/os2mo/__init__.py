"""OS2mo's GraphQL API, read as a Keycloak client with OAuth2 client credentials."""

from __future__ import annotations

from syncd.org import Snapshot
from syncd.sources.os2mo.config import Os2moSource


def read_os2mo_source(config: Os2moSource) -> Snapshot:
    """Read the API; the reader (authlib, httpx) loads only when one is read, so that a
    command that reads no source starts without it."""
    from syncd.sources.os2mo.reader import read_os2mo_source as read

    return read(config)


__all__ = ["Os2moSource", "read_os2mo_source"]
