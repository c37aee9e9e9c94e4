"""Size checks that run BEFORE a template allocates: a cap on the finished output is too late.

`'x'.ljust(10**9)`, `'%1000000000s' % x`, `x|indent(10**9)` or a join of 100,000 copies
of a long text allocate gigabytes in one C call, long before a render's output is
measured. Each such method, filter and operator is estimated from its arguments first
(`estimate_*`); above MAX_OUTPUT characters it fails with a SecurityError naming itself.
`size_of` estimates the printed length of a value, which may be a list standing for
far more text than it holds (`['x' * 100000] * 100` is 100 references to one text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any

from jinja2 import Environment
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedFormatter

MAX_OUTPUT = 100_000  # characters one render, one value or one call may produce
MAX_EMITTED = 10 * MAX_OUTPUT  # characters all `{{ }}` of one render may emit (sets, macros)
MAX_ITEMS = 100_000  # items `batch` and `slice` may build
MAX_JSON_INDENT = 8

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d*))?")


def check(size: int, what: str) -> None:
    """SecurityError if `what` would make more than MAX_OUTPUT characters."""
    if size > MAX_OUTPUT:
        raise SecurityError(f"{what} would make {size:,} characters, more than the "
                            f"{MAX_OUTPUT:,} characters a template may make")


def size_of(value: Any, limit: int = MAX_OUTPUT) -> int:
    """Characters `value` prints as, counted until past `limit` (so it stays cheap).
    Objects from the org (persons, units) count 1: they are bounded by real data."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int):  # ints are capped at 4,096 bits: ~1,234 digits
        return abs(value).bit_length() // 3 + 2
    if isinstance(value, float) or value is None:
        return 24
    if isinstance(value, Mapping):
        return _sum_sizes((item for pair in value.items() for item in pair), limit)
    if isinstance(value, list | tuple | set | frozenset):
        return _sum_sizes(value, limit)
    return 1


def _sum_sizes(items: Iterable[Any], limit: int) -> int:
    total = 2
    for item in items:
        total += size_of(item, limit - total) + 2
        if total > limit:
            break
    return total


# --- operators -------------------------------------------------------------------------


def estimate_binop(operator: str, left: Any, right: Any) -> int:
    """Characters (or items) `left operator right` makes; 0 where it cannot grow."""
    if operator == "+" and isinstance(left, str | list | tuple):
        return size_of(left) + size_of(right)
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return size_of(seq) * times
    if operator == "%" and isinstance(left, str):
        return estimate_percent(left, right)
    return 0


def estimate_percent(fmt: str, args: Any) -> int:
    """`fmt % args`: its text, every field's width and precision, and the values."""
    size = len(fmt) + size_of(args)
    for match in _PERCENT_SPEC.finditer(fmt):
        width, precision = match.group(1) or "", match.group(2) or ""
        if "*" in (width, precision):
            raise SecurityError("a '*' width in a '%' format is not allowed; write the number")
        size += int(width or 0) + int(precision or 0)
    return size


class BoundedFormatter(SandboxedFormatter):
    """`str.format` in the sandbox with every field's width checked, nested ones too
    (`'{:>{}}'.format(x, 10**9)`): the spec reaching `format_field` is resolved."""

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.made = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        match = _FORMAT_SPEC.match(format_spec)
        width, precision = (match.group(1), match.group(2)) if match else ("", "")
        self.made += max(int(width or 0), size_of(value)) + int(precision or 0)
        check(self.made, "str.format()")
        return super().format_field(value, format_spec)


# --- str methods -----------------------------------------------------------------------


def _widened(s: str, width: int = 0, *_: Any) -> int:
    return max(len(s), width)


def _replaced(s: str, old: str = "", new: str = "", count: int = -1, *_: Any) -> int:
    times = s.count(old) if old else len(s) + 1
    times = times if count is None or count < 0 else min(times, count)
    return len(s) + times * max(len(new) - len(old), 0)


def _joined(sep: str, items: list[Any]) -> int:
    return size_of(items) + len(sep) * max(len(items) - 1, 0)


def _tabs_expanded(s: str, tabsize: int = 8, *_: Any) -> int:
    return len(s) + s.count("\t") * max(tabsize, 0)


def _translated(s: str, table: Any = None, *_: Any) -> int:
    longest = max((size_of(v) for v in table.values()), default=1) if isinstance(
        table, Mapping) else 1
    return len(s) * max(longest, 1)


_STR_METHODS: dict[str, Callable[..., int]] = {
    "ljust": _widened, "rjust": _widened, "center": _widened, "zfill": _widened,
    "replace": _replaced, "expandtabs": _tabs_expanded, "translate": _translated,
}


