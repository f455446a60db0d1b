"""Jinja2 templates shipped in the package, their filters, and the page response: every console page
forbids the browser to load anything from outside the service (Content-Security-Policy)."""

from datetime import datetime
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from app.domain.clock import as_utc

__all__ = ["CSP", "STATIC_URL", "render", "templates"]

STATIC_URL = "/static/console"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

templates = Jinja2Templates(directory=str(files("app.console") / "templates"))


def when(value: datetime | None) -> str:
    return "—" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def kw(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} kW"


templates.env.filters["when"] = when
templates.env.filters["kw"] = kw
templates.env.globals["STATIC_URL"] = STATIC_URL


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response
