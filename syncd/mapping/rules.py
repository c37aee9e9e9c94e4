"""Mapping files: the YAML schema, and compiling every template in it once.

A mapping says, for one target, who gets an account, what the entry looks like, which
groups and OUs exist, and the lifecycle. Every template is compiled at load time, so a
syntax error is reported with its file and line before anything is contacted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncd.errors import ConfigError, Problem
from syncd.mapping.schema import GroupRule, LdapMapping, MappingFile
from syncd.mapping.templating import (
    Expression,
    Template,
    TemplateError,
    compile_expression,
    compile_template,
    make_environment,
)
from syncd.mapping.usernames import UsernamePolicy
from syncd.markers import OU_CLASSES, MarkedRule, Markers
from syncd.objects import GROUP, OU, USER
from syncd.yamlfile import DataPath, YamlDoc, format_path, load_yaml
from syncd.yamlmodel import validate_model

# --- compiled form -------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledGroup:
    rule: GroupRule
    members: Expression
    dn: Template | None  # None: the target places its groups
    attributes: dict[str, Template]


@dataclass(frozen=True)
class CompiledMapping:
    """A mapping file with every template compiled, ready to render many times."""

    file: str
    spec: MappingFile
    when: Expression
    dn: Template | None  # None: the target places its objects (an id-keyed service)
    disabled_dn: Template | None
    usernames: UsernamePolicy
    correlate: tuple[tuple[str, Template], ...]
    attributes: dict[str, Template | tuple[Template, ...]]
    create_only: dict[str, Template]
    disabled_attributes: dict[str, Template]
    groups: tuple[CompiledGroup, ...]
    ou_rdn: Template | None
    # (attribute, where in the file, line): the attributes syncd fills with references
    references: tuple[tuple[str, str, int | None], ...] = ()
    # (kind, attribute, where in the file, line): every attribute the mapping names
    attribute_paths: tuple[tuple[str, str, str, int | None], ...] = ()
    digest: str = ""  # of the text it was compiled from: what a cycle ran on

    def attribute_names(self) -> dict[str, set[str]]:
        """Every attribute the mapping names, by the kind of object that holds it."""
        names: dict[str, set[str]] = {USER: set(), GROUP: set()}
        for kind, name, _, _ in self.attribute_paths:
            names[kind].add(name)
        return names

    @property
    def username_attribute(self) -> str:
        return self.spec.users.username.attribute

    @property
    def anchor(self) -> str:
        return self.spec.users.anchor

    def reference_problems(self, references: frozenset[str]) -> list[Problem]:
        """Attributes the mapping fills with references (members, a manager) that the
        target does not hold as references: there a member added by hand would not be
        told from ours, and every cycle would rewrite them."""
        taken = ", ".join(sorted(references)) or "none"
        return [Problem(self.file, line, path,
                        f"{name!r} does not hold references in this target (it takes "
                        f"members and managers in: {taken})")
                for name, path, line in self.references if name.lower() not in references]

    def read_attributes(self) -> set[str]:
        """Every attribute syncd needs to read back to compare or correlate."""
        users = self.spec.users
        names = {
            users.anchor,
            users.username.attribute,
            *users.attributes,
            *users.disabled_attributes,
            *(c.attribute for c in users.correlate),
            *([users.manager_attribute] if users.manager_attribute else []),
            *users.username.unique_against,
        }
        for group in self.spec.groups:
            names |= {group.member_attribute, *group.attributes}
        return names | self.marker_attributes()

    def marker_attributes(self) -> set[str]:
        """The attributes that say an entry is syncd's: group and OU tree anchors."""
        return self.markers("").attributes

    def markers(self, target: str) -> Markers:
        """The markers this mapping writes in `target`: each anchored group rule's, and
        the OU tree's."""
        rules = [MarkedRule(GROUP, rule.name, rule.anchor, tuple(rule.object_classes),
                            rule.key) for rule in self.spec.groups if rule.anchor]
        tree = self.spec.ou_tree
        if tree and tree.anchor:
            rules.append(MarkedRule(OU, "ou_tree", tree.anchor, OU_CLASSES))
        return Markers(target, tuple(rules))


