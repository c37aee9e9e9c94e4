"""Template size bombs: each would allocate gigabytes in one call before the output cap.

Every bomb is rendered in one child process whose address space is capped at 1.5 GiB, so
an unguarded one fails with MemoryError (or swaps the test machine) instead of passing;
a guarded one must fail fast, naming what grew, with the child's memory hardly moved.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import textwrap

import pytest

G = "1000000000"
BIG = "('x' * 100000)"


def _doubled(operator: str) -> str:
    """Fourteen `{% set %}`s, each `operator` of the one before with itself: 2**14 × BIG."""
    names = "abcdefghijklmno"
    sets = "".join(f"{{% set {new} = {old} {operator} {old} %}}"
                   for old, new in itertools.pairwise(names))
    return f"{{% set a = {BIG} %}}{sets}{{{{ o|length }}}}"


BOMBS = {
    "ljust": f"{{{{ 'a'.ljust({G}) }}}}",
    "rjust": f"{{{{ 'a'.rjust({G}) }}}}",
    "center method": f"{{{{ 'a'.center({G}) }}}}",
    "zfill": f"{{{{ '1'.zfill({G}) }}}}",
    "expandtabs": f"{{{{ ('\\t' * 100000).expandtabs({G}) }}}}",
    "percent width": f"{{{{ '%{G}s' % 'x' }}}}",
    "percent precision": f"{{{{ '%.{G}f' % 1.5 }}}}",
    "percent star": f"{{{{ '%*s' % ({G}, 'x') }}}}",
    "percent repeated": f"{{{{ ('%s' * 20000) % (({BIG},) * 20000) }}}}",
    "format method": f"{{{{ '{{:>{G}}}'.format('x') }}}}",
    "format nested width": f"{{{{ '{{:>{{}}}}'.format('x', {G}) }}}}",
    "format_map": f"{{{{ '{{a:>{G}}}'.format_map({{'a': 'x'}}) }}}}",
    "format filter": f"{{{{ '%{G}s'|format('x') }}}}",
    "center filter": f"{{{{ 'a'|center({G}) }}}}",
    "indent": f"{{{{ ('x\\n' * 50000)|indent({G}) }}}}",
    "replace method": f"{{{{ {BIG}.replace('x', {BIG}) }}}}",
    "replace filter": f"{{{{ {BIG}|replace('x', {BIG}) }}}}",
    "translate": f"{{{{ {BIG}.translate({{120: {BIG}}}) }}}}",
    "join filter": f"{{{{ range(100000)|map('string')|join({BIG}) }}}}",
    "join method": f"{{{{ {BIG}.join(range(100000)|map('string')) }}}}",
    "join of copies": f"{{{{ ([{BIG}] * 1)|join }}}}{{{{ ([{BIG}] * 50000)|join }}}}",
    "wordwrap": f"{{{{ ('x ' * 50000)|wordwrap(1, wrapstring={BIG}) }}}}",
    "printed list": f"{{% set a = [{BIG}] * 1 %}}{{{{ [a, a, a, a, a] * 10000 }}}}",
    "nested literals": (f"{{% set a = [{BIG}, {BIG}] %}}{{% set b = [a, a, a, a, a, a] %}}"
                        "{% set c = [b, b, b, b, b, b] %}{% set d = [c, c, c, c, c, c] %}"
                        "{% set e = [d, d, d, d, d, d] %}{{ e|string|length }}"),
    "concat doubling": _doubled("~"),
    "plus doubling": _doubled("+"),
    "set block in a loop": (f"{{% set a = {BIG} %}}{{% set x %}}{{% for i in range(50000) %}}"
                            "{{ a }}{% endfor %}{% endset %}{{ x|length }}"),
    "literal text in a loop": ("{% set x %}{% for i in range(50000) %}" + "x" * 30000
                               + "{% endfor %}{% endset %}{{ x|length }}"),
    "batch fill": f"{{{{ [1]|batch({G}, 'x')|list|length }}}}",
    "slice count": f"{{{{ [1]|slice({G})|list|length }}}}",
    "tojson indent": f"{{{{ [[1, 2], [3]]|tojson(indent={G}) }}}}",
}

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))
    from syncd.mapping.templating import TemplateError, compile_template, make_environment
    env = make_environment()
    results = {}
    for name, source in json.loads(sys.stdin.read()).items():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        try:
            compile_template(env, source, file="m.yaml", line=7, path="p").render(
                {}, label="person p1")
            outcome = "rendered"
        except TemplateError as exc:
            outcome = str(exc.problem)
        except MemoryError:
            outcome = "MemoryError"
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        results[name] = [outcome, time.monotonic() - started, grew]
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list]:
    child = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(BOMBS),
                           capture_output=True, text=True, timeout=300, check=True)
    return json.loads(child.stdout)


@pytest.mark.parametrize("name", BOMBS)
def test_a_size_bomb_fails_fast_naming_the_limit(outcomes, name):
    message, seconds, grew_kib = outcomes[name]
    assert message.startswith("m.yaml:7: p: ")
    assert re.search(r"more than (the )?[\d,]+ (characters|times)|not allowed|limited to", message)
    assert seconds < 0.5
    assert grew_kib < 50_000


def test_what_fits_still_renders():
    from syncd.mapping.templating import compile_template, make_environment

    env = make_environment()
    source = ("{{ 'a'.ljust(5, '.') }}|{{ '%5s' % 'b' }}|{{ '{:>4}'.format('c') }}|"
              "{{ 'd'|center(3) }}|{{ '7'.zfill(3) }}|{{ ['x', 'y']|join(', ') }}|"
              "{{ 'a\\nb'|indent(2) }}|{{ 'aa'|replace('a', 'bb') }}|{{ '%s-%s'|format(1, 2) }}"
              "|{{ 'x' ~ 1 ~ none }}|{{ [1, 2] + [3] }}|{{ 'ab' + 'c' }}")
    rendered = compile_template(env, source, file="m", line=1, path="p").render({}, label="x")
    assert rendered == "a....|    b|   c| d |007|x, y|a\n  b|bbbb|1-2|x1None|[1, 2, 3]|abc"
