"""A throw-away Samba Active Directory domain controller for tests and benchmarks.

syncd's AD target is tested against a real DC, not a mock, so that AD's own rules apply:
strong authentication (LDAPS), the domain's password policy on `unicodePwd`,
`userAccountControl`, `objectGUID`, uniqueness of sAMAccountName and userPrincipalName, and
AD's error codes. (Samba 4.17 does not enforce AD's MaxPageSize or MaxValRange: it returns
more than 1,000 entries per page and every `member` value at once.)

Samba's LDAP, LDAPS and Kerberos ports are fixed (389, 636, 88 on loopback), so one DC can
run per machine (a lock file makes other processes wait their turn), and it needs root.
Provisioning a domain takes seconds, so it is done once per process into a template
directory; each start copies the template and runs `samba -i` on the copy, which is also
how `reset()` gives a freshly provisioned domain in about half a second.

    with SambaDC() as dc:
        connection = dc.connection()  # bound as Administrator over verified LDAPS
        connection.search(dc.base_dn, "(sAMAccountName=Administrator)")

LDAPS is verified: each template gets its own CA and a server certificate for
127.0.0.1/localhost, and `ca_file` is what clients must trust. Only the standard library,
the openssl command and ldap3 are used, so this module never depends on the code it tests.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Self

import ldap3
from ldap3.core.exceptions import LDAPException

from syncd.testing.server import LOG_TAIL_LINES, ServerProcess

REALM = "TEST.LOCAL"
DOMAIN = "TEST"
BASE_DN = "DC=test,DC=local"
HOST_NAME = "dc1"  # fixed, so the provisioned domain does not depend on the machine's name
# Meets the default policy (7 characters, three of the four character classes).
ADMIN_PASSWORD = "Syncd-Adm1n-Pass"
HOST = "127.0.0.1"
LDAP_PORT, LDAPS_PORT, KERBEROS_PORT = 389, 636, 88
INSTALL_HINT = "run scripts/install-test-deps as root"

_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_CERT_DAYS = 3650
# Debian packages a DC needs beyond `samba` (only recommended by it), and a file of each.
_DC_PARTS = (
    ("samba-ad-provision", "/usr/share/samba/setup/ad-schema"),
    ("samba-dsdb-modules", "/usr/lib/*/samba/ldb/samldb.so"),
    ("samba-vfs-modules", "/usr/lib/*/samba/vfs/acl_xattr.so"),  # provision sets sysvol ACLs
)


class SambaUnavailable(RuntimeError):
    """This machine cannot run the DC (not root, or Samba not installed): the tests fail."""


def find_samba_programs() -> tuple[str, str]:
    """Paths of `samba` and `samba-tool`, or say what is missing (tests never skip)."""
    if os.geteuid() != 0:
        raise SambaUnavailable(
            "the Samba AD DC needs root (it listens on the fixed ports 389, 636 and 88): "
            "run the tests as root, as CI does"
        )
    search_path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN_DIRS])
    samba, samba_tool = (shutil.which(name, path=search_path) for name in ("samba", "samba-tool"))
    if samba is None or samba_tool is None:
        raise SambaUnavailable(f"Samba is not installed: {INSTALL_HINT}")
    return samba, samba_tool


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        tail = "\n".join(output.splitlines()[-LOG_TAIL_LINES:])
        raise RuntimeError(f"{what} failed with exit status {result.returncode}:\n{tail}")


def _make_certificates(tls_dir: Path) -> None:
    """A CA and a server certificate for 127.0.0.1 and localhost, signed by it.

    Samba's own certificate names only the DC's host name, which a client that checks
    the address it connects to refuses."""
    tls_dir.mkdir(mode=0o700)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SambaUnavailable(f"openssl is not installed: {INSTALL_HINT}")
    ca_key, ca = tls_dir / "ca.key", tls_dir / "ca.pem"
    key, csr, cert = tls_dir / "server.key", tls_dir / "server.csr", tls_dir / "server.pem"
    extensions = tls_dir / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(_CERT_DAYS),
          "-subj", "/CN=syncd test CA", "-keyout", str(ca_key), "-out", str(ca),
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], "openssl (test CA)")
    _run([openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
          "-keyout", str(key), "-out", str(csr)], "openssl (server key)")
    _run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
          "-set_serial", "1", "-days", str(_CERT_DAYS), "-extfile", str(extensions),
          "-out", str(cert)], "openssl (server certificate)")  # fmt: skip
    for leftover in (ca_key, csr, extensions):  # nothing may sign another certificate
        leftover.unlink()


def _provision(directory: Path) -> None:
    _, samba_tool = find_samba_programs()
    empty_config = directory.parent / "provision.conf"  # never the machine's smb.conf
    empty_config.touch()
    try:
        _run([samba_tool, "domain", "provision", f"--configfile={empty_config}",
              f"--targetdir={directory}", f"--realm={REALM}", f"--domain={DOMAIN}",
              f"--host-name={HOST_NAME}", "--server-role=dc", "--dns-backend=NONE",
              "--use-rfc2307", f"--adminpass={ADMIN_PASSWORD}",
              "--option=interfaces=lo", "--option=bind interfaces only=yes"],
             "samba-tool domain provision")  # fmt: skip
    finally:
        empty_config.unlink()


_template: Path | None = None


def provisioned_template() -> Path:
    """The process's provisioned domain (with its TLS files), made on first use.

    Lives in the system temp dir and is removed when the process exits."""
    global _template
    if _template is None or not _template.exists():
        find_samba_programs()
        missing = [package for package, pattern in _DC_PARTS if not glob.glob(pattern)]
        if missing:
            raise SambaUnavailable(f"{', '.join(missing)} not installed: {INSTALL_HINT}")
        base = Path(tempfile.mkdtemp(prefix="syncd-samba-template-"))
        atexit.register(shutil.rmtree, base, True)
        template = base / "dc"
        _provision(template)
        _make_certificates(template / "tls")
        _template = template
    return _template


def _smb_conf(dc_dir: Path) -> str:
    """The DC's configuration: LDAP and Kerberos only, on loopback, every file inside dc_dir."""
    settings = {
        "netbios name": HOST_NAME.upper(),
        "realm": REALM,
        "workgroup": DOMAIN,
        "server role": "active directory domain controller",
        "server services": "ldap, kdc",
        "interfaces": "lo",
        "bind interfaces only": "yes",
        "idmap_ldb:use rfc2307": "yes",
        "lock directory": dc_dir,
        "private dir": dc_dir / "private",
        "state directory": dc_dir / "state",
        "cache directory": dc_dir / "cache",
        "binddns dir": dc_dir / "bind-dns",
        "pid directory": dc_dir / "run",
        "ncalrpc dir": dc_dir / "run" / "ncalrpc",
        "winbindd socket directory": dc_dir / "run" / "winbindd",
        "ntp signd socket directory": dc_dir / "run" / "ntp_signd",
        "log file": dc_dir / "samba-file.log",  # unused: `samba -i` logs to its stdout
        "log level": 1,
        "ldb:nosync": "true",  # ~2.5x faster writes; a test domain need not survive a crash
        "tls enabled": "yes",
        "tls keyfile": dc_dir / "tls" / "server.key",
        "tls certfile": dc_dir / "tls" / "server.pem",
        "tls cafile": dc_dir / "tls" / "ca.pem",
    }
    return "[global]\n" + "".join(f"\t{name} = {value}\n" for name, value in settings.items())


