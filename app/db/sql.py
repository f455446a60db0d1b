"""SQL builders the repositories and batched writes share, for SQLite and PostgreSQL: `INSERT … ON CONFLICT
DO NOTHING` (race-safe creation, idempotent writes), upserts, and many rows inserted or updated by one
statement."""

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import CursorResult, Executable, Insert, Table, UniqueConstraint, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession


@functools.cache
def core_table(entity: type) -> Table:
    """The table an entity is mapped onto."""
    table: Any = inspect(entity).local_table
    assert isinstance(table, Table)
    return table


async def execute_core(session: AsyncSession, statement: Executable, params: Any = None) -> CursorResult[Any]:
    """Execute a Core statement on the session's connection, past the ORM's per-statement execute path
    (which costs more than a hot-path statement itself); pending ORM changes are flushed first, as
    autoflush would."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)


def insert_ignore(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> Insert:
    """An insert of `rows` that skips rows colliding on the unique columns `conflict`."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    return statement.on_conflict_do_nothing(index_elements=list(conflict))  # type: ignore[no-any-return]


def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    changed: Sequence[str],
) -> Insert:
    """An insert of `rows` that, for a row colliding on the unique columns `conflict`, sets the stored
    row's `changed` columns instead (rows must not collide with each other)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    excluded = statement.excluded
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(conflict), set_={name: excluded[name] for name in changed}
    )


async def insert_ignore_returning(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Any,
) -> list[Any]:
    """Insert, skipping conflicts; return `returning` for the rows actually inserted."""
    if not rows:
        return []
    result = await session.exec(insert_ignore(session, table, rows, conflict).returning(returning))
    return list(result.scalars().all())


async def execute_insert_ignore(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> None:
    if rows:
        await execute_core(session, insert_ignore(session, table, rows, conflict))


async def insert_new_many(
    session: AsyncSession,
    table: Table,
    names: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    key: str,
) -> set[Any]:
    """Insert the rows (tuples of the `names` columns' values) whose unique column `key` holds a value not
    stored yet; returns the values inserted. (`key` may lead a unique constraint whose other columns its
    value determines: `meter_value`'s dedup key starts with the sample's time.)

    The rows' `key` values must differ. The rows go to the database as one JSON array of arrays, the
    parameter of one prepared statement, on the driver's own connection inside the session's transaction.
    Measured on the gateway's meter values, where the alternatives cost more than the inserts:
    * SQLAlchemy's insertmanyvalues compiles and binds every value in Python; a column-array (unnest)
      insert leaves psycopg dumping every array element in Python; SQLAlchemy's aiosqlite adapter makes four
      hand-offs to the driver's thread per statement (cursor, execute, fetch, close), here one each.
    * An executemany on SQLite takes the GIL back after every row, waiting for the busy event loop thread
      each time; the JSON insert is one step, the GIL released throughout.

    * Each statement on SQLite is a hand-off to the driver's thread and back, and the way back waits behind
      every callback the busy event loop has queued (after a commit: the replies of the whole batch).
      So the insert is the batch's first and only statement: it runs while the loop sends those replies.

    PostgreSQL: each value cast to its column's type from `json_array_elements`, and RETURNING names the
    rows inserted. SQLite (one writer, so one statement's new rows take consecutive rowids):
    `INSERT … SELECT … FROM json_each(?) ON CONFLICT DO NOTHING`; its change count says how many rows were
    new. All or none: no more to ask. Some: their keys are read back by rowid range (a replay after a
    reconnect). Not RETURNING: the driver takes the GIL back for every row it returns, waiting for the busy
    event loop thread each time.
    """
    if not rows:
        return set()
    driver, dialect, core = await _driver_connection(session, table)
    if dialect.name == "postgresql":
        statement = _postgresql_insert(core, names, key, dialect)
        cursor = await driver.execute(statement, (orjson.dumps(rows).decode(),))
        return {found for (found,) in await cursor.fetchall()}
    encoded = _sqlite_values_json(rows, _sqlite_processors(core, names, dialect))
    # The cursor is not closed: closing is one more hand-off, and the driver frees it when it goes.
    cursor = await driver.execute(_sqlite_insert(core, names, key, dialect), (encoded,))
    inserted, last_rowid = cursor.rowcount, cursor.lastrowid
    if inserted == len(rows):
        at = names.index(key)
        return {row[at] for row in rows}
    if inserted == 0 or last_rowid is None:
        return set()
    select_new = _sqlite_select_rowids(core, key, dialect)
    found = await driver.execute_fetchall(select_new, (last_rowid - inserted, last_rowid))
    return {value for (value,) in found}


async def insert_many(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same columns) as one JSON parameter of one statement (see
    `insert_new_many` for why)."""
    if not rows:
        return
    driver, dialect, core = await _driver_connection(session, table)
    names = tuple(rows[0])
    values = _row_values(rows, names)
    if dialect.name == "postgresql":
        await driver.execute(_postgresql_insert(core, names, None, dialect), (orjson.dumps(values).decode(),))
        return
    encoded = _sqlite_values_json(values, _sqlite_processors(core, names, dialect))
    await driver.execute(_sqlite_insert(core, names, None, dialect), (encoded,))


@functools.cache
def _postgresql_insert(core: Table, names: tuple[str, ...], key: str | None, dialect: Dialect) -> str:
    """The insert of JSON arrays in `names` order, each value cast to its column's type; with a unique
    `key`, skipping conflicts and returning the keys inserted."""
    quote = dialect.identifier_preparer.quote
    values = ", ".join(
        f"CAST(j ->> {index} AS {core.c[name].type.compile(dialect=dialect)})"
        for index, name in enumerate(names)
    )
    statement = (
        f"INSERT INTO {quote(core.name)} ({', '.join(quote(name) for name in names)})"
        f" SELECT {values} FROM json_array_elements(%s::json) AS j"
    )
    if key is None:
        return statement
    return f"{statement} ON CONFLICT ({_conflict(core, key, dialect)}) DO NOTHING RETURNING {quote(key)}"


@functools.cache
def _sqlite_insert(core: Table, names: tuple[str, ...], key: str | None, dialect: Dialect) -> str:
    """The insert of JSON rows (arrays in `names` order); with a unique `key`, skipping conflicts."""
    quote = dialect.identifier_preparer.quote
    values = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(names)))
    statement = (
        f"INSERT INTO {quote(core.name)} ({', '.join(quote(name) for name in names)})"
        f" SELECT {values} FROM json_each(?) WHERE true"
    )
    if key is not None:
        statement += f" ON CONFLICT ({_conflict(core, key, dialect)}) DO NOTHING"
    return statement


