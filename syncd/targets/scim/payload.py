"""What syncd sends: a resource's JSON for a create or a replace, and the fewest PATCH
operations (RFC 7644 section 3.5.2) that make a found resource what the plan wants.

Pure functions of the plan's changes and the provider's schema, so every payload can be
checked without a server.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from syncd.errors import ObjectRejected
from syncd.plan.model import AttrChange
from syncd.targets.scim.paths import AttrPath, get_key, parse_path
from syncd.targets.scim.schema import Attribute, ResourceSchema

Json = dict[str, Any]


def typed(attribute: Attribute, text: str) -> Any:
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
        raise ObjectRejected(f"{attribute.name}: {text!r} is not a {kind}") from None
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
        _put_element(container, key, path, leaf, values)
    elif top.type == "complex":
        sub = path.sub or "value"
        if top.multi:
            _set(container, key, [{"value": typed(leaf, v)} for v in values])
        else:
            part = container.setdefault(key, {}) if values else container.get(key)
            if isinstance(part, dict):
                _set(part, _key(part, sub), typed(leaf, values[0]) if values else None)
                if not part:
                    container.pop(key, None)
    else:
        _set(container, key, ([typed(leaf, v) for v in values] if top.multi
                              else typed(leaf, values[0]) if values else None))


def _put_element(container: Json, key: str, path: AttrPath, leaf: Attribute,
                 values: tuple[str, ...]) -> None:
    """One element of a multi-valued attribute, picked by `[name eq "value"]`."""
    assert path.where and path.sub
    name, wanted = path.where
    elements = container.setdefault(key, [])
    element = next((e for e in elements if path.picks(e)), None)
    if element is None:
        if not values:
            return
        element = {name: wanted}
        elements.append(element)
    _set(element, _key(element, path.sub), typed(leaf, values[0]) if values else None)
    if set(element) <= {name, "primary"}:  # nothing left but what picked it
        elements.remove(element)
    if not elements:
        container.pop(key)


def _set(data: Json, key: str, value: Any) -> None:
    if value is None or value == []:
        data.pop(key, None)
    else:
        data[key] = value


def _key(data: Json, name: str) -> str:
    """The key `data` holds `name` under (any case), else `name` itself."""
    return next((k for k in data if k.lower() == name.lower()), name)


# --- PATCH -------------------------------------------------------------------------------


def operations(schema: ResourceSchema, changes: list[AttrChange]) -> list[Json]:
    """PATCH operations for the plan's attribute changes: members added and removed one
    by one (never the whole list of a large group), a value replaced where the
    resource has it, added where it has none, removed where none is wanted."""
    ops: list[Json] = []
    new_elements: dict[tuple[str, str, str], Json] = defaultdict(dict)
    for change in changes:
        path = parse_path(change.name)
        top = schema.attribute(path)
        assert top is not None, f"{path.text} was checked against the schema"
        leaf = schema.leaf(path)
        after = texts(change.after)
        if change.multi and top.type == "complex" and not path.where:
            ops += _member_ops(path, leaf, texts(change.add), texts(change.remove))
        elif path.where and not texts(change.before):
            if after:  # the element is not there: add it whole, with every sub-attribute
                assert path.sub
                new_elements[(path.top, *path.where)][path.sub] = typed(leaf, after[0])
        elif not after:  # an element without its value is gone whole
            gone = path.text.rpartition(".")[0] if path.where and path.sub and \
                path.sub.lower() == "value" else path.text
            ops.append({"op": "remove", "path": gone})
        else:
            ops.append({"op": "replace", "path": path.text,
                        "value": _value(top, leaf, path, after)})
    for (top_name, name, wanted), subs in new_elements.items():
        ops.append({"op": "add", "path": top_name, "value": [{name: wanted, **subs}]})
    return ops


def _member_ops(path: AttrPath, leaf: Attribute, add: tuple[str, ...],
                remove: tuple[str, ...]) -> list[Json]:
    ops: list[Json] = []
    if add:
        ops.append({"op": "add", "path": path.top,
                    "value": [{"value": typed(leaf, v)} for v in add]})
    ops += [{"op": "remove", "path": f'{path.top}[value eq "{_quoted(v)}"]'} for v in remove]
    return ops


def _value(top: Attribute, leaf: Attribute, path: AttrPath, after: tuple[str, ...]) -> Any:
    if top.type == "complex" and not path.sub:  # the Enterprise manager: {"value": id}
        return {"value": typed(leaf, after[0])}
    if top.multi and not path.where:
        return [typed(leaf, v) for v in after]
    return typed(leaf, after[0])


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def texts(values: tuple[Any, ...]) -> tuple[str, ...]:
    """Values as text: by now every reference is resolved to the id it names."""
    assert all(isinstance(v, str) for v in values), "a change reached the target unresolved"
    return tuple(values)


def replaced(schema: ResourceSchema, found: Json, changes: list[AttrChange]) -> Json:
    """The whole resource for a PUT (a provider without PATCH): as found, with the
    plan's changes made; what the provider sets (meta, id) left out."""
    doc = {k: v for k, v in found.items() if k.lower() not in ("meta", "id")}
    for change in changes:
        path = parse_path(change.name)
        values = texts(change.after)
        if change.multi:
            held = path.read(found)
            values = (*(v for v in held if v not in texts(change.remove)),
                      *(v for v in texts(change.add) if v not in held))
        put(doc, schema, path, values)
    present = [urn for urn in schema.extensions if get_key(doc, urn)]
    doc["schemas"] = [schema.core, *present]
    return doc
