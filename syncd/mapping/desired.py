"""From the org on one day and a compiled mapping to the objects that should exist.

Pure: it reads an OrgView and plain facts about the target (the accounts syncd already
has there, which usernames are taken, which foreign entries a correlation rule may
adopt) and returns `Wanted` objects. It never talks to a directory.

Two passes over the people: first who has an account, in what state and with which
username (usernames are stable: a known one is always reused); then the attributes,
which may name other people's entries (`manager_dn`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from syncd.errors import InvalidDn, Problem
from syncd.mapping.context import common_context, it_context, person_context, unit_context
from syncd.mapping.rules import CompiledGroup, CompiledMapping
from syncd.mapping.templating import Template, TemplateError, render_budget
from syncd.mapping.unitnames import unit_slugs
from syncd.mapping.usernames import (
    UsernameError,
    UsernamePolicy,
    could_have_made,
    generate_username,
    name_parts,
)
from syncd.markers import OU_CLASSES, Markers
from syncd.objects import (
    ACTIVE,
    DELETED,
    DISABLED,
    GROUP,
    OU,
    USER,
    Attrs,
    Entry,
    Owned,
    Ref,
    Values,
    Wanted,
    norm_dn,
    rdn_values,
    values,
)
from syncd.org import Person, Unit
from syncd.orgview import OrgView


@dataclass
class Desired:
    objects: list[Wanted] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    frozen: set[str] = field(default_factory=set)  # person ids left exactly as they are
    frozen_groups: set[str] = field(default_factory=set)  # group keys never orphan-deleted
    notices: list[str] = field(default_factory=list)  # worth saying, nothing wrong


def _username_of(known: Owned) -> str:
    """A registered user's username: the registry keeps one on every user row."""
    assert known.username is not None, f"user {known.key} is registered without a username"
    return known.username


@dataclass
class _Account:
    person_id: str
    state: str
    username: str
    locator: str | None  # None where the target assigns it
    context: dict[str, Any]
    why: str
    source: str = ""
    adopt: str | None = None


Lookup = Callable[[str, str], list[Entry]]  # (attribute, value) -> entries not ours


def desired_state(
    org: OrgView,
    mapping: CompiledMapping,
    *,
    target: str,
    context: dict[str, Any],
    variables: dict[str, Any],
    known: dict[str, Owned],
    taken: set[str],
    lookup: Lookup,
    known_groups: Mapping[str, Owned] | None = None,
    elsewhere: Mapping[str, Sequence[Owned]] | None = None,
) -> Desired:
    """Every OU, user and group the mapping wants in one target on `org.day`.

    `known` and `known_groups` are the registry's users (by person id) and groups (by
    group key): usernames and unit group names once given are kept. `target` is the
    target's name, which groups' and OUs' markers carry; `context` what the target gives
    every template (an LDAP target its `base_dn`, which the mapping's DNs are under).
    `elsewhere`: each person's registry users in the config's other targets, which
    templates read as `it_users` beside the sources' IT users."""
    with render_budget():
        return _Builder(org, mapping, context, mapping.markers(target), variables, known,
                        taken, lookup, known_groups or {}, elsewhere or {}).build()


