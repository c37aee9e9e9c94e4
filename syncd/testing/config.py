"""A syncd config for a throw-away server: what tests, benchmarks and demos start from."""

from __future__ import annotations

from pathlib import Path

from syncd.testing.slapd import Slapd


def write_config(folder: Path, target: str, *, max_deletes: int = 50,
                 max_delete_ratio: float = 1.0) -> Path:
    """config.yaml in `folder` around one target (`target`: its YAML as an item of the
    `targets:` list, indented two spaces): a SQLite store and the snapshot org.json there,
    and the given safety limits. Returns the config's path."""
    config = folder / "config.yaml"
    config.write_text(f"""\
store:
  url: sqlite:///store.db
sources:
  - name: hr
    type: snapshot
    path: org.json
safety:
  max_deletes: {max_deletes}
  max_delete_ratio: {max_delete_ratio}
  source_max_shrink: 1.0
targets:
{target.rstrip()}
""", encoding="utf-8")
    return config


def write_ldap_config(folder: Path, server: Slapd, mapping: Path, *, max_deletes: int = 50,
                      max_delete_ratio: float = 1.0) -> Path:
    """config.yaml in `folder` (see `write_config`) with one LDAP target on `server`, its
    password in a 0600 file. Returns the config's path."""
    secret = folder / "ldap.secret"
    secret.write_text(server.admin_password, encoding="utf-8")
    secret.chmod(0o600)
    target = f"""\
  - name: ldap
    type: ldap
    url: {server.url}
    bind_dn: {server.admin_dn}
    password_file: ldap.secret
    base_dn: {server.base_dn}
    mapping: {mapping}
    vars:
      mail_domain: kolding.example
"""
    return write_config(folder, target, max_deletes=max_deletes,
                        max_delete_ratio=max_delete_ratio)