def bounded_str_method(value: Any, env: Environment) -> Any:
    """A guarded stand-in for a bound str method that can grow its text; else None."""
    if not isinstance(value, BuiltinMethodType | MethodType):  # most values: at once
        return None
    owner = getattr(value, "__self__", None)
    name = getattr(value, "__name__", "")
    if not isinstance(owner, str):
        return None
    if name in ("format", "format_map"):
        return _bounded_format(owner, name, BoundedFormatter(env))
    if name == "join":
        return update_wrapper(lambda items: _join(owner, items), value)
    estimate = _STR_METHODS.get(name)
    if estimate is None:
        return None

    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(estimate(owner, *args, *kwargs.values()), f"str.{name}()")
        return value(*args, **kwargs)

    return update_wrapper(guarded, value)


def _join(sep: str, items: Iterable[Any]) -> str:
    listed = list(items)
    check(_joined(sep, listed), "str.join()")
    return sep.join(listed)


def _bounded_format(owner: str, name: str, formatter: BoundedFormatter) -> Callable[..., str]:
    def formatted(*args: Any, **kwargs: Any) -> str:
        if name == "format_map":
            (kwargs,), args = args, ()
        return type(owner)(formatter.vformat(owner, args, kwargs))
    return formatted


# --- filters ---------------------------------------------------------------------------


def _filter_center(value: Any, width: int = 80) -> int:
    return _widened(text_of(value), width)


def _filter_indent(s: Any, width: int | str = 4, *_: Any) -> int:
    each = len(width) if isinstance(width, str) else int(width)
    return size_of(s) + (text_of(s).count("\n") + 1) * each


def _filter_replace(s: Any, old: str, new: str, count: int | None = None) -> int:
    return _replaced(text_of(s), text_of(old), text_of(new), -1 if count is None else count)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> int:
    return estimate_percent(text_of(value), kwargs or args)


def _filter_wordwrap(s: Any, width: int = 79, _long: bool = True,
                     wrapstring: str | None = None, *_: Any) -> int:
    text = text_of(s)
    breaks = len(text) // max(int(width), 1) + len(text.split()) + text.count("-") + 1
    return len(text) + breaks * len(wrapstring or "\n")


def _filter_tojson(value: Any, indent: int | None = None) -> int:
    if indent is not None and not 0 <= indent <= MAX_JSON_INDENT:
        raise SecurityError(f"tojson indent is limited to {MAX_JSON_INDENT}")
    return size_of(value) * (1 + (indent or 0))


def _filter_count(_value: Any, count: int, *_: Any) -> int:
    """batch and slice build as many items as their count says, whatever the input."""
    if int(count) > MAX_ITEMS:
        raise SecurityError(f"batch and slice are limited to {MAX_ITEMS:,} items")
    return 0


def _value_size(value: Any, *_: Any, **__: Any) -> int:
    return size_of(value)


_FILTER_ESTIMATES: dict[str, Callable[..., int]] = {
    "center": _filter_center, "indent": _filter_indent, "replace": _filter_replace,
    "format": _filter_format, "wordwrap": _filter_wordwrap, "tojson": _filter_tojson,
    "batch": _filter_count, "slice": _filter_count,
    **dict.fromkeys(("string", "upper", "lower", "title", "capitalize", "trim", "striptags",
                     "escape", "e", "forceescape", "safe", "urlencode", "urlize", "truncate",
                     "wordcount", "pprint"), _value_size),
}


def bounded_filters() -> dict[str, Callable[..., Any]]:
    """Jinja's filters that can grow text, each checked before it runs; `join` too."""
    bounded = {name: _guard_filter(name, jinja_filters.FILTERS[name], estimate)
               for name, estimate in _FILTER_ESTIMATES.items()}
    bounded["join"] = update_wrapper(_filter_join, jinja_filters.FILTERS["join"])
    return bounded


def _guard_filter(name: str, original: Callable[..., Any],
                  estimate: Callable[..., int]) -> Callable[..., Any]:
    passed = 1 if hasattr(original, "jinja_pass_arg") else 0  # Jinja's context comes first

    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(estimate(*args[passed:], **kwargs), f"the {name!r} filter")
        return original(*args, **kwargs)
    return update_wrapper(guarded, original)  # keeps Jinja's pass_context marks


def _filter_join(eval_ctx: Any, value: Iterable[Any], d: str = "",
                 attribute: str | int | None = None) -> str:
    listed = list(value)
    check(_joined(str(d), listed), "the 'join' filter")
    return jinja_filters.FILTERS["join"](eval_ctx, listed, d, attribute)


def concat(parts: list[Any]) -> str:
    """The `~` operator, sized first: `{% set b = a ~ a %}` twenty times is 2**20 × a."""
    check(size_of(parts), "'~'")
    return "".join(map(str, parts))


def text_of(value: Any) -> str:
    """None (an absent nickname, an open end date) renders empty, never as 'None'; a
    list standing for more text than a template may make is refused before `str()`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    check(size_of(value), "printing this value")
    return str(value)


__all__ = ["MAX_EMITTED", "MAX_OUTPUT", "BoundedFormatter", "bounded_filters",
           "bounded_str_method", "check", "concat", "estimate_binop", "size_of", "text_of"]
