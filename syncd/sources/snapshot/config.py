"""The config of the native source: one snapshot file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from syncd.sources.config_base import SourceConfigBase


class SnapshotSource(SourceConfigBase):
    type: Literal["snapshot"]
    path: Path = Field(description="a JSON or YAML org snapshot (docs/snapshot.md)")

    local_paths: ClassVar[tuple[str, ...]] = ("path",)

    def where(self) -> str:
        return str(self.path)

    def files(self) -> list[Path]:
        return [self.path]
