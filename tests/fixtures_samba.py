"""pytest fixtures for a real Samba AD domain controller (registered in conftest.py).

The DC listens on the fixed ports 389, 636 and 88, so one runs for the whole session.
A machine that cannot run it (not root, Samba not installed) makes these tests fail, not
skip: a skipped AD test must never pass for a green run. A developer who cannot run them
says so explicitly with SYNCD_TESTS_WITHOUT_SAMBA=1, and each test is then reported as
skipped with that reason (never set it in CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from syncd.testing.samba import SambaDC, SambaUnavailable, find_samba_programs

OPT_OUT = "SYNCD_TESTS_WITHOUT_SAMBA"


def require_samba() -> None:
    """Skip only on the explicit opt-out; otherwise fail, saying how to install Samba."""
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{OPT_OUT}=1: the Active Directory tests were NOT run")
    try:
        find_samba_programs()
    except SambaUnavailable as error:
        pytest.fail(f"Samba AD DC tests cannot run: {error} (or set {OPT_OUT}=1 to skip "
                    "them on a developer machine)", pytrace=False)


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """The session's one Samba AD DC (TEST.LOCAL), started once and shared.

    Tests using it directly clean up what they create or use names of their own; its
    directory (with samba.log) stays under pytest's temp dir for post-mortems."""
    require_samba()
    dc = SambaDC(tmp_path_factory.mktemp("samba"))
    try:
        yield dc.start()
    finally:
        dc.close()


@pytest.fixture(scope="module")
def samba_dc_fresh(samba_dc: SambaDC) -> SambaDC:
    """The session's DC reset to the freshly provisioned domain for this module (~0.5 s)."""
    samba_dc.reset()
    return samba_dc
