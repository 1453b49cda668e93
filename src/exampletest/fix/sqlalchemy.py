"""SQLAlchemy 1.x idioms that 2.0 removed or moved, rewritten to the 2.0 spelling."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from exampletest.fix.base import (
    Edit,
    Pass,
    PassTransformer,
    Rewrite,
    RewriteContext,
    children,
    global_names,
    imported_from,
    module_aliases,
    parent_map,
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
    """``s.query(M).filter(c).first()`` -> ``s.scalars(select(M).where(c)).first()``,
    ``s.query(func.count(M.id)).scalar()`` -> ``s.scalar(select(func.count(M.id)))``,
    ``s.query(M).filter(c).count()`` -> ``s.scalar(select(func.count()).select_from(
    select(M).where(c).subquery()))`` (what ``Query.count()`` runs), and
    ``s.query(M).get(k)`` -> ``s.get(M, k)``.

    Entities given positionally (several: ``s.execute(select(A, B)).all()``, rows as the
    Query gave), methods a ``Select`` has too (``filter_by``, ``order_by``, ``join``, ...), a
    terminal the 2.0 result also has. A Query kept in a variable (refined, ``q = q.filter(...)``,
    then run or iterated) becomes a ``select()`` the same way, when every use of the variable
    is one of those (see :func:`_query_variables`). Anything else (``update``, a Query passed
    on) stays a suggestion; so does ``count()`` where the block's ``func`` is not SQLAlchemy's.
    (``.all()`` is a ``Sequence`` in 2.0: where the code says ``list``, :class:`_ListedResults`
    wraps it in ``list()``, which the Query's list was.)
    """

    def __init__(self, edit: Edit, count: bool, variables: _Variables) -> None:
        super().__init__(edit)
        self.count = count  # the block's `func` is SQLAlchemy's, or free to import
        self.variables = variables

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        if original_node in self.variables.renames:
            return updated_node.with_changes(attr=cst.Name(_CHAIN[updated_node.attr.value]))
        return updated_node

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        return self._iterated(original_node, updated_node)

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        return self._iterated(original_node, updated_node)

    def _iterated(self, original: _Loop, updated: _Loop) -> _Loop:
        """``for x in q...:`` -> ``for x in s.scalars(q...):``."""
        used = self.variables.iterated.get(original)
        if used is None:
            return updated
        self._applied()
        session, rows = used
        result = cst.Call(
            cst.Attribute(session.deep_clone(), cst.Name(rows)), [cst.Arg(updated.iter)]
        )
        return updated.with_changes(iter=result)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.variables.bases:
            self._applied()
            return cst.Call(cst.Name("select"), _last(updated_node.args))
        func = updated_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        used = self.variables.terminals.get(original_node)
        if used is not None:
            return self._run(updated_node, func, func.value, *used)
        if func.attr.value == "get":
            return self._get(updated_node, func)
        terminals = {*_TERMINALS, "scalar", *(("count",) if self.count else ())}
        if func.attr.value not in terminals or updated_node.args:
            return updated_node
        node, calls = _chain_base(func.value)
        query = _query_of(node)
        if query is None:
            return updated_node
        statement: cst.BaseExpression = cst.Call(cst.Name("select"), _last(query.args))
        for call in reversed(calls):
            assert isinstance(call.func, cst.Attribute)
            method = cst.Name(_CHAIN[call.func.attr.value])
            statement = cst.Call(cst.Attribute(statement, method), _last(call.args))
        assert isinstance(query.func, cst.Attribute)
        return self._run(updated_node, func, statement, query.func.value, _rows(query))

    def _applied(self) -> None:
        self.edit.applied.add("ET202")
        self.edit.imports.append("from sqlalchemy import select")

    def _run(
        self,
        call: cst.Call,
        terminal: cst.Attribute,
        statement: cst.BaseExpression,
        session: cst.BaseExpression,
        rows: str,
    ) -> cst.BaseExpression:
        """The 2.0 call that runs ``statement`` as ``terminal`` (``.first()``, ``.count()``,
        ...) ran the Query."""
        self._applied()
        session = session.deep_clone()
        if terminal.attr.value == "count":
            self.edit.imports.append("from sqlalchemy import func")
            subquery = cst.Call(cst.Attribute(statement, cst.Name("subquery")))
            statement = cst.parse_expression("select(func.count()).select_from(x)")
            assert isinstance(statement, cst.Call)
            statement = statement.with_changes(args=[cst.Arg(subquery)])
        if terminal.attr.value in ("scalar", "count"):  # a single value, or None: the same
            return cst.Call(cst.Attribute(session, cst.Name("scalar")), [cst.Arg(statement)])
        result = cst.Call(cst.Attribute(session, cst.Name(rows)), [cst.Arg(statement)])
        return call.with_changes(func=terminal.with_changes(value=result))

    def _get(self, call: cst.Call, func: cst.Attribute) -> cst.BaseExpression:
        query = _query_of(func.value, most=1)
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


_Loop = TypeVar("_Loop", cst.For, cst.CompFor)


class _ListedResults(PassTransformer):
    """``return session.scalars(stmt).all()`` in a function that says it returns a ``list``
    (or ``users: list[User] = ...``): 2.0 types ``.all()`` as ``Sequence`` (mypy's
    return-value error); the list it returns at run time is kept as a list with ``list()``."""

    def __init__(self, edit: Edit) -> None:
        super().__init__(edit)
        self.returns: list[cst.BaseExpression | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.returns.append(node.returns.annotation if node.returns else None)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.returns.pop()
        return updated_node

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        value = updated_node.value
        if value is None or not _is_list((self.returns or [None])[-1]) or not _result_all(value):
            return updated_node
        self.edit.applied.add("return-value")
        return updated_node.with_changes(value=_listed(value))

    def leave_AnnAssign(
        self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign
    ) -> cst.AnnAssign:
        """``users: List[User] = s.scalars(q).all()``."""
        value = updated_node.value
        if value is None or not _is_list(updated_node.annotation.annotation):
            return updated_node
        if not _result_all(value):
            return updated_node
        self.edit.applied.add("return-value")
        return updated_node.with_changes(value=_listed(value))


def _result_all(value: cst.BaseExpression) -> bool:
    """``s.scalars(q).all()``, ``(await s.execute(q)).scalars().all()``, ``r.scalars().all()``,
    ``s.execute(q).all()``: a SQLAlchemy result's ``.all()``."""
    if not (
        isinstance(value, cst.Call)
        and not value.args
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "all"
    ):
        return False
    inner = value.func.value
    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
        return inner.func.attr.value in ("scalars", "execute", "unique")
    return False


def _listed_results(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_ListedResults(edit))


def _rows(query: cst.Call) -> str:
    """A mapped class alone: its objects (``scalars``); columns or several entities: rows, as
    the Query gave (``query(User.name).all()`` is a list of 1-tuples)."""
    return "scalars" if len(query.args) == 1 and _is_class(query.args[0].value) else "execute"


def _is_list(annotation: cst.BaseExpression | None) -> bool:
    """``list``, ``List[User]``, ``typing.List[User]``, ``"list[User]"``."""
    if isinstance(annotation, cst.SimpleString):
        try:
            annotation = cst.parse_expression(str(annotation.evaluated_value))
        except cst.ParserSyntaxError:
            return False
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        sides = [annotation.left, annotation.right]  # `list[User] | None`
        return any(_is_list(side) for side in sides if not _is_none(side))
    if isinstance(annotation, cst.Subscript):
        if get_full_name_for_node(annotation.value) in ("Optional", "typing.Optional"):
            inner = annotation.slice[0].slice if len(annotation.slice) == 1 else None
            return isinstance(inner, cst.Index) and _is_list(inner.value)
        annotation = annotation.value
    name = get_full_name_for_node(annotation) if annotation is not None else None
    return name in ("list", "List", "typing.List")


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _listed(value: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Name("list"), [cst.Arg(value)])


@dataclass
class _Variables:
    """What :func:`_query_variables` found to rewrite, by node of the original tree."""

    bases: set[cst.Call] = field(default_factory=set)  # `s.query(M)`: becomes `select(M)`
    renames: set[cst.Attribute] = field(default_factory=set)  # `.filter` -> `.where`, ...
    #: `q.first()` -> (the session, "scalars" or "execute")
    terminals: dict[cst.Call, tuple[cst.BaseExpression, str]] = field(default_factory=dict)
    iterated: dict[cst.For | cst.CompFor, tuple[cst.BaseExpression, str]] = field(
        default_factory=dict
    )


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
#: Where a name is not the enclosing scope's own (a closure, a class body, a comprehension).
_NESTED = (cst.FunctionDef, cst.ClassDef, cst.Lambda, *_COMPREHENSIONS)


def _query_variables(module: cst.Module, count: bool) -> _Variables:
    """Variables that hold a legacy Query in one scope (the module, a function) and are only
    ever assigned ``s.query(M)...`` or ``q.<method>(...)`` and used as ``q...first()`` or
    ``for x in q...:``: each becomes a ``select()``. One use of any other kind (passed on,
    returned, used in a closure) and the variable stays as it is."""
    found = _Variables()
    parents = parent_map(module)
    scopes: list[cst.CSTNode] = [module]
    order: dict[cst.CSTNode, int] = {}  # each node's place in the source
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        order[node] = len(order)
        if isinstance(node, cst.FunctionDef):
            scopes.append(node)
        stack.extend(reversed(children(node)))
    for scope in scopes:
        own, nested = _scope_names(scope)
        for var in {n.value for n in own} - nested:
            plan = _plan(var, [n for n in own if n.value == var], parents, count)
            if plan is not None and _session_rebound(plan, own, parents, order):
                continue
            if plan is not None:
                found.bases |= plan.bases
                found.renames |= plan.renames
                found.terminals.update(plan.terminals)
                found.iterated.update(plan.iterated)
    return found


def _scope_names(scope: cst.CSTNode) -> tuple[list[cst.Name], set[str]]:
    """The names a scope's own code reads or binds (not an attribute's or a keyword's name),
    and the names used in its nested scopes or declared global or nonlocal there."""
    own: list[cst.Name] = []
    nested: set[str] = set()
    stack: list[tuple[cst.CSTNode, bool]] = [(kid, False) for kid in children(scope)]
    if isinstance(scope, cst.FunctionDef):
        # its parameters' names and its body are its own; decorators, defaults and
        # annotations run in the enclosing scope: counted as not its own (never rewritten)
        params = scope.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        stack = [(scope.body, False), *((p.name, False) for p in every)]
        stack += [(kid, True) for kid in children(scope) if kid not in (scope.body, params)]
        stack += [(kid, True) for p in every for kid in children(p) if kid is not p.name]
    while stack:
        node, inner = stack.pop()
        if isinstance(node, cst.Global | cst.Nonlocal):
            nested.update(n.name.value for n in node.names)
        if isinstance(node, cst.Name):
            if inner:
                nested.add(node.value)
            else:
                own.append(node)
        elif isinstance(node, cst.Attribute | cst.Arg):
            stack.append((node.value, inner))
        elif not inner and isinstance(node, _COMPREHENSIONS):
            # the first `in` is evaluated where the comprehension is
            stack.append((node.for_in.iter, False))
            kids = [k for k in children(node) if k is not node.for_in]
            kids += [k for k in children(node.for_in) if k is not node.for_in.iter]
            stack.extend((kid, True) for kid in kids)
        else:
            stack.extend((kid, inner or isinstance(node, _NESTED)) for kid in children(node))
    return own, nested


def _plan(
    var: str, names: list[cst.Name], parents: dict[cst.CSTNode, cst.CSTNode], count: bool
) -> _Variables | None:
    """The rewrite of one variable, if every one of its uses is understood."""
    plan = _Variables()
    sessions: set[str] = set()
    rows: set[str] = set()
    uses: list[cst.Call | cst.For | cst.CompFor] = []
    terminals = {*_TERMINALS, "scalar", *(("count",) if count else ())}
    for name in names:
        parent = parents.get(name)
        if isinstance(parent, cst.AssignTarget):
            assign = parents.get(parent)
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                return None
            base, calls = _chain_base(assign.value)
            query = _query_of(base)
            if query is None:
                if not (isinstance(base, cst.Name) and base.value == var):
                    return None
                continue  # `q = q.filter(...)`: its `q` is a use, classified below
            assert isinstance(query.func, cst.Attribute)
            session = query.func.value
            if _root(session) is None:  # `get_session().query(...)`: a new session each time
                return None
            sessions.add(cst.Module([]).code_for_node(session))
            rows.add(_rows(query))
            plan.bases.add(query)
            plan.renames.update(c.func for c in calls if isinstance(c.func, cst.Attribute))
            continue
        current: cst.CSTNode = name
        while (step := _method_call(current, parents, _CHAIN)) is not None:
            plan.renames.add(step[0])  # `q.filter(...)` -> `q.where(...)`
            current = step[1]
        above = parents.get(current)
        run = _method_call(current, parents, terminals)
        if run is not None and not run[1].args:
            uses.append(run[1])
        elif isinstance(above, cst.For | cst.CompFor) and above.iter is current:
            uses.append(above)
        elif not (
            isinstance(above, cst.Assign)
            and above.value is current
            and len(above.targets) == 1
            and isinstance(above.targets[0].target, cst.Name)
            and above.targets[0].target.value == var
        ):
            return None
    if len(sessions) != 1 or len(rows) != 1 or not uses:
        return None
    session = cst.parse_expression(sessions.pop())
    how = (session, rows.pop())
    for use in uses:
        if isinstance(use, cst.For | cst.CompFor):
            plan.iterated[use] = how
        else:
            plan.terminals[use] = how
    return plan


def _method_call(
    node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], names: Collection[str]
) -> tuple[cst.Attribute, cst.Call] | None:
    """``node.<name>(...)`` around ``node``, one of ``names``: the attribute and the call."""
    above = parents.get(node)
    call = parents.get(above) if above is not None else None
    if (
        isinstance(above, cst.Attribute)
        and above.value is node
        and above.attr.value in names
        and isinstance(call, cst.Call)
        and call.func is above
    ):
        return above, call
    return None


