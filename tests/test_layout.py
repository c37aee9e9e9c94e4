"""The layout's import rules are import-linter contracts in pyproject.toml, checked by
scripts/test (`lint-imports`); what is left here is the package's public face."""

from __future__ import annotations

import syncd


def test_public_names():
    for name in syncd.__all__:
        assert hasattr(syncd, name), name
