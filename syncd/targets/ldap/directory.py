"""An LDAP directory (OpenLDAP or Active Directory) as a target, through ldap3.

What differs between servers (anchor, DN-valued attributes, page size, how a user is
created, userAccountControl) is the `Flavour`'s (`flavour`, `ad`); this module speaks LDAP.
`url` may list several servers (domain controllers), tried in order: the first that
opens, completes TLS and binds is used; one that is down, hangs or fails TLS is skipped,
and a refused bind is never tried on the next.

Every ldap3 exception is translated here: a refusal by the server of
one operation becomes ObjectRejected and the connection stays usable for the next
change; anything that means the server cannot be used (refused connection, TLS or bind
failure, a connection that keeps dropping) becomes TargetUnavailable naming the URL.

Reconnects. The connection is opened on first use and again after it dropped, each time
with a new ldap3 `Server` (ldap3 marks a refused address unavailable for a few seconds
on the Server object). Connect failures and dropped connections are retried `retries`
times (a config key, as is `timeout`) with a short exponential backoff. A read is simply
run again. A write whose connection dropped may or may not have been applied (the
request can reach the server just before the socket fails), so it is never blindly sent
again: after reconnecting, the entry is read back and only what is still missing is sent
(an add of an entry that now exists, a delete of one that is gone, a rename whose new DN
exists are done; a modify re-sends its value additions and deletions that are not yet in
effect, plus its replaces, which are idempotent). After a receive timeout the server may
still be busy with the request; if the check comes too early, the second send is refused
as a duplicate (ObjectRejected), never applied twice. A wrong password is not retried:
repeating it could lock the account.

Member changes after a move. slapd's refint and memberof overlays rewrite a renamed
entry's `member` values and drop a deleted one's, so by the time a group's member delta
is sent part of it may be in effect already; a modify is atomic, and a refusal of that
part (attributeOrValueExists, noSuchAttribute) would refuse a leaver's removal with it.
Modifies therefore carry the Permissive Modify control, and where a server ignores it and
refuses so, the entry is re-read and only what is still missing is sent.
"""

from __future__ import annotations

import gc
import logging
import math
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ldap3
import tenacity
from ldap3.core.exceptions import (
    LDAPAttributeOrValueExistsResult,
    LDAPCertificateError,
    LDAPCommunicationError,
    LDAPException,
    LDAPNoSuchAttributeResult,
    LDAPNoSuchObjectResult,
    LDAPOperationResult,
    LDAPResponseTimeoutError,
    LDAPSessionTerminatedByServerError,
    LDAPStartTLSError,
)
from ldap3.core.results import RESULT_INVALID_CREDENTIALS

