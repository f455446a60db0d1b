"""Commands sent to charge points, with their outcome."""

from app.domain.access import Scope
from app.domain.ocpp import Command
from app.domain.paging import Found, Window
from app.domain.persistence import UnitOfWork
from app.domain.queries import CommandFilter


async def list_commands(uow: UnitOfWork, window: Window, filters: CommandFilter) -> Found[Command]:
    """Newest first."""
    return await uow.commands.list(window, filters)


async def get_command(uow: UnitOfWork, command_id: int, *, scope: Scope = None) -> Command | None:
    command = await uow.commands.get(command_id)
    if command is None or (scope is not None and command.charge_point_id not in scope):
        return None
    return command
