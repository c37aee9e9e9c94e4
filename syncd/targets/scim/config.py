"""The config of a SCIM target: its keys are checked, the target itself is refused on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator

from syncd.config.secrets import env_ref_only, one_secret
from syncd.targets.config_base import TargetConfigBase


class ScimTarget(TargetConfigBase):
    type: Literal["scim"]
    url: str
    token_file: Path | None = None
    token: str | None = None
    tls_verify: bool = True
    tls_ca_file: Path | None = None

    _env = field_validator("token")(env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> ScimTarget:
        one_secret(self, "token")
        raise ValueError("SCIM targets are not supported by this version of syncd yet "
                         "(the keys are checked so that the config keeps working later)")
