"""The config of a memory target."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from syncd.targets.config_base import TargetConfigBase


class MemoryTargetConfig(TargetConfigBase):
    """A service held in memory (`syncd.targets.memory.service`): for trying a mapping
    with no server, and the conformance suite's in-process target."""

    type: Literal["memory"]
    path: Path | None = Field(
        None, description="keep the objects in this JSON file between runs; else only "
        "as long as the process runs")

    def describe(self) -> dict[str, str]:
        return {"flavour": "memory"}
