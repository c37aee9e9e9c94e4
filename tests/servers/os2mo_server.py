"""A stand-in for OS2mo's GraphQL API and its Keycloak token endpoint, for the os2mo
source's tests and benchmark: real sockets, real OAuth2, OS2mo's published schema.

    python tests/servers/os2mo_server.py --port P --schema schema-v29.graphql
        --data data.json --client-id ID --client-secret-file F [--version 29]
        [--token-lifetime 300] [--pages normal|short] [--refuse Type.field] [--delay S]
        [--withhold UUID] [--tls-cert C --tls-key K]

The schema is built with ariadne from OS2mo's SDL, so a query it does not allow is
refused as OS2mo refuses it. The data file holds, per collection of Query (org_units,
persons, engagements, ...), a list of validity intervals as the schema's types give
them: `{uuid, validity: {from, to}, ...}`, `to` exclusive (v29's half-open intervals),
relations as `{"uuid": ...}` under their `*_response` names. Served:

    POST /token               client credentials (HTTP basic or form) -> a bearer token
                              living --token-lifetime seconds; 401 on a wrong client
    POST /graphql/v{version}  the API; 401 without a live token
    GET  /healthz             200 "ok", no auth
    GET  /stats               {"tokens": issued, "refused": 401s, "pages": {query: n}}

Collections page by keyset (`limit`, an opaque `cursor`); `--pages short` answers the
way OS2mo may, with empty and short pages whose cursor is not null. Filters know
`from_date` (absent: now; null: unbounded), `to_date` (absent: current only; null:
unbounded) and `uuids`; another filter given is an error rather than ignored. `--refuse
Employee.cpr_number` refuses that field with a GraphQL error, as OS2mo does for a client
without the role that guards it; `--withhold UUID` serves that object with an empty
`validities` list, as OS2mo serves what a client's policy does not let it read.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import uvicorn
from ariadne import ObjectType, make_executable_schema
from ariadne.asgi import GraphQL
from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

LOCAL = ZoneInfo("Europe/Copenhagen")  # a time without an offset is Danish time
ALWAYS, NEVER = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
FILTERS = {"from_date", "to_date", "uuids"}
Interval = dict[str, Any]


def moment(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL)


def overlaps(item: Interval, start: datetime, end: datetime) -> bool:
    """Whether [from, to) meets [start, end); start == end asks for that instant."""
    begins = moment(item["validity"]["from"], ALWAYS)
    ends = moment(item["validity"]["to"], NEVER)
    if start == end:
        return begins <= start < ends
    return begins < end and ends > start


def window(filter_: dict[str, Any] | None) -> tuple[datetime, datetime, set[str] | None]:
    """OS2mo's filter dates: from_date absent is now, null is unbounded; to_date absent is
    'current only', null is unbounded."""
    given = filter_ or {}
    unknown = {key for key, value in given.items() if value is not None} - FILTERS
    if unknown:
        raise GraphQLError(f"the test server does not implement filter {sorted(unknown)}")
    now = datetime.now(LOCAL)
    start = moment(given["from_date"], ALWAYS) if "from_date" in given else now
    end = moment(given["to_date"], NEVER) if "to_date" in given else start
    uuids = set(given["uuids"]) if given.get("uuids") is not None else None
    return start, end, uuids


class Pages:
    """Keyset paging over one collection's objects, in uuid order."""

    def __init__(self, intervals: list[Interval], short: bool):
        grouped: dict[str, list[Interval]] = {}
        for item in intervals:
            grouped.setdefault(item["uuid"], []).append(item)
        self.objects = [{"uuid": uuid, "_intervals": grouped[uuid]} for uuid in sorted(grouped)]
        self.short = short

    def page(self, filter_: dict[str, Any] | None, limit: int | None,
             cursor: str | None) -> dict[str, Any]:
        start, end, uuids = window(filter_)

        def wanted(obj: dict[str, Any]) -> bool:
            return (uuids is None or obj["uuid"] in uuids) and any(
                overlaps(item, start, end) for item in obj["_intervals"])

        offset, number = _decode(cursor)
        if not self.short:
            found = [obj for obj in self.objects if wanted(obj)]
            size = len(found) if limit is None else limit
            return _paged(found[offset:offset + size], offset + size, number, len(found))
        if number % 3 == 1:  # an empty page before the end, as OS2mo may give
            return _paged([], offset, number, len(self.objects) + 1)
        size = len(self.objects) if limit is None else max(1, limit // (1 + number % 3))
        chunk = self.objects[offset:offset + size]  # filtered after the limit: short pages
        return _paged([obj for obj in chunk if wanted(obj)], offset + size, number,
                      len(self.objects))


def _paged(objects: list[Any], next_offset: int, number: int, total: int) -> dict[str, Any]:
    more = next_offset < total
    return {"objects": objects,
            "page_info": {"next_cursor": _encode(next_offset, number + 1) if more else None}}


def _encode(offset: int, number: int) -> str:
    return base64.b64encode(json.dumps([offset, number]).encode()).decode()


def _decode(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    offset, number = json.loads(base64.b64decode(cursor))
    return int(offset), int(number)


def _validities(withheld: set[str]) -> Callable[..., list[Interval]]:
    def validities(obj: dict[str, Any], info: GraphQLResolveInfo, start: str | None = None,
                   end: str | None = None, **_: Any) -> list[Interval]:
        if obj.get("uuid") in withheld:
            return []
        low, high = moment(start, ALWAYS), moment(end, NEVER)
        return [item for item in obj.get("_intervals", []) if overlaps(item, low, high)]

    return validities


def current(obj: dict[str, Any], info: GraphQLResolveInfo, at: str | None = None,
            **_: Any) -> Interval | None:
    instant = moment(at, datetime.now(LOCAL))
    return next((i for i in obj.get("_intervals", []) if overlaps(i, instant, instant)), None)


class State:
    """Issued tokens and what was asked, for the tests to check."""

    def __init__(self, client_id: str, secret: str, lifetime: float):
        self.client_id, self.secret, self.lifetime = client_id, secret, lifetime
        self.tokens: dict[str, float] = {}  # token -> when it expires (time.monotonic)
        self.refused = 0
        self.pages: Counter[str] = Counter()

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.lifetime
        return token

    def live(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return expires is not None and time.monotonic() < expires


def build_schema(sdl: str, data: dict[str, list[Interval]], short: bool,
                 refuse: list[str], withhold: list[str]) -> Any:
    query = ObjectType("Query")
    for name, intervals in data.items():
        query.set_field(name, _collection(Pages(intervals, short)))
    schema = make_executable_schema(sdl, query)
    validities = _validities(set(withhold))
    for type_ in schema.type_map.values():  # every *Response type: validities and current
        if isinstance(type_, GraphQLObjectType) and "validities" in type_.fields:
            type_.fields["validities"].resolve = validities
            type_.fields["current"].resolve = current
    for spec in refuse:
        type_name, field = spec.split(".")
        target = schema.type_map[type_name]
        assert isinstance(target, GraphQLObjectType)
        target.fields[field].resolve = _refusal(type_name, field)
    return schema


def _collection(pages: Pages) -> Callable[..., dict[str, Any]]:
    def resolve(_: Any, info: GraphQLResolveInfo, filter: dict[str, Any] | None = None,
                limit: int | None = None, cursor: str | None = None,
                inherit: bool = False) -> dict[str, Any]:
        if inherit:
            raise GraphQLError("the test server does not implement inherit")
        return pages.page(filter, limit, cursor)

    return resolve


def _refusal(type_name: str, field: str) -> Callable[..., Any]:
    def refuse(*_: Any, **__: Any) -> Any:
        raise GraphQLError(f"Permission denied: the token's realm roles do not allow "
                           f"reading {type_name}.{field}")

    return refuse


def make_app(args: argparse.Namespace) -> Starlette:
    data = json.loads(Path(args.data).read_text(encoding="utf-8"))
    schema = build_schema(Path(args.schema).read_text(encoding="utf-8"), data,
                          args.pages == "short", args.refuse, args.withhold)
    graphql = GraphQL(schema)
    secret = Path(args.client_secret_file).read_text(encoding="utf-8").strip()
    state = State(args.client_id, secret, args.token_lifetime)

    async def token(request: Request) -> Response:
        form = await request.form()
        client_id, client_secret = _client_credentials(request, dict(form))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if (client_id, client_secret) != (state.client_id, state.secret):
            return JSONResponse({"error": "unauthorized_client", "error_description":
                                 "Invalid client or Invalid client credentials"},
                                status_code=401)
        return JSONResponse({"access_token": state.issue(), "token_type": "Bearer",
                             "expires_in": max(1, int(state.lifetime)),
                             "refresh_expires_in": 0, "not-before-policy": 0})

    async def api(request: Request) -> Response:
        if args.delay:  # a slow query: its token is checked when the answer is ready
            await asyncio.sleep(args.delay)
        if not state.live(request.headers.get("authorization", "")):
            state.refused += 1
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        body = json.loads(await request.body())
        state.pages[str(body.get("operationName"))] += 1
        return await graphql.handle_request(request)

    async def stats(_: Request) -> Response:
        return JSONResponse({"tokens": len(state.tokens), "refused": state.refused,
                             "pages": state.pages})

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/token", token, methods=["POST"]),
        Route(f"/graphql/v{args.version}", api, methods=["POST"]),
        Route("/stats", stats), Route("/healthz", healthz),
    ])


def _client_credentials(request: Request, form: dict[str, Any]) -> tuple[str, str]:
    """client_secret_basic (authlib's default) or client_secret_post."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return unquote(user), unquote(password)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--version", type=int, default=29)
    parser.add_argument("--token-lifetime", type=float, default=300.0)
    parser.add_argument("--pages", choices=["normal", "short"], default="normal")
    parser.add_argument("--refuse", action="append", default=[], metavar="TYPE.FIELD")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per query")
    parser.add_argument("--withhold", action="append", default=[], metavar="UUID")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    uvicorn.run(make_app(args), host="127.0.0.1", port=args.port, log_level="warning",
                ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)


if __name__ == "__main__":
    main()
