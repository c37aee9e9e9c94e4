"""The docs users get stay true: every config key is documented, and nothing a user
reads sends them to a file they do not have."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from syncd.config import Config
from tests.conftest import REPO


def models(model: type[BaseModel], seen: set[type] | None = None) -> set[type[BaseModel]]:
    """`model` and every model its fields hold (through lists, dicts and unions)."""
    seen = set() if seen is None else seen
    seen.add(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in seen:
                models(kind, seen)
            stack += list(typing.get_args(kind))
    return seen


def test_every_config_key_is_in_the_config_reference():
    reference = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+)`", reference))
    missing = sorted(f"{model.__name__}.{name}" for model in models(Config)
                     for name in model.model_fields if name not in named)
    assert not missing, f"docs/config.md does not name: {', '.join(missing)}"


def user_facing_files() -> list[Path]:
    files = [REPO / "README.md", REPO / "config.example.yaml", REPO / "alerts.yml",
             *REPO.glob("docs/*.md"), *REPO.glob("mappings/*.yaml"),
             *REPO.glob("syncd/**/*.py"), *REPO.glob("systemd/*")]
    return [path for path in files if path.is_file()]


def test_nothing_users_read_refers_to_files_they_do_not_have():
    offenders = [f"{path.relative_to(REPO)}:{number}" for path in user_facing_files()
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"CONTRACT|STYLE\.md|FACTS\.md|\.\./shared", line)]
    assert not offenders, "refer to the project's own docs instead: " + ", ".join(offenders)
