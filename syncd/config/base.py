"""The base of every config model, the plug-ins' included: strict and frozen.

Apart from `model.py` so that a plug-in's config model can use it while the assembled
`Config` imports the plug-ins.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Unknown keys are errors (with a did-you-mean on load); a loaded config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
