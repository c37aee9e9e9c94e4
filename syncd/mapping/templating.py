"""Jinja2 in mapping files: sandboxed, strict, compiled once and rendered many times.

The sysadmin writes the templates, but the values they render come from HR sources, and
a mapping file may be copied from a colleague or a forum: the sandbox keeps every template
away from Python internals, files and other templates, and no global can reach a module.
`StrictUndefined` turns a misspelt name into an error instead of an empty attribute.

Each error becomes a `TemplateError` carrying a `Problem` at the YAML line where the
template stands (the line its text starts on plus the template's line - 1), with the
object rendered as its `subject`, so one typo failing for every person groups to one line.
A render is bounded: MAX_LOOPS loop iterations in all, MAX_OUTPUT characters, every
method, filter and operator that can grow a text is sized before it runs (`bounds`), and
MAX_RENDER_SECONDS of time (checked at each loop pass and call, so a recursive macro that
outputs nothing stops too). `render_budget` bounds all the renders of one cycle together:
past it the cycle is abandoned with RenderBudgetExceeded, not a slow crawl per person.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, is_dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from anyascii import anyascii
from jinja2 import StrictUndefined, Undefined, meta, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import missing
from jinja2.visitor import NodeTransformer

from syncd.errors import Problem, RenderBudgetExceeded, TemplateError
from syncd.mapping.bounds import (
    MAX_EMITTED,
    MAX_OUTPUT,
    bounded_filters,
    bounded_str_method,
    check,
    concat,
    estimate_binop,
    text_of,
)
from syncd.objects import escape_dn_value

_MAX_BITS = 4096  # ~1,200 digits: more is no attribute value, only a way to stall
MAX_LOOPS = 100_000  # loop iterations in one render, all loops together (nested ones multiply)
MAX_RENDER_SECONDS = 2.0  # one template, one object
MAX_CYCLE_RENDER_SECONDS = 900.0  # every template of one target's cycle together
_LOOP_FILTER = "syncd_loop_budget"  # wrapped around every `{% for %}`'s iterable
_CONCAT_FILTER = "syncd_concat"  # stands in for every `~`, which Jinja joins unchecked
_LOADING_TAGS = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


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
        # Jinja2 only calls `exc(message)`; its stub wants an exception class
        super().__init__(hint, obj, name, partial(_Missing, hint=hint, obj=obj, name=name))  # type: ignore[arg-type]


class _Environment(ImmutableSandboxedEnvironment):
    """Sizes `**`, `*`, `+`, `%` and the str methods that grow a text before they run
    (loops and `range` are capped apart)."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if _too_many_bits(operator, left, right):
            raise SecurityError(f"the result of {operator!r} would be too big")
        check(estimate_binop(operator, left, right), f"{operator!r}")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        """Called on every attribute a template reaches: `str.format`, `ljust`, `join`..."""
        return bounded_str_method(value, self)

    def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call (a macro calling itself included) draws on the render's time."""
        _check_time()
        return super().call(context, obj, *args, **kwargs)

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


def _too_many_bits(operator: str, left: Any, right: Any) -> bool:
    """Estimate the size of an integer `left ** right` or `left * right` before computing it."""
    if operator in ("**", "*") and isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length()
        return (bits * right if operator == "**" else bits + abs(right).bit_length()) > _MAX_BITS
    return False


# --- filters ---------------------------------------------------------------------------

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_FILTER_ESCAPES = str.maketrans({"*": r"\2a", "(": r"\28", ")": r"\29", "\\": r"\5c", "\0": r"\00"})
_NAME_WORD = re.compile(r"[^\s-]+")


def translit(value: Any) -> str:
    """ASCII as Danes spell it (æ→ae, ø→oe, å→aa), then every other script through
    anyascii ('Αλέξανδρος' → 'Alexandros', '李' → 'Li'); emoji are dropped."""
    text = text_of(value)
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
    return escape_dn_value(text_of(value))


