"""The daemon's HTTP face: metrics, health, status, sync-now, and the web view.

Starlette routes served by uvicorn on its own thread and event loop: one HTTP stack for
these endpoints and the web view, where a slow or vanished client costs a coroutine, not
a thread. Connections are bounded (`MAX_CONNECTIONS`, then 503) and so is the time a
client may take to send a request (`REQUEST_TIMEOUT`, then the connection is closed), so
300 slow local clients cannot starve a Prometheus scrape. Nothing here touches a target.
The web view (`syncd.web`, when `web:` is configured) is mounted after the endpoints,
which Prometheus and probes reach without signing in; every other path is the web
view's, behind its sign-in.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import threading
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ExceptionHandler
from uvicorn.protocols.http.h11_impl import H11Protocol

from syncd import __version__, metrics
from syncd.config import read_secret
from syncd.errors import SyncdError

if TYPE_CHECKING:
    from syncd.daemon.service import Daemon

log = logging.getLogger("syncd.http")

MAX_CONNECTIONS = 64  # at once; more are answered 503 at once
REQUEST_TIMEOUT = 10.0  # seconds a client has to send a whole request
STOP_TIMEOUT = 5.0  # seconds in-flight requests get when the daemon stops
ENDPOINTS = "GET /metrics /healthz /readyz /status, POST /sync"
WEB_PAGES = "; the web view: / /search?q=TEXT /units/ID /persons/ID /targets"


class _DeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request: uvicorn times out
    idle keep-alive connections, but not a client that sends its request head one byte
    at a time (or never), which would hold the connection for good."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def _arm(self) -> None:
        handle = getattr(self, "_deadline", None)
        if handle is not None:
            handle.cancel()
        self._deadline = self.loop.call_later(REQUEST_TIMEOUT, self._expire)

    def _expire(self) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy:  # a response is being written: that is the app's, not the client's
            self._arm()
        elif not self.transport.is_closing():
            log.debug("closing a connection that sent no whole request in %gs",
                      REQUEST_TIMEOUT)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        handle = getattr(self, "_deadline", None)
        if handle is not None:
            handle.cancel()
        super().connection_lost(exc)


class StatusServer:
    """uvicorn in a thread of its own, on a socket bound here (so that a taken port is a
    one-line error at start, not a log line in another thread)."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        listen = daemon.config.http.listen
        host, _, port = listen.rpartition(":")
        host = host.strip("[]")
        # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on accepted connections
        # (it checks the listening socket's protocol): else every small answer on a kept-alive
        # connection waits ~40 ms for the client's delayed ACK
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                    socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, int(port)))
        except OSError as exc:
            self.socket.close()
            raise SyncdError(f"http.listen {listen}: cannot listen: {exc.strerror}") from None
        config = uvicorn.Config(
            app(daemon), log_config=None, access_log=False, http=_DeadlineProtocol,
            limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5,
            timeout_graceful_shutdown=int(STOP_TIMEOUT), lifespan="off",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name="http", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT + 2)
        self.socket.close()


def app(daemon: Daemon) -> Starlette:
    """The endpoints, reading the daemon's state; POST /sync only queues a cycle."""

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return _text(200, "ok")

    async def readyz(request: Request) -> Response:
        ready, why = daemon.ready()
        return _text(200 if ready else 503, why)

    async def status(request: Request) -> Response:
        return JSONResponse({"version": __version__, **daemon.status()})

    async def sync(request: Request) -> Response:
        refusal = _refusal(daemon, request.headers.get("Authorization", ""))
        if refusal:
            return JSONResponse({"error": refusal}, 401,
                                {"WWW-Authenticate": 'Bearer realm="syncd"'})
        names = request.query_params.getlist("target") or list(daemon.states)
        queued = daemon.sync_now(names)
        unknown = sorted(set(names) - set(queued))
        if unknown:
            return JSONResponse({"error": f"no target {', '.join(unknown)}"}, 404)
        return JSONResponse({"queued": queued}, 202)

    listed = ENDPOINTS + (WEB_PAGES if daemon.config.web else "")

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None)
        return _text(404, detail if detail not in (None, "Not Found") else f"not found: {listed}")

    routes: list[BaseRoute] = [
        Route("/metrics", metrics_page),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/status", status),
        Route("/sync", sync, methods=["POST"]),
    ]
    if daemon.config.web is not None:  # after the endpoints, which need no sign-in
        routes.append(Mount("/", app=_web(daemon, not_found)))
    return Starlette(routes=routes, exception_handlers={404: not_found})


def _web(daemon: Daemon, not_found: ExceptionHandler) -> Starlette:
    """The web view (loaded only when configured), its unknown paths answered as ours."""
    from syncd.web import web_app

    web = web_app(daemon)
    web.add_exception_handler(404, not_found)
    return web


def _refusal(daemon: Daemon, authorization: str) -> str | None:
    """Why this request may not trigger a sync, or None when it may."""
    token_file = daemon.config.http.token_file
    if token_file is None:
        return "POST /sync is off: set http.token_file"
    try:
        token = read_secret(token_file, None, what="http.token_file").get_secret_value()
    except SyncdError as exc:
        log.error("POST /sync refused: %s", exc)
        return "the server's token cannot be read"
    if not hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return "a valid bearer token is required"
    return None


def _text(status: int, text: str) -> Response:
    return PlainTextResponse(text + "\n", status)
