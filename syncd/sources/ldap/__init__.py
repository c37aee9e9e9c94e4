"""An existing LDAP directory as the source of persons (and units), one search per kind."""

from __future__ import annotations

from syncd.org import Snapshot
from syncd.sources.ldap.config import LdapKind, LdapSource


def read_ldap_source(config: LdapSource) -> Snapshot:
    """Read the directory; the reader (and ldap3) loads only when one is read, so that a
    command that reads no source starts without it."""
    from syncd.sources.ldap.reader import read_ldap_source as read

    return read(config)


__all__ = ["LdapKind", "LdapSource", "read_ldap_source"]
