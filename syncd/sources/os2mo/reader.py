"""Reading OS2mo's GraphQL API: OAuth2 client credentials, keyset paging, one query per
collection.

authlib's OAuth2Client asks Keycloak for a token before the first query and again
whenever the one it holds is within `token_leeway` seconds of its expiry (Keycloak
gives none to refresh with: it fetches a new one with the client's credentials). The
secret is read when a read starts and never appears in a message. Every page of every
collection is read before the snapshot is handed on: a read that fails halfway raises
rather than look like a shrink, and so does an object that comes without its validity
intervals (OS2mo withholds what a client may not read that way). Nothing read (a name, a
CPR number) is ever put in a log line or an error: they name the query, the collection,
the page, the field and at most an object's uuid.
"""

from __future__ import annotations

import logging
import re
import ssl
from datetime import date, timedelta
from typing import Any

import httpx2
import tenacity
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
    OAuth2Client,
    OAuthError,
)

from syncd.config.secrets import read_secret
from syncd.errors import SourceError, SyncdError
from syncd.org import Snapshot
from syncd.retry import next_wait, policy, tls_error
from syncd.sources.os2mo import queries
from syncd.sources.os2mo.config import Os2moSource
from syncd.sources.os2mo.records import COLLECTION_OF, Read, Responses, records

log = logging.getLogger("syncd.sources.os2mo")

MAX_PAGES = 100_000  # a server that pages forever must not hang the daemon
BACKOFF = 0.5  # seconds before the first retry; doubles each time
MAX_BACKOFF = 10.0
_CPR_LIKE = re.compile(r"\b\d{6}-?\d{4}\b")  # kept out of what a server's message echoes


def read_os2mo_source(source: Os2moSource) -> Snapshot:
    today = date.today()
    read = Read({}, today, source.zone, source.cpr)
    with _Api(source, today - timedelta(days=source.from_days_back)) as api:
        for collection in _collections(source):
            read.collections[collection.name] = api.read_all(collection)
    origin = {kind: f"{source.graphql_url} ({name})" for kind, name in COLLECTION_OF.items()}
    return Snapshot(records=records(read), origin=origin)


def _collections(source: Os2moSource) -> list[queries.Collection]:
    return [queries.CLASSES, queries.ORG_UNITS, queries.persons(source.cpr),
            queries.ENGAGEMENTS, queries.ASSOCIATIONS, queries.MANAGERS, queries.ADDRESSES,
            queries.LEAVES, queries.ROLE_BINDINGS, queries.IT_SYSTEMS, queries.IT_USERS]


class _Api:
    """POSTs the queries with bounded retries and turns every failure into a SourceError."""

    def __init__(self, source: Os2moSource, start: date):
        self.source = source
        self.start = start.isoformat()
        self.client = self._client()

    def __enter__(self) -> _Api:
        try:
            self._send(lambda: self.client.fetch_token())
        except FAILURES as exc:
            self.client.close()
            raise SourceError(f"{self.source.name}: asking for a token: {self._problem(exc)}"
                              ) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def _client(self) -> OAuth2Client:
        what = f"{self.source.name}: client_secret_file"
        try:
            secret = read_secret(self.source.client_secret_file, None, what=what)
        except SyncdError as exc:
            raise SourceError(str(exc)) from None
        return OAuth2Client(
            client_id=self.source.client_id, client_secret=secret.get_secret_value(),
            token_endpoint=self.source.token_url, grant_type="client_credentials",
            leeway=self.source.token_leeway, timeout=self.source.timeout,
            verify=verification(self.source), headers={"Accept": "application/json"})

    def read_all(self, collection: queries.Collection) -> Responses:
        """Every page until the cursor is null: a short or even empty page is no end."""
        found: Responses = []
        cursor = None
        for page in range(1, MAX_PAGES + 1):
            objects, cursor = self._page(collection, cursor, page)
            found += objects
            if cursor is None:
                log.debug("%s: %s: %d objects in %d pages", self.source.name, collection.name,
                          len(found), page)
                return found
        raise SourceError(f"{self._where(collection, MAX_PAGES)}: still paging; giving up")

    def _page(self, collection: queries.Collection, cursor: str | None, page: int
              ) -> tuple[Responses, str | None]:
        variables = {"limit": self.source.page_size, "cursor": cursor,
                     **({"from": self.start} if collection.windowed else {})}
        body = {"query": collection.query(), "operationName": collection.operation,
                "variables": variables}
        try:
            response = self._send(lambda: self.client.post(self.source.graphql_url, json=body))
        except FAILURES as exc:
            raise SourceError(f"{self._where(collection, page)}: {self._problem(exc)}"
                              ) from None
        answer = self._answer(collection, page, response)
        try:
            paged = answer["data"][collection.name]
            objects, cursor = paged["objects"], paged["page_info"]["next_cursor"]
        except (KeyError, TypeError):
            raise SourceError(f"{self._where(collection, page)}: the answer has no "
                              f"data.{collection.name}.objects and page_info") from None
        self._check_validities(collection, page, objects)
        return objects, cursor

    def _check_validities(self, collection: queries.Collection, page: int,
                          objects: Responses) -> None:
        """The filter picks objects valid in the window, so each has an interval there:
        one without any is withheld (not the client's to read), not ended."""
        for item in objects:
            if not item.get("validities"):
                raise SourceError(
                    f"{self._where(collection, page)}: object {item.get('uuid')} came without "
                    "its validity intervals (OS2mo withholds what the client may not read); "
                    "not read rather than taken for ended")

    def _send(self, call: Any) -> Any:
        """`call` with retries on connection trouble and 5xx (see `worth_retrying`); the
        last 5xx answer is returned, the last error raised."""
        def log_retry(state: tenacity.RetryCallState) -> None:
            assert state.outcome is not None
            error = state.outcome.exception()
            problem = type(error).__name__ if error else str(state.outcome.result().status_code)
            log.warning("%s: OS2mo request failed (%s), retry %d of %d in %.1fs",
                        self.source.name, problem, state.attempt_number, self.source.retries,
                        next_wait(state))

        retrying = policy(
            self.source.retries + 1, first=BACKOFF, most=MAX_BACKOFF, on_retry=log_retry,
            retry=tenacity.retry_if_exception(worth_retrying)
            | tenacity.retry_if_result(_server_error))
        return retrying(call)

    def _answer(self, collection: queries.Collection, page: int,
                response: httpx2.Response) -> dict[str, Any]:
        where = self._where(collection, page)
        if response.status_code in (401, 403):
            raise SourceError(f"{where}: {_status(response)}: OS2mo refused the token; check "
                              f"that client {self.source.client_id} has the reader role")
        try:
            answer = response.json()
        except ValueError:
            raise SourceError(f"{where}: {_status(response)}, and the answer is not JSON"
                              ) from None
        if isinstance(answer, dict) and answer.get("errors"):
            raise SourceError(f"{where}: {refused(answer['errors'])}")
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise SourceError(f"{where}: {_status(response)}")
        return answer

    def _where(self, collection: queries.Collection, page: int) -> str:
        return (f"{self.source.name}: POST {self.source.graphql_url}: query "
                f"{collection.operation} ({collection.name}), page {page}")

    def _problem(self, exc: Exception) -> str:
        """The failure in words, naming the token URL where the token was the trouble."""
        token_url = self.source.token_url
        if isinstance(exc, OAuthError):
            detail = f" ({_clean(exc.description)})" if exc.description else ""
            return (f"{token_url} refused client {self.source.client_id}: "
                    f"{exc.error}{detail}; check client_id and client_secret_file")
        if isinstance(exc, httpx2.HTTPStatusError):
            return f"{exc.request.url}: {_status(exc.response)}"
        if isinstance(exc, ValueError):  # a token endpoint's answer that is no JSON object
            return f"{token_url}: {exc}"
        assert isinstance(exc, httpx2.TransportError)
        return f"{_url_of(exc)}: {_transport_problem(exc, self.source.timeout)}"


