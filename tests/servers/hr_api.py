"""A small HR REST API for the HTTP source's tests: real sockets, real auth, real paging.

    python tests/servers/hr_api.py --port P --data org.json [--token-file F]
        [--basic-user U --basic-password-file F] [--page-size N] [--tls-cert C --tls-key K]

Serves each kind of the data file (a JSON object of kind -> list of records) at:

    /healthz                        200 "ok", no auth (for start-up polling)
    /api/{kind}                     the whole list
    /api/paged/{kind}?page=&size=   {"results": [...], "page": n}; pages count from 1
    /api/linked/{kind}?offset=      {"data": {"items": [...]}, "links": {"next": URL|null}};
                                    the first next link is absolute, later ones relative
    /api/ignores-page/{kind}        {"results": first page}, whatever the page asked for
    /flaky/{kind}?fail=N&key=K      500 for the first N requests with key K, then the list
    /slow/{kind}?delay=S            the list after S seconds
    /html/{kind}                    a 200 text/html login page
    /loop/{kind}?n=                 an empty page whose next link is ?n=n+1, forever
    /circle/{kind}                  an empty page whose next link is itself

With --token-file or --basic-*, every path but /healthz wants that bearer token or that
user and password. Standard library only, so it runs with any Python 3.11.
"""

from __future__ import annotations

import argparse
import base64
import json
import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


class Api(BaseHTTPRequestHandler):
    data: ClassVar[dict[str, list[Any]]]
    page_size: ClassVar[int]
    credentials: ClassVar[set[str]]  # accepted Authorization header values; empty: no auth
    scheme: ClassVar[str]
    flaky_hits: ClassVar[Counter[str]] = Counter()
    flaky_lock: ClassVar[threading.Lock] = threading.Lock()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if parts == ["healthz"]:
            self._send(200, "ok", "text/plain")
        elif self.credentials and self.headers.get("Authorization") not in self.credentials:
            self._send(401, {"error": "unauthorized"}, extra={"WWW-Authenticate": "Bearer"})
        elif parts[-1] not in self.data:
            self._send(404, {"error": f"no such path {url.path}"})
        else:
            self._route(parts[:-1], parts[-1], query)

    def _route(self, route: list[str], kind: str, query: dict[str, str]) -> None:
        records = self.data[kind]
        if route == ["api"]:
            self._send(200, records)
        elif route == ["api", "paged"]:
            self._send(200, self._paged(records, int(query.get("page", 1)), query))
        elif route == ["api", "ignores-page"]:
            self._send(200, self._paged(records, 1, query))
        elif route == ["api", "linked"]:
            self._send(200, self._linked(kind, records, int(query.get("offset", 0))))
        elif route == ["flaky"]:
            with self.flaky_lock:
                self.flaky_hits[query["key"]] += 1
                failing = self.flaky_hits[query["key"]] <= int(query["fail"])
            self._send(500, {"error": "try again"}) if failing else self._send(200, records)
        elif route == ["slow"]:
            time.sleep(float(query["delay"]))
            self._send(200, records)
        elif route == ["html"]:
            self._send(200, "<html><body>Please log in</body></html>", "text/html")
        elif route == ["loop"]:
            self._send(200, {"items": [], "next": f"?n={int(query.get('n', 0)) + 1}"})
        elif route == ["circle"]:
            self._send(200, {"items": [], "next": f"/circle/{kind}"})
        else:
            self._send(404, {"error": f"no such route {'/'.join(route)}"})

    def _paged(self, records: list[Any], page: int, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("size", self.page_size))
        return {"results": records[(page - 1) * size:page * size], "page": page}

    def _linked(self, kind: str, records: list[Any], offset: int) -> dict[str, Any]:
        end = offset + self.page_size
        if end >= len(records):
            link = None
        elif offset == 0:
            link = f"{self.scheme}://{self.headers['Host']}/api/linked/{kind}?offset={end}"
        else:
            link = f"?offset={end}"
        return {"data": {"items": records[offset:end]}, "links": {"next": link}}

    def _send(self, status: int, body: Any, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        payload = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--page-size", type=int, default=3)
    parser.add_argument("--token-file", type=Path)
    parser.add_argument("--basic-user")
    parser.add_argument("--basic-password-file", type=Path)
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    args = parser.parse_args()

    Api.data = json.loads(args.data.read_text(encoding="utf-8"))
    Api.page_size = args.page_size
    Api.credentials = set()
    if args.token_file:
        Api.credentials.add(f"Bearer {args.token_file.read_text(encoding='utf-8').strip()}")
    if args.basic_user:
        password = args.basic_password_file.read_text(encoding="utf-8").strip()
        pair = base64.b64encode(f"{args.basic_user}:{password}".encode()).decode()
        Api.credentials.add(f"Basic {pair}")
    Api.scheme = "https" if args.tls_cert else "http"

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Api)
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
