"""The SCIM 2.0 target (RFC 7643/7644): Users and Groups of an IT system's provider.

`config` is its config model, `target` the `Target`, `client` the HTTP side (through
scim2-client), `paths`/`schema`/`payload` the pure parts: attribute paths, the
provider's schema, and what is sent. The HTTP libraries load only when a target is
opened or checked, so that loading a config needs none of them.
"""

from __future__ import annotations

from syncd.errors import SyncdError
from syncd.targets.base import AttributeCheck, Target
from syncd.targets.scim.config import ScimTarget

PROBE_TIMEOUT = 5.0  # seconds `syncd validate` waits for a provider's schema


def open_scim(config: ScimTarget) -> Target:
    """The provider, with its token or password read (SyncdError when it is missing)."""
    from syncd.targets.scim.target import ScimService

    return ScimService(config)


def check_scim_attributes(config: ScimTarget, names: dict[str, set[str]],
                          online: bool) -> AttributeCheck:
    """The mapping's attribute paths against the provider's schema when `online` and it
    answers, else against RFC 7643's core and Enterprise schemas."""
    from syncd.targets.scim.schema import builtin_schema

    schema, unanswered = builtin_schema(), ""
    if online:
        from syncd.targets.scim.client import ScimClient

        client = None
        try:
            client = ScimClient(config.model_copy(update={"timeout": PROBE_TIMEOUT,
                                                          "retries": 0}))
            schema = client.discover()
        except SyncdError as exc:
            unanswered = f" (the provider did not answer: {exc})"
        finally:
            if client is not None:
                client.close()
    check = AttributeCheck(against=schema.source + unanswered)
    for kind, wanted in names.items():
        for name in sorted(wanted):
            if problem := schema.of(kind).problem(name) or _reference_part(name):
                check.problems[(kind, name)] = problem
    return check


def _reference_part(name: str) -> str | None:
    """A sub-attribute of a reference (`manager.value`): syncd names the resource by id
    in the reference itself, so a mapping names the reference whole."""
    from syncd.targets.scim.paths import REFERENCES, PathError, parse_path

    try:
        path = parse_path(name)
    except PathError:
        return None
    if path.sub and path.top.lower() in REFERENCES:
        return (f"{name!r}: {path.top} names other resources by id, as syncd resolves them: "
                f"name it whole ({path.top}), without .{path.sub}")
    return None


__all__ = ["ScimTarget", "check_scim_attributes", "open_scim"]
