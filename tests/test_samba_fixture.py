"""The Samba AD DC that syncd's AD tests run against behaves like Active Directory."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest
from ldap3.core.exceptions import LDAPBindError, LDAPSocketOpenError

from syncd.testing.samba import SambaDC, SambaUnavailable
from tests.fixtures_samba import OPT_OUT, require_samba

PASSWORD = "Første-Kode-42"  # non-ASCII: unicodePwd is UTF-16-LE
USER_DN = "CN=Søren Ærø,CN=Users,DC=test,DC=local"
NORMAL_ACCOUNT = 0x200
ACCOUNTDISABLE = 0x2
DOMAIN_PASSWORD_COMPLEX = 0x1


def unicode_pwd(password: str) -> bytes:
    """AD's password attribute: the password in double quotes, UTF-16-LE encoded."""
    return f'"{password}"'.encode("utf-16-le")


@pytest.fixture
def user(samba_dc_fresh: SambaDC) -> Iterator[str]:
    """An enabled user `soeren@test.local` with PASSWORD, deleted after the test."""
    admin = samba_dc_fresh.connection(raise_exceptions=True)
    admin.add(USER_DN, ["top", "person", "organizationalPerson", "user"],
              {"sAMAccountName": "soeren", "userPrincipalName": "soeren@test.local",
               "givenName": "Søren", "sn": "Ærø", "employeeID": "p1"})  # fmt: skip
    admin.modify(USER_DN, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [unicode_pwd(PASSWORD)])]})
    admin.modify(USER_DN, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [NORMAL_ACCOUNT])]})
    try:
        yield USER_DN
    finally:
        admin.delete(USER_DN)
        admin.unbind()


def test_admin_binds_over_ldaps_verified_by_the_dcs_ca(samba_dc_fresh: SambaDC) -> None:
    assert samba_dc_fresh.url == "ldaps://127.0.0.1:636"
    connection = samba_dc_fresh.connection()
    connection.search("", "(objectClass=*)", ldap3.BASE, attributes=["defaultNamingContext"])
    assert connection.entries[0].defaultNamingContext.value == samba_dc_fresh.base_dn
    connection.unbind()
    by_dn = samba_dc_fresh.connection(samba_dc_fresh.admin_dn)
    assert by_dn.bound
    by_dn.unbind()

    untrusted = ldap3.Tls(validate=ssl.CERT_REQUIRED)  # the system CAs, not the DC's
    server = ldap3.Server(samba_dc_fresh.url, use_ssl=True, tls=untrusted, get_info=ldap3.NONE)
    with pytest.raises(LDAPSocketOpenError, match="CERTIFICATE_VERIFY_FAILED"):
        ldap3.Connection(server, samba_dc_fresh.admin_upn, samba_dc_fresh.admin_password,
                         auto_bind=True)
    # The certificate names 127.0.0.1 and localhost only: the address is checked too.
    other_name = ldap3.Server("ldaps://[::1]:636", use_ssl=True, tls=samba_dc_fresh.tls(),
                              get_info=ldap3.NONE)
    with pytest.raises(LDAPSocketOpenError, match="doesn't match any name"):
        ldap3.Connection(other_name, samba_dc_fresh.admin_upn, samba_dc_fresh.admin_password,
                         auto_bind=True)


def test_a_plain_ldap_simple_bind_is_refused_strong_auth_required(
    samba_dc_fresh: SambaDC,
) -> None:
    plain = ldap3.Server(samba_dc_fresh.plain_url, get_info=ldap3.NONE)
    connection = ldap3.Connection(plain, samba_dc_fresh.admin_upn, samba_dc_fresh.admin_password)
    assert not connection.bind()
    assert connection.result["result"] == 8
    assert connection.result["description"] == "strongerAuthRequired"
    assert "Transport encryption required" in connection.result["message"]
    with pytest.raises(LDAPBindError, match="strongerAuthRequired"):
        ldap3.Connection(plain, samba_dc_fresh.admin_upn, samba_dc_fresh.admin_password,
                         auto_bind=True)


def test_a_user_given_a_unicode_pwd_binds_with_it(samba_dc_fresh: SambaDC, user: str) -> None:
    admin = samba_dc_fresh.connection()
    admin.search(user, "(objectClass=user)", ldap3.BASE,
                 attributes=["objectGUID", "userAccountControl", "pwdLastSet"])  # fmt: skip
    [entry] = admin.response
    guid = entry["raw_attributes"]["objectGUID"][0]
    assert len(guid) == 16 and uuid.UUID(bytes_le=guid).version == 4
    # Without the schema (get_info=NONE) ldap3 returns every value as a string.
    assert entry["attributes"]["userAccountControl"] == [str(NORMAL_ACCOUNT)]
    assert int(entry["attributes"]["pwdLastSet"][0]) > 0  # set: no "must change" at logon

    for name in ("soeren@test.local", "TEST\\soeren", user):
        assert samba_dc_fresh.connection(name, PASSWORD).bound
    wrong = ldap3.Connection(samba_dc_fresh.server(), "soeren@test.local", "Forkert-Kode-42")
    assert not wrong.bind()
    assert wrong.result["description"] == "invalidCredentials"
    assert "data 52e" in wrong.result["message"]  # AD's sub-code: bad password

    admin.modify(user, {"userAccountControl": [
        (ldap3.MODIFY_REPLACE, [NORMAL_ACCOUNT | ACCOUNTDISABLE])]})  # fmt: skip
    disabled = ldap3.Connection(samba_dc_fresh.server(), "soeren@test.local", PASSWORD)
    assert not disabled.bind()
    assert "data 533" in disabled.result["message"]  # AD's sub-code: account disabled
    admin.unbind()


