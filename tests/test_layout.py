"""The layout's import rules are import-linter contracts in pyproject.toml, checked by
scripts/test (`lint-imports`); what is left here is the package's public face, and that
the pure stages need no server library at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import syncd

PACKAGE = Path(syncd.__file__).parent


def test_public_names():
    for name in syncd.__all__:
        assert hasattr(syncd, name), name


def test_the_pure_stages_import_without_a_database_or_ldap_library():
    """The planner and the mapping run (and are unit-tested) with no server library."""
    code = ("import sys\n"
            "for name in ('ldap3', 'sqlalchemy'): sys.modules[name] = None\n"
            "import syncd.plan.diff, syncd.plan.guards, syncd.plan.order, syncd.plan.render\n"
            "import syncd.orgview, syncd.markers, syncd.mapping.desired, syncd.mapping.rules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