def _port_in_use(port: int) -> bool:
    """Whether anything listens on the port on either loopback address (samba binds both)."""
    for family, address in ((socket.AF_INET, HOST), (socket.AF_INET6, "::1")):
        with socket.socket(family) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((address, port)) == 0:
                return True
    return False


_LOCK_PATH = Path(tempfile.gettempdir()) / "syncd-samba-dc.lock"
_lock_file: IO[str] | None = None


def _take_machine_lock(timeout: float) -> bool:
    """Wait until no other process on this machine runs a DC (the ports are fixed), e.g.
    two test sessions at once; True if this call took the lock, False if already held."""
    global _lock_file
    if _lock_file is not None:
        return False
    lock = _LOCK_PATH.open("a+")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.seek(0)
                holder = lock.read().strip() or "unknown"
                lock.close()
                raise RuntimeError(
                    f"another process (pid {holder}) has run this machine's Samba AD DC for "
                    f"more than {timeout:g} s (lock {_LOCK_PATH}); only one DC can run at once"
                ) from None
            time.sleep(0.2)
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    _lock_file = lock
    return True


def _release_machine_lock() -> None:
    global _lock_file
    if _lock_file is not None:
        _lock_file.close()  # closing the file releases the flock
        _lock_file = None


def _live_group_members(group: int) -> list[int]:
    """Processes of a process group that still run (zombies do not hold ports or files)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _wait_for_group(group: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _live_group_members(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL samba and its prefork children (its own process group), then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _wait_for_group(process.pid, 5.0)


class SambaDC(ServerProcess):
    """One Samba AD DC for the domain TEST.LOCAL (DC=test,DC=local) on 127.0.0.1.

    `directory` holds `dc/` (the copy of the provisioned domain that samba runs on) and
    `samba.log` (samba's output, appended to on each start, kept across `reset()`). A
    directory made here (none given) is removed by `close()`; a given one is kept.

    The first start takes a machine-wide lock, held until `close()`: another process that
    starts a DC meanwhile (a second test session) waits up to `lock_timeout` for it.
    """

    url = f"ldaps://{HOST}:{LDAPS_PORT}"
    plain_url = f"ldap://{HOST}:{LDAP_PORT}"  # refuses simple binds: strong auth required
    realm = REALM
    domain = DOMAIN
    base_dn = BASE_DN
    admin_dn = f"CN=Administrator,CN=Users,{BASE_DN}"
    admin_upn = f"Administrator@{REALM.lower()}"
    admin_password = ADMIN_PASSWORD
    log_name = "samba.log"
    poll_interval = 0.1

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        lock_timeout: float = 600.0,
    ) -> None:
        super().__init__(directory, prefix="syncd-samba-", start_timeout=start_timeout,
                         stop_timeout=stop_timeout)
        self.lock_timeout = lock_timeout
        self._holds_lock = False

    @property
    def dc_dir(self) -> Path:
        return self.directory / "dc"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the DC's LDAPS certificate: what clients must trust."""
        return self.dc_dir / "tls" / "ca.pem"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Copy the provisioned domain if this directory has none yet, start samba, wait
        until an LDAPS bind as Administrator succeeds with the CA verified."""
        if self.running:
            return self
        samba, _ = find_samba_programs()
        took_lock = _take_machine_lock(self.lock_timeout)
        self._holds_lock = took_lock or self._holds_lock
        try:
            self._start(samba)
        except BaseException:
            if took_lock:  # a DC that never ran must not keep other processes waiting
                self._release_lock()
            raise
        return self

    def reset(self) -> None:
        """Back to the freshly provisioned domain: stop, copy the template again, start."""
        self.stop()
        shutil.rmtree(self.dc_dir, ignore_errors=True)
        self.start()

    def close(self) -> None:
        """Stop, remove the directory if this object made it, and let other processes run a DC."""
        super().close()
        self._release_lock()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<SambaDC {self.url} {self.realm} {state} in {self.directory}>"

    # -- clients ---------------------------------------------------------------------

    def tls(self) -> ldap3.Tls:
        """Certificate verification against `ca_file`, as syncd's LDAPS does by default."""
        return ldap3.Tls(ca_certs_file=str(self.ca_file), validate=ssl.CERT_REQUIRED)

    def server(self) -> ldap3.Server:
        return ldap3.Server(self.url, use_ssl=True, tls=self.tls(), get_info=ldap3.NONE,
                            connect_timeout=5)

    def connection(
        self, user: str | None = None, password: str | None = None, **options: Any
    ) -> ldap3.Connection:
        """A connection bound over verified LDAPS, as Administrator unless user is given
        (a UPN, DOMAIN\\name or a DN); ldap3's LDAPBindError if the bind is refused."""
        options = {"auto_bind": True, "receive_timeout": 30, **options}
        return ldap3.Connection(
            self.server(),
            self.admin_upn if user is None else user,
            self.admin_password if password is None else password,
            **options,
        )

    # -- internals -------------------------------------------------------------------

    def _start(self, samba: str) -> None:
        busy = [port for port in (LDAP_PORT, LDAPS_PORT, KERBEROS_PORT) if _port_in_use(port)]
        if busy:
            raise RuntimeError(
                f"{HOST} port(s) {', '.join(map(str, busy))} already in use: Samba AD needs the "
                "fixed ports 389, 636 and 88, so only one DC can run per machine "
                "(a DC left over from an earlier run?)"
            )
        if not self.dc_dir.exists():
            self._copy_template()
        log_offset = self._log_size()
        self._spawn(samba)
        self._wait_until_ready(log_offset)

    def _release_lock(self) -> None:
        if self._holds_lock:
            _release_machine_lock()
            self._holds_lock = False

    def _copy_template(self) -> None:
        shutil.copytree(provisioned_template(), self.dc_dir, symlinks=True)
        for name in ("cache", "run/ncalrpc", "run/winbindd", "run/ntp_signd"):
            (self.dc_dir / name).mkdir(parents=True, exist_ok=True)
        (self.dc_dir / "etc" / "smb.conf").write_text(_smb_conf(self.dc_dir))

    def _spawn(self, samba: str) -> None:
        # -i: foreground, a child we can signal and wait for, logging to its stdout. Its own
        # session, so that its prefork children can be killed with it if it hangs.
        self._spawn_process([samba, "-i", "-s", str(self.dc_dir / "etc" / "smb.conf")],
                            cwd=self.dc_dir, new_session=True)

    def _halt(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """SIGTERM and wait for samba and its prefork children, which close their
        listening sockets after the parent has exited; SIGKILL them all after the timeout."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
        if not _wait_for_group(process.pid, timeout):
            _kill_group(process)

    # Last-resort cleanup too, so a forgotten DC does not hold the fixed ports after the run.
    _kill = staticmethod(_kill_group)

    def _answers(self) -> bool:
        try:
            self.connection(receive_timeout=2).unbind()
        except LDAPException:
            return False
        return True

    def _describe_failure(self, what: str) -> str:
        return f"Samba AD DC on {self.url} {what} (no verified LDAPS bind as {self.admin_upn})"
