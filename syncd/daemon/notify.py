"""sd_notify(3) over the standard library, so running under systemd needs no dependency.

systemd passes a datagram socket in NOTIFY_SOCKET; Type=notify waits for READY=1, and
WatchdogSec= restarts a daemon whose main loop stops sending WATCHDOG=1. Outside systemd
(a terminal, a container, the tests) NOTIFY_SOCKET is unset and every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Tells the service manager where the daemon is; never fails the daemon for it."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        given = env.get("NOTIFY_SOCKET", "")
        self._address = _address(given)
        if given and self._address is None:
            log.debug("NOTIFY_SOCKET=%s is neither a path nor @name: not notifying", given)
        self._watchdog_usec = _watchdog_usec(env)

    def ready(self) -> None:
        """Startup (or a reload) is done: systemd leaves 'activating'/'reloading'."""
        self._send("READY=1")

    def status(self, text: str) -> None:
        """One line for `systemctl status`; newlines would split the message."""
        self._send("STATUS=" + " ".join(text.splitlines()))

    def stopping(self) -> None:
        """Shutdown has begun, so a slow stop is not mistaken for a hang."""
        self._send("STOPPING=1")

    def reloading(self) -> None:
        """A reload has begun; call ready() when it is done.

        systemd 253+ wants MONOTONIC_USEC with it to tell this reload from an older one;
        older versions ignore the field.
        """
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def watchdog(self) -> None:
        """The main loop is alive; send it every watchdog_interval() seconds."""
        self._send("WATCHDOG=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half of WatchdogSec=, as systemd advises), or None."""
        return None if self._watchdog_usec is None else self._watchdog_usec / 2e6

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError as exc:  # systemd gone or socket unusable: not worth dying for
            log.debug("sd_notify %r to %r failed: %s", message, self._address, exc)


def _address(value: str) -> str | None:
    """A path as is; '@name' is Linux's abstract namespace, spelled with a NUL byte."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value if value.startswith("/") else None


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """sd_watchdog_enabled(3): a positive WATCHDOG_USEC meant for this very process."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
        pid = int(env.get("WATCHDOG_PID") or os.getpid())
    except ValueError:
        return None
    return usec if usec > 0 and pid == os.getpid() else None
