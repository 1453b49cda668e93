"""Standard-library and PyJWT modernizations: aware UTC datetimes, explicit JWT algorithms,
``asyncio.run()`` for a loop got with ``get_event_loop()`` at the top level.

``datetime.now(UTC)`` returns an *aware* datetime where ``utcnow()`` returned a naive one; that
is the point of the fix, and the re-run of the block is what shows whether the code copes. Not
where the value goes into a SQLAlchemy (or SQLModel) column that stores naive datetimes
(``DateTime`` without ``timezone=True``, the default for ``Mapped[datetime]``): an aware value
there reloads naive and no longer compares with the column's other values, which no re-run sees.
Such a block keeps naive UTC: ``datetime.now(UTC).replace(tzinfo=None)``.
"""

from __future__ import annotations

import functools
import re
import symtable
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
    imported_from,
    module_aliases,
    run_passes,
    source_of,
)

_EQUAL = cst.AssignEqual(
    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
)


def _naive_columns(module: cst.Module) -> bool:
    """Whether the block maps datetimes with SQLAlchemy or SQLModel and never asks for a
    time-zone-aware column: its datetime columns store naive values."""
    code = source_of(module)
    orm = any(
        top in {"sqlalchemy", "sqlmodel"}
        for top in (
            (get_full_name_for_node(small.module) or "").split(".")[0]
            if isinstance(small, cst.ImportFrom) and small.module is not None
            else ""
            for stmt in module.body
            if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body
        )
    ) or bool(re.search(r"^\s*import (sqlalchemy|sqlmodel)\b", code, re.MULTILINE))
    return orm and not re.search(r"timezone\s*=\s*True", code)


class _InFunctions(PassTransformer):
    """Knows how deep in functions the visit is (``depth``): code there may not run."""

    depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node


