"""The LDAP target: OpenLDAP today, Active Directory as its flavour next.

`config` is its config model, `directory` the `Target` (ldap3, imported only when a
target is opened, so that loading a config needs no LDAP library).
"""

from __future__ import annotations

from syncd.config.secrets import read_secret
from syncd.targets.base import Target
from syncd.targets.ldap.config import LdapTarget


def open_ldap(config: LdapTarget) -> Target:
    """The directory, with its bind password read (SyncdError when it is missing)."""
    from syncd.targets.ldap.directory import LdapDirectory

    secret = read_secret(config.password_file, config.password,
                         what=f"target {config.name}: password")
    return LdapDirectory(config, secret.get_secret_value())


__all__ = ["LdapTarget", "open_ldap"]
