"""Log lines never carry a secret from a URL, whoever wrote the line."""

from __future__ import annotations

import io
import logging

import pytest

from syncd import logs


@pytest.mark.parametrize(("line", "shown"), [
    ("GET https://hr.example/api?token=s3cr3t&page=2",
     "GET https://hr.example/api?token=***&page=2"),
    ("url ldap://cn=admin:pa55w0rd@127.0.0.1:389 refused",
     "url ldap://cn=admin:***@127.0.0.1:389 refused"),
    ("postgresql+psycopg://syncd:hunter2@db/syncd", "postgresql+psycopg://syncd:***@db/syncd"),
    ("https://x/?a=1&access_token=abc#frag", "https://x/?a=1&access_token=***#frag"),
    ("https://x/?api_key=abc", "https://x/?api_key=***"),
    ("https://x/?page=2&size=100", "https://x/?page=2&size=100"),  # nothing secret
    ("mail soren@kolding.example", "mail soren@kolding.example"),
])
def test_redact_masks_secrets_in_urls(line, shown):
    assert logs.redact(line) == shown


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_every_formatter_redacts(fmt, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(logs.sys, "stderr", stream)
    logs.configure("debug", fmt)
    try:
        logging.getLogger("httpx").warning("HTTP Request: GET %s", "http://h/?token=t0k3n")
        try:
            raise ValueError("ldap://admin:pw123@host")
        except ValueError:
            logging.getLogger("syncd").exception("failed")
    finally:
        logs.configure("info")
    written = stream.getvalue()
    assert "t0k3n" not in written and "pw123" not in written
    assert "token=***" in written and "admin:***@host" in written
