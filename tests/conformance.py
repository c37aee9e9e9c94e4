"""The targets the conformance suite runs against, each behind one small harness.

A harness writes a config for its target (a SQLite store and the org file in a temporary
folder), reads the target back through the target's own `read` (so what is checked is
what the planner sees), and does what an administrator does by hand: add an object
syncd does not own, or add such an object to one of syncd's groups. Adding a target to
the suite is one harness class and one line in `HARNESSES`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap3

from syncd.config import load_config
from syncd.objects import GROUP, USER, Entry
from syncd.targets.base import Target
from syncd.targets.memory.service import forget_services, service_named
from syncd.targets.registry import open_target
from syncd.targets.scim.paths import ENTERPRISE
from syncd.targets.scim.schema import CORE_USER
from syncd.testing.config import write_config
from syncd.testing.samba import SambaDC
from syncd.testing.scim import ScimServer, default_schemas
from syncd.testing.slapd import Slapd
from tests.conftest import REPO, write_json
from tests.fixtures_scim import MAPPING, PATCH_OP, scim_target_block
from tests.sync_env import SMALL_ORG


@dataclass
class Found:
    """The target's objects as read, by username and by group name."""

    users: dict[str, Entry]
    groups: dict[str, Entry]
    members: dict[str, set[str]]  # group name -> usernames (or locators) of its members
    managers: dict[str, str]  # username -> the username (or locator) its manager names
    everything: list[Entry]


