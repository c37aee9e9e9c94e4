#!/usr/bin/env python3
"""Read speed of the LDAP target against a throw-away slapd (mdb, nosync).

    .venv/bin/python benchmarks/ldap_read.py [--entries 20000] [--page-size 500] [--runs 3]

Seeds inetOrgPersons with nine attributes each (plus 1 % groups of 50 members) offline,
then times `LdapDirectory.read` and, for comparison, ldap3's own paged_search generator
decoding the same entries. Client and server share the machine. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ldap3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncd.config import LdapTarget  # noqa: E402
from syncd.targets.ldap.directory import FILTER, LdapDirectory  # noqa: E402
from syncd.testing.slapd import Slapd  # noqa: E402

ATTRIBUTES = ["uid", "cn", "sn", "givenName", "mail", "employeeNumber", "title", "member"]


def seed(count: int) -> str:
    people, groups = "ou=people,dc=example,dc=org", "ou=groups,dc=example,dc=org"
    parts = [f"dn: {people}\nobjectClass: organizationalUnit\nou: people\n",
             f"dn: {groups}\nobjectClass: organizationalUnit\nou: groups\n"]  # fmt: skip
    for n in range(count):
        parts.append(
            f"dn: uid=user{n},{people}\nobjectClass: inetOrgPerson\nuid: user{n}\n"
            f"cn: User {n}\nsn: Hansen\ngivenName: User\nmail: user{n}@example.org\n"
            f"employeeNumber: {n}\ntitle: Clerk\n"
        )
    for g in range(count // 100):
        members = "".join(f"member: uid=user{(g * 50 + m) % count},{people}\n" for m in range(50))
        parts.append(f"dn: cn=g{g},{groups}\nobjectClass: groupOfNames\ncn: g{g}\n{members}")
    return "\n".join(parts)


def plain_ldap3(server: Slapd, page_size: int) -> int:
    connection = ldap3.Connection(
        ldap3.Server(server.url, get_info=ldap3.NONE), server.admin_dn, server.admin_password,
        auto_bind=True,
    )  # fmt: skip
    count = 0
    for response in connection.extend.standard.paged_search(
        server.base_dn, FILTER, attributes=[*ATTRIBUTES, "objectClass", "entryUUID"],
        paged_size=page_size, generator=True,
    ):  # fmt: skip
        if response["type"] == "searchResEntry":
            {name: tuple(values) for name, values in response["attributes"].items()}
            count += 1
    connection.unbind()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with Slapd() as server:
        server.stop()
        server.load_ldif_offline(seed(args.entries))
        server.start()
        config = LdapTarget(
            name="bench", type="ldap", url=server.url, bind_dn=server.admin_dn,
            password="${env:UNUSED}", base_dn=server.base_dn, mapping=Path("unused.yaml"),
        )  # fmt: skip
        target = LdapDirectory(config, server.admin_password, page_size=args.page_size)
        for label, read in (
            ("LdapDirectory.read", lambda: len(target.read(ATTRIBUTES))),
            ("ldap3 paged_search", lambda: plain_ldap3(server, args.page_size)),
        ):
            best = float("inf")
            for _ in range(args.runs):
                started = time.perf_counter()
                count = read()
                best = min(best, time.perf_counter() - started)
            rate = count / best
            print(f"{label:<20} {count:>7,} entries  {best:6.2f} s  {rate:>9,.0f} entries/s")
        target.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