def verification(source: Os2moSource) -> ssl.SSLContext | bool:
    """How certificates are checked: tls_ca_file is trusted beside the system's CAs, for
    an OS2mo with a private CA behind a publicly signed Keycloak (or the other way)."""
    if not source.tls_verify or source.tls_ca_file is None:
        return source.tls_verify
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=str(source.tls_ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"{source.name}: tls_ca_file {source.tls_ca_file}: {exc}") from None
    return context


def refused(errors: Any) -> str:
    """What OS2mo's GraphQL `errors` say, naming each field refused and its path (a
    missing realm role refuses the fields it guards)."""
    said = []
    for error in errors if isinstance(errors, list) else [errors]:
        if not isinstance(error, dict):
            said.append(_clean(str(error)))
            continue
        path = [str(step) for step in error.get("path") or []]
        fields = [step for step in path if not step.isdigit()]
        message = _clean(str(error.get("message", "")))
        said.append(f"field {fields[-1]} ({'.'.join(path)}): {message}" if fields
                    else message)
    return "OS2mo answered with errors: " + "; ".join(said)


def _clean(text: str) -> str:
    return _CPR_LIKE.sub("<number>", text)[:500]


def _status(response: httpx2.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}"


def _url_of(exc: httpx2.TransportError) -> str:
    """The URL the failed request went to (the API's or the token endpoint's)."""
    try:
        return str(exc.request.url)
    except RuntimeError:  # an error raised before any request was made
        return "the server"


def _transport_problem(exc: httpx2.TransportError, timeout: float) -> str:
    tls = tls_error(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return (f"TLS failed: {tls.reason} ({tls.verify_message}); set tls_ca_file to the CA "
                "that signed the server's certificate")
    if tls:
        return f"TLS failed: {tls.reason or tls}"
    if isinstance(exc, httpx2.TimeoutException):
        return f"no answer within {timeout:g}s ({type(exc).__name__})"
    return f"cannot connect: {exc}" if isinstance(exc, httpx2.ConnectError) \
        else f"{type(exc).__name__}: {exc}"


# what a request may fail with: the token endpoint's refusal, HTTP trouble, an answer of the
# token endpoint that is no JSON object
FAILURES = (OAuthError, httpx2.TransportError, httpx2.HTTPStatusError, ValueError)


def _server_error(answer: object) -> bool:
    return isinstance(answer, httpx2.Response) and answer.status_code >= 500


def worth_retrying(exc: BaseException) -> bool:
    """Connection trouble and a token endpoint's 5xx may heal. A TLS error does not, and a
    request that timed out waiting for its answer is not sent again: OS2mo may still be
    working on the query, and asking again would only add to its load."""
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code >= 500
    return (isinstance(exc, httpx2.TransportError) and not isinstance(exc, httpx2.ReadTimeout)
            and not tls_error(exc))
