"""Who is looking: the signed-in user of a web request, and what their role lets them see.

The sign-in layer (`syncd.web.auth`) puts a Viewer on `request.state.viewer` before any
page runs; a page asks `viewer(request)` and never looks at cookies or headers itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.exceptions import HTTPException
from starlette.requests import Request

Role = Literal["reader", "admin"]


@dataclass(frozen=True)
class Viewer:
    name: str  # the user name (htpasswd) or the identity provider's preferred_username
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def viewer(request: Request) -> Viewer:
    """The signed-in user; a page reached without one is a bug in the sign-in layer, and
    answers 401 rather than show anything."""
    found = getattr(request.state, "viewer", None)
    if not isinstance(found, Viewer):
        raise HTTPException(401, "sign in first")
    return found


def admin_only(request: Request) -> Viewer:
    """The viewer, when an admin; 403 for a reader (the page exists, but not for them)."""
    found = viewer(request)
    if not found.is_admin:
        raise HTTPException(403, "this page is for admins")
    return found
