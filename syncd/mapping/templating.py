"""Jinja2 in mapping files: sandboxed, strict, compiled once and rendered many times.

The sysadmin writes the templates, but the values they render come from HR sources, and
a mapping file may be copied from a colleague or a forum: the sandbox keeps every template
away from Python internals, files and other templates, and no global can reach a module.
`StrictUndefined` turns a misspelt name into an error instead of an empty attribute.

Each error becomes a `TemplateError` carrying a `Problem` at the YAML line where the
template stands (the line its text starts on plus the template's line - 1), with the
object rendered as its `subject`, so one typo failing for every person groups to one line.
A render is bounded: MAX_LOOPS loop iterations in all, MAX_OUTPUT characters.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import is_dataclass
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any

import jinja2
from anyascii import anyascii
from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import missing

from syncd.errors import Problem
from syncd.objects import escape_dn_value

_MAX_BITS = 4096  # ~1,200 digits: more is no attribute value, only a way to stall
MAX_LOOPS = 100_000  # loop iterations in one render, all loops together (nested ones multiply)
MAX_OUTPUT = 100_000  # characters one render may produce
_LOOP_FILTER = "syncd_loop_budget"  # wrapped around every `{% for %}`'s iterable
_LOADING_TAGS = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


class TemplateError(Exception):
    """A template that does not compile or does not render; `problem` says where and why."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class _Missing(UndefinedError):
    """A name or attribute a template asked for and did not find, with what was asked,
    so the message can name the object in the mapping's words and suggest a spelling."""

    def __init__(self, message: str | None, *, hint: str | None, obj: Any, name: Any):
        super().__init__(message)
        self.hint, self.obj, self.name = hint, obj, name


