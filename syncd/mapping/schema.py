"""Mapping files' schema: what a mapping may say, checked by pydantic.

Apart from the compiling (`syncd.mapping.rules`), so that the config and the target
registry can name a target's mapping model without importing the template engine.
Each target type has its model: `LdapMapping` places every object by a DN, `IdMapping`
(SCIM, the memory target) places nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lifecycle(Model):
    pre_provision_days: int = Field(14, ge=0, description="create accounts this early")
    delete_after_days: int = Field(30, ge=0, description="delete this long after disabling")


class UsernameRule(Model):
    attribute: str = Field("uid", description="the entry attribute that holds the username")
    patterns: list[str] = Field(min_length=1, description="tried in order")
    numbered: str | None = Field(None, description="with n = 2, 3, ... when all are taken")
    max_length: int = Field(12, ge=3, le=64)
    forbidden: list[str] = Field(default_factory=list)
    unique_against: list[str] = Field(
        default_factory=list, description="other attributes whose values (the part before "
        "any @) no new username may equal, in the whole target: AD's userPrincipalName")


class Correlation(Model):
    """Adopt a pre-existing entry whose `attribute` equals the rendered `value`."""

    attribute: str
    value: str


class UserRule(Model):
    when: str = Field("engaged", description="expression: who gets an account")
    dn: str | None = Field(None, description="where the entry is (LDAP)")
    disabled_dn: str | None = Field(None, description="where a disabled entry is (LDAP)")
    object_classes: list[str] = Field(default_factory=list, description="LDAP only")
    anchor: str = Field("employeeNumber", description="holds the person id on the entry")
    manager_attribute: str | None = Field(
        None, description="names the person's manager's account, as the target names its "
        "objects (a DN, an id); the way to a manager where a mapping has no DNs")
    username: UsernameRule
    correlate: list[Correlation] = Field(default_factory=list)
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    create_only: dict[str, str] = Field(
        default_factory=dict, description="set when the entry is created, never compared"
    )
    disabled_attributes: dict[str, str] = Field(default_factory=dict)
    sensitive: list[str] = Field(default_factory=list, description="never shown in a plan")


class GroupRule(Model):
    name: str
    key: str | None = Field(None, description="one static group; else one per member key")
    members: str = Field(description="expression per account holder: keys, or true/false")
    dn: str | None = Field(None, description="where the group is (LDAP)")
    object_classes: list[str] = Field(default_factory=list, description="LDAP only")
    member_attribute: str = "member"
    nested: list[str] = Field(
        default_factory=list, description="rules whose groups are members of this static group"
    )
    attributes: dict[str, str] = Field(default_factory=dict)
    anchor: str | None = Field(
        None, description="attribute that holds syncd:TARGET:group:RULE:KEY, so the group is "
        "known as syncd's even when the store has lost it (businessCategory suits most classes)")

    @model_validator(mode="after")
    def _anchor_is_its_own(self) -> GroupRule:
        taken = {name.lower() for name in self.attributes} | {self.member_attribute.lower()}
        if self.anchor and self.anchor.lower() in taken:
            raise ValueError(f"groups: {self.name}: anchor {self.anchor!r} is also set "
                             "by the rule; give the marker an attribute of its own")
        return self

    @model_validator(mode="after")
    def _nested_needs_key(self) -> GroupRule:
        if self.nested and not self.key:
            raise ValueError("nested groups go into one static group: set key")
        return self


class OuTree(Model):
    """Mirror the unit tree as OUs under `under`; users can be placed with `unit_dn`."""

    under: str
    rdn: str = "ou={{ unit.name | dn_escape }}"
    anchor: str | None = Field(
        None, description="attribute that holds syncd:TARGET:ou:UNIT_ID, so the OU is known "
        "as syncd's even when the store has lost it (businessCategory suits most classes)")


class MappingFile(Model):
    """A mapping file as every target reads it; each target type checks its own part
    (`LdapMapping`, `IdMapping`)."""

    lifecycle: Lifecycle = Lifecycle()
    containers: list[str] = Field(default_factory=list, description="RDNs below base_dn")
    users: UserRule
    groups: list[GroupRule] = Field(default_factory=list)
    ou_tree: OuTree | None = None

    @model_validator(mode="after")
    def _group_names(self) -> MappingFile:
        names = [rule.name for rule in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"groups: names must be unique: {', '.join(names)}")
        for rule in self.groups:
            for name in rule.nested:
                target = next((r for r in self.groups if r.name == name), None)
                if target is None or target.nested or name == rule.name:
                    raise ValueError(f"groups: {rule.name}: nested {name!r} must name "
                                     "another group rule that nests nothing itself")
        return self


class LdapMapping(MappingFile):
    """A mapping for a directory: every object is placed by a DN and has object classes."""

    @model_validator(mode="after")
    def _placed(self) -> LdapMapping:
        missing = [f"users.{name}" for name in ("dn", "disabled_dn")
                   if getattr(self.users, name) is None]
        missing += ["users.object_classes"] * (not self.users.object_classes)
        for rule in self.groups:
            missing += [f"groups: {rule.name}: dn"] * (rule.dn is None)
            missing += [f"groups: {rule.name}: object_classes"] * (not rule.object_classes)
        if missing:
            raise ValueError(f"an LDAP target's mapping needs {', '.join(missing)}")
        return self


class IdMapping(MappingFile):
    """A mapping for a service that gives each object an id (SCIM, the memory target):
    nothing is placed, so DNs, object classes, containers and an OU tree mean nothing."""

    @model_validator(mode="after")
    def _not_placed(self) -> IdMapping:
        given = [f"users.{name}" for name in ("dn", "disabled_dn", "object_classes")
                 if getattr(self.users, name)]
        given += [f"groups: {rule.name}: {name}" for rule in self.groups
                  for name in ("dn", "object_classes") if getattr(rule, name)]
        given += [name for name in ("containers", "ou_tree") if getattr(self, name)]
        if given:
            raise ValueError(f"{', '.join(given)}: this target places nothing (it gives "
                             "each object an id); remove them")
        return self
