"""Migration 0005 (issue 17): AuthorizationKey values stored in plain text before it are redacted in the
configuration and in the command log (requests and GetConfiguration answers); other values are kept.
SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime

from sqlalchemy import create_engine, insert, text

from app.db.engine import sync_url
from app.db.migrate import upgrade
from app.db.tables.ocpp import charge_point_configuration_table, charge_point_table, command_table

SECRET = "00112233445566778899AABBCCDDEEFF"
AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_0005_redacts_stored_authorization_keys(database_url: str) -> None:
    upgrade(database_url, "0004")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(charge_point_table).values(
                    id="CP1", registration_status="Accepted", connected=False, created_at=AT
                )
            )
            connection.execute(
                insert(charge_point_configuration_table),
                [
                    {
                        "charge_point_id": "CP1",
                        "key": "AuthorizationKey",
                        "value": SECRET,
                        "readonly": False,
                        "updated_at": AT,
                    },
                    {
                        "charge_point_id": "CP1",
                        "key": "HeartbeatInterval",
                        "value": "300",
                        "readonly": False,
                        "updated_at": AT,
                    },
                ],
            )
            common = {"charge_point_id": "CP1", "status": "accepted", "created_at": AT, "response": None}
            connection.execute(
                insert(command_table),
                [
                    common
                    | {
                        "action": "ChangeConfiguration",
                        "payload": {"key": "authorizationkey", "value": SECRET},
                    },
                    common
                    | {
                        "action": "ChangeConfiguration",
                        "payload": {"key": "HeartbeatInterval", "value": "60"},
                    },
                    common
                    | {
                        "action": "GetConfiguration",
                        "payload": {},
                        "response": {
                            "configurationKey": [
                                {"key": "AuthorizationKey", "readonly": False, "value": SECRET}
                            ]
                        },
                    },
                ],
            )
        upgrade(database_url, "head")
        with engine.connect() as connection:
            configuration = dict(
                connection.execute(text("SELECT key, value FROM charge_point_configuration")).all()
            )
            commands = connection.execute(text("SELECT payload, response FROM command ORDER BY id")).all()
    finally:
        engine.dispose()
    assert configuration == {"AuthorizationKey": "<redacted>", "HeartbeatInterval": "300"}
    decoded = [[json.loads(v) if isinstance(v, str) else v for v in row] for row in commands]
    assert decoded == [
        [{"key": "authorizationkey", "value": "<redacted>"}, None],
        [{"key": "HeartbeatInterval", "value": "60"}, None],
        [{}, {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": "<redacted>"}]}],
    ]
