"""Plain dataclasses ↔ table rows, for the records that are not mapped (written in bulk, read rarely)."""

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Table

T = TypeVar("T")


@functools.cache
def _columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns if not column.primary_key)


def row_of(record: Any, table: Table) -> dict[str, Any]:
    """The record's values for the table's columns (all but the primary key), as they are: no copy."""
    return {name: getattr(record, name) for name in _columns(table)}


def record_of(kind: type[T], row: Mapping[Any, Any]) -> T:
    """A record from a row of its table (`row._mapping`)."""
    return kind(**row)