def filter_escape(value: Any) -> str:
    """Escape a value for an LDAP search filter (RFC 4515 section 3)."""
    return text_of(value).translate(_FILTER_ESCAPES)


def initials(value: Any, lower: bool = False) -> str:
    """'Anne Marie Sørensen' → 'AMS'; a hyphen starts a word too ('Anne-Marie' → 'AM')."""
    letters = "".join(word[0] for word in _NAME_WORD.findall(text_of(value)))
    return letters.lower() if lower else letters.upper()


def isodate(value: date | str | None, fmt: str = "%Y-%m-%d") -> str:
    """A date, datetime or ISO string through strftime; an open (None) date renders empty."""
    if value is None or value == "":
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.strftime(fmt)


AD_NEVER = "9223372036854775807"  # accountExpires: the account never expires
_FILETIME_EPOCH = datetime(1601, 1, 1)


def ad_account_expires(value: date | str | None, zone: str = "UTC") -> str:
    """Active Directory's `accountExpires` for an account whose last day is `value`: the
    start of the next day where the people work (`zone`, e.g. "Europe/Copenhagen"), in
    100-nanosecond steps since 1601 UTC; never for None."""
    if value is None or value == "":
        return AD_NEVER
    day = date.fromisoformat(value) if isinstance(value, str) else value
    try:
        where = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ad_account_expires: unknown time zone {zone!r}") from None
    # wall-clock arithmetic: the next day's local midnight, summer time or not
    end = (datetime(day.year, day.month, day.day, tzinfo=where) + timedelta(days=1)
           ).astimezone(UTC)
    return str((end.replace(tzinfo=None) - _FILETIME_EPOCH) // timedelta(microseconds=1) * 10)


def first_word(value: Any) -> str:
    words = text_of(value).split()
    return words[0] if words else ""


def last_word(value: Any) -> str:
    words = text_of(value).split()
    return words[-1] if words else ""


def first(value: Iterable[Any]) -> Any:
    """Jinja's `first`, but None for an empty sequence: under StrictUndefined Jinja's
    own gives an undefined that even `or` refuses, so `(xs | first) or ''` would fail
    for the person who has none."""
    return next(iter(value), None)


FILTERS = {
    "first": first,
    "translit": translit,
    "slug": slug,
    "dn_escape": dn_escape,
    "filter_escape": filter_escape,
    "initials": initials,
    "isodate": isodate,
    "date": isodate,
    "first_word": first_word,
    "ad_account_expires": ad_account_expires,
    "last_word": last_word,
}


def make_environment() -> SandboxedEnvironment:
    """The one environment every mapping template is compiled in.

    No loader, so templates cannot read files; only `range` (capped) and
    `dict` are left of Jinja's globals: `lipsum`, `cycler`, `joiner` and `namespace` are
    no use in an attribute value, and a global is one more object to reach through.
    """
    env = _Environment(undefined=_StrictUndefined, autoescape=False, finalize=_emit)
    env.globals = {"range": _range, "dict": dict}
    env.filters.update(bounded_filters())
    env.filters.update(FILTERS)
    env.filters[_LOOP_FILTER] = _loop_budget
    env.filters[_CONCAT_FILTER] = concat
    return env


# --- compiled templates ----------------------------------------------------------------


@lru_cache(maxsize=1024)
def _names_read(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_parsing_environment().parse(source)))


@lru_cache(maxsize=1)
def _parsing_environment() -> SandboxedEnvironment:
    return make_environment()


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
        token = _BUDGET.set(_Budget(deadline=time.monotonic() + MAX_RENDER_SECONDS))
        try:
            _check_time()
            # Jinja2 only unpacks the vars (`dict(globals, **vars)`): any Mapping serves
            ctx = jinja.new_context(context)  # type: ignore[arg-type]
            return ctx, _bounded_concat(jinja.root_render_func(ctx))
        except RenderBudgetExceeded:
            raise
        except Exception as exc:
            raise self._failure(exc, context, label) from exc
        finally:
            _BUDGET.reset(token)

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

    def reads(self) -> frozenset[str]:
        """The context names the template reads (`manager_dn`, `person`, ...)."""
        return _names_read(self.source)


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
        _budget(ast, env)
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


