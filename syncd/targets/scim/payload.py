"""What syncd sends: a resource's JSON for a create or a replace, and the fewest PATCH
operations (RFC 7644 section 3.5.2) that make a found resource what the plan wants.

Pure functions of the plan's changes and the provider's schema, so every payload can be
checked without a server.
"""

from __future__ import annotations

import copy
from typing import Any

from syncd.errors import ObjectRejected
from syncd.plan.model import AttrChange
from syncd.targets.scim.paths import AttrPath, as_text, get_key, json_string, parse_path
from syncd.targets.scim.schema import Attribute, ResourceSchema

Json = dict[str, Any]


def typed(path: AttrPath, attribute: Attribute, text: str) -> Any:
    """A value as JSON of the attribute's type (a mapping renders text)."""
    kind = attribute.type.lower()
    try:
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "integer":
            return int(text)
        if kind == "decimal":
            return float(text)
    except ValueError:
        article = "an" if kind.startswith("i") else "a"  # boolean, integer, decimal
        raise ObjectRejected(f"{path.text}: {text!r} is not {article} {kind}") from None
    return text


def document(schema: ResourceSchema, attrs: dict[str, tuple[str, ...]]) -> Json:
    """A new resource's JSON: its schemas, and each attribute at its path."""
    doc: Json = {"schemas": [schema.core]}
    for name, values in attrs.items():
        put(doc, schema, parse_path(name), values)
    doc["schemas"] += [urn for urn in schema.extensions if urn in doc]
    return doc


def put(doc: Json, schema: ResourceSchema, path: AttrPath, values: tuple[str, ...]) -> None:
    """Set the values at `path` in `doc` (none: take the attribute out)."""
    top = schema.attribute(path)
    assert top is not None, f"{path.text} was checked against the schema"
    leaf = schema.leaf(path)
    container = path.container(doc, create=bool(values))
    if container is None:
        return
    key = _key(container, top.name)
    if path.where:
        _put_element(container, key, path, top, leaf, values)
    elif top.type == "complex" and not top.multi and path.sub:
        _put_sub(container, key, path, leaf, values)
    else:
        _set(container, key, _value(path, top, leaf, values) if values else None)
    _tidy(doc, path, container)


def _tidy(doc: Json, path: AttrPath, container: Json) -> None:
    """An extension with nothing left goes whole (and from `schemas`)."""
    if path.extension and not container:
        doc.pop(_key(doc, path.extension))


def _put_element(container: Json, key: str, path: AttrPath, top: Attribute, leaf: Attribute,
                 values: tuple[str, ...]) -> None:
    """One element of a multi-valued attribute, picked by `[name eq "value"]`; without
    its `value`, or with nothing left but what picked it, the element goes."""
    assert path.where and path.sub
    name, wanted = path.where
    elements = container.get(key) or []
    element = next((e for e in elements if path.picks(e)), None)
    if element is None and not values:
        return
    if element is None:
        element = {top.subs[name.lower()].name: wanted}
        elements.append(element)
    _set(element, _key(element, leaf.name), typed(path, leaf, values[0]) if values else None)
    if not values and (leaf.name.lower() == "value"
                       or {k.lower() for k in element} <= {name.lower(), "primary"}):
        elements.remove(element)
    _set(container, key, elements)


def _put_sub(container: Json, key: str, path: AttrPath, leaf: Attribute,
             values: tuple[str, ...]) -> None:
    """A sub-attribute of a single complex attribute (`name.givenName`), the others kept."""
    part = container.setdefault(key, {}) if values else container.get(key)
    if isinstance(part, dict):
        _set(part, _key(part, leaf.name), typed(path, leaf, values[0]) if values else None)
        if not part:
            container.pop(key)


def _set(data: Json, key: str, value: Any) -> None:
    if value is None or value == []:
        data.pop(key, None)
    else:
        data[key] = value


def _key(data: Json, name: str) -> str:
    """The key `data` holds `name` under (any case), else `name` itself."""
    return next((k for k in data if k.lower() == name.lower()), name)


def _value(path: AttrPath, top: Attribute, leaf: Attribute, values: tuple[str, ...]) -> Any:
    """The JSON of an attribute's values: a complex one named without a sub-attribute
    (members, the Enterprise manager) holds them as `{"value": id}`."""
    wrap = top.type == "complex" and not path.sub
    items = [{"value": typed(path, leaf, v)} if wrap else typed(path, leaf, v) for v in values]
    return items if top.multi and not path.where else items[0]


# --- PATCH -------------------------------------------------------------------------------


def operations(schema: ResourceSchema, changes: list[AttrChange],
               found: dict[str, tuple[str, ...]] | None = None,
               crowded: dict[str, list[Any]] | None = None) -> list[Json]:
    """PATCH operations for the plan's attribute changes: members added and removed one
    by one (never the whole list of a large group), a value replaced where the
    resource has it, removed where none is wanted. An element of a multi-valued
    attribute (`emails[type eq "work"]`) in which neither the changes nor `found` (the
    values read at the mapping's paths) hold a value is added whole, all its
    sub-attributes in one op; one whose `value` is emptied is removed whole. Where the
    filter picks several elements (`crowded`: those attributes as found), the attribute
    is replaced whole, syncd's element changed and every other one as it was."""
    crowded = crowded or {}
    whole = [c for c in changes if parse_path(c.name).top.lower() in crowded]
    changes = [c for c in changes if c not in whole]
    return _element_ops(schema, changes, found or {}) + _whole_ops(schema, whole, crowded)


