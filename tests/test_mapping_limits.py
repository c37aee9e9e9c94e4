"""Hostile mappings and configs fail fast: alias bombs and template size bombs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from syncd.config import load_config
from syncd.errors import ConfigError
from syncd.mapping.rules import load_mapping
from syncd.yamlfile import parse_yaml
from tests.conftest import REPO

LAUGHS = "\n".join(
    [f"    l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"    l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
)  # ~350 bytes standing for 9**9 (387 million) values


def _refused_fast(load, path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load(path)
    assert time.monotonic() - started < 2
    return str(info.value.problems[0])


def test_a_billion_laughs_mapping_is_refused_with_its_line(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    shipped = (REPO / "mappings" / "openldap.yaml").read_text()
    mapping.write_text(f"x-laughs:\n  bomb:\n{LAUGHS}\n{shipped}")
    message = _refused_fast(load_mapping, mapping)
    assert message.startswith(f"{mapping}:7: YAML: alias *l3")
    assert "aliases" in message


def test_a_billion_laughs_in_config_vars_is_refused_with_its_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"vars:\n  bomb:\n{LAUGHS}\n")
    message = _refused_fast(load_config, config)
    assert message.startswith(f"{config}:7: YAML: alias *l3")


def test_a_few_aliases_still_share_settings():
    doc = parse_yaml("vars:\n  a: &domain kolding.example\n  b: *domain\n", "config.yaml")
    assert doc.data == {"vars": {"a": "kolding.example", "b": "kolding.example"}}
    assert doc.line_of(("vars", "b")) == 3