class _Utc(_InFunctions):
    """``utcnow()`` -> ``now(UTC)``; ``utcfromtimestamp(x)`` -> ``fromtimestamp(x, UTC)``.
    Where the block is for a Python before 3.11, which has no ``datetime.UTC``:
    ``timezone.utc``."""

    def __init__(
        self, wrapper: MetadataWrapper, method: str, call_rule: str, edit: Edit, alias: bool
    ) -> None:
        super().__init__(edit)
        module = wrapper.module
        scope = global_names(wrapper)
        names = imported_from(module, "datetime")
        self.classes = {local for local, name in names.items() if name == "datetime"}
        if "datetime" not in scope:  # a fragment: the usual `from datetime import datetime`
            self.classes.add("datetime")
        self.modules = module_aliases(module, "datetime")
        self.utc = "UTC" if alias else "timezone"  # the name the rewrite imports
        self.utc_free = names.get(self.utc) == self.utc or (
            self.utc not in scope and not _bound_in_a_function(module.code, self.utc)
        )
        self.naive = _naive_columns(module)
        self.method = method
        self.call_rule = call_rule
        self.parents: set[int] = set()  # Attributes already rewritten as part of their call
        #: calls subtracted from or compared with a value the block gets from elsewhere
        self.mixed: dict[int, str] = {}

    def _against(self, operands: list[cst.BaseExpression]) -> None:
        """In a function, ``utcnow() - issued_at``, ``exp < utcnow()``: whether the other value
        is naive (a parameter, a column) is not something a run shows; keep this one naive."""
        values = [o for o in operands if isinstance(o, cst.Name | cst.Attribute | cst.Subscript)]
        if not self.depth or not values:
            return
        other = cst.Module([]).code_for_node(values[0])
        for o in operands:
            if isinstance(o, cst.Call):
                self.mixed[id(o)] = other

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Subtract):
            self._against([node.left, node.right])

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._against([node.left, *(c.comparator for c in node.comparisons)])

    def _utc(self, owner: cst.BaseExpression) -> cst.BaseExpression | None:
        """The UTC constant for a ``datetime`` class reference ``owner``; None if not one."""
        if isinstance(owner, cst.Name) and owner.value in self.classes:
            if not self.utc_free:
                return None
            self.edit.imports.append(f"from datetime import {self.utc}")
            return cst.parse_expression("UTC" if self.utc == "UTC" else "timezone.utc")
        if (
            isinstance(owner, cst.Attribute)
            and owner.attr.value == "datetime"
            and isinstance(owner.value, cst.Name)
            and owner.value.value in self.modules
        ):
            if self.utc == "UTC":
                return cst.Attribute(owner.value, cst.Name("UTC"))
            return cst.Attribute(cst.Attribute(owner.value, cst.Name("timezone")), cst.Name("utc"))
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
            other = "timezone.utc" if self.utc == "UTC" else "datetime.timezone.utc"
            self.note("ET501", original_node, f"the name {self.utc} is taken; use {other} by hand")
            return updated_node
        assert isinstance(updated_node.func, cst.Attribute)
        new = "now" if self.method == "utcnow" else "fromtimestamp"
        args = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            for a in updated_node.args
        ]
        self.edit.applied |= {"ET501", self.call_rule}
        return self._kept_naive(
            original_node,
            updated_node.with_changes(
                func=updated_node.func.with_changes(attr=cst.Name(new)), args=[*args, cst.Arg(utc)]
            ),
        )

    def _kept_naive(self, node: cst.CSTNode, aware: cst.Call) -> cst.BaseExpression:
        other = self.mixed.get(id(node))
        if not self.naive and other is None:
            return aware
        self.note(
            "ET501",
            node,
            "kept naive UTC (.replace(tzinfo=None)): the block's SQLAlchemy datetime columns "
            "store naive values; with DateTime(timezone=True) they could take the aware one"
            if other is None
            else f"kept naive UTC (.replace(tzinfo=None)): it meets `{other}`, which may be "
            "naive (an aware and a naive datetime neither subtract nor compare); make both "
            "aware by hand",
        )
        return cst.Call(
            func=cst.Attribute(aware, cst.Name("replace")),
            args=[cst.Arg(cst.Name("None"), keyword=cst.Name("tzinfo"), equal=_EQUAL)],
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
        return cst.Lambda(params=cst.Parameters(), body=self._kept_naive(original_node, now))

    def visit_Call(self, node: cst.Call) -> None:
        # Mark the callee before its Attribute is left, so a call is not also turned into a lambda.
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == self.method:
            self.parents.add(id(node.func))


def _bound_in_a_function(code: str, name: str) -> bool:
    """Whether a function of the code binds ``name`` (a parameter ``timezone: str``, a local):
    there the imported name would not be the one the rewrite means."""
    try:
        table = symtable.symtable(code, "<block>", "exec")
    except (SyntaxError, ValueError):
        return True
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        todo.extend(scope.get_children())
        if scope.get_type() != "module" and name in scope.get_identifiers():
            symbol = scope.lookup(name)
            if symbol.is_local() or symbol.is_parameter():
                return True
    return False


def _utcnow(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_Utc(wrapper, "utcnow", "DTZ003", edit, ctx.utc_alias))


def _utcfromtimestamp(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_Utc(wrapper, "utcfromtimestamp", "DTZ004", edit, ctx.utc_alias))


class _JwtAlgorithms(PassTransformer):
    """``jwt.decode(token, key)`` gains the ``algorithms=`` its ``jwt.encode`` shows."""

    def __init__(
        self, wrapper: MetadataWrapper, edit: Edit, earlier: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(edit)
        self.module = wrapper.module
        self.wrapper = wrapper
        #: what earlier blocks' ``jwt.encode`` calls pass as ``algorithm`` (their code)
        self.earlier = earlier
        #: the algorithm's code -> (its expression, the scopes around the encode call)
        self.algorithms: dict[str, tuple[cst.BaseExpression, tuple[cst.CSTNode, ...]]] = {}
        for call, around in _calls(self.module, "encode"):
            arg = next((a for a in call.args if a.keyword and a.keyword.value == "algorithm"), None)
            if arg is None and len(call.args) >= 3 and call.args[2].keyword is None:
                arg = call.args[2]
            if arg is not None:
                self.algorithms[self.module.code_for_node(arg.value)] = (arg.value, around)

    @functools.cached_property
    def jwt_ok(self) -> bool:
        """``jwt`` is PyJWT (or python-jose's, which takes the same arguments), or undefined."""
        jose = imported_from(self.module, "jose").get("jwt") == "jwt"
        unbound = "jwt" not in global_names(self.wrapper)
        return jose or unbound or "jwt" in module_aliases(self.module, "jwt")

    def _is_global(self, expr: cst.BaseExpression, around: tuple[cst.CSTNode, ...]) -> bool:
        """A string, or a name (or its attribute) that is global where the encode reads it:
        no scope around the call binds it (Python's symbol tables say, not libcst's scope
        analysis, which costs about a second on a long block)."""
        if isinstance(expr, cst.SimpleString):
            return True
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        for depth, node in enumerate(reversed(around)):
            if isinstance(node, cst.ClassDef) and depth:
                continue  # a class body's names are not seen from its methods
            if isinstance(node, cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
                targets = (c.target for c in _for_clauses(node))
                if any(root.value in _names(t) for t in targets):
                    return False
                continue
            binding = _binding(self.module, node, root.value)
            if binding != "free":
                return binding == "global"
        return True

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
        if not self.algorithms and len(self.earlier) == 1:  # the encode side, a block above
            [earlier] = self.earlier
            return self._with_algorithms(updated_node, cst.parse_expression(earlier))
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
        [(value, around)] = self.algorithms.values()
        if not self._is_global(value, around):
            self.note("ET401", original_node, "pass algorithms=[...] to jwt.decode explicitly")
            return updated_node
        return self._with_algorithms(updated_node, value)

    def _with_algorithms(self, call: cst.Call, value: cst.BaseExpression) -> cst.Call:
        args = list(call.args)
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
        return call.with_changes(args=args)


def _is_jwt(call: cst.Call, method: str) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == method
        and isinstance(func.value, cst.Name)
        and func.value.value == "jwt"
    )


#: Nodes that open a scope of their own.
_SCOPES = (
    cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.ListComp, cst.SetComp, cst.DictComp,
    cst.GeneratorExp,
)  # fmt: skip


def _calls(module: cst.Module, method: str) -> list[tuple[cst.Call, tuple[cst.CSTNode, ...]]]:
    """Every ``jwt.<method>(...)`` call, with the scopes around it (outermost first)."""
    out: list[tuple[cst.Call, tuple[cst.CSTNode, ...]]] = []
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
    while stack:
        node, around = stack.pop()
        if isinstance(node, cst.Call) and _is_jwt(node, method):
            out.append((node, around))
        inner = (*around, node) if isinstance(node, _SCOPES) else around
        stack.extend((child, inner) for child in node.children)
    return out


def _for_clauses(node: cst.CSTNode) -> list[cst.CompFor]:
    clauses: list[cst.CompFor] = []
    clause = getattr(node, "for_in", None)
    while isinstance(clause, cst.CompFor):
        clauses.append(clause)
        clause = clause.inner_for_in
    return clauses


def _names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {n for e in target.elements for n in _names(e.value)}
    return set()


def _binding(module: cst.Module, node: cst.CSTNode, name: str) -> str:
    """How the function, lambda or class ``node`` sees ``name``: "local" (bound there, a
    parameter included), "global" (declared so), or "free" (from a scope around it)."""
    source = module.code_for_node(node)
    try:
        if isinstance(node, cst.Lambda):
            table = symtable.symtable(f"({source})", "<lambda>", "eval").get_children()[0]
        else:
            table = symtable.symtable(source, "<scope>", "exec").get_children()[0]
    except (SyntaxError, ValueError, IndexError):
        return "local"  # unreadable: the name is not taken for a global
    if name not in table.get_identifiers():
        return "free"
    symbol = table.lookup(name)
    if symbol.is_declared_global():
        return "global"
    return "local" if symbol.is_local() or symbol.is_parameter() else "free"


def _jwt(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_JwtAlgorithms(wrapper, edit, ctx.earlier_algorithms))


#: python-jose's errors -> PyJWT's for the same thing (``JWTError``, the base of every error
#: python-jose raises, is ``PyJWTError`` there). ``JWTClaimsError`` has no one PyJWT class
#: (PyJWT raises one per claim, under the base that decode errors share).
_JOSE_ERRORS = {"JWTError": "PyJWTError", "ExpiredSignatureError": "ExpiredSignatureError"}
_JOSE_JWT_FUNCTIONS = frozenset({"encode", "decode", "get_unverified_header"})
#: What the block may use of python-jose's ``jwt`` module.
_JOSE_JWT_NAMES = _JOSE_JWT_FUNCTIONS | set(_JOSE_ERRORS) | {"get_unverified_claims"}


class _LibrarySwap(PassTransformer):
    """A move of the block's imports of one library to another: the import statements it
    takes out, the imports it puts in, and what of the old library it cannot move (then it
    moves nothing)."""

    def __init__(self, edit: Edit) -> None:
        super().__init__(edit)
        self.statements: set[cst.SimpleStatementLine] = set()
        self.imports: list[str] = []
        self.unknown: list[str] = []

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        return cst.RemoveFromParent() if original_node in self.statements else updated_node


class _Jose(_LibrarySwap):
    """python-jose -> PyJWT, whose ``jwt.encode``/``jwt.decode`` take the same arguments:
    ``from jose import JWTError, jwt`` -> ``import jwt`` and ``from jwt import PyJWTError as
    JWTError`` (the rest of the block keeps its names), ``jwt.JWTError`` -> ``jwt.PyJWTError``,
    ``jwt.get_unverified_claims(t)`` -> ``jwt.decode(t, options={"verify_signature": False})``.
    A block using anything else of python-jose (``jwk``, ``jws``, ``JWTClaimsError``, an
    import inside a function) is left as it is, with a note: all of it or none."""

    def __init__(self, module: cst.Module, edit: Edit) -> None:
        super().__init__(edit)
        self.modules: set[str] = set()  # local names of python-jose's ``jwt``
        for stmt in module.body:
            smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ()
            if any(_imports_package(small, "jose") for small in smalls):
                if len(smalls) != 1:
                    self.unknown.append("an import sharing its line")
                    continue
                assert isinstance(stmt, cst.SimpleStatementLine)
                self.statements.add(stmt)
                self._translate(smalls[0])
        if _imported_inside(module, "jose"):
            self.unknown.append("an import inside a function or class")
        for used in _attributes_of(module, self.modules):
            if used not in _JOSE_JWT_NAMES:
                self.unknown.append(f"`jwt.{used}`")

    def _translate(self, node: cst.BaseSmallStatement) -> None:
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            self.unknown.append("`import jose`" if isinstance(node, cst.Import) else "`*`")
            return
        module = get_full_name_for_node(node.module) if node.module else ""
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            local = alias.evaluated_alias or name
            if module == "jose" and name == "jwt":
                self.modules.add(local)
                self.imports.append("import jwt" + (f" as {local}" if local != "jwt" else ""))
                continue
            target = _JOSE_ERRORS.get(name) if module in ("jose", "jose.exceptions") else None
            if module == "jose.jwt" and name in _JOSE_JWT_FUNCTIONS:
                target = name
            if target is None:
                self.unknown.append(f"`{module}.{name}`")
                continue
            self.imports.append(
                f"from jwt import {target}" + (f" as {local}" if local != target else "")
            )

    def _of_jose(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value in self.modules

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        renamed = _JOSE_ERRORS.get(updated_node.attr.value)
        if self._of_jose(updated_node.value) and renamed is not None:
            return updated_node.with_changes(attr=cst.Name(renamed))
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if (
            isinstance(func, cst.Attribute)
            and self._of_jose(func.value)
            and func.attr.value == "get_unverified_claims"
            and len(updated_node.args) == 1
        ):
            options = cst.parse_expression('{"verify_signature": False}')
            arg = updated_node.args[0].with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            return updated_node.with_changes(
                func=func.with_changes(attr=cst.Name("decode")),
                args=[arg, cst.Arg(options, keyword=cst.Name("options"), equal=_EQUAL)],
            )
        return updated_node


def _imports_package(node: cst.CSTNode, package: str) -> bool:
    """``node`` is an import of ``package`` or of a module inside it."""
    if isinstance(node, cst.Import):
        return any(
            (get_full_name_for_node(a.name) or "").split(".")[0] == package for a in node.names
        )
    return (
        isinstance(node, cst.ImportFrom)
        and not node.relative
        and node.module is not None
        and (get_full_name_for_node(node.module) or "").split(".")[0] == package
    )


def _imported_inside(module: cst.Module, package: str) -> bool:
    """Whether a function or class of the module imports ``package`` (not the top level)."""
    top = {
        id(small)
        for stmt in module.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
    }
    return any(_imports_package(n, package) and id(n) not in top for n in _imports_in(module))


def _attributes_of(module: cst.Module, names: set[str]) -> list[str]:
    """The attributes the code reads of the modules bound to ``names``."""
    found: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.value.value in names:
                found.append(node.attr.value)

    module.visit(Collect())
    return found


def _imports_in(module: cst.Module) -> list[cst.Import | cst.ImportFrom]:
    found: list[cst.Import | cst.ImportFrom] = []

    class Collect(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            found.append(node)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            found.append(node)

    module.visit(Collect())
    return found


def _swap(
    wrapper: MetadataWrapper,
    edit: Edit,
    swap: _LibrarySwap,
    rule: str,
    library: str,
    target: str,
) -> cst.Module:
    """A library moved to another, all of the block's use of it or none (with a note)."""
    if not swap.statements and not swap.unknown:
        return wrapper.module
    if swap.unknown:
        edit.notes.append(
            f"{rule}: the block uses {', '.join(dict.fromkeys(swap.unknown))} of {library}, "
            f"which has no {target} spelling exampletest knows: move it to {target} by hand"
        )
        return wrapper.module
    new = wrapper.visit(swap)
    edit.applied.add(rule)
    edit.imports.extend(swap.imports)
    return new


def _jose(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return _swap(wrapper, edit, _Jose(wrapper.module, edit), "ET403", "python-jose", "PyJWT")


#: What a block may do with a passlib ``CryptContext`` that pwdlib's ``PasswordHash`` does
#: with the same arguments and results.
_CONTEXT_METHODS = frozenset({"hash", "verify", "verify_and_update"})


class _Passlib(_LibrarySwap):
    """passlib -> pwdlib, FastAPI's choice since: ``CryptContext(schemes=[...],
    deprecated="auto")`` -> ``PasswordHash.recommended()`` (Argon2), whose ``hash``,
    ``verify`` and ``verify_and_update`` take the same arguments and give the same kind of
    result. A block using more of passlib (``passlib.hash``, a context's other methods or
    settings) is left as it is, with a note."""

    def __init__(self, module: cst.Module, edit: Edit) -> None:
        super().__init__(edit)
        self.imports.append("from pwdlib import PasswordHash")
        self.contexts: set[str] = set()  # names bound to a CryptContext(...)
        self.bcrypt = False
        self.makers = makers = {
            k for k, v in imported_from(module, "passlib.context").items() if v == "CryptContext"
        }
        for stmt in module.body:
            smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ()
            for small in smalls:
                if _imports_package(small, "passlib"):
                    if len(smalls) != 1 or not self._only_context(small):
                        self.unknown.append(f"`{module.code_for_node(small)}`")
                    else:
                        assert isinstance(stmt, cst.SimpleStatementLine)
                        self.statements.add(stmt)
                elif (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and isinstance(small.value, cst.Call)
                    and isinstance(small.value.func, cst.Name)
                    and small.value.func.value in makers
                ):
                    self._check_settings(small.value, module)
                    self.contexts.add(small.targets[0].target.value)
        if _imported_inside(module, "passlib"):
            self.unknown.append("an import inside a function or class")
        for used in _attributes_of(module, self.contexts):
            if used not in _CONTEXT_METHODS:
                self.unknown.append(f"the context's `{used}`")
        uses = _names_loaded(module, makers)
        if uses > len(self.contexts):
            self.unknown.append("`CryptContext` used otherwise")
        if self.statements and not self.contexts:
            self.unknown.append("no `CryptContext(...)`")

    @staticmethod
    def _only_context(node: cst.BaseSmallStatement) -> bool:
        return (
            isinstance(node, cst.ImportFrom)
            and node.module is not None
            and get_full_name_for_node(node.module) == "passlib.context"
            and not isinstance(node.names, cst.ImportStar)
            and all(get_full_name_for_node(a.name) == "CryptContext" for a in node.names)
        )

    def _check_settings(self, call: cst.Call, module: cst.Module) -> None:
        for arg in call.args:
            key = arg.keyword.value if arg.keyword else None
            if key == "schemes":
                self.bcrypt = self.bcrypt or "bcrypt" in module.code_for_node(arg.value)
            elif key != "deprecated":
                self.unknown.append(f"`CryptContext({module.code_for_node(arg).strip(', ')})`")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if isinstance(updated_node.func, cst.Name) and updated_node.func.value in self.makers:
            return cst.parse_expression("PasswordHash.recommended()")
        return updated_node


def _names_loaded(module: cst.Module, names: set[str]) -> int:
    """How many times the code reads one of ``names`` (imports aside)."""
    count = 0

    class Count(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            nonlocal count
            count += node.value in names

    module.visit(Count())
    return count


def _passlib(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    passlib = _Passlib(wrapper.module, edit)
    new = _swap(wrapper, edit, passlib, "ET404", "passlib", "pwdlib or argon2-cffi")
    if "ET404" in edit.applied and passlib.bcrypt:
        edit.notes.append(
            "ET404: new hashes are Argon2 (pwdlib's recommended); to verify stored bcrypt "
            "hashes too, use `PasswordHash((Argon2Hasher(), BcryptHasher()))`"
        )
    return new


class _EventLoop(_InFunctions):
    """At the top level (or under ``if __name__ == "__main__":``):
    ``asyncio.get_event_loop().run_until_complete(main())``, or ``loop = ...get_event_loop()``
    then ``loop.run_until_complete(...)`` and ``loop.close()`` with the loop used for nothing
    else -> ``asyncio.run(main())``, which makes the loop, runs and closes it. A
    ``gather(...)``, which is no coroutine, is awaited in an ``async def`` the rewrite adds."""

    def __init__(self, wrapper: MetadataWrapper, edit: Edit) -> None:
        super().__init__(edit)
        self.asyncio = module_aliases(wrapper.module, "asyncio")
        self.taken = set(global_names(wrapper))
        if "asyncio" not in self.taken:  # a fragment: the earlier block's `import asyncio`
            self.asyncio.add("asyncio")
        self.uses = _name_counts(wrapper.module)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.depth -= 1
        return updated_node

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        if self.depth or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        body = updated_node.body
        return updated_node.with_changes(body=body.with_changes(body=self._run(body.body, 1)))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._run(updated_node.body, 2))

    def _loop(self, node: cst.BaseExpression) -> str | None:
        """The ``asyncio`` alias of an ``asyncio.get_event_loop()`` call."""
        if (
            isinstance(node, cst.Call)
            and not node.args
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "get_event_loop"
            and isinstance(node.func.value, cst.Name)
            and node.func.value.value in self.asyncio
        ):
            return node.func.value.value
        return None

    def _runs(self, stmt: cst.BaseStatement, loops: dict[str, str]) -> bool:
        """Whether the statement is one the rewrite replaces (or drops)."""
        small = _only_small(stmt)
        call = _value_of(small)
        if isinstance(small, cst.Assign) and _target_name(small) in loops:
            return True
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return False
        owner, method = call.func.value, call.func.attr.value
        if isinstance(owner, cst.Name):
            return owner.value in loops and method in ("run_until_complete", "close")
        return self._loop(owner) is not None and method == "run_until_complete"

    def _new_loops(
        self, body: Sequence[cst.BaseStatement], kept: dict[str, str]
    ) -> list[cst.BaseStatement]:
        """``loop = asyncio.get_event_loop()`` -> ``asyncio.new_event_loop()`` for a loop the
        program drives itself (``call_soon``, ``run_forever``, ``close``), as Python's own
        docs now write it, when nothing else at the top level uses the implicit loop."""
        if not kept:
            return list(body)
        code = cst.Module([])

        def implicit(stmt: cst.BaseStatement) -> bool:
            text = code.code_for_node(stmt)
            return not any(re.search(rf"\b{n}\b", text) for n in kept) and _schedules(stmt)

        if any(implicit(stmt) for stmt in body):
            return list(body)
        out: list[cst.BaseStatement] = []
        for stmt in body:
            small = _only_small(stmt)
            if isinstance(small, cst.Assign) and (name := _target_name(small)) in kept:
                made = cst.parse_expression(f"{kept[name]}.new_event_loop()")
                assert isinstance(stmt, cst.SimpleStatementLine)
                stmt = stmt.with_changes(body=[small.with_changes(value=made)])
                self.edit.applied.add("ET502")
            out.append(stmt)
        return out

    def _run(self, body: Sequence[cst.BaseStatement], blanks: int) -> list[cst.BaseStatement]:
        """The statements with their loop rewritten; ``blanks``: the blank lines around an
        added function (two at the top level, one in an ``if``)."""
        loops: dict[str, str] = {}  # a loop variable -> its asyncio alias
        for stmt in body:
            small = _only_small(stmt)
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and (alias := self._loop(small.value)) is not None
            ):
                loops[small.targets[0].target.value] = alias
        used = {name: 0 for name in loops}
        for stmt in body:
            small = _only_small(stmt)
            call = _value_of(small)
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                owner = call.func.value
                if (
                    isinstance(owner, cst.Name)
                    and owner.value in used
                    and call.func.attr.value in ("run_until_complete", "close")
                ):
                    used[owner.value] += 1
        # the loop's own assignment, its run_until_complete() and close(): nothing else
        kept = {n: a for n, a in loops.items() if used[n] + 1 != self.uses.get(n, 0)}
        loops = {n: a for n, a in loops.items() if n not in kept}
        if any(_schedules(stmt) for stmt in body if not self._runs(stmt, loops)):
            return self._new_loops(body, kept)  # a future made on the implicit loop: shared
        out: list[cst.BaseStatement] = []
        dropped: list[cst.EmptyLine] = []  # the comments above a statement taken out
        for stmt in body:
            if dropped and isinstance(stmt, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                stmt = stmt.with_changes(leading_lines=[*dropped, *stmt.leading_lines])
                dropped = []
            small = _only_small(stmt)
            call = _value_of(small)
            if isinstance(small, cst.Assign) and _target_name(small) in loops:
                dropped = list(getattr(stmt, "leading_lines", ()))
                continue  # loop = asyncio.get_event_loop()
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                out.append(stmt)
                continue
            owner, method = call.func.value, call.func.attr.value
            alias = loops.get(owner.value) if isinstance(owner, cst.Name) else self._loop(owner)
            if alias is None or method not in ("run_until_complete", "close") or not call.args:
                if alias is not None and method == "close" and isinstance(owner, cst.Name):
                    dropped = list(getattr(stmt, "leading_lines", ()))
                    continue  # asyncio.run closes its loop
                out.append(stmt)
                continue
            awaited = call.args[0].value
            assert isinstance(stmt, cst.SimpleStatementLine) and small is not None
            if _gathers(awaited, alias):  # no coroutine: awaited in a coroutine of its own
                names = self.taken | set(self.uses)  # (an earlier block's `main` too)
                free = [n for n in ("main", "_main", "run_all", "_run_all") if n not in names]
                if not free:
                    out.append(stmt)
                    continue
                name = free[0]
                self.taken.add(name)
                verb = "await" if isinstance(small, cst.Expr) else "return await"
                shown = _in_a_body(cst.Module([]).code_for_node(awaited))
                wrapper = cst.parse_statement(f"async def {name}():\n    {verb} {shown}\n")
                lead = list(stmt.leading_lines)
                blank = sum(1 for e in lead if e.comment is None)
                empty = cst.EmptyLine(indent=False)
                lead = [*([empty] * (blanks - blank) if out and blank < blanks else []), *lead]
                out.append(wrapper.with_changes(leading_lines=lead))
                stmt = stmt.with_changes(leading_lines=[empty] * blanks)
                awaited = cst.parse_expression(f"{name}()")
            run = cst.Call(cst.Attribute(cst.Name(alias), cst.Name("run")), [cst.Arg(awaited)])
            if isinstance(small, cst.Expr):
                changed: cst.BaseSmallStatement = small.with_changes(value=run)
            else:
                changed = small.with_changes(value=run)
            out.append(stmt.with_changes(body=[changed]))
            self.edit.applied.add("ET502")
        return self._new_loops(out, kept)


def _in_a_body(expression: str) -> str:
    """An expression's code moved into a function's body: its continuation lines indented
    as the body's own (the closing bracket under the statement)."""
    first, *rest = expression.split("\n")
    indents = [len(t) - len(t.lstrip()) for t in rest if t.strip()]
    shift = 4 - min(indents, default=4)
    moved = [(" " * shift + t if shift > 0 else t[-shift:]) if t.strip() else t for t in rest]
    return "\n".join([first, *moved])


#: What makes a future on the loop ``get_event_loop()`` gives, outside a coroutine.
_SCHEDULES = re.compile(
    r"(?:\basyncio\.|(?<![.\w]))"
    r"(?:gather|ensure_future|create_task|wait|get_event_loop|new_event_loop)\("
    r"|\brun_forever\("
)


def _schedules(stmt: cst.BaseStatement) -> bool:
    """A top-level statement (not a definition) that uses the loop ``get_event_loop()``
    gives: ``asyncio.gather(job)`` queued before the loop runs it."""
    if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
        return False
    return _SCHEDULES.search(cst.Module([]).code_for_node(stmt)) is not None


def _only_small(stmt: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    """The one small statement of a simple line (``x = f()``), else None."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def _value_of(small: cst.BaseSmallStatement | None) -> cst.BaseExpression | None:
    if isinstance(small, cst.Expr):
        return small.value
    if isinstance(small, cst.Assign):
        return small.value
    return None


def _target_name(small: cst.Assign) -> str | None:
    target = small.targets[0].target if len(small.targets) == 1 else None
    return target.value if isinstance(target, cst.Name) else None


def _gathers(node: cst.BaseExpression, alias: str) -> bool:
    """``asyncio.gather(...)`` or ``asyncio.wait(...)``: awaitable, but no coroutine."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and isinstance(node.func.value, cst.Name)
        and node.func.value.value == alias
        and node.func.attr.value in ("gather", "wait")
    )


def _name_counts(module: cst.Module) -> dict[str, int]:
    """How often each name appears in the module (loads, stores, attributes' owners)."""

    class Count(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.counts: dict[str, int] = {}

        def visit_Name(self, node: cst.Name) -> None:
            self.counts[node.value] = self.counts.get(node.value, 0) + 1

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)  # (the attribute's own name is no variable)
            return False

    counter = Count()
    module.visit(counter)
    return counter.counts


def _event_loop(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_EventLoop(wrapper, edit))


class _GeneratorCoroutine(PassTransformer):
    """``@asyncio.coroutine`` (removed in Python 3.11) over a generator that ``yield from``s
    -> ``async def`` that ``await``s: what the decorator stood for since Python 3.5. Not a
    function that also yields values (a plain ``yield``): that one is a generator still."""

    def __init__(self, wrapper: MetadataWrapper, edit: Edit) -> None:
        super().__init__(edit)
        module = wrapper.module
        self.modules = module_aliases(module, "asyncio")
        if "asyncio" not in global_names(wrapper):  # a fragment: the earlier `import asyncio`
            self.modules.add("asyncio")
        names = imported_from(module, "asyncio")
        self.names = {local for local, name in names.items() if name == "coroutine"}

    def _is_coroutine(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return node.value in self.names
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == "coroutine"
            and isinstance(node.value, cst.Name)
            and node.value.value in self.modules
        )

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        kept = [d for d in updated_node.decorators if not self._is_coroutine(d.decorator)]
        if len(kept) == len(updated_node.decorators) or updated_node.asynchronous is not None:
            return updated_node
        yields = _Yields()
        updated_node.body.visit(yields)
        if yields.plain or not yields.delegating:
            # (a function that returns a future: the decorator awaited it; `async def`
            # would return it unawaited)
            return updated_node
        decorators: list[cst.Decorator] = []
        carried: list[cst.EmptyLine] = []  # the comments above a decorator taken out
        for d in updated_node.decorators:
            if self._is_coroutine(d.decorator):
                carried += d.leading_lines
                if isinstance(d.decorator, cst.Name):
                    self.edit.unused.append(("asyncio", "coroutine"))
                continue
            decorators.append(d.with_changes(leading_lines=[*carried, *d.leading_lines]))
            carried = []
        after = [*carried, *updated_node.lines_after_decorators]
        self.edit.applied.add("AttributeError")
        return updated_node.with_changes(
            decorators=decorators,
            lines_after_decorators=after,
            asynchronous=cst.Asynchronous(),
            body=updated_node.body.visit(_AwaitInstead()),
        )


class _Yields(cst.CSTVisitor):
    """Whether a body yields values itself (a ``yield`` that is no ``yield from``), and
    whether it delegates (a ``yield from``)."""

    def __init__(self) -> None:
        super().__init__()
        self.plain = False
        self.delegating = False  # a `yield from`

    def visit_Yield(self, node: cst.Yield) -> None:
        self.plain = self.plain or not isinstance(node.value, cst.From)
        self.delegating = self.delegating or isinstance(node.value, cst.From)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's yields are its own

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _AwaitInstead(cst.CSTTransformer):
    """``yield from x`` -> ``await x`` in one function's own body."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def leave_Yield(self, original_node: cst.Yield, updated_node: cst.Yield) -> cst.BaseExpression:
        if not isinstance(updated_node.value, cst.From):
            return updated_node
        return cst.Await(
            expression=updated_node.value.item, lpar=updated_node.lpar, rpar=updated_node.rpar
        )


def _generator_coroutine(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_GeneratorCoroutine(wrapper, edit))


#: What a generator may be annotated as returning (``Iterator[X]``, not ``X``).
_ITERATORS = frozenset(
    {"Iterator", "Iterable", "Generator", "AsyncIterator", "AsyncIterable", "AsyncGenerator"}
)


class _GeneratorReturns(PassTransformer):
    """A generator annotated with what it yields: FastAPI's dependency idiom, ``async def
    get_session() -> AsyncSession:`` then ``yield session``, which mypy rejects ("the return
    type of an async generator function should be AsyncGenerator"). -> the iterator of it:
    ``AsyncIterator[AsyncSession]`` (``Iterator[...]`` for a plain generator), imported from
    ``collections.abc``; an async one annotated ``Generator[X, None, None]``, the same. It runs
    as before; only the annotation says what it is."""

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        returns = updated_node.returns
        if returns is None:
            return updated_node
        yields = _Yields()
        updated_node.body.visit(yields)
        annotation = returns.annotation
        head = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        name = head.attr.value if isinstance(head, cst.Attribute) else getattr(head, "value", "")
        is_async = updated_node.asynchronous is not None
        if not yields.plain or yields.delegating or name in ("None", "Any", "object"):
            return updated_node  # (mypy takes `Any` and `object` for any generator)
        if name in _ITERATORS:  # an async one annotated `Generator[X, None, None]`: its X
            if not (is_async and not name.startswith("Async")):
                return updated_node
            if not (isinstance(annotation, cst.Subscript) and annotation.slice):
                return updated_node
            item = annotation.slice[0].slice
            if not isinstance(item, cst.Index):
                return updated_node
            annotation = item.value
            self.edit.unused += [("typing", name), ("collections.abc", name)]
        wrapper = "AsyncIterator" if is_async else "Iterator"
        self.edit.imports.append(f"from collections.abc import {wrapper}")
        self.edit.applied.add("misc")
        new = cst.Subscript(cst.Name(wrapper), [cst.SubscriptElement(cst.Index(annotation))])
        return updated_node.with_changes(returns=returns.with_changes(annotation=new))


def _generator_returns(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_GeneratorReturns(edit))


PASSES: tuple[Pass, ...] = (
    Pass(("ET403",), _jose, ("jose",)),
    Pass(("ET404",), _passlib, ("passlib",)),
    Pass(("ET501", "DTZ003"), _utcnow, ("utcnow",)),
    Pass(("ET501", "DTZ004"), _utcfromtimestamp, ("utcfromtimestamp",)),
    Pass(("ET401",), _jwt, ("jwt.decode",)),
    Pass(("ET502",), _event_loop, ("get_event_loop",)),
    Pass(("AttributeError",), _generator_coroutine, ("coroutine",)),
    Pass(("misc",), _generator_returns, ("yield",)),
)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
