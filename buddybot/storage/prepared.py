"""Core statements compiled once and run straight on the driver, and the rows they return.

SQLAlchemy's execution path costs about 40 µs per statement on SQLite, which answers the
bot's hot statements in a few µs (measured in issue 10, where it was a quarter of an update's
CPU), and about 130 µs on PostgreSQL, more than asyncpg's own round trip. So a statement's
SQL, the order of its parameters and its type conversions are taken from SQLAlchemy's own
compiler once and reused: on sqlite3 directly (the inline SQLite dialect runs statements on
this thread anyway), on asyncpg through SQLAlchemy's adapter (its transaction, statement
cache and errors). Whatever the compiler renders differently per execution (expanding IN
lists, post-compile parameters, Python-side defaults) goes through SQLAlchemy.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

Row = tuple[Any, ...]
# On PostgreSQL an update's "handled" mark, on its own or with its first read (numbered
# placeholders filled in by ``format``).
MARK_INSERT = (
    "INSERT INTO processed_update (update_id, handled_at) "
    "VALUES (${}::BIGINT, ${}::TIMESTAMP WITH TIME ZONE)"
)
_WITH = re.compile(r"\s*WITH\s+(RECURSIVE\s+)?", re.IGNORECASE)
LIMIT = 500  # prepared statements kept; the bot's hot paths use a few dozen
Processor = Callable[[Any], Any] | None


class Rows:
    """The rows of one statement, with the few ways the services read them."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Row]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def all(self) -> Sequence[Row]:
        return self._rows

    def one_or_none(self) -> Row | None:
        if len(self._rows) > 1:
            raise MultipleResultsFound("more than one row")
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        row = self.one_or_none()
        if row is None:
            raise NoResultFound("no row")
        return row

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


class Prepared:
    """One statement for one set of parameter names, ready for sqlite3 or asyncpg."""

    __slots__ = ("_binds", "_compiled", "_marked", "_plan", "_results", "reads", "sql")

    def __init__(
        self, compiled: SQLCompiler, binds: Sequence[tuple[str, Processor]], names: Sequence[str]
    ) -> None:
        self.sql = compiled.string
        self._compiled = compiled
        self._binds = binds
        self._plan = _plan(compiled, binds, names)
        self._results: list[Processor] | None = None
        self._marked: str | None = None
        self.reads = False  # a SELECT

    def run(self, raw: sqlite3.Connection, params: dict[str, Any] | None) -> Rows:
        ordered = self._ordered(params)
        try:
            cursor = raw.execute(self.sql, ordered)
        except sqlite3.Error as exc:  # raised as SQLAlchemy would (IntegrityError, …)
            raise DBAPIError.instance(self.sql, ordered, exc, sqlite3.Error) from exc
        if cursor.description is None:
            return Rows(())
        return self._rows(cursor.fetchall())

    async def run_pg(
        self, adapted: Any, params: dict[str, Any] | None, mark: Sequence[Any] = ()
    ) -> Rows:
        """The same on PostgreSQL, straight to asyncpg on SQLAlchemy's own adapter
        (``adapted``): its transaction, its cache of server-side prepared statements and
        its translation of errors, without SQLAlchemy's execution path around them, which
        cost more than twice what asyncpg itself takes (issue 10).

        ``mark``: the update id and time to record as handled, in the same round trip
        (``MARK_INSERT`` as a data-modifying ``WITH``)."""
        ordered = self._ordered(params)
        sql = self.sql
        if mark:
            sql = self._marked or self._with_mark(len(ordered))
            ordered.extend(mark)
        dbapi = adapted.dbapi
        async with adapted._execute_mutex:
            try:
                if adapted._transaction is None:  # BEGIN is sent with the first statement
                    await adapted._start_transaction()
                try:
                    statement, _ = await adapted._prepare(sql, self._schema_asof())
                    records = await statement.fetch(*ordered)
                except Exception as exc:
                    adapted._handle_exception(exc)  # raises the adapter's DBAPI error
            except dbapi.Error as exc:  # raised as SQLAlchemy would (IntegrityError, …)
                dialect: Any = self._compiled.dialect
                if isinstance(exc, (dbapi.InvalidCachedStatementError, dbapi.InternalServerError)):
                    # Another process changed the schema: prepare again next time (as
                    # SQLAlchemy's asyncpg execution context does).
                    dialect._invalidate_schema_cache()
                lost = dialect.is_disconnect(exc, adapted, None)
                raise DBAPIError.instance(
                    sql, ordered, exc, dbapi.Error, connection_invalidated=lost
                ) from exc
        return self._rows([tuple(r) for r in records])

    def _with_mark(self, count: int) -> str:
        """This statement with the mark before it, its parameters numbered after ours."""
        mark = f"_mark AS ({MARK_INSERT.format(count + 1, count + 2)})"
        own = _WITH.match(self.sql)
        if own is not None:  # a WITH of its own: ours joins its list
            sql = f"{own.group(0)}{mark}, {self.sql[own.end() :]}"
        else:
            sql = f"WITH {mark} {self.sql}"
        self._marked = sql
        return sql

    def _ordered(self, params: dict[str, Any] | None) -> list[Any]:
        given = params or {}
        plan = self._plan
        if plan is not None:
            ordered = []
            for key, fixed, process in plan:
                value = fixed if key is None else given[key]
                ordered.append(value if process is None else process(value))
            return ordered
        values = self._compiled.construct_params(given)
        return [
            values[name] if process is None else process(values[name])
            for name, process in self._binds
        ]

    def _rows(self, rows: Sequence[Row]) -> Rows:
        results = self._results
        if results is None or not any(results):
            return Rows(rows)
        return Rows(
            [
                tuple(v if p is None else p(v) for v, p in zip(row, results, strict=True))
                for row in rows
            ]
        )

    def _schema_asof(self) -> float:
        return float(getattr(self._compiled.dialect, "_invalidate_schema_cache_asof", 0))


