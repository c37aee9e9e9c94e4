"""Jinja2 in mapping files: sandboxed, strict, compiled once and rendered many times.

The sysadmin writes the templates, but the values they render come from HR sources, and
a mapping file may be copied from a colleague or a forum: the sandbox keeps every template
away from Python internals, files and other templates, and no global can reach a module.
`StrictUndefined` turns a misspelt name into an error instead of an empty attribute.

Each error becomes a `TemplateError` carrying a `Problem` at the YAML line where the
template stands (the scalar's line plus the template's line - 1), so `syncd validate`
reports it as `FILE:LINE: path: message`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import jinja2
from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import missing

from syncd.errors import Problem

_MAX_BITS = 4096  # ~1,200 digits: more is no attribute value, only a way to stall
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


class _UndefinedVariable(UndefinedError):
    """A name the context lacks (not a missing attribute): the message lists the known ones."""


class _StrictUndefined(StrictUndefined):
    """Tells a missing name apart from a missing attribute, which Jinja reports alike."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[jinja2.TemplateRuntimeError] = UndefinedError,
    ) -> None:
        if obj is missing and hint is None:
            exc = _UndefinedVariable
        super().__init__(hint, obj, name, exc)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_exception is _UndefinedVariable:
            return f"undefined variable {self._undefined_name!r}"
        return super()._undefined_message


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox caps `range`; this also stops `**` and `*` from stalling a render."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if _too_big(operator, left, right):
            raise SecurityError(f"the result of {operator!r} would be too big")
        return super().call_binop(context, operator, left, right)


def _too_big(operator: str, left: Any, right: Any) -> bool:
    """Estimate the size of `left operator right` before computing it."""
    if isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length()
        return (bits * right if operator == "**" else bits + abs(right).bit_length()) > _MAX_BITS
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return len(seq) * times > MAX_RANGE
    return False


# --- filters ---------------------------------------------------------------------------

_TRANSLIT = str.maketrans(
    {
        "æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "ß": "ss",
        "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "œ": "oe", "Œ": "Oe",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
    }
)  # fmt: skip
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_DN_ESCAPES = str.maketrans({**{c: "\\" + c for c in ',+"\\<>;'}, "\0": "\\00"})
_FILTER_ESCAPES = str.maketrans({"*": r"\2a", "(": r"\28", ")": r"\29", "\\": r"\5c", "\0": r"\00"})
_NAME_WORD = re.compile(r"[^\s-]+")


def _text(value: Any) -> str:
    """None (an absent nickname, an open end date) renders empty, never as 'None'."""
    return "" if value is None else str(value)


def translit(value: Any) -> str:
    """ASCII as Danes spell it (æ→ae, ø→oe, å→aa), other accents dropped, the rest removed."""
    text = _text(value)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def slug(value: Any) -> str:
    """'Børn og Unge' → 'boern-og-unge': safe in a cn, a URL or a group name."""
    return _NOT_SLUG.sub("-", translit(value).lower()).strip("-")


def dn_escape(value: Any) -> str:
    """Escape one attribute value for a DN (RFC 4514 section 2.4); UTF-8 stays as it is."""
    raw = _text(value)
    out = raw.translate(_DN_ESCAPES)
    if len(raw) > 1 and raw.endswith(" "):
        out = out[:-1] + "\\ "
    if raw.startswith((" ", "#")):
        out = "\\" + out
    return out


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

    No loader, so templates cannot read files; only `range` (capped by the sandbox) and
    `dict` are left of Jinja's globals: `lipsum`, `cycler`, `joiner` and `namespace` are
    no use in an attribute value, and a global is one more object to reach through.
    """
    env = _Environment(undefined=_StrictUndefined, autoescape=False, finalize=_text)
    env.globals = {"range": env.globals["range"], "dict": dict}
    env.filters.update(FILTERS)
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

    def _failure(self, exc: Exception, context: Mapping[str, Any], label: str) -> TemplateError:
        line = self.line + _template_lineno(exc, self._jinja) - 1
        message = f"{label}: {_describe(exc, context)}"
        return TemplateError(Problem(self.file, line, self.path, message))


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
        jinja = self._jinja
        try:
            return jinja.environment.concat(jinja.root_render_func(jinja.new_context(context)))
        except Exception as exc:
            raise self._failure(exc, context, label) from exc


class Expression(_Compiled):
    """An expression (a condition, a list) that yields a Python value, not text."""

    __slots__ = ()

    def evaluate(self, context: Mapping[str, Any], *, label: str) -> Any:
        """The value for one object; `label` names the object in any error."""
        jinja = self._jinja
        try:
            ctx = jinja.new_context(context)
            for _ in jinja.root_render_func(ctx):
                pass
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
    if isinstance(exc, _UndefinedVariable):
        return f"{exc.message} (known: {', '.join(sorted(context))})"
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message)
    return f"{type(exc).__name__}: {exc}"