from syncd.errors import BindRefused, InvalidDn, MoveRefused, ObjectRejected, TargetUnavailable
from syncd.objects import Capabilities, Entry, norm_dn, parent_dn, rdn, rdn_values, split_dn
from syncd.plan.model import Action, AttrChange, Change
from syncd.retry import policy
from syncd.targets.ldap.ad import ActiveDirectory
from syncd.targets.ldap.config import LdapTarget
from syncd.targets.ldap.flavour import (
    DN_ATTRIBUTES,
    Flavour,
    Modifications,
    OpenLdap,
    RawAttrs,
    text,
    texts,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every entry below the base: usernames must be unique against posixAccount and
# `account` entries too, an OU is only empty when nothing at all is below it, and a
# mapping may use any group class.
FILTER = "(objectClass=*)"
BACKOFF = 0.2  # seconds before the first retry; doubles each time
MAX_BACKOFF = 10.0
PAGED_RESULTS = "1.2.840.113556.1.4.319"
# Permissive Modify: adding a value the entry holds, or deleting one it lacks, is no error.
# Not critical, so a server that does not know it ignores it. slapd honours it without
# listing it in its root DSE's supportedControl (measured on 2.5), so it is always sent.
MODIFY_CONTROLS = [("1.2.840.113556.1.4.1413", False, None)]
class NoServerAnswered(ConnectionError):
    """No URL gave a bound connection: each URL and why, as its message."""


# Failures of the connection, not of the operation: reconnect and retry.
CONNECTION_ERRORS = (
    LDAPCommunicationError,
    LDAPResponseTimeoutError,
    LDAPStartTLSError,
    LDAPCertificateError,
    OSError,
)
# Result codes that say the session, not the object, is the problem.
SESSION_RESULTS = {
    "protocolError",
    "strongerAuthRequired",
    "confidentialityRequired",
    "busy",
    "unavailable",
}
SEARCH_RESULT_ENTRY = 4  # LDAPMessage protocolOp tag
# A simple bind refused because the connection is not encrypted (AD's default).
NEEDS_TLS = {"strongerAuthRequired", "confidentialityRequired"}


def _depth(dn: str) -> int:
    return len(split_dn(dn))  # escaped commas are no levels


# An entry lives at its DN: OUs hold entries, a rename moves one, DN-valued attributes
# name others (and slapd's refint, AD itself, rewrite them when an entry moves).
CAPABILITIES = Capabilities(containers=True, moves=True, references=DN_ATTRIBUTES,
                            locator_key=norm_dn, depth=_depth, parent=parent_dn)


def flavour_of(config: LdapTarget) -> Flavour:
    return ActiveDirectory(config) if config.flavour == "ad" else OpenLdap()


class LdapDirectory:
    """The `Target` for an LDAP server: `read` the managed entries, `apply` one change."""

    capabilities = CAPABILITIES
    locator_name = "dn"

    def __init__(self, config: LdapTarget, password: str, *, page_size: int = 500) -> None:
        self.name = config.name
        self._config = config
        self._password = password
        self._flavour = flavour_of(config)
        self._page_size = min(page_size, self._flavour.page_size_limit)
        self._anchor = self._flavour.anchor
        self.capabilities = replace(
            CAPABILITIES, references=self._flavour.references,
            references_must_exist=self._flavour.references_must_exist)
        self._connection: ldap3.Connection | None = None

    # -- Target ----------------------------------------------------------------------

    def read(self, attributes: Iterable[str]) -> list[Entry]:
        """Every user, group and OU below base_dn, keyed by the caller's attribute names.

        Values are UTF-8 text (undecodable bytes replaced), objectGUID the UUID string,
        as the flavour presents them. An attribute an entry lacks is absent from its
        `attrs`. Entries the `protected` keys name come back `protected`.
        """
        names: dict[str, str] = {}  # lower-case -> the caller's spelling
        for name in [*attributes, "objectClass"]:
            names.setdefault(name.lower(), name)
        requested = [*names.values()]
        if self._anchor.lower() not in names:
            requested.append(self._anchor)
        base = self._config.base_dn
        with _collector_paused():
            return self._run(base, lambda connection: self._search(connection, requested, names))

    def apply(self, change: Change) -> str | None:
        """Carry out one change; for a create on AD, return the new objectGUID."""
        dn = _dn(change)
        if change.action is Action.CREATE:
            return self._flavour.create(self, dn, change)
        if change.action is Action.DELETE:
            self._run(
                dn,
                lambda connection: connection.delete(dn),
                again=lambda connection: self._exists(connection, dn) and connection.delete(dn),
            )
            return None
        self._flavour.prepare(self, dn, change)
        attribute_changes = change.attributes
        if change.new_locator and change.new_locator != dn:
            try:
                self._rename(dn, change.new_locator)
            except ObjectRejected as exc:  # only then is the entry where it was
                raise MoveRefused(str(exc)) from exc
            attribute_changes = _after_rename(attribute_changes, dn, change.new_locator)
            dn = change.new_locator
        self._flavour.modify(self, dn, change, attribute_changes)
        return None

    def marker(self) -> str | None:
        return self._flavour.marker(self, self._config.base_dn)

    def close(self) -> None:
        """Unbind; the next call connects again."""
        if self._connection is not None:
            _close(self._connection)
            self._connection = None

    # -- operations ------------------------------------------------------------------

    def _search(
        self, connection: ldap3.Connection, requested: list[str], names: dict[str, str]
    ) -> list[Entry]:
        """Every entry below the base, its values completed by the flavour."""
        anchor = self._anchor.lower()
        fetch = partial(self._values, connection)
        protected = self._protected(connection)
        entries: list[Entry] = []
        for page in self._pages(connection, FILTER, requested):
            for response in page:
                dn = response["dn"]
                raw = self._flavour.complete(fetch, dn, response["raw_attributes"])
                attrs: dict[str, tuple[str, ...]] = {}
                entry_anchor = None
                for name, values in raw.items():
                    lowered = name.lower()
                    if lowered == anchor:
                        entry_anchor = self._flavour.decode_anchor(values[0])
                        if lowered in names:
                            attrs[names[lowered]] = (entry_anchor,)
                    elif lowered in names:
                        attrs[names[lowered]] = tuple([text(value) for value in values])
                entries.append(Entry(dn, attrs, entry_anchor, protected=protected(dn)))
        return entries

    def _pages(
        self, connection: ldap3.Connection, search_filter: str, requested: list[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """A paged subtree search below the base, a page of search entries at a time.
        Not ldap3's paged_search generator: it ends quietly on a page that fails with
        sizeLimitExceeded/timeLimitExceeded, and a truncated read must never look like
        deleted entries."""
        base = self._config.base_dn
        cookie: bytes | None = None
        while True:
            try:
                connection.search(
                    base, search_filter, ldap3.SUBTREE, attributes=requested,
                    paged_size=self._page_size, paged_cookie=cookie,
                )  # fmt: skip
            except LDAPNoSuchObjectResult:
                raise self._no_base(connection) from None
            result = connection.result
            if result["result"] != 0:
                raise self._refused(base, result["description"], result["message"])
            control = result.get("controls", {}).get(PAGED_RESULTS)
            cookie = control["value"]["cookie"] if control else None
            # Continuation references (AD's DNS and configuration partitions) are skipped.
            yield [item for item in connection.response if item["type"] == "searchResEntry"]
            if not cookie:
                return

    def _protected(self, connection: ldap3.Connection) -> Callable[[str], bool]:
        """Whether an entry is protected: at or below a `protected` DN, or matched by
        `protected_filter` (the server evaluates it: a search for DNs only)."""
        config = self._config
        below = tuple(norm_dn(dn) for dn in config.protected)
        matched: set[str] = set()
        if config.protected_filter:
            for page in self._pages(connection, config.protected_filter, ["1.1"]):
                matched.update(norm_dn(item["dn"]) for item in page)
        if not below and not matched:
            return _never

        def protected(dn: str) -> bool:
            key = norm_dn(dn)
            return key in matched or any(key == top or key.endswith("," + top) for top in below)

        return protected

    # -- Session: what a flavour asks of the directory ------------------------------

    def add_entry(self, dn: str, attributes: dict[str, list[str]]) -> None:
        self._run(
            dn,
            lambda connection: connection.add(dn, None, attributes),
            again=lambda connection: (
                self._exists(connection, dn) or connection.add(dn, None, attributes)
            ),
        )

    def _rename(self, dn: str, new_dn: str) -> None:
        """modify_dn, deleting the old RDN value; new_superior only when the parent moves."""
        try:
            new_rdn, new_parent, old_parent = rdn(new_dn), parent_dn(new_dn), parent_dn(dn)
        except InvalidDn as exc:
            raise ObjectRejected(f"{dn}: cannot move to {new_dn}: {exc}") from None
        superior = new_parent if norm_dn(new_parent) != norm_dn(old_parent) else None

        def rename(connection: ldap3.Connection) -> bool:
            return connection.modify_dn(dn, new_rdn, delete_old_dn=True, new_superior=superior)

        self._run(
            dn,
            rename,
            again=lambda connection: self._exists(connection, new_dn) or rename(connection),
        )

    def entry_values(self, dn: str, attributes: list[str]) -> RawAttrs:
        return self._run(dn, lambda connection: self._values(connection, dn, attributes))

    def any_entry(self, base: str, ldap_filter: str) -> bool:
        def search(connection: ldap3.Connection) -> bool:
            connection.search(base, ldap_filter, ldap3.SUBTREE, attributes=["1.1"],
                              size_limit=1)
            return any(item.get("type") == "searchResEntry" for item in connection.response)

        return self._run(base, search)

    def modify_entry(self, dn: str, modifications: Modifications) -> None:
        """A modify that tolerates what the overlays (or anyone) already did of it."""

        def modify(connection: ldap3.Connection) -> bool:
            try:
                return connection.modify(dn, modifications, controls=MODIFY_CONTROLS)
            except (LDAPAttributeOrValueExistsResult, LDAPNoSuchAttributeResult):
                return self._modify_missing(connection, dn, modifications)

        self._run(
            dn,
            modify,
            again=lambda connection: self._modify_missing(connection, dn, modifications),
        )

    def _modify_missing(
        self, connection: ldap3.Connection, dn: str, modifications: dict[str, list[Any]]
    ) -> bool:
        """Send the part of a modify that is not yet in effect: after a dropped
        connection, or a refusal because part of it was (a modify is atomic).

        Replaces are idempotent and sent again whatever the entry holds; DN values are
        compared as DNs (slapd hands them back in its own escaping)."""
        current = self._values(connection, dn, list(modifications))
        missing: dict[str, list[Any]] = {}
        for name, operations in modifications.items():
            fold = norm_dn if name.lower() in self._flavour.references else str.lower
            have = {fold(text(value)) for value in current.get(name.lower(), ())}
            for operation, values in operations:
                if operation == ldap3.MODIFY_ADD:
                    values = [value for value in values if fold(value) not in have]
                elif operation == ldap3.MODIFY_DELETE:
                    values = [value for value in values if fold(value) in have]
                if values or operation == ldap3.MODIFY_REPLACE:
                    missing.setdefault(name, []).append((operation, values))
        return not missing or connection.modify(dn, missing, controls=MODIFY_CONTROLS)

    @staticmethod
    def _exists(connection: ldap3.Connection, dn: str) -> bool:
        try:
            connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["1.1"])
        except LDAPNoSuchObjectResult:
            return False
        return True

    @staticmethod
    def _values(
        connection: ldap3.Connection, dn: str, attributes: list[str]
    ) -> dict[str, list[bytes]]:
        """One entry's raw attribute values keyed lower-case; {} if it is gone."""
        try:
            connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=attributes)
        except LDAPNoSuchObjectResult:
            return {}
        if not connection.response:
            return {}
        found = connection.response[0]["raw_attributes"]
        return {name.lower(): values for name, values in found.items()}

    # -- connection ------------------------------------------------------------------

    def _run(
        self,
        dn: str,
        operation: Callable[[ldap3.Connection], T],
        again: Callable[[ldap3.Connection], T] | None = None,
    ) -> T:
        """Run `operation` on a live connection, reconnecting as the module docstring says.

        `again` replaces `operation` once the connection dropped during it (writes: check,
        then send what is missing); reads leave it None and are simply repeated.
        """
        steps = [operation]

        def attempt() -> T:
            connection = self._connection or self._connect()
            try:
                return steps[-1](connection)
            except LDAPOperationResult as exc:
                raise self._refused(dn, exc.description, exc.message) from exc
            except CONNECTION_ERRORS:
                self.close()
                steps.append(again or operation)
                raise
            except LDAPException as exc:  # ldap3 refused to send it (a malformed DN or value)
                raise ObjectRejected(f"{dn}: {_reason(exc)}") from exc

        attempts = self._config.retries + 1
        retrying = policy(attempts, first=BACKOFF, most=MAX_BACKOFF,
                          retry=tenacity.retry_if_exception_type(CONNECTION_ERRORS),
                          on_retry=self._log_retry)
        try:
            return retrying(attempt)
        except CONNECTION_ERRORS as exc:
            raise TargetUnavailable(
                f"{self._failure(exc)} ({attempts} attempt{'s' * (attempts > 1)})"
            ) from exc

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        failure = self._failure(error) if error else f"{self._config.where}: failed"
        log.warning("%s; retrying (%d of %d)", failure, state.attempt_number,
                    self._config.retries)

    def _failure(self, error: BaseException) -> str:
        """A connection failure and where: NoServerAnswered names its URLs itself."""
        if isinstance(error, NoServerAnswered):
            return str(error)
        return f"{self._config.where}: {_reason(error)}"

    def _refused(
        self, dn: str, description: str, message: str
    ) -> ObjectRejected | TargetUnavailable:
        """A server's refusal: of this object, or (SESSION_RESULTS) of the session."""
        text = f"{dn}: {description}: {message}" if message else f"{dn}: {description}"
        if description in SESSION_RESULTS:
            return TargetUnavailable(f"{self._config.where}: {text}")
        return ObjectRejected(text)

    def _connect(self) -> ldap3.Connection:
        """Each URL in order (open, TLS, bind) until one answers. A connection or TLS
        failure, or a timeout, goes on to the next (a DC that accepts and hangs is
        skipped); a refused bind stops at once: the next DC would refuse it too, and each
        refusal counts towards the account's lockout. When none answers, NoServerAnswered
        names each URL and why (the caller retries the whole list)."""
        urls = self._config.urls
        tls = self._tls()
        failures: list[str] = []
        for following, url in enumerate(urls, 1):
            try:
                self._connection = self._connect_to(url, tls)
            except CONNECTION_ERRORS as exc:
                failures.append(f"{url}: {_reason(exc)}")
                if following < len(urls):
                    log.warning("%s: %s; trying %s", url, _reason(exc), urls[following])
                continue
            return self._connection
        raise NoServerAnswered("; ".join(failures))

    def _connect_to(self, url: str, tls: ldap3.Tls | None) -> ldap3.Connection:
        """Open, start TLS if configured, and bind. Connection failures propagate; a
        refused bind, a bad TLS setting, or a server that does not speak LDAP (or speaks
        it only inside TLS) is TargetUnavailable."""
        config = self._config
        where = f"{url}: bind as {config.bind_dn}"
        timeout = config.timeout
        try:
            server = ldap3.Server(url, get_info=ldap3.NONE, tls=tls, connect_timeout=timeout)
            # auto_range off: the flavour reads ranged values (ldap3's would search
            # again in the middle of a paged search).
            connection = ldap3.Connection(
                server, config.bind_dn, self._password, client_strategy=ldap3.SYNC,
                raise_exceptions=True, auto_referrals=False, auto_range=False, check_names=False,
                return_empty_attributes=False, fast_decoder=True,
                receive_timeout=math.ceil(timeout),  # ldap3 packs it as whole seconds
            )  # fmt: skip
        except LDAPException as exc:
            raise TargetUnavailable(f"{url}: {_reason(exc)}") from exc
        strategy = connection.strategy
        strategy.decode_response_fast = partial(_decode_raw_entries, strategy.decode_response_fast)
        try:
            connection.open()
        except CONNECTION_ERRORS:
            _close(connection)
            raise
        try:
            if config.start_tls:
                connection.start_tls()
            connection.bind()
        except (LDAPSessionTerminatedByServerError, ConnectionResetError):  # as a TLS port does
            _close(connection)
            self._check_not_tls(url)
            raise
        except CONNECTION_ERRORS:
            _close(connection)
            raise
        except LDAPOperationResult as exc:
            _close(connection)
            detail = f" ({exc.message})" if exc.message else ""
            if exc.description in NEEDS_TLS:
                raise TargetUnavailable(
                    f"{where}: the server refuses a password over an unencrypted connection "
                    f"({exc.description}): use an ldaps:// URL or start_tls: true") from exc
            wrong = exc.result == RESULT_INVALID_CREDENTIALS
            error = BindRefused if wrong else TargetUnavailable
            raise error(f"{where}: {_words(exc.description)}{detail}") from exc
        except LDAPException as exc:
            _close(connection)
            raise TargetUnavailable(f"{where}: {_reason(exc)}") from exc
        except Exception as exc:  # ldap3 cannot even decode the answer (KeyError, ...)
            _close(connection)
            self._check_not_tls(url)
            raise TargetUnavailable(f"target {self.name}: not an LDAP server at {url}") from exc
        return connection

    def _check_not_tls(self, address: str) -> None:
        """An ldap:// URL at a port that answers only in TLS is a configuration mistake,
        not an outage: say so instead of retrying."""
        url = urlsplit(address)
        if url.scheme != "ldap" or not url.hostname:
            return
        if _speaks_tls(url.hostname, url.port or 389, self._config.timeout):
            ldaps = url._replace(scheme="ldaps").geturl()
            raise TargetUnavailable(
                f"target {self.name}: {address} answers only in TLS: did you mean {ldaps}?"
            )

    def _no_base(self, connection: ldap3.Connection) -> TargetUnavailable:
        contexts = _naming_contexts(connection)
        held = ", ".join(contexts) if contexts else "none it lists"
        return TargetUnavailable(
            f"target {self.name}: base_dn {self._config.base_dn} does not exist on "
            f"{self._config.where}; its naming contexts: {held}"
        )

    def _tls(self) -> ldap3.Tls | None:
        """Certificate and host name checked unless tls_verify is off; system CAs unless
        tls_ca_file names one."""
        config = self._config
        if not (any(url.startswith("ldaps://") for url in config.urls) or config.start_tls):
            return None
        try:
            return ldap3.Tls(
                validate=ssl.CERT_REQUIRED if config.tls_verify else ssl.CERT_NONE,
                ca_certs_file=str(config.tls_ca_file) if config.tls_ca_file else None,
            )
        except LDAPException as exc:
            raise TargetUnavailable(
                f"{config.where}: tls_ca_file {config.tls_ca_file}: {_reason(exc)}"
            ) from exc


def _decode_raw_entries(
    decode: Callable[[dict[str, Any]], dict[str, Any]], message: dict[str, Any]
) -> dict[str, Any]:
    """ldap3's per-message decoding, minus its per-value work on search entries.

    ldap3 turns every value of every entry into text through a chain of config lookups
    and builds case-insensitive dicts twice; reading the raw bytes instead more than
    doubles read speed. `attributes` keeps only the names, for ldap3's range retrieval
    (AD's member;range=0-1499), which merges into both dicts. The message layout is
    ldap3's fast BER decoder's; the tests against slapd catch a change of it.
    """
    if message["protocolOp"] != SEARCH_RESULT_ENTRY:
        return decode(message)
    dn, attributes = message["payload"][0][3], message["payload"][1][3]
    raw = {item[3][0][3].decode(): [value[3] for value in item[3][1][3]] for item in attributes}
    return {
        "type": "searchResEntry",
        "raw_dn": dn,
        "dn": text(dn),
        "raw_attributes": raw,
        "attributes": dict.fromkeys(raw, ()),
    }


def _dn(change: Change) -> str:
    assert change.locator is not None, "an LDAP change always has its DN"
    return change.locator


def _after_rename(changes: list[AttrChange], dn: str, new_dn: str) -> list[AttrChange]:
    """The attribute changes rebased on what modify_dn (deleteoldrdn) did to the RDN
    attributes, the old RDN's values removed and the new one's added; a change left with
    nothing to do is dropped."""
    old, new = _rdn_values_by_name(dn), _rdn_values_by_name(new_dn)
    kept = []
    for change in changes:
        name = change.name.lower()
        if name in old or name in new:
            added = new.get(name, {})
            now = [v for v in texts(change.before) if v.lower() not in old.get(name, {})]
            held = {v.lower() for v in now}
            spelled = {v.lower(): v for v in texts(change.after)}
            now += [spelled.get(lower, value) for lower, value in added.items()
                    if lower not in held]  # fmt: skip
            if {v.lower() for v in now} == set(spelled):
                continue
            change = replace(change, before=tuple(now))
        kept.append(change)
    return kept


def _rdn_values_by_name(dn: str) -> dict[str, dict[str, str]]:
    """A DN's first RDN: attribute (lower-case) -> {value lower-cased: value}, unescaped."""
    values: dict[str, dict[str, str]] = {}
    for attribute, value in rdn_values(dn):
        values.setdefault(attribute.lower(), {})[value.lower()] = value
    return values


def _naming_contexts(connection: ldap3.Connection) -> list[str]:
    """The suffixes the server holds, from its root DSE."""
    connection.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"])
    found = connection.response[0]["raw_attributes"] if connection.response else {}
    return [text(value) for name, values in found.items() for value in values]


def _speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether a TLS handshake succeeds there (the certificate is not checked: this only
    tells a TLS port from a plain one)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            context.wrap_socket(sock, server_hostname=host),
        ):
            return True
    except OSError:
        return False


def _words(description: str) -> str:
    """ldap3's camelCase result name as words: invalidCredentials -> invalid credentials."""
    return "".join(f" {char.lower()}" if char.isupper() else char for char in description)


def _reason(error: BaseException) -> str:
    """ldap3's message without the tuple wrapping it uses, one part per address tried."""
    args: tuple[Any, ...] = error.args
    while len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    if len(args) == 2 and isinstance(args[1], list):  # a name that resolved to several addresses
        return "; ".join(f"{address[0]}: {_reason(cause)}" for cause, address in args[1])
    return " ".join(str(arg) for arg in args) or type(error).__name__


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a read: decoding allocates millions of
    short-lived objects while the entry list grows, and the collector's passes over that
    list cost a third of a 100k read. Reference counting still frees what the read drops."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _close(connection: ldap3.Connection) -> None:
    """Unbind, or just drop the socket when the server is already gone."""
    try:
        connection.unbind()
    except (LDAPException, OSError):
        log.debug("unbind failed; the connection is dropped anyway", exc_info=True)


def _never(dn: str) -> bool:
    return False