@dataclass
class _Builder:
    org: OrgView
    mapping: CompiledMapping
    target_context: dict[str, Any]
    markers: Markers
    variables: dict[str, Any]
    known: dict[str, Owned]
    taken: set[str]
    lookup: Lookup
    known_groups: Mapping[str, Owned]
    elsewhere: Mapping[str, Sequence[Owned]]

    def __post_init__(self) -> None:
        self.taken = {name.lower() for name in self.taken}
        self.common = common_context(self.org.day, self.target_context, self.variables)
        self.base_dn = str(self.target_context.get("base_dn", ""))
        self.lifecycle = self.mapping.spec.lifecycle
        self.adopted: dict[str, str] = {}  # DN -> the person who adopts it
        self.out = Desired()
        self.unit_dns: dict[str, str] = {}
        self.unit_slugs = unit_slugs(self.org.units, self.org.day, self._unit_names_given())
        self.kept_by_leavers = self._kept_by_leavers()

    def build(self) -> Desired:
        self._containers()
        accounts = self._accounts()
        active = {a.person_id: a for a in accounts if a.state == ACTIVE}
        for account in accounts:
            self._user(account, active)
        self._all_groups([a for a in accounts
                          if a.state == ACTIVE and a.person_id not in self.out.frozen])
        self._one_object_per_dn()
        self._notice_username_patterns()
        return self.out

    def _unit_names_given(self) -> dict[str, str]:
        """Unit id -> the name its groups were given, as the registry recorded it."""
        rules = [f"{group.rule.name}:" for group in self.mapping.groups]
        return {key.removeprefix(rule): owned.username
                for key, owned in sorted(self.known_groups.items()) if owned.username
                for rule in rules if key.startswith(rule)}

    def _notice_username_patterns(self) -> None:
        """Usernames are never changed, so an edited pattern applies to new accounts only;
        say so, rather than let a sysadmin wait for renames that never come."""
        policy, persons = self.mapping.usernames, self.org.persons
        kept = [known for pid, known in self.known.items()
                if pid in persons and known.state != DELETED and known.username
                and not self._could_have_made(known.username, persons[pid], policy)]
        if kept:
            self.out.notices.append(
                f"username patterns: {len(kept)} existing account(s) have a username the "
                f"current patterns would not make (e.g. {kept[0].username!r}): the patterns "
                "changed, or the person was renamed or adopted; usernames are never "
                "changed, so the patterns apply to new accounts only")

    def _could_have_made(self, username: str, person: Person, policy: UsernamePolicy) -> bool:
        parts = self._name_parts(person)
        try:
            return could_have_made(username.lower(), parts, policy, label=self.label(person.id))
        except TemplateError:
            return True  # a pattern that fails is reported where usernames are made

    def _one_object_per_dn(self) -> None:
        """Two objects rendered to one DN (two units named alike): keep the first, and say
        which template to make unique, instead of failing on the server every cycle."""
        seen: dict[str, Wanted] = {}
        kept = []
        for wanted in self.out.objects:
            if wanted.locator is None:
                kept.append(wanted)
                continue
            first = seen.setdefault(norm_dn(wanted.locator), wanted)
            if first is wanted or wanted.state == DELETED:
                kept.append(wanted)
                continue
            template = self._dn_template(wanted)
            self.out.problems.append(Problem(
                self.mapping.file, template.line if template else None,
                template.path if template else "containers",
                f"{wanted.kind} {wanted.key} renders the same DN as {first.kind} {first.key}: "
                f"{wanted.locator}; make the template unique ({{{{ unit_slug }}}} is one name per "
                "unit)"))
            if wanted.kind == USER:
                self.out.frozen.add(wanted.key)
            else:
                self.out.frozen_groups.add(wanted.key)
        self.out.objects = kept

    def _dn_template(self, wanted: Wanted) -> Template | None:
        if wanted.kind == USER:
            return self.mapping.dn
        rule = wanted.rule.removeprefix("groups.")
        return next((g.dn for g in self.mapping.groups if g.rule.name == rule), None)

    def locate(self, template: Template | None, context: dict[str, Any], label: str
               ) -> str | None:
        """Where the mapping puts an object (a DN under the base), or None where the
        target assigns it (a mapping for a target without DNs has no such template)."""
        return None if template is None else self.absolute(template.render(context, label=label))

    # --- helpers -------------------------------------------------------------------

    def absolute(self, dn: str) -> str:
        """Mapping DNs are relative to the target's base DN."""
        dn = dn.strip()
        if not dn or norm_dn(dn).endswith(norm_dn(self.base_dn)):
            return dn
        return f"{dn},{self.base_dn}"

    def label(self, person_id: str) -> str:
        """How an error names the person being rendered."""
        person = self.org.persons.get(person_id)
        return f"person {person_id} ({person.name})" if person else f"person {person_id}"

    def problem(self, exc: TemplateError | UsernameError) -> None:
        if isinstance(exc, TemplateError):
            self.out.problems.append(exc.problem)
            return
        where = self.mapping.usernames.patterns[0]
        self.out.problems.append(Problem(where.file, where.line - 1, "users.username",
                                         exc.message, exc.label))

    # --- OUs -----------------------------------------------------------------------

    def _containers(self) -> None:
        spec = self.mapping.spec
        containers = list(spec.containers)
        if spec.ou_tree and spec.ou_tree.under not in containers:
            containers.append(spec.ou_tree.under)
        for rdn in containers:
            self._ou(self.absolute(rdn), "container of the mapping")
        if self.mapping.ou_rdn is not None and spec.ou_tree:
            under = self.absolute(spec.ou_tree.under)
            for unit in sorted(self.org.units.values(), key=lambda u: u.id):
                if unit.active_on(self.org.day):
                    self._unit_ou(unit.id, under)

    def _unit_ou(self, unit_id: str, under: str) -> str:
        if unit_id in self.unit_dns:
            return self.unit_dns[unit_id]
        unit = self.org.units[unit_id]
        parent = self._unit_ou(unit.parent, under) if unit.parent else under
        tree, template = self.mapping.spec.ou_tree, self.mapping.ou_rdn
        assert tree is not None and template is not None  # _containers calls only with a tree
        rdn = template.render(self._unit_context(unit), label=f"unit {unit.id}")
        dn = self.unit_dns[unit_id] = f"{rdn},{parent}"
        try:
            self._ou(dn, f"mirrors unit {unit.id} ({unit.name})", "ou_tree", f"units/{unit.id}",
                     self._marker(tree.anchor, OU, unit.id))
        except InvalidDn as exc:
            raise TemplateError(Problem(template.file, template.line, template.path,
                                        f"unit {unit.id}: {exc} (escape the name with "
                                        "dn_escape)")) from None
        return dn

    def _ou(self, dn: str, why: str, rule: str = "containers", source: str = "",
            marker: tuple[str, str] | None = None) -> None:
        """An OU to create; its RDN's values, unescaped, are also its attributes. A
        container has no marker: it is never deleted, so it need not be known as ours."""
        attrs: Attrs = {"objectClass": OU_CLASSES}
        for attribute, value in rdn_values(dn):
            attrs[attribute] = (*attrs.get(attribute, ()), value)
        self.out.objects.append(
            Wanted(
                kind=OU,
                key=norm_dn(dn),
                locator=dn,
                attrs={marker[0]: (marker[1],)} if marker else {},
                create_only=attrs,
                why=why,
                rule=rule,
                source=source,
                marker=marker,
            )
        )

    # --- who has an account --------------------------------------------------------

    def _accounts(self) -> list[_Account]:
        accounts = []
        for person in sorted(self.org.persons.values(), key=lambda p: p.id):
            try:
                account = self._account(person)
            except (TemplateError, UsernameError) as exc:
                self.problem(exc)
                self.out.frozen.add(person.id)
                continue
            if account:
                accounts.append(account)
        for person_id in sorted(self.known.keys() - self.org.persons.keys()):
            account = self._leaver(
                person_id,
                {**self.common, "person": None},
                "the person is no longer in the org store",
            )
            if account:
                accounts.append(account)
        return accounts

    def _account(self, person: Person) -> _Account | None:
        label = self.label(person.id)
        context = person_context(self.org, person, self.lifecycle.pre_provision_days,
                                 self.common, self.elsewhere.get(person.id, ()))
        if not self.mapping.when.evaluate(context, label=label):
            return self._leaver(person.id, context, self._why_not(context))
        known = self.known.get(person.id)
        adopt: str | None = None
        if known:
            username = _username_of(known)
        elif correlated := self._correlate(person.id, context, label):
            username, adopt = correlated
        else:
            username = self._new_username(person, label)
        self.taken.add(username.lower())
        context = {
            **context,
            "username": username,
            "unit_dn": self.unit_dns.get(context["primary"].unit) if context["primary"] else None,
        }
        return _Account(
            person.id,
            ACTIVE,
            username,
            self.locate(self.mapping.dn, context, label),
            context,
            self._why(context, known),
            source=f"engagements/{context['primary'].id}" if context["primary"] else "",
            adopt=adopt,
        )

    def _leaver(self, person_id: str, context: dict[str, Any], why: str) -> _Account | None:
        known = self.known.get(person_id)
        if known is None or known.state == DELETED:
            return None
        username = _username_of(known)
        context = {**context, "username": username,
                   "disabled_on": known.disabled_on or self.org.day}
        dn = self.locate(self.mapping.disabled_dn, context, self.label(person_id))
        if known.disabled_on is not None:
            due = known.disabled_on + timedelta(days=self.lifecycle.delete_after_days)
            if self.org.day >= due:
                why = (
                    f"disabled since {known.disabled_on}, past delete_after_days "
                    f"({self.lifecycle.delete_after_days})"
                )
                return _Account(person_id, DELETED, username, dn, context, why)
        return _Account(person_id, DISABLED, username, dn, context, why)

    def _why_not(self, context: dict[str, Any]) -> str:
        ended = [
            e.valid_to
            for e in self.org.engagements(context["person"].id)
            if e.valid_to and e.valid_to < self.org.day
        ]
        if ended and not context["engaged"]:
            return f"last engagement ended {max(ended)}"
        if context["engaged"]:
            return "the mapping's `when` condition is false"
        return "no engagement today or within the pre-provision window"

    def _why(self, context: dict[str, Any], known: Owned | None) -> str:
        days = self.lifecycle.pre_provision_days
        if not context["engagements"] and context["upcoming"]:
            start = context["upcoming"][0].valid_from
            return f"engagement starts {start}, inside pre-provision window ({days} d)"
        if known and known.state == DISABLED:
            return "engaged again: re-enabled with the same username"
        primary = context["primary"]
        if primary is None:
            return "the mapping's `when` condition is true"
        job = primary.job_function or "employee"
        return f"engaged as {job} in {self.org.units[primary.unit].name}"

    def _correlate(self, person_id: str, context: dict[str, Any], label: str
                   ) -> tuple[str, str] | None:
        """A pre-existing entry a correlation rule adopts: its username and locator.

        An entry whose anchor names another person is never adopted; a value matching
        several entries, or an entry another person adopted, is reported, not guessed:
        no account is better than someone else's.
        """
        for attribute, template in self.mapping.correlate:
            value = template.render(context, label=label)
            entries = [e for e in (self.lookup(attribute, value) if value else [])
                       if e.first(self.mapping.username_attribute)
                       and set(e.get(self.mapping.anchor)) <= {person_id}]
            if not entries:
                continue
            if len(entries) > 1:
                dns = "; ".join(e.locator for e in entries)
                raise UsernameError(label, f"correlation {attribute}={value!r} matches "
                                           f"{len(entries)} entries ({dns}); adopting none")
            entry = entries[0]
            other = self.adopted.setdefault(entry.locator, person_id)
            if other != person_id:
                raise UsernameError(label, f"correlation {attribute}={value!r} matches "
                                           f"{entry.locator}, already adopted by person {other}")
            return entry.first(self.mapping.username_attribute) or "", entry.locator
        return None

    def _new_username(self, person: Person, label: str) -> str:
        return generate_username(self._name_parts(person), self.mapping.usernames,
                                 lambda name: name.lower() in self.taken, label=label)

    def _name_parts(self, person: Person) -> dict[str, Any]:
        """What username patterns read: the name's parts, and the person's IT users (a
        pattern may reuse the username another system has)."""
        return {**name_parts(person.given_name, person.surname, person.nickname),
                **it_context(self.org, person.id, self.elsewhere.get(person.id, ()))}

    # --- users ---------------------------------------------------------------------

    def _user(self, account: _Account, active: dict[str, _Account]) -> None:
        users = self.mapping.spec.users
        identity: dict[str, Values] = {
            users.anchor: (account.person_id,),
            self.mapping.username_attribute: (account.username,),
        }
        if users.manager_attribute:
            identity[users.manager_attribute] = self._manager(account, active)
        label = self.label(account.person_id)
        failed: list[Problem] = []
        if account.state == ACTIVE:
            attrs, create_only = self._active_attributes(account, active, label, failed)
        else:
            attrs, create_only = self._disabled_attributes(account, label, failed), {}
        if failed:
            self.out.problems += failed
            self.out.frozen.add(account.person_id)
            return
        self.out.objects.append(
            Wanted(
                kind=USER,
                key=account.person_id,
                locator=account.locator,
                attrs={**identity, **attrs},
                create_only={"objectClass": tuple(users.object_classes), **create_only},
                state=account.state,
                why=account.why,
                rule="users",
                source=account.source,
                username=account.username,
                adopt=account.adopt,
                multi=frozenset(
                    n for n, t in self.mapping.attributes.items() if isinstance(t, tuple)
                ),
                sensitive=frozenset([*users.sensitive, *users.create_only]),  # initial passwords
                fill_only=self.kept_by_leavers if account.state != ACTIVE else frozenset(),
            )
        )

    @staticmethod
    def _manager(account: _Account, active: dict[str, _Account]) -> Values:
        """`manager_attribute`: a Ref to the manager's account, which the target names as
        it does (a DN, an id); none for a leaver or a manager without an account."""
        manager = account.context["manager"] if account.state == ACTIVE else None
        theirs = active.get(manager.id) if manager else None
        return (Ref(USER, theirs.person_id, shown=theirs.locator or theirs.username),
                ) if theirs else ()

    def _active_attributes(
        self, account: _Account, active: dict[str, _Account], label: str,
        failed: list[Problem]) -> tuple[Attrs, Attrs]:
        manager = account.context["manager"]
        theirs = active.get(manager.id) if manager else None
        context = {
            **account.context,
            "dn": account.locator,
            "manager_dn": theirs.locator if theirs else None,
        }
        attrs = self._rendered(self.mapping.attributes, context, label, failed)
        return ({**self._marks_of_leaving(account, attrs), **attrs},
                self._rendered(self.mapping.create_only, context, label, failed))

    def _marks_of_leaving(self, account: _Account, attrs: Attrs) -> Attrs:
        """On coming back (the registry has the account disabled), what only
        `disabled_attributes` set is removed: a re-hire can bind again at once. Only then:
        an active account's lock (ppolicy's pwdAccountLockedTime after failed binds, an
        admin's) or a description someone wrote is not syncd's to undo every cycle."""
        known = self.known.get(account.person_id)
        if known is None or known.state != DISABLED:
            return {}
        return {name: () for name in self.mapping.disabled_attributes if name not in attrs}

    def _disabled_attributes(self, account: _Account, label: str, failed: list[Problem]
                             ) -> Attrs:
        """A disabled account's attributes: the mapping's, rendered from the person's last
        known data with no manager, then `disabled_attributes` over them.

        A leaver's data goes (the person leaves the store, loses an engagement), and a
        template then renders empty (`{{ phone or '' }}`), falls back (`{{ email or
        username ~ '@' ~ ... }}`) or fails. None of that may blank or rewrite what the
        account has, so the mapping's attributes are `kept_by_leavers`: a value found
        stays, and one is written only where the entry has none. The exceptions are
        `disabled_attributes` (written as rendered) and what reads the manager: a leaver
        reports to no one, and a DN that may name a deleted entry must go."""
        context = {**account.context, **self._last_engagement(account.context),
                   "dn": account.locator, "manager": None, "manager_dn": None}
        attrs = {}
        for name, template in self.mapping.attributes.items():
            unrendered: list[Problem] = []
            value = self._rendered({name: template}, context, label, unrendered)[name]
            if not unrendered:
                attrs[name] = value
        return {**attrs, **self._rendered(self.mapping.disabled_attributes, context, label,
                                          failed)}

    def _kept_by_leavers(self) -> frozenset[str]:
        """The mapping attributes a disabled account keeps as found (see above)."""
        reads_manager = {"manager", "manager_dn"}
        return frozenset(
            name for name, template in self.mapping.attributes.items()
            if name not in self.mapping.disabled_attributes
            and not any(t.reads() & reads_manager
                        for t in (template if isinstance(template, tuple) else (template,))))

    def _last_engagement(self, context: dict[str, Any]) -> dict[str, Any]:
        """`primary` and `primary_unit` of a leaver: the last engagement that started."""
        person = context.get("person")
        if person is None or context.get("primary") is not None:
            return {}
        started = [e for e in self.org.engagements(person.id)
                   if e.valid_from is None or e.valid_from <= self.org.day]
        if not started:
            return {}
        return {"primary": started[-1], "primary_unit": self.org.units.get(started[-1].unit)}

    def _rendered(
        self, templates: Mapping[str, Template | tuple[Template, ...]], context: dict[str, Any],
        label: str, failed: list[Problem],
    ) -> Attrs:
        """Every template rendered; each that fails is added to `failed`, so a person
        with two broken attributes hears of both in one `validate`."""
        return {name: values([self._text(t, context, label, failed) for t in template]
                             if isinstance(template, tuple)
                             else self._text(template, context, label, failed))
                for name, template in templates.items()}

    @staticmethod
    def _text(template: Template, context: dict[str, Any], label: str,
              failed: list[Problem]) -> str:
        try:
            return template.render(context, label=label)
        except TemplateError as exc:
            failed.append(exc.problem)
            return ""

    # --- groups --------------------------------------------------------------------

    def _all_groups(self, active: list[_Account]) -> None:
        """Every group rule; rules that nest other rules' groups come last."""
        made: dict[str, list[Ref]] = {}  # rule name -> its groups
        for group in sorted(self.mapping.groups, key=lambda g: bool(g.rule.nested)):
            rule = group.rule
            members = self._memberships(group, active)
            nested = [ref for name in rule.nested for ref in made.get(name, [])]
            if nested and rule.key:
                members.setdefault(rule.key, [])
            shown = {a.person_id: a.locator or a.username for a in active}
            for key in sorted(members):
                people = [Ref(USER, p, shown=shown[p]) for p in members[key]]
                ref = self._group(group, key, people, nested if key == rule.key else [])
                if ref:
                    made.setdefault(rule.name, []).append(ref)

    def _memberships(self, group: CompiledGroup, active: list[_Account]) -> dict[str, list[str]]:
        """Group key -> the person ids the rule's `members` expression puts there."""
        rule = group.rule
        members: dict[str, list[str]] = defaultdict(list)
        for account in active:
            try:
                result = group.members.evaluate(account.context,
                                                label=self.label(account.person_id))
            except TemplateError as exc:
                self.problem(exc)
                self.out.frozen.add(account.person_id)  # keep their memberships as they are
                continue
            keys = ([rule.key] if result else []) if rule.key else _keys(result)
            for key in dict.fromkeys(keys):  # two engagements in one unit: one membership
                members[key].append(account.person_id)
        return members

    def _group(self, group: CompiledGroup, key: str, people: list[Ref],
               nested: list[Ref]) -> Ref | None:
        """A group of `people` (and `nested` groups): a Ref to it, None if it failed."""
        rule = group.rule
        unit = self.org.units.get(key)
        context = {**self._unit_context(unit), "key": key, "size": len(people)}
        label = f"group {rule.name}:{key}"
        failed: list[Problem] = []
        locator = self._locate_group(group, context, label, failed)
        rendered = self._rendered(group.attributes, context, label, failed)
        if failed:
            self.out.problems += failed
            self.out.frozen_groups.add(f"{rule.name}:{key}")
            return None
        attrs: dict[str, Values] = {**rendered}
        attrs[rule.member_attribute] = tuple(sorted([*people, *nested], key=str))
        marker = self._marker(rule.anchor, GROUP, f"{rule.name}:{key}")
        if marker:
            attrs[marker[0]] = (marker[1],)
        why = f"{len(people)} member(s)" + (f", {len(nested)} nested group(s)"
                                             if nested else "")
        self.out.objects.append(Wanted(
            kind=GROUP, key=f"{rule.name}:{key}", locator=locator, attrs=attrs,
            create_only={"objectClass": tuple(rule.object_classes)}, why=why,
            rule=f"groups.{rule.name}", source=f"units/{key}" if unit else "",
            multi=frozenset({rule.member_attribute}),
            username=context["unit_slug"],  # the registry keeps it: the name stays
            marker=marker,
        ))
        return Ref(GROUP, f"{rule.name}:{key}", shown=locator or context["unit_slug"] or key)

    def _locate_group(self, group: CompiledGroup, context: dict[str, Any], label: str,
                      failed: list[Problem]) -> str | None:
        if group.dn is None:
            return None
        return self.absolute(self._text(group.dn, context, label, failed))

    def _unit_context(self, unit: Unit | None) -> dict[str, Any]:
        return unit_context(unit, self.common, self.unit_slugs.get(unit.id) if unit else None)

    def _marker(self, attribute: str | None, kind: str, key: str) -> tuple[str, str] | None:
        """(attribute, value) that tells the object is syncd's, if the mapping names one."""
        return (attribute, self.markers.value(kind, key)) if attribute else None


def _keys(result: Any) -> list[str]:
    """A members expression gives one key, a list of keys, or nothing."""
    if result is None or result is False or result == "":
        return []
    if isinstance(result, str):
        return [result]
    return [str(key) for key in result if key not in (None, "")]
