"""The operator console: server-rendered pages on the services the API reads through, served by the same
process; every template, script and style ships in this package (no CDN)."""

from importlib.resources import files
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.console import auth
from app.console.pages import ROUTERS
from app.console.templating import STATIC_URL, render
from app.console.throttle import LoginThrottle

__all__ = ["install_console"]


def install_console(app: FastAPI) -> None:
    """Mount the console's pages at `/` and its assets at `STATIC_URL`."""
    app.state.console_logins = LoginThrottle()
    app.mount(STATIC_URL, StaticFiles(directory=str(files("app.console") / "static")), name="console-static")
    app.include_router(auth.router)
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(auth.LoginRequired, _to_login)
    app.add_exception_handler(auth.CsrfRejected, _csrf_rejected)


async def _to_login(request: Request, exc: Exception) -> Response:
    """A page asks for the log-in form; a fragment or the chart's data says so to its script."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/login?next={quote(path, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    if request.url.path.endswith(".json"):
        return JSONResponse({"detail": "log in again", "login": target}, status_code=401)
    return RedirectResponse(target, status_code=303)


async def _csrf_rejected(request: Request, exc: Exception) -> HTMLResponse:
    detail = "The form had expired or did not come from this console: reload the page and try again."
    return render(request, "error.html", 403, viewer=None, title="Form refused", detail=detail)
