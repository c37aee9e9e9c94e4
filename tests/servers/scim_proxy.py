"""An HTTP proxy in front of a real SCIM provider, for the SCIM target's tests: it passes
every request on, records it, and fails the next N on demand.

    python tests/servers/scim_proxy.py --port P --upstream http://127.0.0.1:U --record F

    POST /_proxy/fail {"count": N, "status": 429, "retry_after": 1, "path": "/v2/Users?"}
                        the next N requests (whose path starts so, if given) answer
                        `status` (with Retry-After and a SCIM error) and never reach
                        the provider
    POST /_proxy/drop {"key": "totalResults", "path": "/v2/Users?"}
                        from now on, answers to paths starting so lose that top-level
                        key of their JSON (a provider answering short or malformed);
                        "Resources/members": that key of each resource listed
    GET /_proxy/health  200, for start-up polling

Every other request goes to the upstream as it came and is appended to the record file
as one JSON line: when it arrived (time.monotonic()), method, path, the JSON body sent,
and the status answered. Stopping the process and starting it again on the same port is
a provider that is down for a while (connection refused) and keeps its resources.
Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

CONTROL = "/_proxy/"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Failures:
    """How many of the next requests fail, and how."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.left, self.status, self.path = 0, 429, ""
        self.retry_after: int | None = 1

    def arm(self, count: int, status: int, retry_after: int | None, path: str) -> None:
        with self.lock:
            self.left, self.status, self.retry_after, self.path = (count, status,
                                                                   retry_after, path)

    def take(self, path: str) -> tuple[int, int | None] | None:
        """The failure this request gets, if one is left."""
        with self.lock:
            if self.left <= 0 or not path.startswith(self.path):
                return None
            self.left -= 1
            return self.status, self.retry_after


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: ClassVar[tuple[str, int]]
    record: ClassVar[Path]
    failures: ClassVar[Failures] = Failures()
    drops: ClassVar[dict[str, str]] = {}  # path prefix -> the key its answers lose
    record_lock: ClassVar[threading.Lock] = threading.Lock()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        arrived = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(CONTROL):
            self._control(body)
            return
        failure = self.failures.take(self.path)
        if failure is not None:
            status, retry_after = failure
            extra = {"Content-Type": "application/scim+json"}
            if retry_after is not None:
                extra["Retry-After"] = str(retry_after)
            error = {"schemas": [ERROR], "status": str(status), "detail": "try later"}
            self._send(status, json.dumps(error).encode(), extra)
        else:
            status = self._forward(body)
        self._record(arrived, body, status)

    def _forward(self, body: bytes) -> int:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(self.command, self.path, body or None, headers)
            answer = connection.getresponse()
            content = self._dropped(answer.read())
            extra = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP}
            self._send(answer.status, content, extra)
            return answer.status
        finally:
            connection.close()

    def _dropped(self, content: bytes) -> bytes:
        keys = [key for prefix, key in self.drops.items() if self.path.startswith(prefix)]
        if not keys:
            return content
        answer = json.loads(content)
        for key in keys:  # "Resources/members": from each resource listed
            outer, _, inner = key.partition("/")
            for part in ([answer] if not inner else answer.get(outer) or []):
                part.pop(inner or outer, None)
        return json.dumps(answer).encode()

    def _control(self, body: bytes) -> None:
        if self.path == f"{CONTROL}drop":
            asked = json.loads(body or b"{}")
            self.drops[str(asked["path"])] = str(asked["key"])
        if self.path == f"{CONTROL}fail":
            asked = json.loads(body or b"{}")
            self.failures.arm(int(asked.get("count", 1)), int(asked.get("status", 429)),
                              asked.get("retry_after", 1), str(asked.get("path", "")))
        self._send(200, b"{}", {"Content-Type": "application/json"})

    def _send(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _record(self, arrived: float, body: bytes, status: int) -> None:
        line = {"at": arrived, "method": self.command, "path": self.path,
                "body": _json_or_none(body), "status": status}
        with self.record_lock, self.record.open("a", encoding="utf-8") as record:
            record.write(json.dumps(line) + "\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the record file says what came."""


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT of the provider")
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    Proxy.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
    Proxy.record = args.record
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
