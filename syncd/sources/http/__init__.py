"""An HTTP JSON API (an HR system's REST endpoint), one path per kind, paged or not."""

from syncd.sources.http.config import BasicAuth, BearerAuth, HttpKind, HttpSource, Pagination
from syncd.sources.http.reader import read_http_source

__all__ = ["BasicAuth", "BearerAuth", "HttpKind", "HttpSource", "Pagination", "read_http_source"]
