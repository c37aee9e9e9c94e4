"""What every target type's config model has, and what it tells the rest of syncd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from syncd.config.base import Model
from syncd.config.schedule import Schedule


class TargetConfigBase(Model):
    name: str
    type: str
    mapping: Path
    vars: dict[str, Any] = Field(
        default_factory=dict, description="values the mapping's templates can read"
    )
    schedule: Schedule | None = Field(None, description="this target's own; else the global")

    def describe(self) -> dict[str, str]:
        """The facts the plan's header shows about this target, e.g. its flavour."""
        return {}

    def template_context(self) -> dict[str, Any]:
        """What the mapping's templates may read about this target, besides `vars`."""
        return {}
