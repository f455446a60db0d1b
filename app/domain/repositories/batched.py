"""Hot-path writes batched by the group commit: one statement for many callers' rows."""

from typing import Protocol

from app.domain.planning import ProfileDispatch


class BatchedWrites(Protocol):
    async def record_dispatch(self, dispatch: ProfileDispatch) -> None:
        """Store what became of a profile sent (or not) to a charge point."""
        ...