def _whole_ops(schema: ResourceSchema, changes: list[AttrChange],
               crowded: dict[str, list[Any]]) -> list[Json]:
    """One replace per crowded attribute: the list as found, with the changes made to the
    first element each filter picks (the one syncd reads)."""
    docs: dict[str, tuple[AttrPath, Json]] = {}
    for change in changes:
        path = parse_path(change.name)
        top = path.top.lower()
        if top not in docs:
            doc: Json = {path.attribute: copy.deepcopy(crowded[top])}
            docs[top] = (path, {path.extension: doc} if path.extension else doc)
        put(docs[top][1], schema, path, texts(change.after))
    ops = []
    for path, doc in docs.values():
        container = path.container(doc)
        value = get_key(container, path.attribute) if container is not None else None
        ops.append({"op": "replace", "path": path.top, "value": value} if value
                   else {"op": "remove", "path": path.top})
    return ops


def _element_ops(schema: ResourceSchema, changes: list[AttrChange],
                 found: dict[str, tuple[str, ...]]) -> list[Json]:
    paths = [parse_path(change.name) for change in changes]
    held, gone = _elements(paths, changes, found)
    ops: list[Json] = []
    added: dict[str, tuple[str, Json]] = {}  # element -> (its attribute, what it holds)
    for path, change in zip(paths, changes, strict=True):
        element = path.element.lower() if path.where else None
        if element in gone:
            if _is_value(path):
                ops.append({"op": "remove", "path": path.element})
        elif element is not None and element not in held:
            if change.after:
                _, new = added.setdefault(element, (path.top, {}))
                new.update(_sub_values(schema, path, texts(change.after)[0]))
        else:
            ops += _change_ops(schema, path, change)
    ops += [{"op": "add", "path": top, "value": [new]} for top, new in added.values()]
    return ops


def _elements(paths: list[AttrPath], changes: list[AttrChange],
              found: dict[str, tuple[str, ...]]) -> tuple[set[str], set[str]]:
    """The picked elements (`emails[type eq "work"]`, lower-case) the resource holds,
    and those whose `value` the changes empty."""
    held = {p.element.lower() for p, c in zip(paths, changes, strict=True) if p.where and c.before}
    held |= {p.element.lower() for name, values in found.items()
             if values and (p := parse_path(name)).where}
    gone = {p.element.lower() for p, c in zip(paths, changes, strict=True)
            if p.where and _is_value(p) and c.before and not c.after}
    return held, gone


def _is_value(path: AttrPath) -> bool:
    return (path.sub or "value").lower() == "value"


def _sub_values(schema: ResourceSchema, path: AttrPath, text: str) -> Json:
    """What a new element holds for this path: what picks it, and the sub-attribute."""
    top, leaf = schema.attribute(path), schema.leaf(path)
    assert top is not None and path.where, f"{path.text} was checked against the schema"
    name, wanted = path.where
    return {top.subs[name.lower()].name: wanted, leaf.name: typed(path, leaf, text)}


def _change_ops(schema: ResourceSchema, path: AttrPath, change: AttrChange) -> list[Json]:
    top, leaf = schema.attribute(path), schema.leaf(path)
    assert top is not None, f"{path.text} was checked against the schema"
    after = texts(change.after)
    if change.multi and top.type == "complex" and not path.where:
        return _member_ops(path, leaf, texts(change.add), texts(change.remove))
    if not after:
        return [{"op": "remove", "path": path.text}]
    return [{"op": "replace", "path": path.text, "value": _value(path, top, leaf, after)}]


def _member_ops(path: AttrPath, leaf: Attribute, add: tuple[str, ...],
                remove: tuple[str, ...]) -> list[Json]:
    ops: list[Json] = []
    if add:
        ops.append({"op": "add", "path": path.top,
                    "value": [{"value": typed(path, leaf, v)} for v in add]})
    ops += [{"op": "remove", "path": f"{path.top}[value eq {json_string(v)}]"} for v in remove]
    return ops


def texts(values: tuple[Any, ...]) -> tuple[str, ...]:
    """Values as text: by now every reference is resolved to the id it names."""
    assert all(isinstance(v, str) for v in values), "a change reached the target unresolved"
    return tuple(values)


# --- PUT ---------------------------------------------------------------------------------


def replaced(schema: ResourceSchema, found: Json, changes: list[AttrChange]) -> Json:
    """The whole resource for a PUT (a provider without PATCH): as found, with the
    plan's changes made; what the provider sets (meta, id) left out."""
    doc = copy.deepcopy({k: v for k, v in found.items() if k.lower() not in ("meta", "id")})
    for change in changes:
        path = parse_path(change.name)
        top = schema.attribute(path)
        if change.multi and top is not None and top.multi and not path.where:
            _put_delta(doc, schema, path, top, change)
        else:
            put(doc, schema, path, texts(change.after))
    present = [urn for urn in schema.extensions if get_key(doc, urn)]
    doc["schemas"] = [schema.core, *present]
    return doc


def _put_delta(doc: Json, schema: ResourceSchema, path: AttrPath, top: Attribute,
               change: AttrChange) -> None:
    """A multi-valued attribute's add/remove made to the found list: the elements that
    stay are kept whole (a member's display), one added by hand is left alone."""
    leaf = schema.leaf(path)
    container = path.container(doc, create=True)
    assert container is not None, "create=True gives a container"
    key = _key(container, top.name)
    remove = set(texts(change.remove))
    kept = [e for e in container.get(key) or [] if _text(e) not in remove]
    held = {_text(e) for e in kept}
    new = tuple(v for v in texts(change.add) if v not in held)
    _set(container, key, kept + (_value(path, top, leaf, new) if new else []))
    _tidy(doc, path, container)


def _text(element: Any) -> str:
    """An element's value as text (a member's id)."""
    return as_text(get_key(element, "value") if isinstance(element, dict) else element)
