"""The daemon's HTTP face (CONTRACT section 5): metrics, health, status, sync-now.

The standard library's threading HTTP server is enough for a scrape every 15 s and an
operator's curl; it runs in its own thread and never touches a target itself.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST

from syncd import __version__, metrics
from syncd.config import read_secret
from syncd.errors import SyncdError

if TYPE_CHECKING:
    from syncd.daemon.service import Daemon

log = logging.getLogger("syncd.http")


class StatusServer:
    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        listen = daemon.config.http.listen
        host, _, port = listen.rpartition(":")
        host = host.strip("[]")
        handler = type("Handler", (_Handler,), {"daemon": daemon})
        server_class = type("Server", (ThreadingHTTPServer,), {
            "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET,
            "daemon_threads": True,
        })
        try:
            self.server = server_class((host, int(port)), handler)
        except OSError as exc:
            raise SyncdError(f"http.listen {listen}: cannot listen: {exc.strerror}") from None
        self.thread = threading.Thread(target=self.server.serve_forever, name="http",
                                       daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    daemon: Daemon
    server_version = f"syncd/{__version__}"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._send(HTTPStatus.OK, metrics.exposition(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._text(HTTPStatus.OK, "ok")
        elif path == "/readyz":
            ready, why = self.daemon.ready()
            self._text(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, why)
        elif path == "/status":
            self._json(HTTPStatus.OK, {"version": __version__, **self.daemon.status()})
        else:
            self._text(HTTPStatus.NOT_FOUND, "not found: /metrics /healthz /readyz /status")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/sync":
            self._text(HTTPStatus.NOT_FOUND, "not found: POST /sync")
            return
        refusal = self._refusal()
        if refusal:
            self._json(refusal[0], {"error": refusal[1]},
                       {"WWW-Authenticate": 'Bearer realm="syncd"'})
            return
        names = parse_qs(url.query).get("target") or list(self.daemon.states)
        queued = self.daemon.sync_now(names)
        unknown = sorted(set(names) - set(queued))
        if unknown:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no target {', '.join(unknown)}"})
            return
        self._json(HTTPStatus.ACCEPTED, {"queued": queued})

    def _refusal(self) -> tuple[HTTPStatus, str] | None:
        """Why this request may not trigger a sync, or None when it may."""
        token_file = self.daemon.config.http.token_file
        if token_file is None:
            return HTTPStatus.UNAUTHORIZED, "POST /sync is off: set http.token_file"
        try:
            token = read_secret(token_file, None, what="http.token_file").get_secret_value()
        except SyncdError as exc:
            log.error("POST /sync refused: %s", exc)
            return HTTPStatus.UNAUTHORIZED, "the server's token cannot be read"
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return HTTPStatus.UNAUTHORIZED, "a valid bearer token is required"
        return None

    def _json(self, status: HTTPStatus, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"
        self._send(status, body, "application/json", headers)

    def _text(self, status: HTTPStatus, text: str) -> None:
        self._send(status, text.encode() + b"\n", "text/plain; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
