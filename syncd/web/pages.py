"""The web view's pages: the unit tree, a unit, a person, search and the targets.

Server-rendered (Jinja2, autoescaped), read-only, and each built from a few indexed
store queries (`syncd.store.web`), never the whole org. Every page is of one day,
`?today=YYYY-MM-DD` (default: today), and every link keeps it. Who sees what is decided
here, from `viewer(request)`: a reader gets the address book (public contact details),
an admin also internal contact details, accounts, changes and targets; a secret value,
or a person's `extra` (a CPR number), is never read into a page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from syncd.errors import NotFound
from syncd.web import cards
from syncd.web.auth import csrf_token
from syncd.web.cards import Site
from syncd.web.viewer import Viewer, admin_only, viewer

TEMPLATES = Path(__file__).parent / "templates"
MEMBERS_PER_PAGE = 100
RESULTS_PER_PAGE = 50
MAX_PAGE = 100_000  # past every list's end, and within what SQL's OFFSET takes
PUBLIC = ("public",)
PUBLIC_AND_INTERNAL = ("public", "internal")  # never "secret", for anyone


def page_routes(site: Site) -> list[BaseRoute]:
    """The pages, for the web app to mount behind its sign-in (the daemon is the site).
    Plain functions: Starlette runs them in its thread pool, off the event loop."""
    pages = _Pages(site)
    return [
        Route("/", pages.tree, name="tree"),
        Route("/search", pages.search, name="search"),
        Route("/units/{unit_id}", pages.unit, name="unit"),
        Route("/persons/{person_id}", pages.person, name="person"),
        Route("/targets", pages.targets, name="targets"),
        Route("/targets/preview", pages.preview, methods=["POST"], name="preview"),
    ]


def visibility(who: Viewer) -> tuple[str, ...]:
    """The contact details a viewer may see."""
    return PUBLIC_AND_INTERNAL if who.is_admin else PUBLIC


class _Pages:
    def __init__(self, site: Site):
        self.site = site
        self.tree_cache = cards.UnitTree(site.store)
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)
        self.templates = Jinja2Templates(env=env)

    def tree(self, request: Request) -> Response:
        day, chosen = _day(request), request.query_params.get("today")
        nodes = self.templates.get_template("tree_nodes.html")

        def render(roots: list[cards.TreeNode]) -> str:
            return nodes.render(roots=roots, link=_linker(chosen))

        tree = Markup(self.tree_cache.html(day, chosen, render))  # autoescaped by Jinja
        return self._render(request, "tree.html", day, tree=tree, title="Organisation")

    def search(self, request: Request) -> Response:
        day, who = _day(request), viewer(request)
        text = request.query_params.get("q", "").strip()
        page = _page(request)
        found = cards.search(self.site.store, text, day, visibility(who),
                             page, RESULTS_PER_PAGE, who.is_admin)
        return self._render(request, "search.html", day, q=text, found=found,
                            title=f"Search: {text}" if text else "Search")

    def unit(self, request: Request) -> Response:
        day, who = _day(request), viewer(request)
        unit_id = request.path_params["unit_id"]
        try:
            card = cards.unit_card(self.site, unit_id, day, visibility(who), who.is_admin,
                                   _page(request), MEMBERS_PER_PAGE)
        except NotFound:
            raise HTTPException(404, "no such unit") from None
        return self._render(request, "unit.html", day, unit=card, title=card["name"])

    def person(self, request: Request) -> Response:
        day, who = _day(request), viewer(request)
        person_id = request.path_params["person_id"]
        try:
            card = cards.person_card(self.site, person_id, day, visibility(who), who.is_admin)
        except NotFound:
            raise HTTPException(404, "no such person") from None
        return self._render(request, "person.html", day, person=card, title=card["name"])

    def targets(self, request: Request) -> Response:
        admin_only(request)
        day = _day(request)
        return self._render(request, "targets.html", day, targets=cards.targets(self.site),
                            title="Targets", csrf_token=csrf_token(request.session))

    async def preview(self, request: Request) -> Response:
        """Plan a target for the page's day in the daemon, then back to /targets (where
        the plan shows once it is done). Changes nothing: it is `syncd plan`."""
        admin_only(request)
        day = _day(request)
        form = await request.form()  # the CSRF guard has checked its token
        if not self.site.preview_soon(str(form.get("target", "")), day):
            raise HTTPException(404, "no such target")
        return RedirectResponse(_linker(request.query_params.get("today"))("/targets"), 303)

    def _render(self, request: Request, template: str, day: date, **context: Any) -> Response:
        chosen = request.query_params.get("today")
        return self.templates.TemplateResponse(request, template, {
            **context, "viewer": viewer(request), "day": day, "today_param": chosen,
            "link": _linker(chosen), "path": request.url.path,
        })


def _linker(chosen: str | None) -> Any:
    """`link(path, page=2)`: a link to `path` that keeps the chosen day."""
    def link(path: str, **params: Any) -> str:
        query = {**({"today": chosen} if chosen else {}),
                 **{k: v for k, v in params.items() if v is not None}}
        return f"{path}?{urlencode(query)}" if query else path
    return link


def _day(request: Request) -> date:
    """The day a page is of: `?today=YYYY-MM-DD`, else today."""
    chosen = request.query_params.get("today")
    if not chosen:
        return date.today()
    try:
        return date.fromisoformat(chosen)
    except ValueError:
        raise HTTPException(400, "today must be a date, YYYY-MM-DD") from None


def _page(request: Request) -> int:
    """`?page=N`, from 1."""
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        raise HTTPException(400, "page must be a number") from None
    if page > MAX_PAGE:
        raise HTTPException(400, f"page must be at most {MAX_PAGE}")
    return max(1, page)
