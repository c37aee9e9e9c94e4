"""Secrets come from a file or the environment, never from the config itself, and are
read only when they are needed, so a rotated file needs no reload."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, SecretStr

from syncd.errors import SyncdError

ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")


def one_secret(model: BaseModel, key: str) -> None:
    """A secret comes from `<key>_file` or `<key>: ${env:NAME}`: exactly one of them."""
    if (getattr(model, f"{key}_file") is None) == (getattr(model, key) is None):
        raise ValueError(f"give exactly one of {key}_file or {key} (${{env:NAME}})")


def env_ref_only(value: str | None) -> str | None:
    """A secret key may only name an environment variable, never hold the secret."""
    if value is not None and not ENV_REF.match(value):
        raise ValueError("secrets are never inline: use ${env:NAME} or the *_file key")
    return value


def read_secret(file: Path | None, env_ref: str | None, *, what: str) -> SecretStr:
    """The secret's value, read when it is needed and never kept in the config.

    Raises SyncdError naming `what` and where the secret should have come from
    (never its value) when the file cannot be read or the secret is empty.
    """
    if file is not None:
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SyncdError(f"{what}: cannot read {file}: {exc.strerror}") from None
    elif env_ref is not None:
        match = ENV_REF.match(env_ref)
        assert match  # checked on load
        value = os.environ.get(match.group(1), "")
    else:
        raise SyncdError(f"{what}: no secret configured")
    if not value:
        raise SyncdError(f"{what}: the secret is empty ({file or f'{env_ref} is not set'})")
    return SecretStr(value)