def _plan(
    compiled: SQLCompiler, binds: Sequence[tuple[str, Processor]], names: Sequence[str]
) -> list[tuple[str | None, Any, Processor]] | None:
    """Where each positional parameter comes from: the caller's parameter of that name, or
    the value fixed in the statement. What ``construct_params`` works out on every call (a
    twentieth of an update's CPU, issue 10), worked out once. None: leave it to
    ``construct_params`` (escaped names, values computed per call, a missing parameter,
    which it reports)."""
    if compiled.escaped_bind_names:
        return None
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    plan: list[tuple[str | None, Any, Processor]] = []
    for name, process in binds:
        bind = by_name.get(name)
        if bind is None or bind.callable is not None:
            return None
        if bind.key in names:
            plan.append((bind.key, None, process))
        elif name in names:
            plan.append((name, None, process))
        elif bind.required:
            return None
        else:
            plan.append((None, bind.value, process))
    return plan


class Statements:
    """The prepared form of each statement this process ran, per set of parameter names
    (an INSERT's columns come from its parameters). ``None``: leave it to SQLAlchemy."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._cache: dict[tuple[int, tuple[str, ...]], Prepared | None] = {}
        self._keep: list[Executable] = []  # the cache is keyed by id(): keep them alive

    def get(self, statement: Executable, params: dict[str, Any] | None) -> Prepared | None:
        names = tuple(params) if params else ()
        key = (id(statement), names)
        try:
            return self._cache[key]
        except KeyError:
            if len(self._cache) >= LIMIT:  # a statement built per call: not worth keeping
                return None
            found = self._cache[key] = self._prepare(statement, names)
            self._keep.append(statement)
            return found

    def _prepare(self, statement: Executable, names: tuple[str, ...]) -> Prepared | None:
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=self._dialect, column_keys=list(names)
        )
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            return None
        if (
            "POSTCOMPILE" in compiled.string
            or any(b.expanding or b.literal_execute for b in compiled.binds.values())
            # Python-side column defaults: SQLAlchemy fills them in per execution.
            or compiled.insert_prefetch
            or compiled.update_prefetch
        ):
            return None
        dialect = self._dialect
        binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
        ]
        prepared = Prepared(compiled, binds, names)
        if isinstance(statement, Select):
            prepared.reads = True
            prepared._results = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in statement.selected_columns
            ]
        return prepared
