"""The daemon's HTTP listener under slow and vanishing local clients (a real process)."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from syncd.daemon.http import MAX_CONNECTIONS, REQUEST_TIMEOUT
from tests.daemon_env import DaemonProcess, daemon_config
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd

RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER 0: close() sends a reset


@pytest.fixture
def daemon(tmp_path, slapd):
    env = SyncEnv(tmp_path, slapd)
    process = DaemonProcess(env.config, daemon_config(env, interval="1h"),
                            tmp_path / "daemon.log")
    process.start()
    yield process
    process.kill()


def slow_client(port: int) -> socket.socket:
    """A client that starts a request and never finishes it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    return sock


def test_slow_clients_neither_starve_nor_hold_the_listener(daemon):
    clients = [slow_client(daemon.port) for _ in range(3 * MAX_CONNECTIONS)]
    try:
        started = time.monotonic()
        assert daemon.get("/healthz")[0] in (200, 503)  # answered, at once
        assert time.monotonic() - started < 1.0
        time.sleep(REQUEST_TIMEOUT + 1)
        closed = 0
        for sock in clients:
            try:
                closed += sock.recv(1) == b""
            except (ConnectionResetError, TimeoutError):
                closed += 1
        assert closed == len(clients)  # every unfinished request was dropped
        assert daemon.get("/healthz") == (200, "ok\n")
    finally:
        for sock in clients:
            sock.close()


def test_a_client_that_goes_away_leaves_no_traceback(daemon):
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", daemon.port)) as sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
    assert daemon.get("/healthz") == (200, "ok\n")
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.logged()
