"""Standard-library and PyJWT modernizations: aware UTC datetimes, explicit JWT algorithms.

``datetime.now(UTC)`` returns an *aware* datetime where ``utcnow()`` returned a naive one; that
is the point of the fix, and the re-run of the block is what shows whether the code copes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import GlobalScope, MetadataWrapper, Scope, ScopeProvider

from exampletest.fix.base import (
    Edit,
    Pass,
    PassTransformer,
    Rewrite,
    RewriteContext,
    global_names,
    run_passes,
)


def _imported_from(module: cst.Module, origin: str) -> dict[str, str]:
    """Local name -> imported name, for every ``from origin import ...``."""
    found: dict[str, str] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.ImportFrom)
                and not small.relative
                and small.module is not None
                and get_full_name_for_node(small.module) == origin
                and not isinstance(small.names, cst.ImportStar)
            ):
                for alias in small.names:
                    name = get_full_name_for_node(alias.name) or ""
                    found[alias.evaluated_alias or name] = name
    return found


def _module_aliases(module: cst.Module, origin: str) -> set[str]:
    """Local names bound by ``import origin [as x]``."""
    return {
        alias.evaluated_alias or origin
        for stmt in module.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
        if isinstance(small, cst.Import)
        for alias in small.names
        if get_full_name_for_node(alias.name) == origin
    }


class _Utc(PassTransformer):
    """``utcnow()`` -> ``now(UTC)``; ``utcfromtimestamp(x)`` -> ``fromtimestamp(x, UTC)``."""

    def __init__(self, wrapper: MetadataWrapper, method: str, call_rule: str, edit: Edit) -> None:
        super().__init__(edit)
        module = wrapper.module
        scope = global_names(wrapper)
        names = _imported_from(module, "datetime")
        self.classes = {local for local, name in names.items() if name == "datetime"}
        if "datetime" not in scope:  # a fragment: the usual `from datetime import datetime`
            self.classes.add("datetime")
        self.modules = _module_aliases(module, "datetime")
        self.utc_free = "UTC" not in scope or names.get("UTC") == "UTC"
        self.method = method
        self.call_rule = call_rule
        self.parents: set[int] = set()  # Attributes already rewritten as part of their call

    def _utc(self, owner: cst.BaseExpression) -> cst.BaseExpression | None:
        """The UTC constant for a ``datetime`` class reference ``owner``; None if not one."""
        if isinstance(owner, cst.Name) and owner.value in self.classes:
            if not self.utc_free:
                return None
            self.edit.imports.append("from datetime import UTC")
            return cst.Name("UTC")
        if (
            isinstance(owner, cst.Attribute)
            and owner.attr.value == "datetime"
            and isinstance(owner.value, cst.Name)
            and owner.value.value in self.modules
        ):
            return cst.Attribute(owner.value, cst.Name("UTC"))
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != self.method:
            return updated_node
        self.parents.add(id(func))
        wanted = 0 if self.method == "utcnow" else 1
        if len(original_node.args) != wanted or any(
            a.keyword or a.star for a in original_node.args
        ):
            return updated_node
        utc = self._utc(func.value)
        if utc is None:
            self.note("ET501", original_node, "the name UTC is taken; use timezone.utc by hand")
            return updated_node
        assert isinstance(updated_node.func, cst.Attribute)
        new = "now" if self.method == "utcnow" else "fromtimestamp"
        args = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            for a in updated_node.args
        ]
        self.edit.applied |= {"ET501", self.call_rule}
        return updated_node.with_changes(
            func=updated_node.func.with_changes(attr=cst.Name(new)), args=[*args, cst.Arg(utc)]
        )

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        """A bare ``datetime.utcnow`` (``default_factory=datetime.utcnow``) becomes a lambda."""
        if (
            original_node.attr.value != "utcnow"
            or self.method != "utcnow"
            or id(original_node) in self.parents
        ):
            return updated_node
        utc = self._utc(original_node.value)
        if utc is None:
            return updated_node
        self.edit.applied.add("ET501")
        now = cst.Call(func=updated_node.with_changes(attr=cst.Name("now")), args=[cst.Arg(utc)])
        return cst.Lambda(params=cst.Parameters(), body=now)

    def visit_Call(self, node: cst.Call) -> None:
        # Mark the callee before its Attribute is left, so a call is not also turned into a lambda.
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == self.method:
            self.parents.add(id(node.func))


def _utcnow(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_Utc(wrapper, "utcnow", "DTZ003", edit))


def _utcfromtimestamp(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_Utc(wrapper, "utcfromtimestamp", "DTZ004", edit))


class _JwtAlgorithms(PassTransformer):
    """``jwt.decode(token, key)`` gains the ``algorithms=`` its ``jwt.encode`` shows."""

    def __init__(self, wrapper: MetadataWrapper, edit: Edit) -> None:
        super().__init__(edit)
        self.module = wrapper.module
        self.wrapper = wrapper
        self.algorithms: dict[str, cst.BaseExpression] = {}
        for call in _calls(self.module, "encode"):
            arg = next((a for a in call.args if a.keyword and a.keyword.value == "algorithm"), None)
            if arg is None and len(call.args) >= 3 and call.args[2].keyword is None:
                arg = call.args[2]
            if arg is not None:
                self.algorithms[self.module.code_for_node(arg.value)] = arg.value

    @functools.cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        """Scope analysis (the costly part), only once a ``jwt.decode`` call is seen."""
        return self.wrapper.resolve(ScopeProvider)

    @functools.cached_property
    def jwt_ok(self) -> bool:
        """``jwt`` is PyJWT (or python-jose's, which takes the same arguments), or undefined."""
        scope = self.scopes.get(self.module)
        assert isinstance(scope, GlobalScope)
        jose = _imported_from(self.module, "jose").get("jwt") == "jwt"
        return jose or "jwt" not in scope or "jwt" in _module_aliases(self.module, "jwt")

    def _is_global(self, expr: cst.BaseExpression) -> bool:
        """A string, or a name (or its attribute) that is global where the encode reads it."""
        if isinstance(expr, cst.SimpleString):
            return True
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        scope = self.scopes.get(root)
        if scope is None:
            return False
        referents = {
            r for acc in scope.accesses[root.value] if acc.node is root for r in acc.referents
        }
        return all(isinstance(r.scope, GlobalScope) for r in referents)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not _is_jwt(original_node, "decode") or not self.jwt_ok:
            return updated_node
        keywords = {a.keyword.value for a in original_node.args if a.keyword}
        positional = [a for a in original_node.args if a.keyword is None]
        if (
            keywords & {"algorithms", "options"}
            or len(positional) != 2
            or any(a.star for a in original_node.args)
        ):
            return updated_node
        if len(self.algorithms) != 1:
            why = (
                "no jwt.encode(..., algorithm=...) here"
                if not self.algorithms
                else ("jwt.encode uses several algorithms")
            )
            self.note(
                "ET401",
                original_node,
                f"pass algorithms=[...] to jwt.decode explicitly ({why}, so it is not guessed)",
            )
            return updated_node
        [value] = self.algorithms.values()
        if not self._is_global(value):
            self.note("ET401", original_node, "pass algorithms=[...] to jwt.decode explicitly")
            return updated_node
        args = list(updated_node.args)
        sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        trailing = args[-1].comma
        args[-1] = args[-1].with_changes(comma=sep)
        algorithms = cst.List([cst.Element(value)])
        args.append(
            cst.Arg(
                algorithms,
                keyword=cst.Name("algorithms"),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                comma=trailing,
            )
        )
        self.edit.applied.add("ET401")
        return updated_node.with_changes(args=args)


def _is_jwt(call: cst.Call, method: str) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == method
        and isinstance(func.value, cst.Name)
        and func.value.value == "jwt"
    )


def _calls(module: cst.Module, method: str) -> list[cst.Call]:
    out: list[cst.Call] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and _is_jwt(node, method):
            out.append(node)
        stack.extend(node.children)
    return out


def _jwt(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_JwtAlgorithms(wrapper, edit))


PASSES: tuple[Pass, ...] = (
    Pass(("ET501", "DTZ003"), _utcnow, ("utcnow",)),
    Pass(("ET501", "DTZ004"), _utcfromtimestamp, ("utcfromtimestamp",)),
    Pass(("ET401",), _jwt, ("jwt.decode",)),
)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
