"""A page of a list: the window asked for and what was found in it."""

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int = 0


@dataclass(frozen=True)
class Found(Generic[T]):
    """The items of one window and how many match in all."""

    items: list[T]
    total: int
