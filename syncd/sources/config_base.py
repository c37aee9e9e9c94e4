"""What every source type's config model has: a name, its `type:`, and where it reads."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from syncd.config.base import Model


class SourceConfigBase(Model):
    name: str
    type: str

    # keys naming a file or folder that must exist: checked on load, with every other problem
    local_paths: ClassVar[tuple[str, ...]] = ()

    def where(self) -> str:
        """What a problem with this source's records is reported against."""
        return self.name

    def files(self) -> list[Path] | None:
        """The files the source reads, where all it reads is files: their bytes (and
        this config) unchanged, it gives what it gave. None where it reads anything
        else (an HTTP API): it is read every time."""
        return None
