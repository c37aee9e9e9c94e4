"""An HTTP JSON API (an HR system's REST endpoint), one path per kind, paged or not.

Credentials are read when a read starts, so a rotated token file needs no reload, and
they never appear in a log line or an error message. Every page is fetched before the
snapshot is handed on: a read that fails halfway raises rather than look like a shrink.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import tenacity

from syncd.config.secrets import read_secret
from syncd.errors import SourceError, SyncdError
from syncd.logs import redact
from syncd.org import Snapshot
from syncd.retry import next_wait, policy, tls_error
from syncd.sources.fieldmap import MISSING, FieldMap, lookup
from syncd.sources.http.config import HttpKind, HttpSource

log = logging.getLogger("syncd.sources.http")  # the source type, whichever module logs

MAX_PAGES = 100_000  # a server that pages forever must not hang the daemon
BACKOFF = 0.5  # seconds before the first retry; doubles each time
MAX_BACKOFF = 10.0


def read_http_source(source: HttpSource) -> Snapshot:
    snapshot = Snapshot()
    with _client(source) as client:
        api = _Api(source, client)
        for kind, spec in source.kinds.items():
            url = client.build_request("GET", spec.path).url
            fieldmap = FieldMap.of(kind, spec, source)
            snapshot.records[kind] = [
                fieldmap.record(item) for page in api.pages(kind, spec, url) for item in page
            ]
            snapshot.origin[kind] = _public(url)
    return snapshot


def _client(source: HttpSource) -> httpx.Client:
    headers, auth = {"Accept": "application/json"}, None
    if source.bearer:
        token = _secret(source, "bearer.token", source.bearer.token_file, source.bearer.token)
        headers["Authorization"] = f"Bearer {token}"
    elif source.basic:
        password = _secret(source, "basic.password", source.basic.password_file,
                           source.basic.password)
        auth = httpx.BasicAuth(source.basic.username, password)
    return httpx.Client(base_url=source.base_url, headers=headers, auth=auth,
                        timeout=source.timeout, verify=_verify(source), follow_redirects=True)


def _secret(source: HttpSource, key: str, file: Path | None, env_ref: str | None) -> str:
    try:
        return read_secret(file, env_ref, what=f"{source.name}: {key}").get_secret_value()
    except SyncdError as exc:
        raise SourceError(str(exc)) from None


def _verify(source: HttpSource) -> ssl.SSLContext | bool:
    if not source.tls_verify or source.tls_ca_file is None:
        return source.tls_verify
    try:
        return ssl.create_default_context(cafile=str(source.tls_ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"{source.name}: tls_ca_file {source.tls_ca_file}: {exc}") from None


def _public(url: httpx.URL) -> str:
    """The URL for messages and log lines: never with the user:password a base_url may
    carry, nor the value of a secret query parameter (`?token=`, `?api_key=`)."""
    return redact(str(url.copy_with(username=None, password=None)))


class _Api:
    """GETs JSON with bounded retries and turns every failure into a SourceError."""

    def __init__(self, source: HttpSource, client: httpx.Client):
        self.source = source
        self.client = client

    def pages(self, kind: str, spec: HttpKind, url: httpx.URL) -> Iterator[list[dict[str, Any]]]:
        style = self.source.pagination.style
        if style == "next_link":
            return self._linked_pages(kind, spec, url)
        if style == "page":
            return self._numbered_pages(kind, spec, url)
        return iter([self._items(spec, *self._get(kind, url))])

    def _linked_pages(self, kind: str, spec: HttpKind, url: httpx.URL) -> Iterator[list[Any]]:
        """Follow `next_field` (absolute, or relative to the page) until it is empty."""
        seen = {url}
        for _ in range(MAX_PAGES):
            body, url = self._get(kind, url)
            yield self._items(spec, body, url)
            link = lookup(body, self.source.pagination.next_field)
            if link in (None, MISSING, ""):
                return
            url = self._next_url(url, str(link), seen)
        raise self._error(url, f"still paging after {MAX_PAGES} pages; giving up")

    def _next_url(self, here: httpx.URL, link: str, seen: set[httpx.URL]) -> httpx.URL:
        url = here.join(link)
        base = self.client.base_url
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            raise self._error(here, f"next link {_public(url)} leaves base_url; not sending "
                                    "credentials there")
        if url in seen:
            raise self._error(here, f"next link {_public(url)} was already read: the server "
                                    "pages in a loop")
        seen.add(url)
        return url

    def _numbered_pages(self, kind: str, spec: HttpKind, url: httpx.URL) -> Iterator[list[Any]]:
        """Count pages up until one is empty, or shorter than a page size we know."""
        paging = self.source.pagination
        size = {paging.size_param: paging.page_size} if paging.size_param else {}
        short_ends = bool(size) or "page_size" in paging.model_fields_set
        previous = None
        for number in range(paging.first_page, paging.first_page + MAX_PAGES):
            page_url = url.copy_merge_params({paging.page_param: number, **size})
            items = self._items(spec, *self._get(kind, page_url))
            if not items:
                return
            if items == previous:
                raise self._error(page_url, f"page {number} repeats page {number - 1}: does the "
                                            f"server know {paging.page_param!r}?")
            yield items
            if short_ends and len(items) < paging.page_size:
                return
            previous = items
        raise self._error(url, f"still paging after {MAX_PAGES} pages; giving up")

    def _get(self, kind: str, url: httpx.URL) -> tuple[Any, httpx.URL]:
        """The JSON body and the URL it came from (after redirects)."""
        response = self._send(url)
        if response.status_code >= 400:
            raise self._error(url, self._status_problem(kind, response))
        try:
            return response.json(), response.url
        except ValueError as exc:
            kind_of = response.headers.get("content-type", "no content-type")
            raise self._error(url, f"the answer is not JSON ({kind_of}): {exc}") from None
        except RecursionError:  # the JSON parser recurses once per level of [ or {
            raise self._error(url, "the answer's JSON is nested too deeply to read") from None

    def _send(self, url: httpx.URL) -> httpx.Response:
        """GET with retries on connection trouble and 5xx (not on TLS errors: those do
        not heal); the last 5xx answer is returned, the last connection error raised."""
        def log_retry(state: tenacity.RetryCallState) -> None:
            assert state.outcome is not None
            error = state.outcome.exception()
            problem = type(error).__name__ if error else str(state.outcome.result().status_code)
            log.warning("%s: GET %s failed (%s), retry %d of %d in %.1fs", self.source.name,
                        _public(url), problem, state.attempt_number, self.source.retries,
                        next_wait(state))

        retrying = policy(
            self.source.retries + 1, first=BACKOFF, most=MAX_BACKOFF, on_retry=log_retry,
            retry=tenacity.retry_if_exception(_transient)
            | tenacity.retry_if_result(lambda response: response.status_code >= 500))
        try:
            response: httpx.Response = retrying(self.client.get, url)
        except TRANSPORT_ERRORS as exc:
            raise self._error(url, self._transport_problem(exc)) from None
        return response

    def _items(self, spec: HttpKind, body: Any, url: httpx.URL) -> list[dict[str, Any]]:
        items = body if spec.items is None else lookup(body, spec.items)
        if items is MISSING:
            keys = ", ".join(body) if isinstance(body, dict) else type(body).__name__
            raise self._error(url, f"no {spec.items!r} in the answer (it has: {keys})")
        if not isinstance(items, list):
            hint = "; set the kind's items: to the key that holds the list" if spec.items is None \
                else ""
            raise self._error(url, f"want a list of records, got {type(items).__name__}{hint}")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self._error(url, f"record {index} is {type(item).__name__}, not an object")
        return items

    def _status_problem(self, kind: str, response: httpx.Response) -> str:
        status = f"{response.status_code} {response.reason_phrase}"
        if response.status_code in (401, 403):
            return f"{status}; check {self._credentials()}"
        if response.status_code == 404:
            return f"{status}; check base_url and kinds.{kind}.path"
        retried = f" after {self.source.retries + 1} attempts" if response.status_code >= 500 \
            else ""
        return status + retried

    def _credentials(self) -> str:
        bearer, basic = self.source.bearer, self.source.basic
        if bearer:
            return "bearer.token_file" if bearer.token_file else f"bearer.token ({bearer.token})"
        if basic:
            secret = "password_file" if basic.password_file else f"password ({basic.password})"
            return f"basic.username and basic.{secret}"
        return "the source's credentials: it has neither bearer nor basic"

    def _transport_problem(self, exc: httpx.TransportError) -> str:
        tls = tls_error(exc)
        if isinstance(tls, ssl.SSLCertVerificationError):
            return (f"TLS failed: {tls.reason} ({tls.verify_message}); set tls_ca_file to "
                    "the CA that signed the server's certificate")
        if tls and tls.reason == "WRONG_VERSION_NUMBER":
            return "TLS failed: the server does not answer in TLS (is it http://?)"
        if tls:
            return f"TLS failed: {tls.reason or tls}"
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.source.timeout:g}s ({type(exc).__name__})"
        if isinstance(exc, httpx.ConnectError):
            return f"cannot connect: {exc}"
        return f"{type(exc).__name__}: {exc}"

    def _error(self, url: httpx.URL, problem: str) -> SourceError:
        return SourceError(f"{self.source.name}: GET {_public(url)}: {problem}")


TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSPORT_ERRORS) and not tls_error(exc)
