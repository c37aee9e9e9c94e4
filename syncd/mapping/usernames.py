"""Usernames made from a person's name: lower-case ASCII, unique, never forbidden.

The mapping's patterns are tried in order (`{{ first }}{{ last[:1] }}`, ...), then the
numbered pattern with n = 2, 3, ... 999; the first candidate that is not empty, not on
the forbidden list and not taken wins. The same name, policy and taken set always give
the same username. Stability is the caller's part: a person who has a username keeps it,
and this module is asked only for persons who have none yet.

Name parts are letters-only words, every script transliterated (`translit`): a
hyphenated name is one word with the hyphen dropped ("Hansen-Sørensen" →
"hansensoerensen"), so a double surname is never split in two. What a pattern adds on
purpose (`.`, `-`, `_`: "{{ first }}.{{ last }}") stays in the username.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from syncd.errors import UsernameError
from syncd.mapping.templating import Template, translit

LAST_NUMBER = 999
_NOT_LETTER = re.compile(r"[^a-z]+")
_NOT_USERNAME = re.compile(r"[^a-z0-9._-]+")
_SEPARATORS = "._-"
_SEPARATOR_RUN = re.compile(r"([._-])[._-]+")  # "anne..hansen" (no middle name) → "anne.hansen"
_NAME_PARTS = ("first", "last", "nickname")


@dataclass(frozen=True)
class UsernamePolicy:
    """How a mapping makes usernames; `forbidden` is compared case-insensitively."""

    patterns: tuple[Template, ...]
    numbered: Template | None = None
    max_length: int = 12
    forbidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "forbidden", frozenset(w.lower() for w in self.forbidden))


def name_parts(given_name: str, surname: str, nickname: str | None) -> dict[str, Any]:
    """The words username patterns are rendered with, all lower-case ASCII letters."""
    given, surnames = _words(given_name), _words(surname)
    return {
        "first": given[0] if given else "",
        "middle": given[1:],
        "given": "".join(given),
        "last": surnames[-1] if surnames else "",
        "surnames": surnames,
        "middle_initials": "".join(word[0] for word in given[1:]),
        "nickname": "".join(_words(nickname)),
    }


def generate_username(
    parts: dict[str, Any],
    policy: UsernamePolicy,
    is_taken: Callable[[str], bool],
    *,
    label: str,
) -> str:
    """The first free candidate for the person `label` names; UsernameError if none is."""
    if not any(parts[name] for name in _NAME_PARTS):
        raise UsernameError(label, "the name has no letters to make a username from")
    for candidate in _candidates(parts, policy, label):
        if candidate and candidate not in policy.forbidden and not is_taken(candidate):
            return candidate
    raise UsernameError(
        label,
        f"no free username: every pattern and number up to {LAST_NUMBER} "
        "is empty, forbidden or taken",
    )


def could_have_made(username: str, parts: dict[str, Any], policy: UsernamePolicy, *,
                    label: str) -> bool:
    """Whether `policy` can give `username` to the person with `parts` (whatever else is
    taken): false for a username made by other patterns, or from a name since changed."""
    number = re.search(r"[0-9]+$", username)
    if number and policy.numbered is not None and int(number[0]) in range(2, LAST_NUMBER + 1):
        return _numbered(parts, policy, int(number[0]), label) == username
    return username in _patterned(parts, policy, label)


def _candidates(parts: dict[str, Any], policy: UsernamePolicy, label: str) -> Iterator[str]:
    yield from _patterned(parts, policy, label)
    if policy.numbered is None:
        return
    for n in range(2, LAST_NUMBER + 1):
        yield _numbered(parts, policy, n, label)


def _patterned(parts: dict[str, Any], policy: UsernamePolicy, label: str) -> Iterator[str]:
    """Each pattern's candidate, rendered only when the one before it is taken: most
    people get their first."""
    for pattern in policy.patterns:
        yield _cut(_clean(pattern.render(parts, label=label)), policy.max_length)


def _numbered(parts: dict[str, Any], policy: UsernamePolicy, n: int, label: str) -> str:
    assert policy.numbered is not None
    rendered = policy.numbered.render({**parts, "n": n}, label=label)
    return _fit_numbered(_clean(rendered), str(n), policy.max_length)


def _fit_numbered(name: str, number: str, max_length: int) -> str:
    """Cut the stem, not the number, or 'annemarie12' and 'annemarie13' would collide."""
    if not name.endswith(number):
        return _cut(name, max_length)
    stem = _cut(name[: -len(number)], max(max_length - len(number), 0))
    return stem + number if stem else ""


def _clean(text: str) -> str:
    """Lower-case ASCII letters and digits, and the separators a pattern put in."""
    return _SEPARATOR_RUN.sub(r"\1", _NOT_USERNAME.sub("", translit(text).lower()))


def _cut(name: str, max_length: int) -> str:
    """At most `max_length` characters, never starting or ending with a separator."""
    return name.strip(_SEPARATORS)[:max_length].rstrip(_SEPARATORS)


def _words(text: str | None) -> list[str]:
    cleaned = (_NOT_LETTER.sub("", translit(word).lower()) for word in (text or "").split())
    return [word for word in cleaned if word]
