"""sd_notify against a real datagram socket, the way systemd listens for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.daemon.notify import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket in tmp_path and its NOTIFY_SOCKET value."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, str(path)


@pytest.fixture
def abstract_listener() -> Iterator[tuple[socket.socket, str]]:
    """The same in Linux's abstract namespace, which systemd may hand out as '@name'."""
    name = f"syncd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        yield sock, "@" + name


def received(sock: socket.socket, count: int) -> list[str]:
    return [sock.recv(4096).decode() for _ in range(count)]


def fields(message: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in message.split("\n"))


def test_every_message_reaches_the_socket(listener, monkeypatch):
    sock, address = listener
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    notifier = Notifier()
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000

    notifier.ready()
    notifier.status("cycle ldap: 3 changes\nnext in 15m")
    notifier.watchdog()
    notifier.reloading()
    notifier.stopping()

    ready, status, watchdog, reloading, stopping = received(sock, 5)
    assert ready == "READY=1"
    assert status == "STATUS=cycle ldap: 3 changes next in 15m"
    assert watchdog == "WATCHDOG=1"
    assert stopping == "STOPPING=1"
    reload_fields = fields(reloading)
    assert reload_fields["RELOADING"] == "1"
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert before <= int(reload_fields["MONOTONIC_USEC"]) <= after


def test_abstract_namespace_socket(abstract_listener, monkeypatch):
    sock, address = abstract_listener
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    Notifier().ready()
    assert received(sock, 1) == ["READY=1"]


def test_child_process_notifies_through_its_environment(listener):
    sock, address = listener
    code = (
        "from syncd.daemon.notify import Notifier\n"
        "n = Notifier()\n"
        "n.ready(); n.status('running'); n.watchdog(); n.reloading(); n.stopping()\n"
        "print(n.watchdog_interval())\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "120000000"}
    env.pop("WATCHDOG_PID", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=30, check=True)
    assert done.stdout.strip() == "60.0"
    messages = received(sock, 5)
    assert messages[:3] == ["READY=1", "STATUS=running", "WATCHDOG=1"]
    assert fields(messages[3]).keys() == {"RELOADING", "MONOTONIC_USEC"}
    assert messages[4] == "STOPPING=1"


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "120000000"}, 60.0),
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}, 1.5),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "me"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env, interval):
    assert Notifier({"NOTIFY_SOCKET": "/run/systemd/notify", **env}).watchdog_interval() == interval


def test_nothing_happens_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(socket, "socket", pytest.fail)  # any attempt to send fails the test
    notifier = Notifier()
    notifier.ready()
    notifier.status("x")
    notifier.watchdog()
    notifier.reloading()
    notifier.stopping()
    assert notifier.watchdog_interval() is None


def test_unsupported_address_is_ignored(monkeypatch):
    monkeypatch.setattr(socket, "socket", pytest.fail)
    Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}).ready()


def test_send_failure_is_logged_not_raised(tmp_path, caplog):
    caplog.set_level("DEBUG", logger="syncd.daemon.notify")
    Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}).ready()
    assert "sd_notify 'READY=1'" in caplog.text
