"""SQLAlchemy 1.x idioms in a 2.x world (ET201-ET207).

Facts checked on SQLAlchemy 2.1: ``engine.execute`` is gone (AttributeError), executing a plain
string raises ObjectNotExecutableError, ``select([...])`` raises ArgumentError,
``autocommit=True`` raises ArgumentError (``autocommit=False`` is accepted and does nothing);
``sqlalchemy.ext.declarative.declarative_base`` warns MovedIn20Warning; ``Query`` still runs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from exampletest.model import Category
from exampletest.rules.base import (
    Context,
    Hit,
    dotted,
    is_false,
    is_true,
    keyword,
    rule,
)

V2 = ">=2.0"
STALE, BROKEN = Category.STALE, Category.BROKEN

_SESSION_NAME = re.compile(r"(?:^|_)(?:db|session|sess)$|^s$", re.I)
_SESSION_FACTORIES = ("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.scoped_session")
_BASE_CLASSES = ("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta")
_CONNECTION_NAME = re.compile(r"(?:^|_)(?:conn|connection|db|session|sess|engine)$", re.I)
_ENGINE_NAME = re.compile(r"(?:^|_)engine$", re.I)
_OTHER_DB_LIBS = ("asyncpg", "databases", "psycopg", "psycopg2", "aiosqlite", "sqlite3", "motor")


def _engines(ctx: Context) -> set[str]:
    """Names bound to ``create_engine(...)`` results."""
    makers = ("sqlalchemy.create_engine", "sqlalchemy.engine.create_engine")
    return {
        name
        for name, values in ctx.assigned.items()
        if any(isinstance(v, ast.Call) and ctx.matches(v.func, makers) for v in values)
    }


@rule(
    "ET201",
    "declarative_base from sqlalchemy.ext.declarative",
    STALE,
    "sqlalchemy",
    V2,
    "class Base(sqlalchemy.orm.DeclarativeBase)",
)
def ext_declarative(ctx: Context) -> Iterator[Hit]:
    message = (
        "`sqlalchemy.ext.declarative.declarative_base` moved in SQLAlchemy 2.0 (MovedIn20Warning): "
        "subclass `sqlalchemy.orm.DeclarativeBase`"
    )
    suggestion = "from sqlalchemy.orm import DeclarativeBase; class Base(DeclarativeBase): pass"
    for node, _ in ctx.references("sqlalchemy.ext.declarative", ["declarative_base"]):
        yield Hit(node, message, suggestion=suggestion)


@rule(
    "ET202",
    "session.query() legacy Query API",
    STALE,
    "sqlalchemy",
    V2,
    "session.execute(select(...)) / session.scalars(select(...)) / session.get(...)",
)
def legacy_query(ctx: Context) -> Iterator[Hit]:
    sessions = _sessions(ctx)
    for call in ctx.calls():
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "query" or not call.args:
            continue
        receiver = dotted(func.value)
        if receiver is None:
            continue
        last = receiver.rsplit(".", 1)[-1]
        if receiver not in sessions and not _SESSION_NAME.search(last):
            continue
        if not all(_looks_like_entity(a) for a in call.args):
            continue
        textual = "" if receiver in sessions else " (matched by the receiver's name)"
        yield Hit(
            func,
            "`Session.query()` is the legacy (1.x) Query API in SQLAlchemy 2.x: use "
            "`select()` with `session.execute()`/`session.scalars()`" + textual,
            suggestion=(
                "session.scalars(select(Model).where(...)).all(); "
                "session.get(Model, pk) for .query(Model).get(pk)"
            ),
            name_only=True,
        )


def _sessions(ctx: Context) -> set[str]:
    """Names bound to ``Session(...)`` or to a call of a sessionmaker the block defines."""
    makers = {
        name
        for name, values in ctx.assigned.items()
        if any(isinstance(v, ast.Call) and ctx.matches(v.func, _SESSION_FACTORIES) for v in values)
    }
    out: set[str] = set()
    for name, values in ctx.assigned.items():
        for v in values:
            if isinstance(v, ast.Call) and (
                ctx.matches(v.func, ("sqlalchemy.orm.Session",)) or dotted(v.func) in makers
            ):
                out.add(name)
    return out


def _looks_like_entity(node: ast.expr) -> bool:
    """A query argument: ``User``, ``User.id``, ``func.count(User.id)``."""
    return isinstance(node, ast.Name | ast.Attribute | ast.Call)


@rule(
    "ET203",
    "engine.execute / executing a plain SQL string",
    BROKEN,
    "sqlalchemy",
    V2,
    "with engine.connect() as conn: conn.execute(text(...))",
)
def connectionless_execute(ctx: Context) -> Iterator[Hit]:
    engines = _engines(ctx)
    sessions = _sessions(ctx)
    gone = ctx.at_least("sqlalchemy", "2.0")
    other_lib = ctx.imports(*_OTHER_DB_LIBS)
    for call in ctx.calls():
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "execute":
            continue
        receiver = dotted(func.value)
        if receiver is None:
            continue
        last = receiver.rsplit(".", 1)[-1]
        is_engine = receiver in engines or (_ENGINE_NAME.search(last) and not other_lib)
        if is_engine:
            yield Hit(
                func,
                "`Engine.execute()` (connectionless execution) was removed in SQLAlchemy 2.0"
                + ("; it raises AttributeError" if gone else "")
                + ": execute on a Connection",
                suggestion=(
                    "with engine.connect() as conn: conn.execute(text('...')); conn.commit()"
                ),
                category=BROKEN if gone else STALE,
                name_only=True,
            )
        elif (
            (receiver in sessions or _CONNECTION_NAME.search(last))
            and call.args
            and isinstance(call.args[0], ast.Constant | ast.JoinedStr)
            and (isinstance(call.args[0], ast.JoinedStr) or isinstance(call.args[0].value, str))
            and ctx.imports("sqlalchemy")
            and not other_lib
        ):
            yield Hit(
                call.args[0],
                "executing a plain SQL string was removed in SQLAlchemy 2.0"
                + ("; it raises ObjectNotExecutableError" if gone else "")
                + ": wrap it in `text()`",
                suggestion="from sqlalchemy import text; .execute(text('...'), {'param': value})",
                category=BROKEN if gone else STALE,
            )


def _declarative_bases(ctx: Context) -> set[str]:
    """Declarative base names: ``Base = declarative_base()``, ``class Base(DeclarativeBase)``."""
    factories = (
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.registry.generate_base",
    )
    out = {
        name
        for name, values in ctx.assigned.items()
        if any(isinstance(v, ast.Call) and ctx.matches(v.func, factories) for v in values)
    }
    for cls in ctx.walk(ast.ClassDef):
        assert isinstance(cls, ast.ClassDef)
        if any(ctx.matches(b, _BASE_CLASSES) for b in cls.bases):
            out.add(cls.name)
    return out


@rule(
    "ET204",
    "Column-only declarative model",
    STALE,
    "sqlalchemy",
    V2,
    "name: Mapped[T] = mapped_column(...)",
)
def column_models(ctx: Context) -> Iterator[Hit]:
    bases = _declarative_bases(ctx)
    column = ("sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.sql.schema.Column")
    for cls in ctx.walk(ast.ClassDef):
        assert isinstance(cls, ast.ClassDef)
        base_names = {dotted(b) for b in cls.bases}
        tablename = any(
            isinstance(s, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in s.targets)
            for s in cls.body
        )
        textual = not (base_names & bases) and "Base" in base_names and tablename
        if not (base_names & bases) and not textual:
            continue
        columns = [
            s
            for s in cls.body
            if isinstance(s, ast.Assign)
            and isinstance(s.value, ast.Call)
            and ctx.matches(s.value.func, column)
        ]
        annotated = any(isinstance(s, ast.AnnAssign) for s in cls.body)
        if not columns or annotated:
            continue
        yield Hit(
            cls,
            f"`{cls.name}` declares its columns with `Column()` only: SQLAlchemy 2.0 models use "
            "`Mapped[...]` annotations with `mapped_column()`"
            + (" (`Base` matched by name: the block does not define it)" if textual else ""),
            suggestion="id: Mapped[int] = mapped_column(primary_key=True) for each Column(...)",
        )


@rule(
    "ET205",
    "select([...]) list form",
    BROKEN,
    "sqlalchemy",
    ">=1.4",
    "select(col1, col2)",
)
def select_list(ctx: Context) -> Iterator[Hit]:
    selects = (
        "sqlalchemy.select",
        "sqlalchemy.sql.select",
        "sqlalchemy.future.select",
        "sqlalchemy.sql.expression.select",
    )
    gone = ctx.at_least("sqlalchemy", "2.0")
    for call in ctx.calls():
        if not call.args or not isinstance(call.args[0], ast.List):
            continue
        textual_ok = ctx.imports("sqlalchemy")
        if ctx.qualname(call.func) in selects or (
            textual_ok and ctx.is_textual(call.func) and ctx.matches(call.func, selects)
        ):
            yield Hit(
                call,
                "`select([...])` with a list is the 1.x form"
                + (", removed in SQLAlchemy 2.0 (raises ArgumentError)" if gone else "")
                + ": pass the columns positionally, `select(a, b)`",
                suggestion="select(" + ", ".join(ast.unparse(e) for e in call.args[0].elts) + ")",
                category=BROKEN if gone else STALE,
            )


@rule(
    "ET206",
    "autocommit= on Session / sessionmaker",
    BROKEN,
    "sqlalchemy",
    V2,
    "no autocommit argument; commit explicitly (or engine isolation_level='AUTOCOMMIT')",
)
def autocommit(ctx: Context) -> Iterator[Hit]:
    factories = (
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.AsyncSession",
    )
    gone = ctx.at_least("sqlalchemy", "2.0")
    for call in ctx.calls():
        kw = keyword(call, "autocommit")
        if kw is None or not ctx.matches(call.func, factories):
            continue
        if is_false(kw.value):
            yield Hit(
                kw,
                "`autocommit=False` is the only mode SQLAlchemy 2.0 has: the argument does nothing",
                suggestion="remove autocommit=False",
                category=STALE,
            )
        else:
            yield Hit(
                kw,
                "autocommit mode was removed in SQLAlchemy 2.0"
                + ("; autocommit=True raises ArgumentError" if gone and is_true(kw.value) else "")
                + ": commit explicitly, or use isolation_level='AUTOCOMMIT' on the engine",
                suggestion="remove autocommit=...; call session.commit() / use session.begin()",
                category=BROKEN if gone and is_true(kw.value) else STALE,
            )


#: What ``sqlalchemy.future`` exports in 2.x: each is ``sqlalchemy``'s own object.
FUTURE_NAMES = ("select", "create_engine", "Engine", "Connection")


@rule(
    "ET207",
    "imports from sqlalchemy.future",
    STALE,
    "sqlalchemy",
    V2,
    "from sqlalchemy import select, create_engine",
)
def future_module(ctx: Context) -> Iterator[Hit]:
    """Textual: 1.4's opt-in to 2.0 behaviour; SQLAlchemy 2.x documents the package as legacy
    (its names are re-exports of ``sqlalchemy``'s), nothing warns."""
    for node, name in ctx.references("sqlalchemy.future", FUTURE_NAMES):
        yield Hit(
            node,
            f"`sqlalchemy.future.{name}` is a legacy re-export in SQLAlchemy 2.x (the 1.4 opt-in "
            f"to 2.0 behaviour, now the default): import it from `sqlalchemy`",
            suggestion=f"from sqlalchemy import {name}",
        )
