"""What every source type's config model has: a name, its `type:`, and where it reads."""

from __future__ import annotations

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