def load_mapping(path: Path, model: type[MappingFile] = LdapMapping) -> CompiledMapping:
    """`model`: the mapping model of the target type the mapping is for."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "a mapping file is a mapping of keys")])
    spec = validate_model(doc, model)
    return _Compiler(doc).compile(spec)


class _Compiler:
    """Compiles each template with its file, line and path; collects every problem."""

    def __init__(self, doc: YamlDoc):
        self.doc = doc
        self.env = make_environment()
        self.problems: list[Problem] = []

    def template(self, source: str, path: DataPath) -> Template:
        return self._compile(compile_template, source, path)

    def optional(self, source: str | None, path: DataPath) -> Template | None:
        return None if source is None else self.template(source, path)

    def expression(self, source: str, path: DataPath) -> Expression:
        return self._compile(compile_expression, source, path)

    def _compile(self, compiler: Any, source: str, path: DataPath) -> Any:
        try:
            return compiler(
                self.env,
                source,
                file=self.doc.file,
                line=self.doc.text_line(path) or 1,
                path=format_path(path),
            )
        except TemplateError as exc:
            self.problems.append(exc.problem)
            return None

    def templates(self, items: dict[str, str], path: DataPath) -> dict[str, Template]:
        return {name: self.template(value, (*path, name)) for name, value in items.items()}

    def compile(self, spec: MappingFile) -> CompiledMapping:
        users = spec.users
        u: DataPath = ("users",)
        attributes: dict[str, Template | tuple[Template, ...]] = {}
        for name, value in users.attributes.items():
            path = (*u, "attributes", name)
            attributes[name] = (
                tuple(self.template(v, (*path, i)) for i, v in enumerate(value))
                if isinstance(value, list)
                else self.template(value, path)
            )
        names = users.username
        policy = UsernamePolicy(
            patterns=tuple(
                self.template(p, (*u, "username", "patterns", i))
                for i, p in enumerate(names.patterns)
            ),
            numbered=self.template(names.numbered, (*u, "username", "numbered"))
            if names.numbered
            else None,
            max_length=names.max_length,
            forbidden=frozenset(word.lower() for word in names.forbidden),
        )
        compiled = CompiledMapping(
            file=self.doc.file,
            spec=spec,
            when=self.expression(users.when, (*u, "when")),
            dn=self.optional(users.dn, (*u, "dn")),
            disabled_dn=self.optional(users.disabled_dn, (*u, "disabled_dn")),
            usernames=policy,
            correlate=tuple(
                (c.attribute, self.template(c.value, (*u, "correlate", i, "value")))
                for i, c in enumerate(users.correlate)
            ),
            attributes=attributes,
            create_only=self.templates(users.create_only, (*u, "create_only")),
            disabled_attributes=self.templates(
                users.disabled_attributes, (*u, "disabled_attributes")
            ),
            groups=tuple(self._group(rule, ("groups", i)) for i, rule in enumerate(spec.groups)),
            ou_rdn=self.template(spec.ou_tree.rdn, ("ou_tree", "rdn")) if spec.ou_tree else None,
            references=self._references(spec),
            attribute_paths=self._attribute_paths(spec),
            digest=hashlib.sha256(self.doc.text.encode()).hexdigest(),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return compiled

    def _references(self, spec: MappingFile) -> tuple[tuple[str, str, int | None], ...]:
        paths: list[tuple[str, DataPath]] = [
            (rule.member_attribute, ("groups", i, "member_attribute"))
            for i, rule in enumerate(spec.groups)]
        if spec.users.manager_attribute:
            paths.append((spec.users.manager_attribute, ("users", "manager_attribute")))
        return tuple((name, format_path(path), self.doc.text_line(path) or
                      self.doc.text_line(path[:-1])) for name, path in paths)

    def _attribute_paths(self, spec: MappingFile
                         ) -> tuple[tuple[str, str, str, int | None], ...]:
        users = spec.users
        u: DataPath = ("users",)
        named: list[tuple[str, str, DataPath]] = [
            (USER, users.anchor, (*u, "anchor")),
            (USER, users.username.attribute, (*u, "username", "attribute")),
            *((USER, name, (*u, key, name)) for key in ("attributes", "disabled_attributes",
                                                         "create_only")
              for name in getattr(users, key)),
            *((USER, c.attribute, (*u, "correlate", i, "attribute"))
              for i, c in enumerate(users.correlate)),
            *((USER, name, (*u, "username", "unique_against", i))
              for i, name in enumerate(users.username.unique_against)),
        ]
        if users.manager_attribute:
            named.append((USER, users.manager_attribute, (*u, "manager_attribute")))
        for i, rule in enumerate(spec.groups):
            g: DataPath = ("groups", i)
            named += [(GROUP, rule.member_attribute, (*g, "member_attribute")),
                      *((GROUP, name, (*g, "attributes", name)) for name in rule.attributes)]
            if rule.anchor:
                named.append((GROUP, rule.anchor, (*g, "anchor")))
        return tuple((kind, name, format_path(path), self._line(path))
                     for kind, name, path in named)

    def _line(self, path: DataPath) -> int | None:
        """The line of a key the file has, else of the nearest part it has."""
        while path and not (line := self.doc.text_line(path)):
            path = path[:-1]
        return line if path else None

    def _group(self, rule: GroupRule, path: DataPath) -> CompiledGroup:
        return CompiledGroup(
            rule=rule,
            members=self.expression(rule.members, (*path, "members")),
            dn=self.optional(rule.dn, (*path, "dn")),
            attributes=self.templates(rule.attributes, (*path, "attributes")),
        )
