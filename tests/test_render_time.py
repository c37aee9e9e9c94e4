"""Templates that take time without growing anything are bounded in time too: per render,
and all the renders of one cycle together."""

from __future__ import annotations

import time

import pytest

from syncd.errors import RenderBudgetExceeded
from syncd.mapping import templating
from syncd.mapping.templating import (
    TemplateError,
    compile_template,
    make_environment,
    render_budget,
)

# A macro that calls itself twice per level: 2**30 calls, no output, no loop.
RECURSIVE = ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
             "{{ m(30) }}")
LOOPING = "{% for i in range(40000) %}{% for j in range(1) %}{% endfor %}{% endfor %}"


def template(source: str):
    return compile_template(make_environment(), source, file="m.yaml", line=3,
                            path="users.attributes.x")


def test_a_render_that_takes_too_long_is_a_template_error(monkeypatch):
    monkeypatch.setattr(templating, "MAX_RENDER_SECONDS", 0.2)
    started = time.monotonic()
    with pytest.raises(TemplateError) as info:
        template(RECURSIVE).render({}, label="person p1")
    assert time.monotonic() - started < 2
    assert "the template ran longer than 0.2s" in info.value.problem.message


def test_a_cycle_over_its_render_budget_is_abandoned(monkeypatch):
    slow = template("{% for i in range(20000) %}{{ '' }}{% endfor %}")
    with pytest.raises(RenderBudgetExceeded, match="cycle is abandoned"), \
            render_budget(0.05):
        for _ in range(10_000):  # many persons, each render well inside its own limit
            slow.render({}, label="person")


def test_renders_inside_their_budget_are_untouched():
    with render_budget(60):
        assert template("{{ 'a' ~ 'b' }}").render({}, label="x") == "ab"
        assert template(LOOPING).render({}, label="x") == ""
