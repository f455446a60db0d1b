"""Drivers: the people who own id tags (SteVe's users)."""

from typing import Annotated

from pydantic import Field, field_validator

from app.api.schemas.common import Input, Schema, UtcDatetime, not_null

Name = Annotated[str, Field(min_length=1, max_length=200, description="the person's name")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="e-mail")]
Phone = Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9][0-9 ()./-]{2,39}$", description="phone")]
Note = Annotated[str, Field(max_length=500)]
IdTags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=20)]],
    Field(max_length=1000, description="the id tags the driver owns (each owned by nobody else)"),
]


class DriverCreate(Input):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    note: Note | None = None
    id_tags: IdTags = []


class DriverUpdate(Input):
    """Fields to change; `id_tags` replaces the set of tags the driver owns (tags left out are owned by
    nobody after)."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    note: Note | None = None
    id_tags: IdTags | None = None

    _present = field_validator("name", "id_tags", mode="before")(not_null)


class DriverOut(Schema):
    id: int
    name: str
    email: str | None
    phone: str | None
    note: str | None
    created_at: UtcDatetime
    id_tags: list[str]
