"""What a provider's resources hold: the schemas a mapping's paths are checked against,
and the types its values are written as.

Built from the provider's own `/Schemas` and `/ResourceTypes` when it answers, else from
the core User and Group schemas and the Enterprise extension of RFC 7643, as
scim2-models defines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scim2_models import EnterpriseUser, Group, User

from syncd.objects import GROUP, USER
from syncd.targets.scim.paths import ENTERPRISE, AttrPath, PathError, parse_path

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENDPOINTS = {USER: "/Users", GROUP: "/Groups"}
RESOURCE_TYPES = {USER: "User", GROUP: "Group"}

# Every resource has these (RFC 7643 section 3.1); the schemas leave them out.
_COMMON: list[dict[str, Any]] = [
    {"name": "id", "type": "string", "mutability": "readOnly"},
    {"name": "externalId", "type": "string", "mutability": "readWrite"},
    {"name": "meta", "type": "complex", "mutability": "readOnly", "subAttributes": [
        {"name": name, "mutability": "readOnly"}
        for name in ("resourceType", "created", "lastModified", "location", "version")]},
]


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # string, boolean, integer, decimal, dateTime, reference, binary, complex
    multi: bool = False
    mutability: str = "readWrite"
    subs: dict[str, Attribute] = field(default_factory=dict)  # lower-case name -> it

    @classmethod
    def of(cls, data: dict[str, Any]) -> Attribute:
        return cls(data["name"], data.get("type", "string"), bool(data.get("multiValued")),
                   data.get("mutability", "readWrite"),
                   {sub["name"].lower(): cls.of(sub) for sub in data.get("subAttributes") or []})


@dataclass(frozen=True)
class ResourceSchema:
    """One resource type: its core schema and its extensions, attribute by attribute."""

    kind: str
    core: str
    extensions: tuple[str, ...]
    attributes: dict[tuple[str, str], Attribute]  # (schema URN, lower-case name) -> it

    @classmethod
    def of(cls, kind: str, core: str, schemas: dict[str, dict[str, Any]],
           extensions: tuple[str, ...] = ()) -> ResourceSchema:
        attributes = {(core, a["name"].lower()): Attribute.of(a) for a in _COMMON}
        for urn in (core, *extensions):
            for data in schemas.get(urn, {}).get("attributes", []):
                attributes[(urn, data["name"].lower())] = Attribute.of(data)
        return cls(kind, core, extensions, attributes)

    def attribute(self, path: AttrPath) -> Attribute | None:
        return self.attributes.get((path.urn or self.core, path.attribute.lower()))

    def leaf(self, path: AttrPath) -> Attribute:
        """The attribute whose values a path's values are (a sub-attribute, or `value`)."""
        top = self.attribute(path)
        assert top is not None, f"{path.text} was checked against the schema"
        if top.type != "complex":
            return top
        return top.subs.get((path.sub or "value").lower(), Attribute("value", "string"))

    def problem(self, text: str) -> str | None:
        """Why this path cannot be written to this resource type; None when it can."""
        try:
            path = parse_path(text)
        except PathError as exc:
            return str(exc)
        if path.urn and path.urn not in (self.core, *self.extensions):
            return f"{text!r}: {RESOURCE_TYPES[self.kind]} resources have no schema {path.urn}"
        top = self.attribute(path)
        if top is None:
            return f"{text!r}: {RESOURCE_TYPES[self.kind]} resources have no attribute " \
                f"{path.attribute!r}" + \
                self._hint(path)
        if top.mutability.lower() == "readonly":
            return f"{text!r} is read-only: the provider sets it"
        if path.where and not (top.multi and top.type == "complex"
                               and path.where[0].lower() in top.subs):
            return f"{text!r}: [{path.where[0]} eq ...] picks elements of a multi-valued " \
                f"complex attribute by a sub-attribute it has"
        if path.where and top.multi and not path.sub:
            return f"{text!r}: name the sub-attribute to write, e.g. {text}.value"
        if top.type == "complex" and not path.sub and "value" not in top.subs:
            return f"{text!r}: {top.name} is complex: name one of its sub-attributes " \
                f"({', '.join(sub.name for sub in top.subs.values())})"
        if top.type == "complex" and path.sub and path.sub.lower() not in top.subs:
            return f"{text!r}: {top.name} has no sub-attribute {path.sub!r}"
        if top.type != "complex" and path.sub:
            return f"{text!r}: {top.name} is not complex; it has no sub-attributes"
        if top.multi and top.type == "complex" and path.sub and not path.where:
            return f"{text!r}: pick one element of {top.name}, e.g. " \
                f'{top.name}[type eq "work"].{path.sub}'
        if self.leaf(path).mutability.lower() == "readonly":
            return f"{text!r} is read-only: the provider sets it"
        return None

    def _hint(self, path: AttrPath) -> str:
        """An extension attribute named without its URN: say which one holds it."""
        if path.urn:
            return ""
        for urn, name in self.attributes:
            if urn != self.core and name == path.attribute.lower():
                return f" (did you mean {urn}:{path.attribute}?)"
        return ""


@dataclass(frozen=True)
class ProviderSchema:
    """The provider's User and Group resource types."""

    users: ResourceSchema
    groups: ResourceSchema
    source: str  # "the provider's /Schemas" or "RFC 7643's core and Enterprise schemas"

    def of(self, kind: str) -> ResourceSchema:
        return self.users if kind == USER else self.groups


def builtin_schema() -> ProviderSchema:
    """RFC 7643's User (with the Enterprise extension) and Group, from scim2-models."""
    schemas = {str(model.to_schema().id): model.to_schema().model_dump(mode="json")
               for model in (User, Group, EnterpriseUser)}
    return ProviderSchema(ResourceSchema.of(USER, CORE_USER, schemas, (ENTERPRISE,)),
                          ResourceSchema.of(GROUP, CORE_GROUP, schemas),
                          "RFC 7643's core and Enterprise schemas")


def provider_schema(schemas: list[dict[str, Any]], resource_types: list[dict[str, Any]]
                    ) -> ProviderSchema:
    """The schema a provider publishes; a resource type it does not describe is taken
    as RFC 7643 has it."""
    by_id = {s["id"]: s for s in schemas if "id" in s}
    builtin = builtin_schema()
    found = {}
    for kind, name in RESOURCE_TYPES.items():
        described = next((r for r in resource_types if r.get("name") == name), None)
        if described is None or described.get("schema") not in by_id:
            found[kind] = builtin.of(kind)
            continue
        extensions = tuple(e["schema"] for e in described.get("schemaExtensions") or []
                           if e.get("schema") in by_id)
        found[kind] = ResourceSchema.of(kind, described["schema"], by_id, extensions)
    return ProviderSchema(found[USER], found[GROUP], "the provider's /Schemas")
