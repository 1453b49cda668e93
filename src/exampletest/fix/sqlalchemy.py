"""SQLAlchemy 1.x idioms that 2.0 removed or moved, rewritten to the 2.0 spelling."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from exampletest.fix.base import (
    Edit,
    Pass,
    PassTransformer,
    Rewrite,
    RewriteContext,
    global_names,
    run_passes,
    source_of,
)
from exampletest.rules.sqlalchemy import FUTURE_NAMES

#: Names of ``sqlalchemy.ext.declarative`` that ``sqlalchemy.orm`` now provides.
MOVED_TO_ORM = frozenset(
    {
        "DeclarativeMeta",
        "as_declarative",
        "declarative_base",
        "declared_attr",
        "has_inherited_table",
        "synonym_for",
    }
)
_SESSION_FACTORIES = frozenset({"sessionmaker", "async_sessionmaker", "Session", "AsyncSession"})


class _DeclarativeImport(PassTransformer):
    def __init__(self, module: cst.Module, edit: Edit) -> None:
        super().__init__(edit)
        self.has_orm_import = "from sqlalchemy.orm import" in source_of(module)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        node = updated_node.body[0] if len(updated_node.body) == 1 else None
        if (
            not isinstance(node, cst.ImportFrom)
            or node.relative
            or node.module is None
            or get_full_name_for_node(node.module) != "sqlalchemy.ext.declarative"
            or isinstance(node.names, cst.ImportStar)
        ):
            return updated_node
        moved = [a for a in node.names if get_full_name_for_node(a.name) in MOVED_TO_ORM]
        if not moved:
            return updated_node
        self.edit.applied.add("ET201")
        if len(moved) == len(node.names) and not self.has_orm_import:  # same line, new module
            module = cst.parse_expression("sqlalchemy.orm")
            assert isinstance(module, cst.Attribute)
            return updated_node.with_changes(body=[node.with_changes(module=module)])
        for alias in moved:
            name = get_full_name_for_node(alias.name)
            suffix = f" as {alias.evaluated_alias}" if alias.evaluated_alias else ""
            self.edit.imports.append(f"from sqlalchemy.orm import {name}{suffix}")
        kept = [a for a in node.names if a not in moved]
        if not kept:
            return cst.RemoveFromParent()
        kept[-1] = kept[-1].with_changes(comma=node.names[-1].comma)
        return updated_node.with_changes(body=[node.with_changes(names=kept)])


class _SqlCalls(PassTransformer):
    """``select([a, b])`` -> ``select(a, b)``; ``autocommit=False`` dropped from sessions."""

    def __init__(self, wrapper: MetadataWrapper, rule: str, edit: Edit) -> None:
        super().__init__(edit)
        self.scope = global_names(wrapper)
        self.rule = rule
        self.sqlalchemy_names = {
            alias.evaluated_alias or get_full_name_for_node(alias.name) or ""
            for stmt in wrapper.module.body
            if isinstance(stmt, cst.SimpleStatementLine)
            for imp in stmt.body
            if isinstance(imp, cst.ImportFrom)
            and imp.module is not None
            and (get_full_name_for_node(imp.module) or "").startswith("sqlalchemy")
            and not isinstance(imp.names, cst.ImportStar)
            for alias in imp.names
        }

    def _callee(self, func: cst.BaseExpression) -> str | None:
        """The SQLAlchemy function a call makes: imported from sqlalchemy, or never bound here."""
        if isinstance(func, cst.Name):
            bound = func.value in self.scope
            return func.value if func.value in self.sqlalchemy_names or not bound else None
        full = get_full_name_for_node(func) or ""
        return full.rsplit(".", 1)[-1] if full.startswith(("sa.", "sqlalchemy.")) else None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        callee = self._callee(original_node.func)
        if self.rule == "ET205" and callee == "select":
            return self._select(original_node, updated_node)
        if self.rule == "ET206" and callee in _SESSION_FACTORIES:
            return self._autocommit(original_node, updated_node)
        return updated_node

    def _select(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not updated.args or not isinstance(updated.args[0].value, cst.List):
            return updated
        if len(updated.args) > 1 or updated.args[0].keyword or updated.args[0].star:
            self.note(
                "ET205",
                original,
                "select([...], whereclause, ...) is the 1.x signature: pass the columns "
                "positionally and chain .where(...) by hand",
            )
            return updated
        elements = list(updated.args[0].value.elements)
        args = [
            cst.Arg(
                e.value,
                star="*" if isinstance(e, cst.StarredElement) else "",
                comma=e.comma if i < len(elements) - 1 else cst.MaybeSentinel.DEFAULT,
            )
            for i, e in enumerate(elements)
        ]
        self.edit.applied.add("ET205")
        return updated.with_changes(args=args)

    def _autocommit(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        arg = next((a for a in updated.args if a.keyword and a.keyword.value == "autocommit"), None)
        if arg is None:
            return updated
        value = arg.value
        if not (isinstance(value, cst.Name) and value.value == "False"):
            self.note(
                "ET206",
                original,
                "autocommit mode is gone in SQLAlchemy 2.0: commit explicitly "
                "(session.commit(), or engine.begin()) and remove autocommit= by hand",
            )
            return updated
        args = list(updated.args)
        at = args.index(arg)
        del args[at]
        if args and at == len(args):  # removed the last: the new last keeps its ending
            args[-1] = args[-1].with_changes(comma=arg.comma)
        self.edit.applied.add("ET206")
        return updated.with_changes(args=args)


#: Terminal calls of a legacy Query chain that 2.0's ``Session.scalars()`` result also has.
_TERMINALS = frozenset({"first", "all", "one", "one_or_none"})
#: Query methods a 2.0 ``Select`` has too, with its name for them.
_CHAIN = {
    "filter": "where", "filter_by": "filter_by", "order_by": "order_by", "limit": "limit",
    "offset": "offset", "options": "options", "join": "join", "outerjoin": "outerjoin",
    "distinct": "distinct", "group_by": "group_by",
}  # fmt: skip


class _LegacyQuery(PassTransformer):
    """``s.query(M).filter(c).first()`` -> ``s.scalars(select(M).where(c)).first()``, and
    ``s.query(M).get(k)`` -> ``s.get(M, k)``.

    One entity, methods a ``Select`` has too (``filter_by``, ``order_by``, ``join``, ...), a
    terminal the 2.0 result also has. Anything else (``count``, ``update``, several entities)
    stays a suggestion.
    """

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        if func.attr.value == "get":
            return self._get(updated_node, func)
        if func.attr.value not in _TERMINALS or updated_node.args:
            return updated_node
        chain: list[tuple[str, Sequence[cst.Arg]]] = []
        node = func.value
        while (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _CHAIN
        ):
            chain.insert(0, (_CHAIN[node.func.attr.value], node.args))
            node = node.func.value
        query = _query_of_one(node)
        if query is None:
            return updated_node
        statement: cst.BaseExpression = cst.Call(cst.Name("select"), [_last(query.args)[0]])
        for method, args in chain:
            statement = cst.Call(cst.Attribute(statement, cst.Name(method)), _last(args))
        assert isinstance(query.func, cst.Attribute)
        scalars = cst.Call(
            cst.Attribute(query.func.value, cst.Name("scalars")), [cst.Arg(statement)]
        )
        self.edit.applied.add("ET202")
        self.edit.imports.append("from sqlalchemy import select")
        return updated_node.with_changes(func=func.with_changes(value=scalars))

    def _get(self, call: cst.Call, func: cst.Attribute) -> cst.BaseExpression:
        query = _query_of_one(func.value)
        if query is None or len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return call
        assert isinstance(query.func, cst.Attribute)
        entity = query.args[0].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        )
        self.edit.applied.add("ET202")
        return cst.Call(
            cst.Attribute(query.func.value, cst.Name("get")), [entity, *_last(call.args)]
        )


def _query_of_one(node: cst.BaseExpression) -> cst.Call | None:
    """``s.query(M)``: one positional entity."""
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "query"
        and len(node.args) == 1
        and not node.args[0].keyword
        and not node.args[0].star
    ):
        return node
    return None


def _last(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """The arguments with no trailing comma after the last."""
    out = list(args)
    if out:
        out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return out


#: What makes a ``session.query()`` SQLAlchemy's when the document never says so otherwise.
_ORM_PACKAGES = frozenset({"sqlalchemy", "sqlmodel", "flask_sqlalchemy"})


def _legacy_query(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    if ctx.packages is not None and not ctx.packages & _ORM_PACKAGES:
        # `db.query(Item)` matched by the receiver's name only: another ORM's, perhaps.
        edit.notes.append(
            "ET202: the document never imports SQLAlchemy, so this `.query()` may be another "
            "library's; not rewritten"
        )
        return wrapper.module
    return wrapper.visit(_LegacyQuery(edit))


def _declarative(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_DeclarativeImport(wrapper.module, edit))


def _select(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_SqlCalls(wrapper, "ET205", edit))


def _sessions(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_SqlCalls(wrapper, "ET206", edit))


class _FutureImport(PassTransformer):
    """``from sqlalchemy.future import select`` -> ``from sqlalchemy import select``."""

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        names = updated_node.names
        if (
            updated_node.relative
            or updated_node.module is None
            or get_full_name_for_node(updated_node.module) != "sqlalchemy.future"
            or isinstance(names, cst.ImportStar)
            or any(get_full_name_for_node(a.name) not in FUTURE_NAMES for a in names)
        ):
            return updated_node
        self.edit.applied.add("ET207")
        return updated_node.with_changes(module=cst.Name("sqlalchemy"))


def _future(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_FutureImport(edit))


PASSES: tuple[Pass, ...] = (
    Pass(("ET207",), _future, ("sqlalchemy.future",)),
    Pass(("ET201",), _declarative, ("sqlalchemy.ext.declarative",)),
    Pass(("ET205",), _select, ("select",)),
    Pass(("ET206",), _sessions, ("autocommit",)),
    Pass(("ET202",), _legacy_query, (".query(",)),
)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