class _StrictUndefined(StrictUndefined):
    """Raises `_Missing`, which keeps the object and name Jinja only puts into text."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[jinja2.TemplateRuntimeError] = UndefinedError,
    ) -> None:
        super().__init__(hint, obj, name, partial(_Missing, hint=hint, obj=obj, name=name))


class _Environment(ImmutableSandboxedEnvironment):
    """Stops `**` and `*` from stalling a render (loops and `range` are capped apart)."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if _too_big(operator, left, right):
            raise SecurityError(f"the result of {operator!r} would be too big")
        return super().call_binop(context, operator, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Jinja's own message names the Python class; this names the rule."""
        hint = (f"{attribute!r} is not allowed: templates can neither change values nor "
                "reach Python internals")
        return self.undefined(hint, obj=obj, name=attribute)


def _range(*args: int) -> range:
    """Python's range, capped like every loop (Jinja's own cap names its constant)."""
    numbers = range(*args)
    if len(numbers) > MAX_LOOPS:
        raise SecurityError(f"range() is limited to {MAX_LOOPS:,} numbers")
    return numbers


def _too_big(operator: str, left: Any, right: Any) -> bool:
    """Estimate the size of `left operator right` before computing it."""
    if isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length()
        return (bits * right if operator == "**" else bits + abs(right).bit_length()) > _MAX_BITS
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return len(seq) * times > MAX_OUTPUT
    return False


# --- filters ---------------------------------------------------------------------------

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_FILTER_ESCAPES = str.maketrans({"*": r"\2a", "(": r"\28", ")": r"\29", "\\": r"\5c", "\0": r"\00"})
_NAME_WORD = re.compile(r"[^\s-]+")


def _text(value: Any) -> str:
    """None (an absent nickname, an open end date) renders empty, never as 'None'."""
    return "" if value is None else str(value)


def translit(value: Any) -> str:
    """ASCII as Danes spell it (æ→ae, ø→oe, å→aa), then every other script through
    anyascii ('Αλέξανδρος' → 'Alexandros', '李' → 'Li'); emoji are dropped."""
    text = _text(value)
    if text.isascii():
        return text
    return "".join(_ascii(char) for char in text.translate(_DANISH))


@lru_cache(maxsize=4096)
def _ascii(char: str) -> str:
    """One character in ASCII; anyascii spells emoji as ':name:', which is no name part."""
    spelt = anyascii(char)
    return "" if len(spelt) > 2 and spelt.startswith(":") and spelt.endswith(":") else spelt


def slug(value: Any) -> str:
    """'Børn og Unge' → 'boern-og-unge': safe in a cn, a URL or a group name."""
    return _NOT_SLUG.sub("-", translit(value).lower()).strip("-")


def dn_escape(value: Any) -> str:
    """Escape one attribute value for a DN (RFC 4514 section 2.4); UTF-8 stays as it is."""
    return escape_dn_value(_text(value))


def filter_escape(value: Any) -> str:
    """Escape a value for an LDAP search filter (RFC 4515 section 3)."""
    return _text(value).translate(_FILTER_ESCAPES)


def initials(value: Any, lower: bool = False) -> str:
    """'Anne Marie Sørensen' → 'AMS'; a hyphen starts a word too ('Anne-Marie' → 'AM')."""
    letters = "".join(word[0] for word in _NAME_WORD.findall(_text(value)))
    return letters.lower() if lower else letters.upper()


def isodate(value: date | str | None, fmt: str = "%Y-%m-%d") -> str:
    """A date, datetime or ISO string through strftime; an open (None) date renders empty."""
    if value is None or value == "":
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.strftime(fmt)


def first_word(value: Any) -> str:
    words = _text(value).split()
    return words[0] if words else ""


def last_word(value: Any) -> str:
    words = _text(value).split()
    return words[-1] if words else ""


FILTERS = {
    "translit": translit,
    "slug": slug,
    "dn_escape": dn_escape,
    "filter_escape": filter_escape,
    "initials": initials,
    "isodate": isodate,
    "date": isodate,
    "first_word": first_word,
    "last_word": last_word,
}


def make_environment() -> SandboxedEnvironment:
    """The one environment every mapping template is compiled in.

    No loader, so templates cannot read files; only `range` (capped) and
    `dict` are left of Jinja's globals: `lipsum`, `cycler`, `joiner` and `namespace` are
    no use in an attribute value, and a global is one more object to reach through.
    """
    env = _Environment(undefined=_StrictUndefined, autoescape=False, finalize=_text)
    env.globals = {"range": _range, "dict": dict}
    env.filters.update(FILTERS)
    env.filters[_LOOP_FILTER] = _loop_budget
    return env


# --- compiled templates ----------------------------------------------------------------


class _Compiled:
    """A compiled template or expression, with where its source stood in the mapping file."""

    __slots__ = ("_jinja", "file", "line", "path", "source")

    def __init__(self, jinja: jinja2.Template, source: str, file: str, line: int, path: str):
        self._jinja = jinja
        self.source = source
        self.file = file
        self.line = line
        self.path = path

    def _run(self, context: Mapping[str, Any], label: str) -> tuple[Any, str]:
        """Render within the limits; the context is returned for an expression's result."""
        jinja = self._jinja
        token = _LOOPS_LEFT.set([MAX_LOOPS])
        try:
            ctx = jinja.new_context(context)
            return ctx, _bounded_concat(jinja.root_render_func(ctx))
        except Exception as exc:
            raise self._failure(exc, context, label) from exc
        finally:
            _LOOPS_LEFT.reset(token)

    def _failure(self, exc: Exception, context: Mapping[str, Any], label: str) -> TemplateError:
        """The object goes in `subject`, so one typo failing for everyone groups to one line."""
        line = self.line + _template_lineno(exc, self._jinja) - 1
        return TemplateError(Problem(self.file, line, self.path, _describe(exc, context), label))


class Template(_Compiled):
    """A text template (an attribute value, a DN); render it once per object."""

    __slots__ = ("_constant",)

    def __init__(
        self,
        jinja: jinja2.Template,
        source: str,
        file: str,
        line: int,
        path: str,
        constant: str | None = None,
    ):
        super().__init__(jinja, source, file, line, path)
        self._constant = constant

    def render(self, context: Mapping[str, Any], *, label: str) -> str:
        """The text for one object; `label` names the object in any error."""
        if self._constant is not None:
            return self._constant
        return self._run(context, label)[1]


class Expression(_Compiled):
    """An expression (a condition, a list) that yields a Python value, not text."""

    __slots__ = ()

    def evaluate(self, context: Mapping[str, Any], *, label: str) -> Any:
        """The value for one object; `label` names the object in any error."""
        ctx = self._run(context, label)[0]
        try:
            return _defined(ctx.vars["result"])
        except Exception as exc:
            raise self._failure(exc, context, label) from exc


def compile_template(
    env: SandboxedEnvironment, source: str, *, file: str, line: int, path: str
) -> Template:
    """Compile the template in one YAML scalar that starts on `line` of `file`."""
    try:
        ast = env.parse(source)
        _refuse_loading(ast)
        _budget_loops(ast, env)
        jinja = _build(env, ast)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, file, line, path) from exc
    constant = jinja.render() if _is_constant(ast) else None
    return Template(jinja, source, file, line, path, constant)


def compile_expression(
    env: SandboxedEnvironment, source: str, *, file: str, line: int, path: str
) -> Expression:
    """Compile the bare expression (no `{{ }}`) in one YAML scalar on `line` of `file`."""
    parser = Parser(env, source, state="variable")
    try:
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
        expr.set_environment(env)
        body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
        jinja = _build(env, nodes.Template(body, lineno=1))
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, file, line, path) from exc
    return Expression(jinja, source, file, line, path)


