"""Roles of one code base: `all` needs nothing more; the scale-out roles refuse to start without PostgreSQL
and Redis, with an error that says what is missing."""

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.main import ConfigurationError, create_app
from app.settings import ProcessRole, Settings


@pytest.mark.parametrize("role", ["gateway", "api", "scheduler"])
def test_a_scale_out_role_on_sqlite_without_redis_does_not_start(role: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(Settings(role=role, database_url="sqlite:///./var/x.db", redis_url=None))
    message = str(refused.value)
    assert f"role {role} needs PostgreSQL" in message
    assert "SMARTCHARGE_REDIS_URL" in message


def test_a_scale_out_role_on_postgresql_still_needs_redis() -> None:
    settings = Settings(role="api", database_url="postgresql://db/smartcharge", redis_url=None)
    problem = settings.scale_out_problem()
    assert problem is not None
    assert problem.startswith("role api needs Redis (SMARTCHARGE_REDIS_URL=redis://...):")


def test_all_is_the_default_and_needs_neither() -> None:
    settings = Settings(database_url="sqlite:///./var/x.db")
    assert settings.role == ProcessRole.all
    assert settings.scale_out_problem() is None


def test_serve_with_a_role_flag_explains_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTCHARGE_REDIS_URL", raising=False)
    monkeypatch.setenv("SMARTCHARGE_DATABASE_URL", "sqlite:///./var/never-created.db")
    result = CliRunner().invoke(cli, ["serve", "--role", "gateway"])
    assert result.exit_code == 1
    assert "role gateway needs PostgreSQL" in result.output
    assert "SMARTCHARGE_REDIS_URL" in result.output


def test_serve_refuses_an_unknown_role() -> None:
    result = CliRunner().invoke(cli, ["serve", "--role", "worker"])
    assert result.exit_code == 2


def test_a_scheduler_name_is_a_plain_word_and_the_events_stream_keeps_enough() -> None:
    assert Settings(scheduler_name="planner-2").scheduler_name == "planner-2"
    with pytest.raises(ValueError, match="scheduler_name"):
        Settings(scheduler_name="two words")
    with pytest.raises(ValueError, match="event_stream_max_len"):
        Settings(event_stream_max_len=10)