def _budget(ast: nodes.Template, env: SandboxedEnvironment) -> None:
    """Every loop draws on one budget per render: two nested `range(99999)` loops would
    otherwise run 10 billion times and stall `validate` and the daemon. Every `~` is
    sized before it joins: twenty `{% set b = a ~ a %}` would double a text 20 times."""
    for loop in ast.find_all(nodes.For):
        text = nodes.Const(_literal_text(loop), lineno=loop.iter.lineno)
        loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [text], [], None, None,
                                 lineno=loop.iter.lineno)
    _SizedConcat().visit(ast)
    ast.set_environment(env)


def _literal_text(loop: nodes.For) -> int:
    """Characters of plain text one pass of `loop` emits (inner loops count their own)."""
    inner = {id(node) for child in loop.find_all(nodes.For)
             for node in child.find_all(nodes.TemplateData)}
    return sum(len(node.data) for node in loop.find_all(nodes.TemplateData)
               if id(node) not in inner)


class _SizedConcat(NodeTransformer):
    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(parts, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


@dataclass(slots=True)
class _Budget:
    """What one render may still spend: loop iterations, and characters emitted by
    `{{ }}` anywhere (inside `{% set %}` blocks and macros too, which Jinja joins itself)."""

    loops: int = MAX_LOOPS
    emitted: int = MAX_EMITTED
    deadline: float = 0.0  # time.monotonic() the render must end by

    def emit(self, characters: int) -> None:
        self.emitted -= characters
        if self.emitted < 0:
            raise SecurityError(f"the template emits more than {MAX_EMITTED:,} characters")


_BUDGET: ContextVar[_Budget] = ContextVar("render_budget")
_CYCLE_DEADLINE: ContextVar[float | None] = ContextVar("cycle_render_deadline", default=None)


@contextmanager
def render_budget(seconds: float | None = None) -> Iterator[None]:
    """Every render inside the block must end within `seconds` (MAX_CYCLE_RENDER_SECONDS)
    of its start."""
    limit = MAX_CYCLE_RENDER_SECONDS if seconds is None else seconds
    token = _CYCLE_DEADLINE.set(time.monotonic() + limit)
    try:
        yield
    finally:
        _CYCLE_DEADLINE.reset(token)


def _check_time() -> None:
    now = time.monotonic()
    cycle = _CYCLE_DEADLINE.get()
    if cycle is not None and now > cycle:
        raise RenderBudgetExceeded(
            "rendering the mapping took longer than its budget of "
            f"{MAX_CYCLE_RENDER_SECONDS:g}s for one cycle; the cycle is abandoned (look for "
            "slow templates with `syncd validate`)")
    budget = _BUDGET.get(None)
    if budget is not None and now > budget.deadline:
        raise SecurityError(f"the template ran longer than {MAX_RENDER_SECONDS:g}s")


def _loop_budget(items: Any, text: int) -> Iterator[Any]:
    """The items of one loop, each taken from the render's budget with the `text`
    characters of plain text each pass emits (`{% set %}` blocks join them unchecked)."""
    budget = _BUDGET.get()
    for item in items:
        budget.loops -= 1
        if budget.loops < 0:
            raise SecurityError(f"the template loops more than {MAX_LOOPS:,} times")
        budget.emit(text)
        _check_time()
        yield item


def _emit(value: Any) -> str:
    """Jinja's `finalize`: each `{{ }}`'s text, taken from the render's budget (constants
    are finalized at compile time, outside any render)."""
    text = text_of(value)
    budget = _BUDGET.get(None)
    if budget is not None:
        budget.emit(len(text))
    return text


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
