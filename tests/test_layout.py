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


def _modules(*folders: str) -> list[str]:
    return [f"syncd.{folder}.{path.stem}".removesuffix(".__init__")
            for folder in folders for path in sorted((PACKAGE / folder).glob("*.py"))]


def _imports_without(libraries: tuple[str, ...], modules: list[str]) -> None:
    code = (f"import sys\nfor name in {libraries!r}: sys.modules[name] = None\n"
            + "".join(f"import {module}\n" for module in modules))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr


def test_mapping_and_plan_import_without_a_database_or_ldap_library():
    """Every module of the planner and the mapping runs (and is unit-tested) with no
    server library: PyYAML, Jinja2 and pydantic are all they need."""
    _imports_without(("ldap3", "sqlalchemy"), _modules("mapping", "plan"))


def test_the_core_imports_without_a_database_ldap_or_template_library():
    """Org records, the as-of org view, objects and the plan are plain data."""
    _imports_without(("ldap3", "sqlalchemy", "jinja2"),
                     ["syncd.org", "syncd.orgview", "syncd.objects", "syncd.markers",
                      *_modules("plan")])


def test_loading_a_config_needs_no_ldap_or_template_library():
    """A target type's code is imported when a target is opened, not when the config
    that names it is read (SQLAlchemy it needs: it checks the store's URL)."""
    _imports_without(("ldap3", "jinja2"), ["syncd.config.loading"])
