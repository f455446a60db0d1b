"""API keys, managed by admins: the token is shown once, at creation."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import AdminDep, UowDep
from app.api.errors import Problem
from app.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Page, RowId, problems
from app.api.support import WindowDep, located, operation_id, paged
from app.services import access

router = APIRouter(
    prefix="/api-keys",
    tags=["api keys"],
    responses=problems(401, 403, 422),
    generate_unique_id_function=operation_id,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a key",
    responses={**located(201, "created; the token is in this response only"), **problems(422)},
)
async def create_api_key(body: ApiKeyCreate, uow: UowDep, _: AdminDep, response: Response) -> ApiKeyCreated:
    key, token = await access.create_api_key(uow, body.role, body.name, site_ids=body.site_ids)
    response.headers["Location"] = f"/api/v1/api-keys/{key.id}"
    return ApiKeyCreated.model_validate({**asdict(key), "token": token})


@router.get("", summary="List keys (without tokens)")
async def list_api_keys(
    uow: UowDep,
    _: AdminDep,
    window: WindowDep,
    revoked: Annotated[bool | None, Query(description="only (not) revoked keys")] = None,
) -> Page[ApiKeyOut]:
    page = await access.list_api_keys(uow, window, revoked=revoked)
    return paged([ApiKeyOut.model_validate(key) for key in page.items], page, window)


@router.get("/{key_id}", summary="A key (without its token)", responses=problems(404))
async def get_api_key(key_id: RowId, uow: UowDep, _: AdminDep) -> ApiKeyOut:
    key = await access.get_api_key(uow, key_id)
    if key is None:
        raise Problem(404, f"API key {key_id} does not exist")
    return ApiKeyOut.model_validate(key)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a key (idempotent)",
    responses=problems(404, 409),
)
async def revoke_api_key(key_id: RowId, uow: UowDep, principal: AdminDep) -> None:
    if key_id == principal.key_id:
        raise Problem(409, "a key cannot revoke itself; revoke it with another admin key")
    if await access.revoke_api_key(uow, key_id) is None:
        raise Problem(404, f"API key {key_id} does not exist")