def test_the_domain_password_policy_is_read_and_enforced(
    samba_dc_fresh: SambaDC, user: str
) -> None:
    admin = samba_dc_fresh.connection()
    admin.search(samba_dc_fresh.base_dn, "(objectClass=domain)", ldap3.BASE,
                 attributes=["minPwdLength", "pwdProperties", "pwdHistoryLength"])  # fmt: skip
    policy = admin.entries[0]
    min_length = int(policy.minPwdLength.value)
    assert min_length == 7
    assert int(policy.pwdProperties.value) & DOMAIN_PASSWORD_COMPLEX

    short = unicode_pwd("Ab1-" + "x" * (min_length - 5))
    assert not admin.modify(user, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [short])]})
    assert admin.result["description"] == "constraintViolation"
    assert admin.result["message"].startswith("0000052D")
    assert "too short" in admin.result["message"]
    admin.unbind()


def test_reset_gives_back_the_freshly_provisioned_domain(samba_dc_fresh: SambaDC) -> None:
    ou = f"OU=Midlertidig,{samba_dc_fresh.base_dn}"
    admin = samba_dc_fresh.connection(raise_exceptions=True)
    admin.add(ou, "organizationalUnit")
    pid = samba_dc_fresh.pid
    samba_dc_fresh.reset()  # an open client connection does not hold it up
    assert samba_dc_fresh.pid != pid
    admin = samba_dc_fresh.connection()
    assert not admin.search(ou, "(objectClass=*)", ldap3.BASE)
    assert admin.result["description"] == "noSuchObject"
    admin.unbind()


def test_a_failed_start_names_its_log_and_shows_its_tail(
    samba_dc_fresh: SambaDC, tmp_path: Path
) -> None:
    broken = SambaDC(tmp_path / "broken", start_timeout=10)
    (broken.dc_dir / "etc").mkdir(parents=True)
    (broken.dc_dir / "etc" / "smb.conf").write_text("[global]\n\tserver role = nonsense\n")
    samba_dc_fresh.stop()  # the ports are fixed: one DC at a time
    try:
        with pytest.raises(RuntimeError) as failure:
            broken.start()
    finally:
        samba_dc_fresh.start()
    message = str(failure.value)
    assert "exited with status" in message
    assert str(broken.log_path) in message
    assert "Failed to load config file" in message
    assert not broken.running


def test_a_second_dc_is_refused_while_one_runs(samba_dc: SambaDC, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"port\(s\) 389, 636, 88 already in use"):
        SambaDC(tmp_path / "second").start()
    assert samba_dc.running


def test_not_root_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OPT_OUT, raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(SambaUnavailable, match="needs root"):
        SambaDC(tmp_path / "dc").start()
    with pytest.raises(pytest.fail.Exception, match="needs root"):
        require_samba()


def test_missing_samba_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OPT_OUT, raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("syncd.testing.samba._SBIN_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    expected = "Samba is not installed: run scripts/install-test-deps"
    with pytest.raises(SambaUnavailable, match=expected):
        SambaDC(tmp_path / "dc").start()
    with pytest.raises(pytest.fail.Exception, match=expected):
        require_samba()


def test_only_the_explicit_opt_out_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv(OPT_OUT, "yes")  # anything but "1" is not an opt-out
    with pytest.raises(pytest.fail.Exception):
        require_samba()
    monkeypatch.setenv(OPT_OUT, "1")
    with pytest.raises(pytest.skip.Exception, match="NOT run"):
        require_samba()


def test_another_process_waits_for_the_machines_dc(samba_dc: SambaDC, tmp_path: Path) -> None:
    script = (
        "from syncd.testing.samba import SambaDC\n"
        f"SambaDC({str(tmp_path / 'other')!r}, lock_timeout=0.5).start()\n"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=False, timeout=60)  # fmt: skip
    assert other.returncode != 0
    assert f"another process (pid {os.getpid()}) has run this machine's Samba AD DC" in (
        other.stderr
    )
    assert not (tmp_path / "other" / "dc").exists()  # it never touched the ports or files
    assert samba_dc.running
