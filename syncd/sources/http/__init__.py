"""An HTTP JSON API (an HR system's REST endpoint), one path per kind, paged or not."""

from __future__ import annotations

from syncd.org import Snapshot
from syncd.sources.http.config import BasicAuth, BearerAuth, HttpKind, HttpSource, Pagination


def read_http_source(config: HttpSource) -> Snapshot:
    """Read the API; the reader (and httpx) loads only when one is read, so that a
    command that reads no source starts without it."""
    from syncd.sources.http.reader import read_http_source as read

    return read(config)


__all__ = ["BasicAuth", "BearerAuth", "HttpKind", "HttpSource", "Pagination", "read_http_source"]
