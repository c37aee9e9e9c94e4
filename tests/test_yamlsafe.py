"""The alias-bounded YAML composer (config, mappings) and the alias refusal (snapshots)."""

from __future__ import annotations

import time

import pytest
import yaml

from syncd.yamlsafe import (
    MAX_ALIAS_NODES,
    MAX_ALIASES,
    YamlRefused,
    compose_bounded,
    refuse_aliases,
)

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]


def laughs(levels: int, fanout: int = 9) -> str:
    """A "billion laughs": each level is `fanout` aliases of the one before (line 2 on)."""
    lines = ["vars:", '  a: &a "lol"']
    for level in range(1, levels + 1):
        name, below = "abcdefghijk"[level], "abcdefghijk"[level - 1]
        lines.append(f"  {name}: &{name} [{','.join([f'*{below}'] * fanout)}]")
    return "\n".join(lines) + "\n"


def refusal(text: str, **limits: int) -> YamlRefused:
    with pytest.raises(YamlRefused) as caught:
        compose_bounded(text, **limits)
    return caught.value


def test_a_billion_laughs_is_refused_at_once_naming_the_line():
    text = laughs(9)  # 9**9 = 387 million "lol"s, in under 420 bytes
    assert len(text.encode()) <= 420
    started = time.monotonic()
    refused = refusal(text)
    assert time.monotonic() - started < 0.5
    assert refused.line == 7  # f: [*e, ...], 6 of 9 aliases in, the first past the cap
    assert refused.message == (f"alias *e: the aliases so far stand for 15679 values, "
                               f"more than the {MAX_ALIAS_NODES} allowed in one file")


def test_more_aliases_than_the_cap_are_refused_at_the_first_one_over():
    items = "\n".join(f"  - *one  # alias {n}" for n in range(1, MAX_ALIASES + 2))
    refused = refusal(f"one: &one 1\nmany:\n{items}\n")
    assert refused.line == MAX_ALIASES + 3  # two lines before the first alias
    assert refused.message == f"more than {MAX_ALIASES} aliases in one file"


@pytest.mark.parametrize("text, line", [
    ("a: &x [1, *x]\n", 1),
    ("a: &x\n  b: 1\n  c: *x\n", 3),
])
def test_an_alias_inside_its_own_block_is_refused(text, line):
    refused = refusal(text)
    assert (refused.line, refused.message) == (
        line, "alias *x is inside the block &x it names: it would repeat forever")


def test_nesting_too_deep_to_walk_is_refused_not_a_crash():
    refused = refusal("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert (refused.line, refused.message) == (1, "nested too deeply to read")


def test_a_few_aliases_compose_as_yaml_does():
    text = "base: &base {host: ldap, port: 389}\none: *base\ntwo: {<<: *base, port: 636}\n"
    node = compose_bounded(text)
    assert yaml.SafeLoader(text).construct_document(node) == yaml.safe_load(text)
    assert compose_bounded("") is None


def test_limits_can_be_set_by_the_caller():
    text = laughs(2, fanout=3)  # 3 aliases of 1 value, then 3 of 4 values: 15 in all
    assert compose_bounded(text, max_alias_nodes=15) is not None
    assert "stand for 15 values" in refusal(text, max_alias_nodes=14).message
    assert compose_bounded(text, max_aliases=6) is not None
    assert refusal(text, max_aliases=5).line == 4


def test_syntax_errors_are_yamls_own():
    with pytest.raises(yaml.MarkedYAMLError, match="undefined alias"):
        compose_bounded("a: *nowhere\n")


@pytest.mark.parametrize("loader", LOADERS)
def test_snapshots_refuse_any_alias_naming_its_line(loader):
    with pytest.raises(YamlRefused) as caught:
        refuse_aliases("units:\n- &u {id: a, name: A}\n- *u\n", loader)
    assert caught.value.line == 3
    assert caught.value.message.startswith("alias *u: aliases are not allowed in this file")


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text", [
    "persons: [{id: p1, given_name: '*', surname: 'a * b'}]\n",  # a star, no alias
    "units: [{id: a, name: A}]\n",
])
def test_snapshots_without_aliases_pass(loader, text):
    refuse_aliases(text, loader)
