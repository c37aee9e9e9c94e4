"""One SCIM provider over HTTP, through scim2-client: discovery, paged reads and each
write, with retries; every failure leaves as TargetUnavailable (the provider cannot be
used now: the cycle stops, the next one goes on) or ObjectRejected (it refused this one
object: the cycle goes on).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
import pydantic
import tenacity
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_client.errors import server_error_exception
from scim2_models import (
    Error,
    PatchOp,
    Resource,
    ResponseParameters,
    SCIMException,
    SearchRequest,
)

from syncd.config.secrets import read_secret
from syncd.errors import ObjectRejected, SyncdError, TargetUnavailable
from syncd.retry import next_wait, policy
from syncd.targets.scim.config import ScimTarget
from syncd.targets.scim.paths import json_string
from syncd.targets.scim.schema import RESOURCE_TYPES, ProviderSchema, provider_schema

log = logging.getLogger("syncd.targets.scim")

BACKOFF = 0.5  # seconds before the first retry; doubles each time
MAX_BACKOFF = 30.0
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_GONE = (401, 403)  # our credentials: nothing in this cycle will do better
Json = dict[str, Any]


class _RetryingClient(SyncSCIMClient):
    """scim2-client's network engine, each request tried again where that may help. A
    read: after a 429 or a 503 (waiting its Retry-After), another 5xx, a lost
    connection. A write (POST, PATCH, PUT, DELETE) only where it surely did not land: a
    429, or no connection made. A write that timed out or got a 5xx may have landed
    (a gateway's 503 proves nothing of the server behind it); sent again, it could make
    a second account or a second element, so the cycle ends there and the next one
    plans from what the provider then holds."""

    def __init__(self, http: httpx2.Client, config: ScimTarget) -> None:
        super().__init__(http, raise_scim_errors=True)
        self.config = config

    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        def again(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            why = (f"{outcome.result().status_code}" if outcome and not outcome.failed
                   else f"{outcome.exception() if outcome else '?'}")
            log.warning("%s: %s %s: %s; try %d of %d in %.1fs", self.config.name, method,
                        url, why, state.attempt_number + 1, self.config.retries + 1,
                        next_wait(state))

        retrying = policy(
            self.config.retries + 1, first=BACKOFF, most=MAX_BACKOFF, on_retry=again,
            retry=tenacity.retry_if_exception(lambda exc: _resend_after(method, exc))
            | tenacity.retry_if_result(lambda response: self._resend(method, response)),
            asked=self._asked)
        response: httpx2.Response = retrying(super().request, method, url, **kwargs)
        return response

    def _resend(self, method: str, response: httpx2.Response) -> bool:
        status = response.status_code
        if status == 429 or (status == 503 and method == "GET"):
            asked = _retry_after(response)
            if asked is not None and asked > self.config.max_retry_wait:
                log.warning("%s: the provider asks to wait %.0fs (Retry-After), longer "
                            "than max_retry_wait: given up for this cycle",
                            self.config.name, asked)
                return False
            return True
        return status >= 500 and method == "GET"

    def _asked(self, response: httpx2.Response) -> float | None:
        asked = _retry_after(response)
        return None if asked is None else min(asked, self.config.max_retry_wait)


def _resend_after(method: str, exc: BaseException) -> bool:
    """A request that failed on the way: sent again unless it may have landed."""
    cause = exc.__cause__
    if not isinstance(cause, httpx2.TransportError):
        return False
    return method == "GET" or isinstance(cause, httpx2.ConnectError)


def _retry_after(response: httpx2.Response) -> float | None:
    """Retry-After in seconds (RFC 9110: seconds, or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class ScimClient:
    """A provider's Users and Groups, read and written as JSON."""

    def __init__(self, config: ScimTarget) -> None:
        self.config = config
        self.where = f"SCIM provider {config.url}"
        self.http = httpx2.Client(base_url=config.url.rstrip("/"), verify=_verify(config),
                                  timeout=config.timeout, **_credentials(config))
        self.scim = _RetryingClient(self.http, config)
        self.patch = True  # until discovery says otherwise
        self.filter = False
        self.max_results: int | None = None

    def discover(self) -> ProviderSchema:
        """What the provider serves and supports (ServiceProviderConfig, ResourceTypes,
        Schemas): PATCH or PUT, filters, the page size it allows."""
        with self._errors("discovery"):
            self.scim.discover()
            provider = self.scim.provider
        config = provider.config
        if config is not None:
            self.patch = bool(config.patch and config.patch.supported)
            self.filter = bool(config.filter and config.filter.supported)
            self.max_results = config.filter.max_results if config.filter else None
        return provider_schema([s.model_dump(mode="json") for s in provider.schemas],
                               [r.model_dump(mode="json") for r in provider.resource_types])

    def model(self, kind: str) -> type[Resource[Any]]:
        model = self.scim.get_resource_model(RESOURCE_TYPES[kind])
        if model is None:
            raise TargetUnavailable(f"{self.where}: it serves no {RESOURCE_TYPES[kind]} "
                                    "resources (GET /ResourceTypes)")
        return model

    def resources(self, kind: str) -> Iterator[Json]:
        """Every resource of a kind, page by page (startIndex/count, RFC 7644 3.4.2.4),
        at most as many per page as the provider allows."""
        count = min(self.config.page_size, self.max_results or self.config.page_size)
        start, seen = 1, set[str]()
        while True:
            doing = f"reading {RESOURCE_TYPES[kind]}s from {start}"
            try:
                with self._errors(doing):
                    page = _unless_error(self.scim.query(
                        self.model(kind), query_parameters=SearchRequest(start_index=start,
                                                                         count=count),
                        check_response_payload=False))
            except ObjectRejected as exc:  # a page refused is no object refused: stop
                raise TargetUnavailable(f"{self.where}: {doing}: {exc}") from None
            total = page.get("totalResults") if isinstance(page, dict) else None
            if not isinstance(total, int) or isinstance(total, bool):
                raise TargetUnavailable(f"{self.where}: {doing}: the answer is no "
                                        "ListResponse (no totalResults)")
            found = page.get("Resources") or []
            ids = {str(item.get("id")) for item in found}
            if ids and ids <= seen:
                raise TargetUnavailable(f"{self.where}: the page from {start} repeats an "
                                        "earlier one (does it honour startIndex?)")
            seen |= ids
            yield from found
            start += len(found)
            if not found or start > total:
                break
        if len(seen) != total:  # a short page, or resources added or deleted mid-read
            raise TargetUnavailable(f"{self.where}: read {len(seen)} {RESOURCE_TYPES[kind]}s "
                                    f"where it says it holds {total}: not trusted as whole")

    def get(self, kind: str, object_id: str, attributes: list[str] | None = None) -> Json:
        """One resource; with `attributes`, those (a provider may leave some out of
        lists: members)."""
        asked: ResponseParameters[Any] | None = (
            ResponseParameters(attributes=attributes) if attributes else None)
        with self._errors(f"reading {RESOURCE_TYPES[kind]} {object_id}"):
            found = _unless_error(self.scim.query(self.model(kind), object_id, asked,
                                                 check_response_payload=False))
        if not isinstance(found, dict):
            raise TargetUnavailable(f"{self.where}: reading {RESOURCE_TYPES[kind]} "
                                    f"{object_id}: the answer is no resource")
        return found

    def create(self, kind: str, doc: Json) -> str:
        """The new resource's id."""
        model = self.model(kind)
        with self._errors(f"creating {RESOURCE_TYPES[kind]}"):
            created = _unless_error(self.scim.create(model.model_validate(doc),
                                                     check_response_payload=False))
        if not isinstance(created, dict) or not created.get("id"):
            raise TargetUnavailable(f"{self.where}: a create answered without an id")
        return str(created["id"])

    def modify(self, kind: str, object_id: str, operations: list[Json]) -> None:
        model = self.model(kind)
        with self._errors(f"changing {RESOURCE_TYPES[kind]} {object_id}"):
            patch = PatchOp[model].model_validate({"Operations": operations})  # type: ignore[valid-type]
            _unless_error(self.scim.modify(model, object_id, patch, check_response_payload=False))

    def replace(self, kind: str, object_id: str, doc: Json) -> None:
        model = self.model(kind)
        with self._errors(f"replacing {RESOURCE_TYPES[kind]} {object_id}"):
            _unless_error(self.scim.replace(model.model_validate({**doc, "id": object_id}),
                                            check_response_payload=False))

    def delete(self, kind: str, object_id: str) -> None:
        with self._errors(f"deleting {RESOURCE_TYPES[kind]} {object_id}"):
            self.scim.delete(self.model(kind), object_id)

    def holder(self, kind: str, attribute: str, value: str) -> str | None:
        """Which resource holds a unique value, where the provider can filter: for a
        refusal that names who has the name asked for."""
        if not self.filter:
            return None
        try:
            page = self.scim.query(self.model(kind), query_parameters=SearchRequest(
                filter=f"{attribute} eq {json_string(value)}", count=1),
                check_response_payload=False)
        except (SCIMClientException, SCIMException, SyncdError):
            return None
        found = (page.get("Resources") or []) if isinstance(page, dict) else []
        return str(found[0].get("id")) if found else None

    def close(self) -> None:
        self.http.close()

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        return _errors(self.where, doing)


def _unless_error(answer: Any) -> Any:
    """The answer, unless it is a SCIM error: an unchecked payload (what lets syncd read
    providers that stray from the models) comes back from scim2-client as a plain dict
    even when it is an Error, which would read as success: a refused create as one
    without an id, an error page as a provider with no resources, a refused PATCH as done."""
    if isinstance(answer, dict) and ERROR_SCHEMA in (answer.get("schemas") or []):
        raise server_error_exception(Error.model_validate(answer))
    return answer


@contextmanager
def _errors(where: str, doing: str) -> Iterator[None]:
    """Turns what scim2-client and pydantic raise into syncd's two target errors."""
    try:
        yield
    except SCIMException as exc:
        status = int(getattr(exc, "status", 0) or 0)
        said = _said(getattr(exc, "scim_type", None), exc.detail or str(exc))
        if status in _GONE or status == 429 or status >= 500:
            raise TargetUnavailable(f"{where}: {doing}: {status} {said}") from None
        raise ObjectRejected(f"{status} {said}") from None
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors()[:3])
        raise ObjectRejected(f"not a valid resource: {problems}") from None
    except SCIMClientException as exc:
        notes = "; ".join(getattr(exc, "__notes__", []))
        answered = getattr(getattr(exc, "source", None), "status_code", None)
        detail = f"{exc}" + (f" ({notes})" if notes else "")
        if answered is not None and 400 <= answered < 500 and answered not in _GONE \
                and answered != 429:
            raise ObjectRejected(f"{answered} {detail}") from None
        raise TargetUnavailable(f"{where}: {doing}: {detail}") from None


def _said(scim_type: str | None, detail: str) -> str:
    return f"{scim_type}: {detail}" if scim_type else detail


def _credentials(config: ScimTarget) -> dict[str, Any]:
    """What httpx2.Client signs every request in with: a bearer token, or HTTP basic."""
    if config.username is None:
        token = read_secret(config.token_file, config.token, what=f"target {config.name}")
        return {"headers": {"Authorization": f"Bearer {token.get_secret_value()}"}}
    secret = read_secret(config.password_file, config.password, what=f"target {config.name}")
    return {"auth": httpx2.BasicAuth(config.username, secret.get_secret_value())}


def _verify(config: ScimTarget) -> ssl.SSLContext | bool:
    if not config.tls_verify:
        return False
    if config.tls_ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(config.tls_ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise SyncdError(f"target {config.name}: tls_ca_file {config.tls_ca_file}: "
                         f"{exc}") from None
