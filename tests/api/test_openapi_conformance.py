"""Property-based run over the OpenAPI document (schemathesis): every operation, with a key of every role
and without one, on data that fits the schema and data that does not. No answer may be a server error, nor
a status code, content type, header or body shape the operation does not declare.

Bounded so it is not flaky: a fixed number of examples per operation and mode, derandomized (the same cases
every run), no example database. The service runs in-process over ASGI on a throwaway database."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine as create_sync_engine

from app.db.engine import sync_url
from app.db.tables import metadata
from app.domain.enums import Role
from app.main import create_app
from app.settings import Settings
from tests.api.conftest import ADMIN_TOKEN

# (key, generation mode, examples per operation). Data that does not fit the schema is refused before the
# key's role matters, so it is sent with the admin's key only; every key sends data that fits.
RUNS = [
    ("anonymous", GenerationMode.POSITIVE, 1),
    *((role.value, GenerationMode.POSITIVE, 3) for role in Role),
    (Role.admin.value, GenerationMode.NEGATIVE, 6),
]
REQUEST_TIMEOUT_S = 120
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Any]:
    database_url = f"sqlite:///{tmp_path / 'conformance.db'}"
    engine = create_sync_engine(sync_url(database_url))
    metadata.create_all(engine)
    engine.dispose()
    app = create_app(
        Settings(
            database_url=database_url,
            admin_token=ADMIN_TOKEN,
            ocpp_host="127.0.0.1",
            ocpp_port=0,
            scheduler_enabled=False,
        )
    )
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()


def seed(client: Any) -> dict[str, str | None]:
    """A site with a group, a charge point on it and an id tag, so some generated ids find something; then
    a key of every role (the grid operator's reaches that site only). Returns the Authorization headers."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(
            f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    site = post("/sites", {"name": "site", "grid_connection_limit_kw": 100, "fallback_limit_kw": 50})
    post(f"/sites/{site['id']}/groups", {"name": "feeder", "capacity_kw": 40})
    post("/charge-points", {"id": "CP1"})
    post("/id-tags", {"id_tag": "TAG1"})
    tokens: dict[str, str | None] = {"anonymous": None, Role.admin.value: ADMIN_TOKEN}
    for role in (Role.operator, Role.analyst, Role.grid_operator):
        key = {"site_ids": [site["id"]]} if role is Role.grid_operator else {}
        tokens[role.value] = post("/api-keys", {"role": role.value, "name": role.value, **key})["token"]
    return tokens


def has_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters")) or "requestBody" in definition


def exercise(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        # Generous: a busy machine must not turn a slow answer into a failure (none takes 2 s here).
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=REQUEST_TIMEOUT_S)

    call()


def test_every_operation_answers_as_documented(service: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service)
    with asgi.get_client(service) as client:
        tokens = seed(client)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60
    failures: list[str] = []
    for operation in operations:
        for who, mode, examples in RUNS:
            if mode is GenerationMode.NEGATIVE and not has_input(operation):
                continue  # nothing to get wrong
            token = tokens[who]
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            try:
                exercise(operation, mode, examples, headers)
            except (Exception, FailureGroup) as exc:
                failures.append(f"{operation.label} as {who} ({mode.value}): {exc}")
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
