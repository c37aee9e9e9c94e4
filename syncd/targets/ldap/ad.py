"""Active Directory as an LDAP flavour.

objectGUID is the anchor (16 bytes, little-endian in its first three fields). A page
holds at most 1,000 entries (AD's MaxPageSize). A multi-valued attribute with more
values than the server returns at once (MaxValRange: 1,500 members) comes back as
`member;range=0-1499`, and the rest is read range by range.

userAccountControl: only ACCOUNTDISABLE is syncd's. A read presents it as 512 or 514
(NORMAL_ACCOUNT, plus the disable bit found), and writing one of those sets that bit in
the value the server holds, every other bit kept.

A user is added disabled with PASSWD_NOTREQD (no password yet), given a generated one
that meets its policy (its fine-grained password settings, else the domain root's),
optionally must-change-at-logon; the password is handed over only once the server took
it; then PASSWD_NOTREQD is cleared and the account enabled. PASSWD_NOTREQD is the mark
of an account never given a password (ours, stopped mid-create, or one made so by hand):
it gets one before it is enabled, so the next cycle finishes it instead of making a
second account. pwdLastSet is no such mark: must-change sets it to 0, as does an admin.

A disable is written alone and first (before a move and the other attributes), an enable
alone and last: a refused attribute never leaves an account enabled that should not be.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping

import ldap3

from syncd.errors import ObjectRejected, TargetUnavailable
from syncd.objects import USER, get_attr
from syncd.plan.model import AttrChange, Change
from syncd.targets.ldap.config import LdapTarget, dns_domain
from syncd.targets.ldap.flavour import (
    DN_ATTRIBUTES,
    Fetch,
    RawAttrs,
    Session,
    added_attributes,
    modifications_of,
    text,
    texts,
)
from syncd.targets.ldap.initial_password import Policy, deliver, generate, unicode_pwd

log = logging.getLogger(__name__)

ACCOUNTDISABLE = 0x2
PASSWD_NOTREQD = 0x20  # set by syncd until the account's first password is handed over
NORMAL_ACCOUNT = 0x200
UAC = "userAccountControl"
MAX_SAM_ACCOUNT_NAME = 20  # AD's limit (Samba takes longer names; AD refuses them)
MAX_PAGE_SIZE = 1000
# DN-valued attributes AD writes (back links such as memberOf and directReports are
# computed by AD and never written, so they are no references).
AD_REFERENCES = DN_ATTRIBUTES | {"managedby", "assistant", "msds-managedby"}
RESULTANT_PSO = "msDS-ResultantPSO"  # the fine-grained password settings that apply
PSO_MIN_LENGTH, PSO_COMPLEXITY = "msDS-MinimumPasswordLength", "msDS-PasswordComplexityEnabled"
RANGE = re.compile(r"^(?P<name>[^;]+);range=(?P<low>\d+)-(?P<high>\d+|\*)$", re.IGNORECASE)


class ActiveDirectory:
    name = "ad"
    anchor = "objectGUID"
    references = frozenset(AD_REFERENCES)
    references_must_exist = True  # 000020B5: referenced object not found
    page_size_limit = MAX_PAGE_SIZE

    def __init__(self, config: LdapTarget) -> None:
        self._config = config
        self._policy: Policy | None = None

    def marker(self, session: Session, base_dn: str) -> str | None:
        """The DC's highestCommittedUSN, with which DC it is (each counts its own): any
        write the DC takes, made there or replicated to it, moves it."""
        root = session.entry_values("", ["highestCommittedUSN", "dsServiceName"])
        usn, dc = root.get("highestcommittedusn"), root.get("dsservicename")
        return f"{text(dc[0])} {text(usn[0])}" if usn and dc else None

    def decode_anchor(self, raw: bytes) -> str:
        return object_guid(raw)

    # -- read ------------------------------------------------------------------------

    def complete(self, fetch: Fetch, dn: str, raw: RawAttrs) -> RawAttrs:
        merged, more = merge_ranges(raw)
        for name, start in more.items():
            merged[name] += read_rest(fetch, dn, name, start)
        uac = next((key for key in merged if key.lower() == UAC.lower()), None)
        if uac is not None:
            merged[uac] = [str(syncd_part(int(merged[uac][0]))).encode()]
        return merged

    # -- write -----------------------------------------------------------------------

    def create(self, session: Session, dn: str, change: Change) -> str | None:
        attributes = added_attributes(change.attributes)
        if change.kind == USER:
            self._check_sam_account_name(change, attributes)
            wanted = _uac_of(attributes.pop(_name_in(attributes, UAC), None)) & ~PASSWD_NOTREQD
            unfinished = wanted | ACCOUNTDISABLE | PASSWD_NOTREQD
            attributes[UAC] = [str(unfinished)]
            session.add_entry(dn, attributes)
            self._give_password(session, dn, change, attributes, unfinished)
            if not wanted & ACCOUNTDISABLE:
                _write_uac(session, dn, wanted)
        else:
            session.add_entry(dn, attributes)
        guid = session.entry_values(dn, [self.anchor]).get(self.anchor.lower())
        return self.decode_anchor(guid[0]) if guid else None

    def prepare(self, session: Session, dn: str, change: Change) -> None:
        """A disable first and alone: in effect even when the move or another attribute
        is refused. Then the sAMAccountName check, so a refused name moves nothing."""
        wanted = _wanted_uac(change.attributes)
        if wanted is not None and wanted & ACCOUNTDISABLE:
            current = _current_uac(session, dn)
            if not current & ACCOUNTDISABLE:
                _write_uac(session, dn, current | ACCOUNTDISABLE)
        changed = {item.name: texts(item.after) for item in change.attributes if not item.multi}
        self._check_sam_account_name(change, changed)

    def modify(self, session: Session, dn: str, change: Change,
               attributes: list[AttrChange]) -> None:
        """Every attribute but userAccountControl (a disable was `prepare`'s); an enable
        alone and last, so an account is enabled only once all else is in effect."""
        modifications = modifications_of(attributes, self.references)
        modifications.pop(_name_in(modifications, UAC), None)
        if modifications:
            session.modify_entry(dn, modifications)
        wanted = _wanted_uac(attributes)
        if wanted is not None and not wanted & ACCOUNTDISABLE:
            self._enable(session, dn, change)

    def _enable(self, session: Session, dn: str, change: Change) -> None:
        """Clear the disable bit, every other bit kept; an account that was never given a
        password (PASSWD_NOTREQD: ours, stopped mid-create, or made by hand) gets one
        first. No other account ever gets a new password from syncd."""
        found = session.entry_values(dn, [UAC, "sAMAccountName", "displayName"])
        current = int(found.get(UAC.lower(), [b"0"])[0])
        if current & ACCOUNTDISABLE and current & PASSWD_NOTREQD:
            names = {key: [text(v) for v in values] for key, values in found.items()}
            self._give_password(session, dn, change, names, current)
            current &= ~PASSWD_NOTREQD
        if current & ACCOUNTDISABLE:
            _write_uac(session, dn, current & ~ACCOUNTDISABLE)

    def _give_password(self, session: Session, dn: str, change: Change,
                       attributes: dict[str, list[str]], uac: int) -> None:
        """Set a generated password (optionally must-change), hand it over, then clear
        PASSWD_NOTREQD from `uac` (the account stays disabled). A password the server
        refuses is never handed over; a failed hand-over leaves PASSWD_NOTREQD set, so
        the next enable makes a new one."""
        setting = self._config.initial_password
        username = _first(attributes, "sAMAccountName") or change.username or ""
        names = tuple(filter(None, (username, _first(attributes, "displayName"))))
        password = generate(self._policy_of(session, dn), setting.length, names)
        session.modify_entry(dn, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [unicode_pwd(password)])]})
        if setting.must_change:
            session.modify_entry(dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]})
        deliver(setting, password, username=username, person=change.key, dn=dn)
        _write_uac(session, dn, uac & ~PASSWD_NOTREQD)

    def _policy_of(self, session: Session, dn: str) -> Policy:
        """The account's fine-grained password policy (msDS-ResultantPSO) where it has
        one and it can be read; the domain's otherwise."""
        pso = session.entry_values(dn, [RESULTANT_PSO]).get(RESULTANT_PSO.lower())
        if not pso:
            return self._domain_policy(session)
        where = text(pso[0])
        try:
            found = session.entry_values(where, [PSO_MIN_LENGTH, PSO_COMPLEXITY])
        except ObjectRejected as exc:
            found = {}
            log.info("%s: %s", dn, exc)
        length, complexity = (found.get(name.lower()) for name in (PSO_MIN_LENGTH, PSO_COMPLEXITY))
        if not length:
            log.info("%s: its password settings %s cannot be read; the domain's policy "
                     "applies", dn, where)
            return self._domain_policy(session)
        return Policy.from_pso(text(length[0]), text(complexity[0]) if complexity else None)

    def _domain_policy(self, session: Session) -> Policy:
        if self._policy is None:
            root = ",".join(f"DC={part}" for part in dns_domain(self._config.base_dn).split("."))
            found = session.entry_values(root, ["minPwdLength", "pwdProperties"])
            self._policy = Policy.from_domain(*(
                text(found[name][0]) if found.get(name) else None
                for name in ("minpwdlength", "pwdproperties")))  # fmt: skip
        return self._policy

    @staticmethod
    def _check_sam_account_name(change: Change, attributes: dict[str, list[str]]) -> None:
        """A user's is refused here, not by the server: Samba takes longer names, AD
        does not (a group's may be longer: AD takes 256)."""
        name = _first(attributes, "sAMAccountName")
        if change.kind == USER and name is not None and len(name) > MAX_SAM_ACCOUNT_NAME:
            raise ObjectRejected(
                f"{change.label}: person {change.key}: sAMAccountName {name!r} has "
                f"{len(name)} characters; Active Directory takes at most {MAX_SAM_ACCOUNT_NAME}")


def object_guid(raw: bytes) -> str:
    """objectGUID as its UUID: 16 bytes, little-endian in the first three fields."""
    return str(uuid.UUID(bytes_le=raw))


def syncd_part(user_account_control: int) -> int:
    """NORMAL_ACCOUNT plus the disable bit: what syncd compares (512 or 514)."""
    return NORMAL_ACCOUNT | (user_account_control & ACCOUNTDISABLE)


def merge_ranges(raw: RawAttrs) -> tuple[RawAttrs, dict[str, int]]:
    """`member;range=0-1499` folded into `member`; and the attributes that continue,
    with where the next range starts (`member;range=1500-*` ends with `*`)."""
    if not any(";" in name for name in raw):
        return raw, {}
    merged: RawAttrs = {}
    more: dict[str, int] = {}
    for name, values in raw.items():
        ranged = RANGE.match(name)
        base = ranged["name"] if ranged else name
        merged.setdefault(base, []).extend(values)
        if ranged and ranged["high"] != "*":
            more[base] = int(ranged["high"]) + 1
    return merged, more


def read_rest(fetch: Fetch, dn: str, name: str, start: int) -> list[bytes]:
    """The values of `name` from `start` on, a range per read until the server says `*`."""
    values: list[bytes] = []
    while True:
        found = fetch(dn, [f"{name};range={start}-*"])
        ranged = [(RANGE.match(key), chunk) for key, chunk in found.items()]
        hit = next(((m, chunk) for m, chunk in ranged if m and m["name"].lower() == name.lower()),
                   None)
        if hit is None:  # a truncated list must never look like removed members
            raise TargetUnavailable(
                f"{dn}: the server returned no {name} values from {start} on (asked for "
                f"{name};range={start}-*): its {name} list cannot be read whole")
        match, chunk = hit
        values += chunk
        if match["high"] == "*" or not chunk:
            return values
        start = int(match["high"]) + 1


def _wanted_uac(attributes: list[AttrChange]) -> int | None:
    """The userAccountControl a change wants (None: it leaves it alone)."""
    change = next((item for item in attributes if item.name.lower() == UAC.lower()), None)
    return None if change is None else _uac_of(texts(change.after))


def _current_uac(session: Session, dn: str) -> int:
    return int(session.entry_values(dn, [UAC]).get(UAC.lower(), [b"0"])[0])


def _write_uac(session: Session, dn: str, value: int) -> None:
    session.modify_entry(dn, {UAC: [(ldap3.MODIFY_REPLACE, [str(value)])]})


def _uac_of(values: list[str] | None) -> int:
    """A wanted userAccountControl (none given: an enabled normal account)."""
    if not values:
        return NORMAL_ACCOUNT
    try:
        return int(values[0])
    except ValueError:
        raise ObjectRejected(f"userAccountControl {values[0]!r} is no number") from None


def _name_in(attributes: Mapping[str, object], name: str) -> str:
    """The spelling `attributes` uses for `name` ("" if absent)."""
    return next((key for key in attributes if key.lower() == name.lower()), "")


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = get_attr({k: tuple(v) for k, v in attributes.items()}, name)
    return values[0] if values else None
