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

from syncd.mapping.schema import IdMapping, LdapMapping, MappingFile
from syncd.targets.base import AttributeCheck, Target
from syncd.targets.config_base import TargetConfigBase
from syncd.targets.ldap import LdapTarget, open_ldap
from syncd.targets.memory import MemoryTarget, MemoryTargetConfig
from syncd.targets.scim import ScimTarget, check_scim_attributes, open_scim

C = TypeVar("C", bound=TargetConfigBase)


@dataclass(frozen=True)
class TargetType(Generic[C]):
    name: str  # the `type:` in the config
    config_model: type[C]
    mapping_model: type[MappingFile]  # what the target's mapping file holds
    open: Callable[[C], Target]  # reads its secrets; SyncdError when one is missing
    # the attributes a mapping names (by kind), checked before any cycle; True: the
    # target may be asked (`syncd validate`), False: only what is known without it
    check_attributes: Callable[[C, dict[str, set[str]], bool], AttributeCheck] = (
        lambda config, names, online: AttributeCheck())


_TYPES: list[TargetType[Any]] = [
    TargetType("ldap", LdapTarget, LdapMapping, open_ldap),
    TargetType("scim", ScimTarget, IdMapping, open_scim, check_scim_attributes),
    TargetType("memory", MemoryTargetConfig, IdMapping, MemoryTarget),
]
TARGET_TYPES = {t.name: t for t in _TYPES}


def open_target(config: TargetConfigBase) -> Target:
    """The target `config` names, ready to read and apply (SyncdError for a missing secret)."""
    return TARGET_TYPES[config.type].open(config)

