"""htpasswd files for the web view's tests, as `htpasswd -B` writes them: bcrypt with
Apache's `$2y$` prefix (the same algorithm as `$2b$`) at its default cost of 5."""

from __future__ import annotations

from pathlib import Path

import bcrypt


def bcrypt_entry(user: str, password: str) -> str:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode()
    return f"{user}:{hashed.replace('$2b$', '$2y$', 1)}"


def write_htpasswd(path: Path, users: dict[str, str], *more_lines: str) -> Path:
    """`users` (name: password) as bcrypt entries, then `more_lines` as they are; 0640."""
    lines = [bcrypt_entry(user, password) for user, password in users.items()]
    path.write_text("\n".join([*lines, *more_lines]) + "\n", encoding="utf-8")
    path.chmod(0o640)
    return path
