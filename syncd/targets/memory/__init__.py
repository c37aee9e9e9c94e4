"""The memory target: an id-keyed identity service held in memory (or in a JSON file)."""

from syncd.targets.memory.config import MemoryTargetConfig
from syncd.targets.memory.target import MemoryTarget

__all__ = ["MemoryTarget", "MemoryTargetConfig"]
