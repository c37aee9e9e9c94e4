"""Validate YAML against a pydantic model, turning every error into FILE:LINE: path: message.

Shared by the config and the mapping files: pydantic knows what is wrong, the YAML
document knows where; this module joins the two and adds a did-you-mean for unknown keys.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel, ValidationError

from syncd.errors import ConfigError, Problem
from syncd.yamlfile import DataPath, YamlDoc

M = TypeVar("M", bound=BaseModel)


def validate_model(doc: YamlDoc, root: type[M], data: Any = None) -> M:
    """`data` (default: the document's) as a `root`, or ConfigError with every problem."""
    data = doc.data if data is None else data
    try:
        return root.model_validate(data)
    except ValidationError as exc:
        problems = [_problem_from(doc, root, data, error) for error in exc.errors()]
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0)) from None


def _problem_from(doc: YamlDoc, root: type[BaseModel], data: Any, error: Any) -> Problem:
    path = _data_path(data, error["loc"])
    if error["type"] == "extra_forbidden":
        return doc.problem(path, f"unknown key{_did_you_mean(root, data, path)}")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required key is missing"
    elif error["type"] != "value_error" and _shows_input(path, error.get("input")):
        message += f", got {error['input']!r}"
    return doc.problem(path, message)


def _shows_input(path: DataPath, value: Any) -> bool:
    """Echo a bad scalar back, except anything near a secret."""
    secret = any(word in str(part) for part in path for word in ("password", "token"))
    return not secret and isinstance(value, (str, int, float, bool))


def _data_path(data: Any, loc: tuple[Any, ...]) -> DataPath:
    """Pydantic's error location, less the union tags it inserts, as a path into `data`."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _has(node, part):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and part == node.get("type"):
            continue  # a discriminated union's tag
        else:
            path.append(part)  # a missing key: name it, the line is its parent's
            node = None
    return tuple(path)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _did_you_mean(root: type[BaseModel], data: Any, path: DataPath) -> str:
    allowed = _allowed_keys(root, data, path[:-1])
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(sorted(allowed))})" if allowed else ""


def _allowed_keys(root: type[BaseModel], data: Any, path: DataPath) -> list[str]:
    """The field names of the model that sits at `path` in the data."""
    model: Any = root
    node = data
    for part in path:
        indexable = isinstance(node, dict) or (isinstance(node, list) and isinstance(part, int))
        node = node[part] if indexable else None
        model = _child_type(model, part, node)
        if model is None:
            return []
    return list(model.model_fields) if _is_model(model) else []


def _child_type(model: Any, part: str | int, node: Any) -> Any:
    if _is_model(model):
        field = model.model_fields.get(str(part))
        return _pick(field.annotation, node) if field else None
    args = typing.get_args(model)
    if typing.get_origin(model) is list:
        return _pick(args[0], node)
    if typing.get_origin(model) is dict:
        return _pick(args[1], node)
    return None


def _pick(annotation: Any, node: Any) -> Any:
    """Unwrap Optional/Annotated/Union, choosing a union member by the node's `type`."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        for member in members:
            tag = member.model_fields.get("type") if _is_model(member) else None
            if tag and isinstance(node, dict) and node.get("type") in typing.get_args(
                tag.annotation
            ):
                return member
        return members[0] if len(members) == 1 else None
    return annotation


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)
