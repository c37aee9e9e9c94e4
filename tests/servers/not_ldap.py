"""A service that is not LDAP on a port a target may point at by mistake.

    python not_ldap.py PORT http                 a web server: answers anything with a 400
    python not_ldap.py PORT tls CERT KEY         TLS only, as an ldaps:// port is

Prints "ready" once it listens on 127.0.0.1:PORT; runs until killed.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading

BODY = b"<html><head><title>400 Bad Request</title></head><body>nginx</body></html>\r\n" * 4
HTTP_400 = (
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY)
)


def answer_http(client: socket.socket) -> None:
    with client:
        client.recv(65536)
        client.sendall(HTTP_400)


def answer_tls(client: socket.socket, context: ssl.SSLContext) -> None:
    with (
        client,
        contextlib.suppress(OSError),  # a client that does not speak TLS: dropped
        context.wrap_socket(client, server_side=True) as tls,
    ):
        tls.recv(65536)


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        handle = lambda client: answer_tls(client, context)  # noqa: E731
    else:
        handle = answer_http
    listener = socket.create_server(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        client.settimeout(5)
        threading.Thread(target=handle, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