class Harness:
    """One target under test; subclasses fill in what differs."""

    name: str
    mapping: Path
    username_attribute: str
    anchor_attribute: str  # holds the person id
    member_attribute: str
    group_name_attribute: str
    moves: bool  # a disable moves the object (LDAP: to ou=disabled)
    manager_attribute = "manager"  # names the manager's object
    read_attributes: tuple[str, ...] = ("title", "active", "description")  # read back too
    # The pytest fixtures the harness is given, as keyword arguments (a session's server).
    fixtures: tuple[str, ...] = ()
    # A public address the target refuses, as (type, refused value, accepted value).
    refused_address = ("email", "bjørn.holm@kolding.example", "bjorn.holm@kolding.example")

    def __init__(self, root: Path):
        self.root = root
        self.org: dict[str, Any] = copy.deepcopy(SMALL_ORG)
        self.write_org()

    def write_org(self) -> None:
        write_json(self.root / "org.json", self.org)

    def target_block(self) -> str:
        raise NotImplementedError

    def write_config(self, max_deletes: int = 50, max_delete_ratio: float = 1.0) -> Path:
        return write_config(self.root, self.target_block(), max_deletes=max_deletes,
                            max_delete_ratio=max_delete_ratio)

    @contextmanager
    def target(self) -> Iterator[Target]:
        target = open_target(load_config(self.root / "config.yaml").targets[0])
        try:
            yield target
        finally:
            target.close()

    def found(self) -> Found:
        with self.target() as target:
            names = [self.username_attribute, self.anchor_attribute, self.member_attribute,
                     self.group_name_attribute, *self.read_attributes, self.manager_attribute]
            entries = target.read(names)
            key = target.capabilities.locator_key
        users = {u: e for e in entries
                 if (u := e.first(self.username_attribute)) and self.is_user(e)}
        by_locator = {key(e.locator): u for u, e in users.items()}
        groups = {self.group_name(e): e for e in entries
                  if e.get(self.member_attribute) or self.is_group(e)}
        members = {name: {by_locator.get(key(v), v) for v in e.get(self.member_attribute)}
                   for name, e in groups.items()}
        managers = {u: by_locator.get(key(m), m) for u, e in users.items()
                    if (m := e.first(self.manager_attribute))}
        return Found(users, groups, members, managers, entries)

    def group_name(self, entry: Entry) -> str:
        return entry.first(self.group_name_attribute) or entry.locator

    def is_group(self, entry: Entry) -> bool:
        raise NotImplementedError

    def is_user(self, entry: Entry) -> bool:
        """Of the entries with a username: a person's account (AD: not a built-in account
        or a group, which have sAMAccountNames too)."""
        return True

    def is_disabled(self, entry: Entry) -> bool:
        raise NotImplementedError

    def add_foreign_user(self, username: str, person_id: str | None = None) -> str:
        """A user someone made by hand (with `person_id` in the anchor attribute, as a
        pre-existing account carries the employee number); its locator."""
        raise NotImplementedError

    def add_member(self, group: Entry, member_locator: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop whatever the harness started."""


class MemoryHarness(Harness):
    name = "memory"
    mapping = REPO / "mappings" / "memory.yaml"
    username_attribute, anchor_attribute = "userName", "externalId"
    member_attribute, group_name_attribute = "members", "displayName"
    moves = False

    def __init__(self, root: Path):
        super().__init__(root)
        forget_services()

    def target_block(self) -> str:
        return f"""\
  - name: memory
    type: memory
    mapping: {self.mapping}
    vars:
      mail_domain: kolding.example"""

    def is_group(self, entry: Entry) -> bool:
        return not entry.get("userName")

    def is_disabled(self, entry: Entry) -> bool:
        return entry.get("active") == ("false",)

    def add_foreign_user(self, username: str, person_id: str | None = None) -> str:
        attrs = {"userName": (username,), "title": ("by hand",)}
        if person_id:
            attrs["externalId"] = (person_id,)
        return service_named("memory").create("user", attrs)

    def add_member(self, group: Entry, member_locator: str) -> None:
        service_named("memory").modify(group.locator, {}, {"members": (member_locator,)}, {})

    def stop(self) -> None:
        forget_services()


class OpenLdapHarness(Harness):
    name = "openldap"
    mapping = REPO / "mappings" / "openldap.yaml"
    username_attribute, anchor_attribute = "uid", "employeeNumber"
    member_attribute, group_name_attribute = "member", "cn"
    moves = True

    def __init__(self, root: Path):
        super().__init__(root)
        self.slapd = Slapd(root / "slapd")
        self.slapd.start()

    def target_block(self) -> str:
        secret = self.root / "ldap.secret"
        secret.write_text(self.slapd.admin_password, encoding="utf-8")
        secret.chmod(0o600)
        return f"""\
  - name: ldap
    type: ldap
    url: {self.slapd.url}
    bind_dn: {self.slapd.admin_dn}
    password_file: ldap.secret
    base_dn: {self.slapd.base_dn}
    mapping: {self.mapping}
    vars:
      mail_domain: kolding.example"""

    def group_name(self, entry: Entry) -> str:
        return entry.locator.split(",")[0].removeprefix("cn=")

    def is_group(self, entry: Entry) -> bool:
        return entry.locator.lower().startswith("cn=") and ",ou=groups," in entry.locator.lower()

    def is_disabled(self, entry: Entry) -> bool:
        return ",ou=disabled," in entry.locator.lower()

    def _connection(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.slapd.url), self.slapd.admin_dn,
                                self.slapd.admin_password, auto_bind=True)

    def add_foreign_user(self, username: str, person_id: str | None = None) -> str:
        base = self.slapd.base_dn
        dn = f"uid={username},ou=people,{base}"
        attrs = {"cn": username, "sn": username, "title": "by hand"}
        if person_id:
            attrs["employeeNumber"] = person_id
        with self._connection() as conn:
            conn.add(f"ou=people,{base}", ["organizationalUnit"], {"ou": "people"})
            assert conn.add(dn, ["inetOrgPerson"], attrs), conn.result
        return dn

    def add_member(self, group: Entry, member_locator: str) -> None:
        with self._connection() as conn:
            assert conn.modify(group.locator, {"member": [(ldap3.MODIFY_ADD, [member_locator])]}
                               ), conn.result

    def stop(self) -> None:
        self.slapd.stop()


class AdHarness(OpenLdapHarness):
    """Active Directory: the session's Samba DC, reset to a fresh domain for each test."""

    name = "ad"
    mapping = REPO / "mappings" / "ad.yaml"
    username_attribute, anchor_attribute = "sAMAccountName", "employeeID"
    fixtures = ("samba_dc",)
    # AD takes any Unicode mail; a telephoneNumber holds at most 64 characters.
    refused_address = ("phone", "+45 " + "7" * 70, "+45 7979 4242")

    def __init__(self, root: Path, samba_dc: SambaDC):  # no super(): no slapd of its own
        Harness.__init__(self, root)
        self.dc = samba_dc
        self.dc.reset()
        self.passwords = root / "passwords"

    def target_block(self) -> str:
        secret = self.root / "ad.secret"
        secret.write_text(self.dc.admin_password, encoding="utf-8")
        secret.chmod(0o600)
        return f"""\
  - name: ad
    type: ldap
    flavour: ad
    url: {self.dc.url}
    tls_ca_file: {self.dc.ca_file}
    bind_dn: {self.dc.admin_upn}
    password_file: ad.secret
    base_dn: {self.dc.base_dn}
    mapping: {self.mapping}
    initial_password:
      deliver: file
      folder: {self.passwords}
    vars:
      mail_domain: kolding.example"""

    def group_name(self, entry: Entry) -> str:
        return entry.locator.split(",")[0].split("=", 1)[1]  # AD spells it CN=

    def is_user(self, entry: Entry) -> bool:
        classes = {value.lower() for value in entry.get("objectClass")}
        placed = entry.locator.lower().split(",", 1)[-1]
        return "user" in classes and placed.startswith(("ou=people,", "ou=disabled,"))

    def _connection(self) -> ldap3.Connection:
        return self.dc.connection()

    def add_foreign_user(self, username: str, person_id: str | None = None) -> str:
        base = self.dc.base_dn
        dn = f"CN={username},OU=people,{base}"
        attrs = {"sAMAccountName": username, "title": "by hand"}
        if person_id:
            attrs["employeeID"] = person_id
        with self._connection() as conn:
            conn.add(f"OU=people,{base}", ["organizationalUnit"])
            assert conn.add(dn, ["user"], attrs), conn.result
        return dn

    def stop(self) -> None:
        """The DC is the session's: the next harness resets it."""


class ScimHarness(Harness):
    """A SCIM 2.0 provider: a fresh scim2-server per test, with mappings/scim.yaml."""

    name = "scim"
    mapping = MAPPING
    username_attribute, anchor_attribute = "userName", "externalId"
    member_attribute, group_name_attribute = "members", "displayName"
    manager_attribute = f"{ENTERPRISE}:manager"
    read_attributes = ("title", "active")
    moves = False
    # RFC 7643 gives an address no format, so scim2-server takes any; this one announces
    # (and enforces) emails unique, as many providers do: p1's address is taken.
    refused_address = ("email", "direktoer@kolding.example", "bjorn.holm@kolding.example")

    def __init__(self, root: Path):
        super().__init__(root)
        self.server = ScimServer(root / "scim", schemas=unique_emails()).start()

    def target_block(self) -> str:
        return scim_target_block(self.server.url, self.server.token_file(), self.mapping)

    def is_user(self, entry: Entry) -> bool:
        return entry.kind == USER

    def is_group(self, entry: Entry) -> bool:
        return entry.kind == GROUP

    def is_disabled(self, entry: Entry) -> bool:
        return entry.get("active") == ("false",)

    def add_foreign_user(self, username: str, person_id: str | None = None) -> str:
        user = {"schemas": [CORE_USER], "userName": username, "title": "by hand"}
        if person_id:
            user["externalId"] = person_id
        return str(self.server.send("POST", "/Users", user)["id"])

    def add_member(self, group: Entry, member_locator: str) -> None:
        self.server.send("PATCH", f"/Groups/{group.locator}", {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members",
                            "value": [{"value": member_locator}]}]})

    def stop(self) -> None:
        self.server.close()


def unique_emails() -> list[dict[str, Any]]:
    """scim2-server's schemas with a User's emails unique on the server."""
    schemas = default_schemas()
    user = next(s for s in schemas if s["id"] == CORE_USER)
    next(a for a in user["attributes"] if a["name"] == "emails")["uniqueness"] = "server"
    return schemas


HARNESSES: dict[str, type[Harness]] = {"memory": MemoryHarness, "openldap": OpenLdapHarness,
                                       "ad": AdHarness, "scim": ScimHarness}
