"""A throwaway PostgreSQL schema for a benchmark run: created, made ready, dropped after."""

import contextlib
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def postgres_schema(postgres_url: str, *, migrate: bool = True) -> Iterator[str]:
    """The URL of a fresh schema in `postgres_url`'s database (its `search_path`), its tables made by the
    migrations (as `smartcharge serve` insists) with `migrate`, else from the metadata; dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.db.engine import sync_url
    from app.db.migrate import upgrade
    from app.db.tables import metadata

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = make_url(postgres_url)
    url = parsed.set(query=dict(parsed.query) | {"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    try:
        if migrate:
            upgrade(url, "head")
        else:
            engine = create_engine(sync_url(url))
            metadata.create_all(engine)
            engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