def _root(expr: cst.BaseExpression) -> cst.Name | None:
    """``db`` of ``db`` or ``self.db``; None for anything else (a call, a subscript)."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def _session_rebound(
    plan: _Variables,
    own: list[cst.Name],
    parents: dict[cst.CSTNode, cst.CSTNode],
    order: dict[cst.CSTNode, int],
) -> bool:
    """Whether the session's name is bound again after the Query is made (``db = other``):
    the Query belongs to the first one, a ``select()`` would run on the second."""
    bases = [q for q in plan.bases if isinstance(q.func, cst.Attribute)]
    roots = {
        r.value for q in bases if isinstance(q.func, cst.Attribute) and (r := _root(q.func.value))
    }
    made = min(order[q] for q in bases)
    for name in own:
        if name.value not in roots or order[name] < made:
            continue
        parent = parents.get(name)
        if isinstance(parent, cst.AssignTarget | cst.AsName | cst.NamedExpr | cst.AugAssign):
            return True
        if isinstance(parent, cst.For | cst.CompFor) and parent.target is name:
            return True
    return False


def _chain_base(value: cst.BaseExpression) -> tuple[cst.BaseExpression, list[cst.Call]]:
    """``x.filter(a).order_by(b)`` -> (``x``, the ``.order_by(b)`` and ``.filter(a)`` calls:
    methods a ``Select`` has too, outermost first)."""
    calls: list[cst.Call] = []
    node = value
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in _CHAIN
    ):
        calls.append(node)
        node = node.func.value
    return node, calls


def _query_of(node: cst.BaseExpression, most: int | None = None) -> cst.Call | None:
    """``s.query(M)`` or ``s.query(M.a, func.count(M.id))``: positional entities only (at
    most ``most``)."""
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "query"
        and 0 < len(node.args) <= (most or len(node.args))
        and not any(a.keyword or a.star for a in node.args)
    ):
        return node
    return None


def _is_class(expr: cst.BaseExpression) -> bool:
    """``User``, ``models.User``: a mapped class by its spelling (a column is ``User.name``)."""
    name = expr.value if isinstance(expr, cst.Name) else None
    if isinstance(expr, cst.Attribute):
        name = expr.attr.value
    return name is not None and name[:1].isupper()


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
    own = imported_from(wrapper.module, "sqlalchemy").get("func") == "func"
    count = own or "func" not in global_names(wrapper)
    return wrapper.visit(_LegacyQuery(edit, count, _query_variables(wrapper.module, count)))


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


#: SQLAlchemy column types -> (the Python type a ``Mapped[...]`` annotation gives it, the
#: module that type comes from, or None for a builtin).
_PYTHON_TYPES: dict[str, tuple[str, str | None]] = {
    **dict.fromkeys(("Integer", "SmallInteger", "BigInteger", "INTEGER", "INT", "BIGINT",
                     "SMALLINT"), ("int", None)),
    **dict.fromkeys(("String", "Text", "Unicode", "UnicodeText", "VARCHAR", "NVARCHAR", "CHAR",
                     "NCHAR", "TEXT", "CLOB"), ("str", None)),
    **dict.fromkeys(("Boolean", "BOOLEAN"), ("bool", None)),
    **dict.fromkeys(("Float", "REAL", "Double", "DOUBLE", "DOUBLE_PRECISION", "FLOAT"),
                    ("float", None)),
    **dict.fromkeys(("Numeric", "DECIMAL", "NUMERIC"), ("Decimal", "decimal")),
    **dict.fromkeys(("DateTime", "DATETIME", "TIMESTAMP"), ("datetime", "datetime")),
    **dict.fromkeys(("Date", "DATE"), ("date", "datetime")),
    **dict.fromkeys(("Time", "TIME"), ("time", "datetime")),
    "Interval": ("timedelta", "datetime"),
    **dict.fromkeys(("LargeBinary", "BLOB", "BINARY", "VARBINARY"), ("bytes", None)),
    **dict.fromkeys(("Uuid", "UUID"), ("UUID", "uuid")),
}  # fmt: skip


class _MappedColumns(PassTransformer):
    """A declarative model's ``name = Column(Type, ...)`` -> ``name: Mapped[T] =
    mapped_column(Type, ...)``, its arguments as they were (the table is the same): ``T``
    is the column type's Python type, ``T | None`` for a column that may be NULL (Column's
    default, unless it is a primary key or ``nullable=False``). All of a class's columns or
    none: a type with no one Python type (``JSON``, a custom type) leaves the class as it is,
    with a note. ``relationship()`` lines stay: 2.0 maps them unannotated too."""

    def __init__(self, wrapper: MetadataWrapper, edit: Edit) -> None:
        super().__init__(edit)
        module = wrapper.module
        self.scope = global_names(wrapper)
        self.from_sqlalchemy: dict[str, str] = {}  # local name -> SQLAlchemy's name for it
        for stmt in module.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if (
                    isinstance(small, cst.ImportFrom)
                    and small.module is not None
                    and not small.relative
                    and (get_full_name_for_node(small.module) or "").split(".")[0] == "sqlalchemy"
                    and not isinstance(small.names, cst.ImportStar)
                ):
                    for alias in small.names:
                        name = get_full_name_for_node(alias.name) or ""
                        self.from_sqlalchemy[alias.evaluated_alias or name] = name
        self.sqlalchemy_modules = module_aliases(module, "sqlalchemy") | {"sqlalchemy"}
        self.module = module
        self.imports: list[str] = []

    def _sqlalchemy_name(self, expr: cst.BaseExpression) -> str | None:
        """SQLAlchemy's name for ``Column``, ``sa.Integer``, ``String(50)``'s callee, ..."""
        if isinstance(expr, cst.Call):
            expr = expr.func
        if isinstance(expr, cst.Name):
            if expr.value in self.from_sqlalchemy:
                return self.from_sqlalchemy[expr.value]
            return expr.value if expr.value not in self.scope else None  # matched by name
        full = get_full_name_for_node(expr) or ""
        root, _, rest = full.partition(".")
        return rest.rsplit(".", 1)[-1] if root in self.sqlalchemy_modules and rest else None

    def _spelled(self, name: str, origin: str | None) -> str | None:
        """How the block can name a Python type: a builtin, its ``from origin import``, its
        module's alias, or a new ``from origin import name`` when that name is free."""
        if origin is None:
            return name
        local = next((k for k, v in imported_from(self.module, origin).items() if v == name), None)
        if local is not None:
            return local
        alias = next(iter(sorted(module_aliases(self.module, origin))), None)
        if alias is not None:
            return f"{alias}.{name}"
        if name in self.scope:
            return None
        self.imports.append(f"from {origin} import {name}")
        return name

    def _annotation(self, call: cst.Call) -> str | None:
        """``T`` or ``T | None`` for a ``Column(...)`` call; None when it has no one type."""
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword}
        positional = [a.value for a in call.args if not a.keyword and not a.star]
        if positional and isinstance(positional[0], cst.SimpleString | cst.ConcatenatedString):
            positional = positional[1:]  # the column's own name
        kind = keywords.get("type_", positional[0] if positional else None)
        name = self._sqlalchemy_name(kind) if kind is not None else None
        if kind is None or name is None:
            return None
        options = kind.args if isinstance(kind, cst.Call) else ()
        flags = {a.keyword.value: a.value for a in options if a.keyword}
        if name == "Enum":
            first = next((a.value for a in options if not a.keyword and not a.star), None)
            python = (
                self.module.code_for_node(first)
                if isinstance(first, cst.Name | cst.Attribute)
                else "str"
                if isinstance(first, cst.SimpleString)
                else None
            )
        elif name in _PYTHON_TYPES:
            python, origin = _PYTHON_TYPES[name]
            if _is_false(flags.get("as_uuid")):
                python, origin = "str", None
            elif _is_false(flags.get("asdecimal")):
                python, origin = "float", None
            python = self._spelled(python, origin)
        else:
            python = None
        if python is None:
            return None
        nullable = keywords.get("nullable")
        required = _is_true(keywords.get("primary_key")) or _is_false(nullable)
        return f"{python} | None" if _is_true(nullable) or not required else python

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        body = updated_node.body
        if not isinstance(body, cst.IndentedBlock):
            return updated_node
        statements = list(body.body)
        lines = [
            (i, s.body[0])
            for i, s in enumerate(statements)
            if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1
        ]
        if any(isinstance(small, cst.AnnAssign) for _, small in lines) or not any(
            _assigns(small, "__tablename__") or _assigns(small, "__abstract__")
            for _, small in lines
        ):
            return updated_node
        columns = [
            (i, small)
            for i, small in lines
            if isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and isinstance(small.value, cst.Call)
            and self._sqlalchemy_name(small.value.func) == "Column"
        ]
        if not columns:
            return updated_node
        before = list(self.imports)
        typed: list[tuple[int, cst.Assign, str]] = []
        for i, assign in columns:
            assert isinstance(assign.value, cst.Call)
            annotation = self._annotation(assign.value)
            if annotation is None:
                self.imports[:] = before
                target = self.module.code_for_node(assign.targets[0].target)
                self.note(
                    "ET204",
                    original_node,
                    f"`{updated_node.name.value}.{target}`'s column type has no one Python "
                    "type to annotate it with: write its `Mapped[...]` by hand",
                )
                return updated_node
            typed.append((i, assign, annotation))
        for i, assign, annotation in typed:
            assert isinstance(assign.value, cst.Call)
            statement = cst.parse_statement(f"x: Mapped[{annotation}] = mapped_column()")
            assert isinstance(statement, cst.SimpleStatementLine)
            new = statement.body[0]
            assert isinstance(new, cst.AnnAssign) and isinstance(new.value, cst.Call)
            call = assign.value.with_changes(func=new.value.func)
            line = statements[i]
            assert isinstance(line, cst.SimpleStatementLine)
            statements[i] = line.with_changes(
                body=[new.with_changes(target=assign.targets[0].target, value=call)]
            )
        self.edit.applied.add("ET204")
        self.edit.imports.extend(
            ["from sqlalchemy.orm import Mapped, mapped_column", *self.imports]
        )
        self.imports.clear()
        self.edit.unused.append(("sqlalchemy", "Column"))
        return updated_node.with_changes(body=body.with_changes(body=statements))


