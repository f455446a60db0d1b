"""redact AuthorizationKey values stored in plain text (configuration, command requests and responses)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:40:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDACTED = "<redacted>"  # app.services.ocpp.authorization_key.REDACTED, as of this revision


def _redact(data: Any) -> Any:
    if isinstance(data, list):
        return [_redact(item) for item in data]
    if isinstance(data, dict):
        key = data.get("key")
        if isinstance(key, str) and key.casefold() == "authorizationkey" and data.get("value") is not None:
            return data | {"value": REDACTED}
        return {name: _redact(value) for name, value in data.items()}
    return data


def upgrade() -> None:
    bind = op.get_bind()
    configuration = sa.table("charge_point_configuration", sa.column("key", sa.String), sa.column("value"))
    bind.execute(
        configuration.update()
        .where(sa.func.lower(configuration.c.key) == "authorizationkey", configuration.c.value.is_not(None))
        .values(value=REDACTED)
    )
    command = sa.table(
        "command",
        sa.column("id", sa.Integer),
        sa.column("action"),
        sa.column("payload", sa.JSON),
        sa.column("response", sa.JSON),
    )
    rows = bind.execute(
        sa.select(command.c.id, command.c.payload, command.c.response).where(
            command.c.action.in_(["ChangeConfiguration", "GetConfiguration"])
        )
    ).all()
    for command_id, payload, response in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        response = json.loads(response) if isinstance(response, str) else response
        redacted_payload, redacted_response = _redact(payload), _redact(response)
        if (redacted_payload, redacted_response) != (payload, response):
            bind.execute(
                command.update()
                .where(command.c.id == command_id)
                .values(payload=redacted_payload, response=redacted_response)
            )


def downgrade() -> None:
    """Redacted values cannot be restored."""
