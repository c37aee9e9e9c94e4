"""Reading an LDAP source: one search per kind, paged (RFC 2696), on one connection.

An entry becomes a record through the same field mapping as a CSV row: a field's column
is an attribute name (any case). An attribute with several values gives its first, or
all of them to a list field (a manager's responsibilities). Two names are not
attributes: `dn` is the entry's DN and `parent_dn` its parent's. A reference field
(a unit's parent, a manager's person) whose value is the DN of an entry this source
read as the kind referred to becomes that record's id, so a tree of OUs keeps its
shape whatever attribute is the id (entryUUID, objectGUID); a `parent_dn` that is no
unit read makes the unit a root of the tree.
"""

from __future__ import annotations

import contextlib
import math
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ldap3
from ldap3.core.exceptions import (
    LDAPException,
    LDAPInvalidCredentialsResult,
    LDAPNoSuchObjectResult,
    LDAPOperationResult,
)
from ldap3.core.results import RESULT_SUCCESS

from syncd.config.secrets import read_secret
from syncd.errors import SourceError, SyncdError
from syncd.objects import build_dn, norm_dn, parent_dn, parse_dn
from syncd.org import FieldType, Snapshot, Unreadable, field_specs
from syncd.sources.fieldmap import FieldMap
from syncd.sources.ldap.config import LdapKind, LdapSource

SCOPES = {"sub": ldap3.SUBTREE, "one": ldap3.LEVEL, "base": ldap3.BASE}
DN, PARENT_DN = "dn", "parent_dn"  # taken from the entry's DN, not asked of the server
GUIDS = {"objectguid"}  # Active Directory's binary GUID, read as its usual text form
NEEDS_TLS = {"strongerAuthRequired", "confidentialityRequired"}

Attributes = dict[str, list[bytes]]  # lower-cased attribute name -> raw values


@dataclass(frozen=True)
class _Columns:
    """The attributes a kind's mapping reads, each True where it feeds a list field."""

    lists: dict[str, bool]  # column -> all its values (a list field), or the first

    @classmethod
    def of(cls, kind: str, spec: LdapKind) -> _Columns:
        lists = {column: False for column in spec.extra.values()}
        for field in field_specs(kind):
            if field.name in spec.fields:
                lists[spec.fields[field.name]] = field.type is FieldType.TEXT_LIST
        return cls(lists)

    def requested(self) -> list[str]:
        wanted = [name for name in self.lists if name.lower() not in (DN, PARENT_DN)]
        return wanted or ["1.1"]  # RFC 4511: no attributes

    def raw(self, dn: str, attributes: Attributes) -> dict[str, Any]:
        """The entry as the field mapping reads it: one value, or a list for a list field."""
        raw: dict[str, Any] = {}
        for column, is_list in self.lists.items():
            name = column.lower()
            if name in (DN, PARENT_DN):
                raw[column] = build_dn(parse_dn(dn)) if name == DN else parent_dn(dn)
            elif values := attributes.get(name):
                texts = [_text(name, value) for value in values]
                raw[column] = texts if is_list else texts[0]
        return raw


def read_ldap_source(source: LdapSource) -> Snapshot:
    connection = _connect(source, _password(source))
    try:
        found = {kind: list(_entries(connection, source, kind, spec))
                 for kind, spec in source.kinds.items()}
    finally:
        _close(connection)
    return _snapshot(source, found)


def _password(source: LdapSource) -> str | None:
    if source.bind_dn is None:
        return None
    try:
        return read_secret(source.password_file, source.password,
                           what=f"{source.name}: password").get_secret_value()
    except SyncdError as exc:
        raise SourceError(str(exc)) from None


def _connect(source: LdapSource, password: str | None) -> ldap3.Connection:
    """Open, start TLS if asked, bind; a SourceError naming the URL (never the password)."""
    where = f"{source.name}: {source.url}"
    server = ldap3.Server(source.url, get_info=ldap3.NONE, tls=_tls(source),
                          connect_timeout=source.timeout)
    connection = ldap3.Connection(
        server, source.bind_dn, password, raise_exceptions=True, read_only=True,
        auto_referrals=False, check_names=False, receive_timeout=math.ceil(source.timeout))
    try:
        connection.open()
        if source.start_tls:
            connection.start_tls()
        connection.bind()
    except LDAPInvalidCredentialsResult:
        _close(connection)
        raise SourceError(f"{where}: bind as {source.bind_dn}: invalid credentials; check "
                          "the password") from None
    except LDAPOperationResult as exc:
        _close(connection)
        hint = ": use an ldaps:// URL or start_tls: true" if exc.description in NEEDS_TLS else ""
        raise SourceError(f"{where}: bind as {source.bind_dn or 'anonymous'}: "
                          f"{exc.description}{hint}") from None
    except LDAPException as exc:
        _close(connection)
        raise SourceError(f"{where}: cannot connect: {_reason(exc)}") from None
    return connection


