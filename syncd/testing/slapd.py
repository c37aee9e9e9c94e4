"""A throw-away OpenLDAP server (Debian's slapd) for tests and benchmarks.

syncd is tested against a real slapd, not a mock, so that schema checks, the memberof
and refint overlays, paging and error codes behave as they do in production. Each
`Slapd` owns one directory holding its cn=config, its mdb database and its log, listens
on a free port on 127.0.0.1 (plus an ldapi socket) and is gone when stopped.

    with Slapd() as server:
        server.load_ldif("dn: ou=people,dc=example,dc=org\\n...")
        ldap3.Connection(server.url, server.admin_dn, server.admin_password, auto_bind=True)

Only the standard library and ldap3 are used, so this module can never depend on the
code it tests.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self
from urllib.parse import quote

import ldap3
from ldap3.core.exceptions import LDAPException

from syncd.testing.server import ServerProcess, free_port

SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
EQ_INDEXES = ("objectClass", "uid", "employeeNumber", "mail", "cn", "member")
REFINT_ATTRIBUTES = ("member", "manager")
DB_MAX_SIZE = 4 * 1024**3  # back-mdb's 10 MiB default is too small for 100k entries

# Debian installs slapd/slapadd in /usr/sbin, which is not on an ordinary user's PATH.
_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
# sun_path holds 108 bytes; pytest's tmp_path can be longer than that.
_MAX_SOCKET_PATH = 100


def find_program(name: str) -> str:
    """Return the path of an OpenLDAP program, or say how to install it (tests never skip)."""
    search_path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN_DIRS])
    found = shutil.which(name, path=search_path)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run scripts/install-test-deps")
    return found



def _ldif_line(attribute: str, value: str) -> str:
    """One LDIF attribute line, base64-encoded when the value is not safe as plain text."""
    safe = value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<"))
    if safe and not value.endswith(" "):
        return f"{attribute}: {value}"
    return f"{attribute}:: {base64.b64encode(value.encode()).decode()}"


def _ldif(*entries: list[tuple[str, str]]) -> str:
    return "\n".join("\n".join(_ldif_line(a, v) for a, v in entry) + "\n" for entry in entries)


class Slapd(ServerProcess):
    """One slapd process with its own config, database and port.

    The directory is created (under the system temp dir) when none is given and then
    removed by `close()`/the context manager; a given directory is kept, with its
    `slapd.log`, so a failed test can be inspected. An already configured directory is
    reused as it is, which is what lets `restart()` keep the data.

    Binds: `admin_dn`/`admin_password` for the data; `cn=admin,cn=config` with the same
    password, or SASL EXTERNAL over `ldapi_url` as the current user, for cn=config.
    Anonymous users may read everything but userPassword, as on a typical server.
    """

    log_name = "slapd.log"  # errors only: slapd runs with `-d none`
    poll_interval = 0.02

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        suffix: str = "dc=example,dc=org",
        admin_password: str = "secret",
        port: int | None = None,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if not suffix.lower().startswith("dc="):
            raise ValueError(f"suffix must start with dc=..., got {suffix!r}")
        super().__init__(directory, prefix="slapd-", start_timeout=start_timeout,
                         stop_timeout=stop_timeout)
        self.base_dn = suffix
        self.admin_dn = f"cn=admin,{suffix}"
        self.admin_password = admin_password
        self._port_fixed = port is not None
        self._port = port if port is not None else free_port()
        self._has_started = False  # after a first start the port is kept, never re-chosen
        self._socket_dir: Path | None = None

    # -- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port on 127.0.0.1; chosen once and kept across restarts."""
        return self._port

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self._port}"

    @property
    def socket_path(self) -> Path:
        """The ldapi socket: in the directory, or in a short temp dir if that path is too long."""
        path = self.directory / "ldapi"
        if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
            return path
        if self._socket_dir is None:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="slapd-", dir="/tmp"))
        return self._socket_dir / "ldapi"

    @property
    def ldapi_url(self) -> str:
        return "ldapi://" + quote(str(self.socket_path), safe="")

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Configure the directory if it is new, start slapd and wait until it answers."""
        if self.running:
            return self
        slapd = find_program("slapd")
        if not (self.directory / ".configured").exists():
            self._configure()
        for attempt in range(3):
            log_offset = self._log_size()
            self._spawn(slapd)
            try:
                self._wait_until_ready(log_offset)
            except _PortInUse:
                # Someone took the free port between free_port() and slapd's bind().
                if self._port_fixed or self._has_started or attempt == 2:
                    raise RuntimeError(self._failure("could not bind", log_offset)) from None
                self._port = free_port()
                continue
            self._has_started = True
            return self
        raise AssertionError("unreachable")

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop, and remove whatever this object created in temp dirs."""
        super().close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<Slapd {self.url} {self.base_dn} {state} in {self.directory}>"

    # -- seeding ---------------------------------------------------------------------

    def load_ldif(self, text: str) -> None:
        """Add entries over LDAP as the admin with ldapadd (overlays such as memberof apply)."""
        self._run(
            [find_program("ldapadd"), "-x", "-H", self.url, "-D", self.admin_dn,
             "-w", self.admin_password],
            stdin=text,
        )  # fmt: skip

    def modify_config(self, text: str) -> None:
        """Change cn=config at run time (ldapmodify LDIF), as the current user over ldapi."""
        self._run([find_program("ldapmodify"), "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_url],
                  stdin=text)

    def enable_ppolicy(self) -> str:
        """Load the ppolicy overlay with a default policy entry; returns the policy's DN.
        Its `pwdAccountLockedTime` is OpenLDAP's own way to lock an account."""
        policy = f"cn=default,ou=policies,{self.base_dn}"
        self.modify_config(
            "dn: cn=module{0},cn=config\nchangetype: modify\nadd: olcModuleLoad\n"
            "olcModuleLoad: ppolicy\n\n"
            "dn: olcOverlay={2}ppolicy,olcDatabase={1}mdb,cn=config\nchangetype: add\n"
            "objectClass: olcOverlayConfig\nobjectClass: olcPPolicyConfig\n"
            f"olcOverlay: {{2}}ppolicy\nolcPPolicyDefault: {policy}\n")
        self.load_ldif(f"dn: ou=policies,{self.base_dn}\nobjectClass: organizationalUnit\n"
                       f"ou: policies\n\ndn: {policy}\nobjectClass: organizationalRole\n"
                       "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n"
                       "pwdLockout: TRUE\n")
        return policy

    def enable_syncprov(self) -> None:
        """Load the syncprov overlay (what replication runs on): from then on every write
        moves the suffix entry's contextCSN, the change marker a cycle reads."""
        self.modify_config(
            "dn: cn=module{0},cn=config\nchangetype: modify\nadd: olcModuleLoad\n"
            "olcModuleLoad: syncprov\n\n"
            "dn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config\nchangetype: add\n"
            "objectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\n"
            "olcOverlay: syncprov\n")

    def load_ldif_offline(self, text: str) -> None:
        """Bulk-add entries with `slapadd -q` while stopped: ~7x faster than ldapadd.

        Overlays do not run offline, so memberOf is not computed for groups added here.
        """
        if self.running:
            raise RuntimeError("load_ldif_offline needs the server stopped")
        if not (self.directory / ".configured").exists():
            self._configure()
        self._slapadd("1", text, "-q")

    # -- internals -------------------------------------------------------------------

    def _configure(self) -> None:
        config_dir = self.directory / "slapd.d"
        data_dir = self.directory / "data"
        for path in (config_dir, data_dir):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(mode=0o700)
        self._slapadd("0", self._config_ldif())
        dc = self.base_dn.split(",", 1)[0].split("=", 1)[1]
        base = [
            ("dn", self.base_dn),
            ("objectClass", "dcObject"),
            ("objectClass", "organization"),
            ("dc", dc),
            ("o", dc),
        ]
        self._slapadd("1", _ldif(base), "-q")
        (self.directory / ".configured").touch()

    def _config_ldif(self) -> str:
        directory = str(self.directory)
        # The current user may manage cn=config over ldapi (SASL EXTERNAL), e.g. to
        # change an overlay from a test at run time.
        peer = f"gidNumber={os.getgid()}+uidNumber={os.getuid()},cn=peercred,cn=external,cn=auth"
        entries: list[list[tuple[str, str]]] = [
            [
                ("dn", "cn=config"),
                ("objectClass", "olcGlobal"),
                ("cn", "config"),
                ("olcPidFile", f"{directory}/slapd.pid"),
                ("olcArgsFile", f"{directory}/slapd.args"),
            ],
            [
                ("dn", "cn=module{0},cn=config"),
                ("objectClass", "olcModuleList"),
                ("cn", "module{0}"),
                ("olcModulePath", str(MODULE_DIR)),
                ("olcModuleLoad", "back_mdb"),
                ("olcModuleLoad", "memberof"),
                ("olcModuleLoad", "refint"),
            ],
            [("dn", "cn=schema,cn=config"), ("objectClass", "olcSchemaConfig"), ("cn", "schema")],
            [
                ("dn", "olcDatabase={0}config,cn=config"),
                ("objectClass", "olcDatabaseConfig"),
                ("olcDatabase", "{0}config"),
                ("olcRootDN", "cn=admin,cn=config"),
                ("olcRootPW", self.admin_password),
                ("olcAccess", f"{{0}}to * by dn.exact={peer} manage by * break"),
            ],
            [
                ("dn", "olcDatabase={1}mdb,cn=config"),
                ("objectClass", "olcDatabaseConfig"),
                ("objectClass", "olcMdbConfig"),
                ("olcDatabase", "{1}mdb"),
                ("olcSuffix", self.base_dn),
                ("olcRootDN", self.admin_dn),
                ("olcRootPW", self.admin_password),
                ("olcDbDirectory", f"{directory}/data"),
                ("olcDbMaxSize", str(DB_MAX_SIZE)),
                ("olcDbNoSync", "TRUE"),  # ~8x faster adds; a test server need not survive a crash
                *(("olcDbIndex", f"{attribute} eq") for attribute in EQ_INDEXES),
                # Like a production server: passwords are for binding, not for reading.
                ("olcAccess", "{0}to attrs=userPassword by self write by anonymous auth by * none"),
                ("olcAccess", "{1}to * by * read"),
            ],
            [
                ("dn", "olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config"),
                ("objectClass", "olcOverlayConfig"),
                ("objectClass", "olcMemberOf"),
                ("olcOverlay", "{0}memberof"),
                ("olcMemberOfRefInt", "TRUE"),
            ],
            [
                ("dn", "olcOverlay={1}refint,olcDatabase={1}mdb,cn=config"),
                ("objectClass", "olcOverlayConfig"),
                ("objectClass", "olcRefintConfig"),
                ("olcOverlay", "{1}refint"),
                *(("olcRefintAttribute", attribute) for attribute in REFINT_ATTRIBUTES),
            ],
        ]
        text = _ldif(*entries[:3])
        # The schema entries must come right after cn=schema and before any database.
        for name in SCHEMAS:
            text += "\n" + (SCHEMA_DIR / f"{name}.ldif").read_text()
        return text + "\n" + _ldif(*entries[3:])

    def _slapadd(self, database: str, ldif: str, *options: str) -> None:
        ldif_path = self.directory / f"slapadd-{database}.ldif"
        ldif_path.write_text(ldif)
        try:
            self._run(
                [find_program("slapadd"), *options, "-n", database,
                 "-F", str(self.directory / "slapd.d"), "-l", str(ldif_path)],
            )  # fmt: skip
        finally:
            ldif_path.unlink()

    def _run(self, command: list[str], stdin: str | None = None) -> None:
        # LDAPNOINIT: ignore the machine's ldap.conf and the user's ldaprc.
        result = subprocess.run(
            command,
            input=stdin.encode() if stdin is not None else None,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            env={**os.environ, "LDAPNOINIT": "1"},
            check=False,
        )
        if result.returncode != 0:
            output = (result.stderr or result.stdout).decode(errors="replace").strip()
            name = Path(command[0]).name
            raise RuntimeError(f"{name} failed with exit status {result.returncode}: {output}")

    def _spawn(self, slapd: str) -> None:
        self.socket_path.unlink(missing_ok=True)
        # `-d none` keeps slapd in the foreground (a child we can signal and wait for) and
        # logs only its errors; no -u/-g, so it runs as whoever runs the tests.
        self._spawn_process(
            [slapd, "-d", "none", "-F", str(self.directory / "slapd.d"),
             "-h", f"{self.url}/ {self.ldapi_url}"],
            cwd=self.directory,
        )  # fmt: skip

    def _answers(self) -> bool:
        # A new Server each time: ldap3 marks a refused address unavailable for 5 s.
        server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=1)
        try:
            with ldap3.Connection(server, auto_bind=True, receive_timeout=2) as connection:
                return bool(connection.search("", "(objectClass=*)", ldap3.BASE, attributes=["+"]))
        except LDAPException:
            return False

    def _exit_error(self, status: int, log_offset: int) -> Exception:
        if b"errno=98" in self._log_since(log_offset):
            return _PortInUse()
        return super()._exit_error(status, log_offset)

    def _describe_failure(self, what: str) -> str:
        return f"slapd on {self.url} {what}"


class _PortInUse(Exception):
    """slapd lost the race for the port free_port() found."""
