"""The SCIM 2.0 target: its config is checked already; the target itself comes next."""

from __future__ import annotations

from syncd.errors import SyncdError
from syncd.targets.base import Target
from syncd.targets.scim.config import ScimTarget


def open_scim(config: ScimTarget) -> Target:
    """Never reached while the config refuses `type: scim` on load."""
    raise SyncdError(f"target {config.name}: type {config.type} is not supported yet")


__all__ = ["ScimTarget", "open_scim"]