def _close(connection: ldap3.Connection) -> None:
    """Unbind where the connection still can; one that TLS broke cannot send it."""
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()


def _reason(exc: LDAPException) -> str:
    """ldap3's message, without the tuple some of its errors wrap it in."""
    args: tuple[Any, ...] = exc.args
    while len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    return " ".join(str(arg) for arg in args) or type(exc).__name__


def _tls(source: LdapSource) -> ldap3.Tls | None:
    """Certificate and host name checked unless tls_verify is off; the system's CAs
    unless tls_ca_file names one."""
    if not (source.url.startswith("ldaps://") or source.start_tls):
        return None
    try:
        return ldap3.Tls(validate=ssl.CERT_REQUIRED if source.tls_verify else ssl.CERT_NONE,
                         ca_certs_file=str(source.tls_ca_file) if source.tls_ca_file else None)
    except LDAPException as exc:
        raise SourceError(f"{source.name}: tls_ca_file {source.tls_ca_file}: "
                          f"{_reason(exc)}") from None


def _entries(connection: ldap3.Connection, source: LdapSource, kind: str,
             spec: LdapKind) -> Iterator[tuple[str, dict[str, Any]]]:
    """(DN, the record's raw fields) of each entry the kind's search finds."""
    columns = _Columns.of(kind, spec)
    where = f"{source.name}: {kind}: search {spec.base} {spec.filter}"
    search = dict(search_base=spec.base, search_filter=spec.filter,
                  search_scope=SCOPES[spec.scope], attributes=columns.requested())
    try:
        if source.paged:
            answers = connection.extend.standard.paged_search(
                **search, paged_size=source.page_size, generator=True)
        else:
            connection.search(**search)
            answers = connection.response
        for answer in answers:
            if answer.get("type") == "searchResEntry":  # not a referral
                attributes = {name.lower(): values
                              for name, values in answer["raw_attributes"].items()}
                yield answer["dn"], columns.raw(answer["dn"], attributes)
    except LDAPException as exc:
        raise SourceError(f"{where}: {_problem(exc, kind)}") from None
    _check_whole(connection.result, where)


def _check_whole(result: dict[str, Any], where: str) -> None:
    """ldap3 raises on neither a size or time limit nor a referral: the entries read
    would be only part of the kind, and look like everyone else had left."""
    if result["result"] == RESULT_SUCCESS:
        return
    hint = "; set paged: true" if result["description"] == "sizeLimitExceeded" else ""
    detail = f" ({result['message']})" if result.get("message") else ""
    raise SourceError(f"{where}: {result['description']}{detail}: the answer is incomplete"
                      f"{hint}")


def _problem(exc: LDAPException, kind: str) -> str:
    if isinstance(exc, LDAPNoSuchObjectResult):
        return f"no such entry; check kinds.{kind}.base"
    if isinstance(exc, LDAPOperationResult):
        return f"{exc.description}: {exc.message}" if exc.message else exc.description
    return _reason(exc)


def _text(name: str, value: bytes) -> Any:
    if name in GUIDS and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return Unreadable(value, f"attribute {name} is not text (a binary attribute?)")


def _snapshot(source: LdapSource,
              found: dict[str, list[tuple[str, dict[str, Any]]]]) -> Snapshot:
    snapshot = Snapshot()
    for kind, entries in found.items():
        fieldmap = FieldMap.of(kind, source.kinds[kind], source)
        snapshot.records[kind] = [fieldmap.record(raw) for _, raw in entries]
        snapshot.origin[kind] = f"{source.url} ({kind}: {source.kinds[kind].base})"
    ids = {kind: {norm_dn(dn): record.get("id")
                  for (dn, _), record in zip(entries, snapshot.records[kind], strict=True)}
           for kind, entries in found.items()}
    for kind, records in snapshot.records.items():
        _resolve(kind, source.kinds[kind], records, ids)
    return snapshot


def _resolve(kind: str, spec: LdapKind, records: list[dict[str, Any]],
             ids: dict[str, dict[str, Any]]) -> None:
    """DNs in reference fields as the ids of the records read from those entries."""
    for field in field_specs(kind):
        if not field.refers_to:
            continue
        from_parent = spec.fields.get(field.name, "").lower() == PARENT_DN
        for record in records:
            value = record.get(field.name)
            if not isinstance(value, str):
                continue
            dn = norm_dn(value)
            owners = [ids[other][dn] for other in field.refers_to if dn in ids.get(other, {})]
            if owners or from_parent:
                record[field.name] = owners[0] if owners else None
