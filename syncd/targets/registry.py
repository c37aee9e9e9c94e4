"""Every target type: its `type:` in the config, its config and mapping models, and how
to open it.

Adding a target type is a folder under syncd/targets/ (a config model deriving from
TargetConfigBase, a mapping model, and a class implementing `Target`) and one line here;
the config's `targets:` list takes the new `type:` from this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from syncd.config.secrets import read_secret
from syncd.errors import SyncdError
from syncd.mapping.rules import CompiledMapping, IdMapping, LdapMapping, MappingFile, load_mapping
from syncd.targets.base import Target
from syncd.targets.config_base import TargetConfigBase
from syncd.targets.ldap import LdapDirectory
from syncd.targets.ldap_config import LdapTarget
from syncd.targets.memory import MemoryTarget, MemoryTargetConfig
from syncd.targets.scim_config import ScimTarget

C = TypeVar("C", bound=TargetConfigBase)


@dataclass(frozen=True)
class TargetType(Generic[C]):
    name: str  # the `type:` in the config
    config_model: type[C]
    mapping_model: type[MappingFile]  # what the target's mapping file holds
    open: Callable[[C], Target]  # reads its secrets; SyncdError when one is missing


def open_ldap(config: LdapTarget) -> Target:
    secret = read_secret(config.password_file, config.password,
                         what=f"target {config.name}: password")
    return LdapDirectory(config, secret.get_secret_value())


def refuse_scim(config: ScimTarget) -> Target:
    """Never reached while the config refuses `type: scim` on load."""
    raise SyncdError(f"target {config.name}: type {config.type} is not supported yet")


_TYPES: list[TargetType[Any]] = [
    TargetType("ldap", LdapTarget, LdapMapping, open_ldap),
    TargetType("scim", ScimTarget, IdMapping, refuse_scim),
    TargetType("memory", MemoryTargetConfig, IdMapping, MemoryTarget),
]
TARGET_TYPES = {t.name: t for t in _TYPES}


def open_target(config: TargetConfigBase) -> Target:
    """The target `config` names, ready to read and apply (SyncdError for a missing secret)."""
    return TARGET_TYPES[config.type].open(config)


def load_target_mapping(config: TargetConfigBase) -> CompiledMapping:
    """The target's mapping file, read as its type's mapping model (ConfigError)."""
    return load_mapping(config.mapping, TARGET_TYPES[config.type].mapping_model)
