"""Run Alembic migrations programmatically (used by `smartcharge db upgrade` and the tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.db.engine import is_sqlite, sync_url
from app.db.partitions import is_partition

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def include_name(name: str | None, kind: str, _parent: object) -> bool:
    """What autogenerate compares: not meter values' partitions (the service makes and drops them, the
    models don't declare them)."""
    return not (kind == "table" and name is not None and is_partition(name))


def upgrade(database_url: str, revision: str = "head") -> None:
    if is_sqlite(database_url):
        path = make_url(database_url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def unready(database_url: str) -> str | None:
    """Why the service cannot run on this database yet, in one line (None: migrated to this code's head).
    Reads only: never creates a SQLite file or a table."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    upgrade_hint = "run `smartcharge db upgrade` first"
    if is_sqlite(database_url):
        path = make_url(database_url).database
        if path and path != ":memory:" and not Path(path).exists():
            return f"there is no database at {shown}: {upgrade_hint} (it creates and migrates it)"
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    heads = set(scripts.get_heads())
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot read the database at {shown}: {reason}"
    finally:
        engine.dispose()
    if current == heads:
        return None
    if not current:
        return f"the database at {shown} has never been migrated: {upgrade_hint}"
    known = {script.revision for script in scripts.walk_revisions()}
    if current - known:
        return (
            f"the database at {shown} is at revision {', '.join(sorted(current))}, which this version of "
            "smartcharge does not know (migrated by a newer one?)"
        )
    revision = ", ".join(sorted(current))
    return f"the database at {shown} is at revision {revision}, behind this code: {upgrade_hint}"