def _build(env: SandboxedEnvironment, ast: nodes.Template) -> jinja2.Template:
    """Plain-dict globals, not Jinja's ChainMap: building each render's context costs half."""
    return env.template_class.from_code(env, env.compile(ast), dict(env.globals), None)


def _refuse_loading(ast: nodes.Template) -> None:
    """Without a loader these would fail at render time; say so at compile time instead."""
    for node in ast.find_all(tuple(_LOADING_TAGS)):
        tag = _LOADING_TAGS[type(node)]
        message = f"'{tag}' is not allowed: mapping templates cannot load other templates"
        raise TemplateSyntaxError(message, node.lineno)


def _budget_loops(ast: nodes.Template, env: SandboxedEnvironment) -> None:
    """Every loop draws on one budget per render: two nested `range(99999)` loops would
    otherwise run 10 billion times and stall `validate` and the daemon."""
    for loop in ast.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None,
                                 lineno=loop.iter.lineno)
    ast.set_environment(env)


_LOOPS_LEFT: ContextVar[list[int]] = ContextVar("loops_left")


def _loop_budget(items: Any) -> Iterator[Any]:
    """The items of one loop, each taken from the render's budget."""
    left = _LOOPS_LEFT.get()
    for item in items:
        left[0] -= 1
        if left[0] < 0:
            raise SecurityError(f"the template loops more than {MAX_LOOPS:,} times")
        yield item


def _bounded_concat(chunks: Iterator[str]) -> str:
    out, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the template renders more than {MAX_OUTPUT:,} characters")
        out.append(chunk)
    return "".join(out)


def _is_constant(ast: nodes.Template) -> bool:
    """Plain text with no tags renders the same for every object: render it once."""
    return all(
        isinstance(node, nodes.Output)
        and all(isinstance(c, nodes.TemplateData) for c in node.nodes)
        for node in ast.body
    )


def _syntax_error(exc: TemplateSyntaxError, file: str, line: int, path: str) -> TemplateError:
    message = f"template syntax: {exc.message}"
    return TemplateError(Problem(file, line + exc.lineno - 1, path, message))


def _defined(value: Any) -> Any:
    """An expression's value is not printed, so an undefined one would pass unnoticed."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    elif isinstance(value, dict):
        for item in value.values():
            _defined(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _defined(item)
    return value


def _template_lineno(exc: Exception, jinja: jinja2.Template) -> int:
    """The template line of the innermost frame of `jinja` in the traceback; 1 if none."""
    lineno = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__jinja_template__") is jinja:
            lineno = jinja.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return lineno


def _describe(exc: Exception, context: Mapping[str, Any]) -> str:
    if isinstance(exc, _Missing):
        return exc.hint or _missing(exc.obj, exc.name, context)
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message)
    return str(exc) or "the template failed"


def _missing(obj: Any, name: Any, context: Mapping[str, Any]) -> str:
    """What was not found, in the mapping's words, with the nearest spelling."""
    if obj is missing:
        return f"undefined variable {name!r}{_suggest(str(name), list(context), listed=True)}"
    if obj is None:
        return f"an empty value has no attribute {name!r}"
    owner = _owner(obj, context)
    if isinstance(name, int):
        return f"{owner} has no element {name}"
    if isinstance(obj, Mapping):
        keys = [str(key) for key in obj]
        listed = f" (keys: {', '.join(sorted(keys))})" if keys else " (it is empty)"
        close = _suggest(str(name), keys, listed=False)
        return f"{owner} has no key {name!r}{close or listed}"
    fields = [n for n in dir(obj) if not n.startswith("_")]
    close = _suggest(str(name), fields, listed=False) or _suggest(str(name), list(context),
                                                                   listed=False)
    return f"{owner} has no attribute {name!r}{close}"


def _suggest(name: str, known: list[str], *, listed: bool) -> str:
    """'; did you mean 'x'?' for a close spelling; else, if `listed`, every known name."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(sorted(known))})" if listed else ""


def _owner(obj: Any, context: Mapping[str, Any]) -> str:
    """The name the template reached `obj` by, else what kind of value it is."""
    if not isinstance(obj, str | int | float | bool):
        for key, value in context.items():
            if value is obj:
                return key
    if is_dataclass(obj):
        kind = type(obj).__name__.lower()
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    kinds = ((str, "a text"), (bool, "a yes/no value"), (int | float, "a number"),
             (Mapping, "a mapping"), (list | tuple, "a list"))
    return next((word for kind, word in kinds if isinstance(obj, kind)), "the value")
