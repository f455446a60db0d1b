"""The OpenAPI document, completed with the errors every operation can give, all `application/problem+json`.

Routes declare the errors that belong to what they do (409 on a clash, 404 on a missing reference). The ones
that follow from an operation's shape are added here, so the document cannot forget them: 401 and 403 where
a key is required, 404 where the path names a resource, 400 where a body is read (one that is not UTF-8
cannot be parsed at all), and 422 everywhere (invalid input, or text no database can store anywhere in the
URL: `app.api.text_guard`)."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.schemas.common import PROBLEM_TEXT, ProblemDetail

__all__ = ["complete_errors", "install_openapi"]

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _implied_errors(operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    codes = []
    if operation.get("security"):
        codes += [401, 403]
    if any(p.get("in") == "path" for p in parameters):
        codes.append(404)
    if "requestBody" in operation:
        codes.append(400)
    codes.append(422)
    return codes


def complete_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the implied errors to every operation and describe every error as problem+json only."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "ProblemDetail", ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in _implied_errors(operation):
                responses.setdefault(str(code), {"description": PROBLEM_TEXT[code]})
            for code, response in responses.items():
                if code[0] in "45":
                    if code == "422":
                        response["description"] = PROBLEM_TEXT[422]
                    response["content"] = {"application/problem+json": {"schema": dict(_PROBLEM_REF)}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
