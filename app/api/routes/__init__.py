"""Routers included under /api/v1, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
