"""Mounting the console, dashboard and admin screens on the product's FastAPI app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from socialdesk.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SocialdeskError,
)
from socialdesk.web import (
    edge,
    live,
    routes_admin,
    routes_auth,
    routes_console,
    routes_dashboard,
    routes_integrations,
    routes_listening,
    routes_reports,
)
from socialdesk.web.guard import NotSignedIn
from socialdesk.web.templating import STATIC_DIR, render

# Scripts and styles only from our own origin; no inline script can run, so even a missed
# escape in a template could not execute a post's payload.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
UI_PREFIXES = ("/console", "/dashboard", "/admin", "/login", "/logout", "/static/")

STATUS = {NotFound: 404, InvalidInput: 400, Conflict: 409, PermissionDenied: 403}


def _status_of(exc: SocialdeskError) -> int:
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status
    return 500


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", 303)
    return JSONResponse({"detail": "sign in first"}, status_code=401)


async def _product_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SocialdeskError)
    status = _status_of(exc)
    if request.url.path.startswith(UI_PREFIXES) and "application/json" not in request.headers.get(
        "accept", ""
    ):
        return render(request, "error.html", {"message": str(exc)}, status)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _invalid_form(request: Request, exc: Exception) -> Response:
    """A form field out of bounds: a readable page on the screens, the usual JSON elsewhere."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith(UI_PREFIXES):
        return await edge.validation_error(request, exc)
    problems = "; ".join(
        f"{'/'.join(str(p) for p in e.get('loc', ())[1:]) or 'form'}: {e.get('msg', 'invalid')}"
        for e in exc.errors()
    )
    return render(request, "error.html", {"message": problems or "invalid form"}, 422)


def install_ui(app: FastAPI) -> None:
    """Include the screens' routers, static assets, error pages and security headers."""
    if not hasattr(app.state, "live_hub"):
        app.state.live_hub = live.LiveHub()
    app.state.dashboard_cache = {}
    pipeline = getattr(app.state, "pipeline", None)
    if pipeline is not None:
        # New work arriving through this process's pipeline wakes the screens at once.
        pipeline.hooks.after_commit.append(app.state.live_hub.after_commit_hook)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(routes_auth.router)
    app.include_router(routes_console.router)
    app.include_router(routes_dashboard.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_listening.router)
    app.include_router(routes_integrations.router)
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(RequestValidationError, _invalid_form)
    # Registered per class too, so these replace any JSON-only handlers for the same classes.
    for error in (SocialdeskError, *STATUS):
        app.add_exception_handler(error, _product_error)

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse("/console", 303)

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> FileResponse:
        # Browsers ask for this path before reading a page's <link rel=icon>.
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.middleware("http")
    async def _security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(UI_PREFIXES) or request.url.path == "/":
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Frame-Options"] = "DENY"
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response
