"""A new Active Directory account's first password: generated to the domain's policy and
handed to whoever onboards the person (nowhere, a file, a command), never logged or kept.

Errors name the account and what failed, never the password.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path

from syncd.errors import ObjectRejected
from syncd.targets.ldap.config import InitialPassword

DOMAIN_PASSWORD_COMPLEX = 0x1  # pwdProperties: three of four character classes, no name parts
# No quotes, backslash, $ or backtick: the password survives a shell, CSV or YAML unquoted.
SYMBOLS = "-_.!#%+=?@*"
CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
ALPHABET = "".join(CLASSES)
# AD's complexity rule: a password may not hold the sAMAccountName, nor any token of at
# least 3 characters of the display name (split at these), compared without case.
NAME_DELIMITERS = re.compile(r"[,.\-_#\s]+")
HOOK_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL")


@dataclass(frozen=True)
class Policy:
    """The password rules that apply to an account: its fine-grained policy (PSO), or
    the domain's, as its root entry states them."""

    min_length: int
    complex: bool

    @classmethod
    def from_domain(cls, min_pwd_length: str | None, pwd_properties: str | None) -> Policy:
        complexity = int(pwd_properties or 0) & DOMAIN_PASSWORD_COMPLEX
        return cls(int(min_pwd_length or 0), bool(complexity))

    @classmethod
    def from_pso(cls, minimum_length: str, complexity_enabled: str | None) -> Policy:
        """msDS-MinimumPasswordLength and msDS-PasswordComplexityEnabled (TRUE/FALSE)."""
        return cls(int(minimum_length), (complexity_enabled or "").upper() == "TRUE")


def generate(policy: Policy, length: int, names: tuple[str, ...] = ()) -> str:
    """A random password of max(length, the domain's minimum) with every character class,
    holding no part of `names` (sAMAccountName, displayName) that complexity forbids."""
    size = max(length, policy.min_length, len(CLASSES))
    forbidden = _name_tokens(names)
    while True:
        password = [secrets.choice(chars) for chars in CLASSES]
        password += [secrets.choice(ALPHABET) for _ in range(size - len(CLASSES))]
        secrets.SystemRandom().shuffle(password)
        candidate = "".join(password)
        if not any(token in candidate.lower() for token in forbidden):
            return candidate


def _name_tokens(names: tuple[str, ...]) -> set[str]:
    tokens = set()
    for name in names:
        tokens.add(name.lower())
        tokens.update(part.lower() for part in NAME_DELIMITERS.split(name))
    return {token for token in tokens if len(token) >= 3}


def unicode_pwd(password: str) -> bytes:
    """AD's password attribute: the password in double quotes, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


def deliver(config: InitialPassword, password: str, *, username: str, person: str,
            dn: str) -> None:
    """Hand the password over as configured; ObjectRejected if that fails (the account
    is then left disabled, and the next cycle makes a new password)."""
    if config.deliver == "file":
        assert config.folder is not None, "validated at load"
        _to_file(config.folder, username, password, dn)
    elif config.deliver == "command":
        assert config.command, "validated at load"
        _to_command(config.command, config.timeout, password,
                    {"SYNCD_USERNAME": username, "SYNCD_PERSON_ID": person, "SYNCD_DN": dn})


def hook_environment() -> dict[str, str]:
    """What the command inherits of syncd's environment: no more than it needs to run,
    so it never sees the bind password or another secret passed as ${env:...}."""
    return {name: os.environ[name] for name in HOOK_ENVIRONMENT if name in os.environ}


def _to_file(folder: Path, username: str, password: str, dn: str) -> None:
    """folder/USERNAME, mode 0600, replaced whole (never a half-written password)."""
    if not username or Path(username).name != username or username in (".", ".."):
        raise ObjectRejected(f"{dn}: initial password: {username!r} is no file name")
    path = folder / username
    partial = folder / f".{username}.tmp"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(password + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as exc:
        raise ObjectRejected(
            f"{dn}: initial password: cannot write {path}: {exc.strerror}") from None


def _to_command(argv: list[str], timeout: float, password: str, env: dict[str, str]) -> None:
    """The command gets the password and a newline on stdin, the account in SYNCD_USERNAME,
    SYNCD_PERSON_ID and SYNCD_DN; its stdout is discarded, its stderr is syncd's."""
    what = f"{env['SYNCD_DN']}: initial password command {argv[0]}"
    try:
        result = subprocess.run(argv, input=password + "\n", text=True, timeout=timeout,
                                env={**hook_environment(), **env}, stdout=subprocess.DEVNULL,
                                check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ObjectRejected(f"{what} took more than {timeout:g} s") from None
    except OSError as exc:
        raise ObjectRejected(f"{what} cannot run: {exc.strerror}") from None
    if result.returncode != 0:
        raise ObjectRejected(f"{what} exited with status {result.returncode}")