def _assigns(small: cst.BaseSmallStatement, name: str) -> bool:
    return isinstance(small, cst.Assign) and any(
        isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
    )


def _is_true(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Name) and value.value == "True"


def _is_false(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Name) and value.value == "False"


def _mapped(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_MappedColumns(wrapper, edit))


class _DeclarativeClass(PassTransformer):
    """``Base = declarative_base()`` -> ``class Base(DeclarativeBase): pass``, 2.0's form,
    which type checkers follow (mypy rejects a class a function made as a base class, so
    every model of the block was unchecked); ``metadata=`` becomes the class's ``metadata``.
    Other arguments (``cls=``, ``name=``, ...) leave it as it is, with a note."""

    def __init__(self, wrapper: MetadataWrapper, edit: Edit) -> None:
        super().__init__(edit)
        module = wrapper.module
        self.module = module
        origins = ("sqlalchemy.orm", "sqlalchemy.ext.declarative")
        self.names = {
            local
            for origin in origins
            for local, name in imported_from(module, origin).items()
            if name == "declarative_base"
        }
        self.prefixes = {f"{a}.orm" for a in module_aliases(module, "sqlalchemy")}
        self.prefixes |= module_aliases(module, "sqlalchemy.orm")
        self.prefixes |= {k for k, v in imported_from(module, "sqlalchemy").items() if v == "orm"}

    def _is_declarative_base(self, func: cst.BaseExpression) -> bool:
        if isinstance(func, cst.Name):
            return func.value in self.names
        full = get_full_name_for_node(func) or ""
        prefix, _, name = full.rpartition(".")
        return name == "declarative_base" and prefix in self.prefixes

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        for i, stmt in enumerate(body):
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if not (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Call)
                and self._is_declarative_base(small.value.func)
            ):
                continue
            assert isinstance(stmt, cst.SimpleStatementLine)
            name = small.targets[0].target.value
            args = small.value.args
            if any(a.keyword is None or a.keyword.value != "metadata" for a in args):
                self.note(
                    "valid-type",
                    original_node.body[i],
                    f"`{name} = declarative_base(...)` with arguments `DeclarativeBase` takes "
                    "as class attributes or not at all: write `class "
                    f"{name}(DeclarativeBase)` by hand",
                )
                continue
            inside = f"metadata = {self.module.code_for_node(args[0].value)}" if args else "pass"
            new = cst.parse_statement(f"class {name}(DeclarativeBase):\n    {inside}\n")
            assert isinstance(new, cst.ClassDef)
            body[i] = new.with_changes(leading_lines=stmt.leading_lines)
            self.edit.applied.add("valid-type")
        if "valid-type" not in self.edit.applied:
            return updated_node
        self.edit.imports.append("from sqlalchemy.orm import DeclarativeBase")
        self.edit.unused.extend(
            [
                ("sqlalchemy.orm", "declarative_base"),
                ("sqlalchemy.ext.declarative", "declarative_base"),
            ]
        )
        return updated_node.with_changes(body=body)


def _declarative_class(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_DeclarativeClass(wrapper, edit))


#: A model's declaration, 1.x -> 2.0 (its base class, its columns): a group of its own, as
#: it is what lets mypy check the models at all (a fix can keep the other SQLAlchemy
#: rewrites and leave this one out, when what mypy then sees, ``T | None`` or a backref it
#: cannot follow, is a problem in the block or a later one).
MODEL_PASSES: tuple[Pass, ...] = (
    Pass(("valid-type",), _declarative_class, ("declarative_base(",)),
    Pass(("ET204",), _mapped, ("Column(",)),
)


def rewrite_models(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, MODEL_PASSES)


PASSES: tuple[Pass, ...] = (
    Pass(("ET207",), _future, ("sqlalchemy.future",)),
    Pass(("ET201",), _declarative, ("sqlalchemy.ext.declarative",)),
    Pass(("ET205",), _select, ("select",)),
    Pass(("ET206",), _sessions, ("autocommit",)),
    Pass(("ET202",), _legacy_query, (".query(",)),
    Pass(("return-value",), _listed_results, (".all()",)),
)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