def _conflict(core: Table, key: str, dialect: Dialect) -> str:
    """The conflict target of the unique `key`: its column, or the columns of the unique constraint it
    leads (a partitioned table's unique keys hold the partition key too: `meter_value`'s dedup key)."""
    quote = dialect.identifier_preparer.quote
    for constraint in core.constraints:
        if not isinstance(constraint, UniqueConstraint):
            continue
        names = [column.name for column in constraint.columns]
        if names[0] == key:
            return ", ".join(quote(name) for name in names)
    return quote(key)


@functools.cache
def _sqlite_select_rowids(core: Table, key: str, dialect: Dialect) -> str:
    """SQLite: the `key` values of the rows whose rowid lies in (?, ?]."""
    quote = dialect.identifier_preparer.quote
    return f"SELECT {quote(key)} FROM {quote(core.name)} WHERE rowid > ? AND rowid <= ?"


async def _driver_connection(session: AsyncSession, table: Table) -> tuple[Any, Dialect, Table]:
    """The driver's own connection in the session's transaction (pending ORM changes flushed first, as
    autoflush would), the dialect and the table."""
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None
    assert session.bind is not None
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return driver, session.bind.dialect, table


def _row_values(rows: Sequence[Mapping[str, Any]], names: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The rows' values in `names` order (two or more columns)."""
    row_values = operator.itemgetter(*names)
    return [row_values(row) for row in rows]


def _sqlite_values_json(
    rows: Sequence[Sequence[Any]], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> str:
    """SQLite: rows of values as one JSON array of arrays, each `processors` position bound as SQLAlchemy
    would."""
    values = [list(row) for row in rows]
    for index, process in processors:
        for value in values:
            value[index] = process(value[index])
    return orjson.dumps(values).decode()


@functools.cache
def _sqlite_processors(
    core: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """The bind processor of each column that has one, by position (the driver takes others as they are)."""
    return tuple(
        (index, process)
        for index, name in enumerate(names)
        if (process := core.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )


async def update_many(
    session: AsyncSession, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set each row's other columns on the stored row whose `keys` columns hold the row's values, with the
    rows as one JSON parameter of one statement (see `insert_new_many` for why). All rows have the same
    columns; of rows with the same keys the last wins, as if each were applied in order."""
    if not rows:
        return
    last = {tuple(row[name] for name in keys): row for row in rows}
    await _update_once(session, table, tuple(keys), list(last.values()), None, returning=False)


async def update_many_changed(
    session: AsyncSession,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    unless_newer: str | None = None,
) -> list[bool]:
    """`update_many`, returning per row whether it changed a stored row. With `unless_newer`, a stored row
    whose value in that column is later than the row's is left alone. Rows with the same keys are applied
    in order, one more statement for each repetition, so each is judged against the one before it as if
    alone. (Costlier than `update_many` on SQLite: the driver takes the GIL back for every changed row.)
    """
    rounds: list[list[int]] = []
    repeats: dict[tuple[Any, ...], int] = {}
    for index, row in enumerate(rows):
        key = tuple(row[name] for name in keys)
        repeats[key] = repeats.get(key, -1) + 1
        if repeats[key] == len(rounds):
            rounds.append([])
        rounds[repeats[key]].append(index)
    changed = [False] * len(rows)
    for members in rounds:
        updated = await _update_once(
            session, table, tuple(keys), [rows[i] for i in members], unless_newer, returning=True
        )
        for index in members:
            changed[index] = tuple(rows[index][name] for name in keys) in updated
    return changed


async def _update_once(
    session: AsyncSession,
    table: Table,
    keys: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
    unless_newer: str | None,
    *,
    returning: bool,
) -> set[tuple[Any, ...]]:
    """One UPDATE for `rows` (their keys all differ); with `returning`, the keys of the stored rows it
    changed (else an empty set)."""
    driver, dialect, core = await _driver_connection(session, table)
    names = tuple(rows[0])
    statement = _update_statement(core, names, keys, unless_newer, returning, dialect)
    if dialect.name == "postgresql":
        cursor = await driver.execute(statement, (orjson.dumps(rows).decode(),))
        return {tuple(found) for found in await cursor.fetchall()} if returning else set()
    parameters = (_sqlite_values_json(_row_values(rows, names), _sqlite_processors(core, names, dialect)),)
    if not returning:
        await driver.execute(statement, parameters)
        return set()
    return {tuple(row) for row in await driver.execute_fetchall(statement, parameters)}


@functools.cache
def _update_statement(
    core: Table,
    names: tuple[str, ...],
    keys: tuple[str, ...],
    unless_newer: str | None,
    returning: bool,
    dialect: Dialect,
) -> str:
    """The UPDATE from the JSON rows parameter: objects typed by the table on PostgreSQL, arrays in `names`
    order on SQLite; the rest is the same."""
    quote = dialect.identifier_preparer.quote
    table_name = quote(core.name)
    if dialect.name == "postgresql":
        value = {name: f"j.{quote(name)}" for name in names}
        source = f"json_populate_recordset(NULL::{table_name}, %s::json) AS j"
    else:
        value = {name: f"json_extract(j.value, '$[{index}]')" for index, name in enumerate(names)}
        source = "json_each(?) AS j"
    assignments = ", ".join(f"{quote(name)} = {value[name]}" for name in names if name not in keys)
    conditions = [f"{table_name}.{quote(key)} = {value[key]}" for key in keys]
    if unless_newer is not None:
        column = f"{table_name}.{quote(unless_newer)}"
        conditions.append(f"({column} IS NULL OR {column} <= {value[unless_newer]})")
    statement = f"UPDATE {table_name} SET {assignments} FROM {source} WHERE {' AND '.join(conditions)}"
    if returning:
        statement += " RETURNING " + ", ".join(f"{table_name}.{quote(key)}" for key in keys)
    return statement
