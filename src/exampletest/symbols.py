"""What a block of code binds and what it uses without binding, from its AST.

The context stage decides where each free name comes from; this module only reads code.
``symtable`` gives the scoping rules (class bodies, comprehensions, nonlocal) exactly as
CPython applies them; ``ast`` gives the positions and whether a use runs eagerly, i.e. when
the block's top level executes (module level, class bodies, decorators, defaults and
annotations of a ``def``), or only when a function is later called.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import re
import symtable
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__builtins__"}


@dataclass(frozen=True)
class Use:
    name: str
    line: int  # code coordinates, 1-based
    column: int  # 1-based
    eager: bool  # evaluated when the top level runs
    annotation: bool  # used inside an annotation or as a base class (i.e. as a type)
    attribute: bool = False  # used as ``name.attr`` (how a module is used)


@dataclass(frozen=True)
class Statement:
    """One top-level statement: what it binds and which global names it needs."""

    source: str
    line: int
    end_line: int
    binds: frozenset[str]
    uses: frozenset[str]
    declares: frozenset[str] = frozenset()  # ``user: User`` with no value: binds nothing
    #: Names only a string refers to: ``Mapped[list["Child"]]``, ``relationship("Child")``.
    refers: frozenset[str] = frozenset()
    #: A function whose first parameter is ``self`` or ``cls``: a method shown without its
    #: class, which no later block calls by its bare name
    method: bool = False


def _method_shown_alone(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    args = [*stmt.args.posonlyargs, *stmt.args.args]
    return bool(args) and args[0].arg in ("self", "cls")


@dataclass(frozen=True)
class Symbols:
    binds: frozenset[str]
    free: tuple[Use, ...]  # every use of a name bound neither here nor in builtins
    statements: tuple[Statement, ...]
    imported_modules: tuple[tuple[str, int, int], ...]  # (module, line, col) absolute imports
    relative_imports: tuple[tuple[int, str, int, int], ...] = ()  # (level, module, line, col)
    future_end: int = 0  # last line of leading ``from __future__`` imports
    syntax_error: SyntaxError | None = None
    #: Names the top level only declares (``user: User``): an annotation binds nothing when
    #: it runs, so the reader is to supply the value. Free names, not in ``binds``.
    declared: frozenset[str] = frozenset()
    #: Names the code refers to only by string (forward references, SQLAlchemy's
    #: ``relationship("Child")``) and does not bind: resolved later, from the document.
    refers: frozenset[str] = frozenset()

    @property
    def free_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for use in self.free:
            seen.setdefault(use.name)
        return list(seen)


@dataclass
class _Collector(ast.NodeVisitor):
    names: frozenset[str]
    uses: list[Use] = field(default_factory=list)
    _lazy: int = 0
    _annotation: int = 0
    _locals: list[frozenset[str]] = field(default_factory=list)

    def visit_Name(self, node: ast.Name, attribute: bool = False) -> None:
        shadowed = any(node.id in scope for scope in self._locals)
        if isinstance(node.ctx, ast.Load) and node.id in self.names and not shadowed:
            self.uses.append(
                Use(
                    node.id,
                    node.lineno,
                    node.col_offset + 1,
                    self._lazy == 0,
                    self._annotation > 0,
                    attribute,
                )
            )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            self.visit_Name(node.value, attribute=True)
        else:
            self.visit(node.value)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            for dec in node.decorator_list:
                self.visit(dec)
            if node.returns is not None:
                self._visit_annotation(node.returns)
        args = node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                self._visit_annotation(arg.annotation)
        self._lazy += 1
        self._locals.append(_function_locals(node))
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            self.visit(stmt)
        self._locals.pop()
        self._lazy -= 1

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for dec in node.decorator_list:
            self.visit(dec)
        for base in node.bases:
            self._visit_annotation(base)
        for kw in node.keywords:
            self.visit(kw)
        for stmt in node.body:
            self.visit(stmt)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_annotation(node.annotation)
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def _visit_annotation(self, node: ast.expr) -> None:
        self._annotation += 1
        self.visit(node)
        self._annotation -= 1


#: ``relationship()`` arguments SQLAlchemy evaluates as code when given as strings.
_EVALUATED = frozenset(
    {"secondary", "order_by", "primaryjoin", "secondaryjoin", "foreign_keys", "remote_side"}
)


def _names_in_strings(strings: Sequence[str]) -> set[str]:
    """Names in the strings of annotations (``Mapped["Parent"]``) and in the class-name
    string of an ORM ``relationship("Parent")``: used once the mappers or the type checker
    resolve them, so an example split across blocks needs the block that defines them."""
    names: set[str] = set()
    for text in strings:
        try:
            with _PARSING:
                expr = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError):
            continue
        names |= _loaded_names(expr)
    return names - BUILTINS


@dataclass
class _Scan:
    """What one walk of a statement finds: every name it stores (and every function or class
    it defines, however deep), every name it loads, its ``global`` names, its imports and the
    strings that name classes (see :func:`_names_in_strings`). One walk instead of one per
    question: a walk in Python is most of the cost of reading a block."""

    stores: set[str] = field(default_factory=set)
    loads: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)


def _scan(node: ast.AST) -> _Scan:
    scan = _Scan()
    annotations: list[ast.expr | None] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Load):
                scan.loads.add(sub.id)
            elif isinstance(sub.ctx, ast.Store):
                scan.stores.add(sub.id)
        elif isinstance(sub, ast.AnnAssign | ast.arg):
            annotations.append(sub.annotation)
        elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
            scan.stores.add(sub.name)
            annotations.append(sub.returns)
        elif isinstance(sub, ast.ClassDef):
            scan.stores.add(sub.name)
        elif isinstance(sub, ast.Call):
            func = sub.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called == "relationship":
                # `relationship("Tag", secondary="post_tags", order_by="Tag.name")`: strings
                # the mappers evaluate once every class is defined
                values = [*sub.args[:1], *(k.value for k in sub.keywords if k.arg in _EVALUATED)]
                scan.strings += [
                    v.value
                    for v in values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                ]
        elif isinstance(sub, ast.Global):
            scan.globals.update(sub.names)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            scan.imports.append(sub)
    for annotation in annotations:
        if annotation is not None:
            scan.strings += [
                n.value
                for n in ast.walk(annotation)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
    return scan


def _function_locals(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    args = node.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global: set[str] = set()
    body = node.body if isinstance(node.body, list) else [node.body]
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.Global | ast.Nonlocal):
                declared_global.update(sub.names)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(sub.name)
            elif isinstance(sub, ast.alias):
                names.add(sub.asname or sub.name.split(".")[0])
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                names.add(sub.name)
    return frozenset(names - declared_global)


def _module_binds(table: symtable.SymbolTable) -> set[str]:
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()} | {
        child.get_name() for child in table.get_children() if child.get_type() != "module"
    }


def _global_refs(table: symtable.SymbolTable, out: set[str]) -> None:
    """Names any scope reads from the module/builtins namespace."""
    for sym in table.get_symbols():
        name = sym.get_name()
        if table.get_type() == "module":
            if sym.is_referenced():
                out.add(name)
        elif sym.is_referenced() and (
            sym.is_global()
            or (table.get_type() == "class" and not sym.is_assigned() and not sym.is_free())
        ):
            out.add(name)
    for child in table.get_children():
        _global_refs(child, out)


def _read_before_bound(tree: ast.Module, binds: Sequence[set[str]]) -> set[str]:
    """Names the top level reads before it first binds them: ``log = log.bind(user=...)``
    continues an earlier block's ``log``; the block does not define it for itself.
    ``binds``: what each top-level statement binds."""
    bound: set[str] = set()
    early: set[str] = set()
    for stmt, stmt_binds in zip(tree.body, binds, strict=True):
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            reads = _eager_loads(stmt.value) if stmt.value is not None else set()
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                reads.add(stmt.target.id)  # ``x += 1`` reads ``x`` first
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            reads = set()  # decorators and bases rarely continue a name; keep it simple
        else:  # a compound statement (for, with, try) may bind a name before its body reads it
            reads = _eager_loads(stmt) - stmt_binds
        early |= reads - bound
        bound |= stmt_binds
    return early & bound


def _declared_only(tree: ast.Module, scans: Sequence[_Scan], binds: Sequence[set[str]]) -> set[str]:
    """Top-level names with an annotation and no value, bound nowhere else (not even by a
    function's ``global``)."""
    declared: set[str] = set()
    bound: set[str] = set()
    for stmt, scan, stmt_binds in zip(tree.body, scans, binds, strict=True):
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            if isinstance(stmt.target, ast.Name):
                declared.add(stmt.target.id)
        else:
            bound |= stmt_binds
        bound |= scan.globals
    return declared - bound


def _eager_loads(node: ast.AST) -> set[str]:
    """Names loaded when ``node`` runs: not inside function or lambda bodies, and not a
    comprehension's own variables."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return set()
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    out: set[str] = set()
    for child in ast.iter_child_nodes(node):
        out |= _eager_loads(child)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        targets = [n for g in node.generators for n in ast.walk(g.target)]
        out -= {n.id for n in targets if isinstance(n, ast.Name)}
    return out


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stmt_binds(stmt: ast.stmt, scan: _Scan) -> set[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        out = set()
        for alias in stmt.names:
            if alias.name != "*":
                out.add(alias.asname or alias.name.split(".")[0])
        return out
    return set(scan.stores)


#: The stages run in threads, and ``ast.parse`` is not safe in two threads at once: CPython
#: counts the depth of the tree it builds in one place for the interpreter, so a thread switch
#: in the middle corrupts the count (``SystemError: AST constructor recursion depth mismatch``,
#: seen here on 3.11; gh-106905). Every parse of the main process goes through this lock.
_PARSING = threading.RLock()


def parsing_here() -> bool:
    """Whether this thread holds the parse lock (the CLI's signal handler waits until not)."""
    return bool(_PARSING._is_owned())  # type: ignore[attr-defined]


def parse_code(code: str) -> ast.Module:
    """``ast.parse``, one thread at a time. Raises as ``ast.parse`` does."""
    with _PARSING:
        return ast.parse(code)


@functools.lru_cache(maxsize=1024)
def parse_tree(code: str) -> ast.Module:
    """A block's syntax tree, parsed once for every reader (rules, verdict, fix engine):
    shared, so it must not be modified. Raises as ``ast.parse`` does."""
    return parse_code(code)


def tree_or_none(code: str) -> ast.Module | None:
    """:func:`parse_tree`, or None for code that does not parse (its own finding says so)."""
    try:
        return parse_tree(code)
    except (SyntaxError, ValueError):
        return None


def source_lines(code: str) -> list[str]:
    """The code's lines as the compiler counts them (with their ends): at ``\\n``, ``\\r\\n``
    and ``\\r`` only, not at a form feed or U+2028 as ``str.splitlines`` would."""
    return _LINE.findall(code)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def code_lines(code: str) -> list[str]:
    """The code's lines without their ends, numbered as the compiler, mypy and ruff do."""
    return [line.rstrip("\r\n") for line in source_lines(code)]


def char_column(lines: Sequence[str], line: int, byte_column: int) -> int:
    """The 1-based character column of ast's 1-based UTF-8 byte column on ``line``."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_column
    return len(text.encode()[: byte_column - 1].decode(errors="ignore")) + 1


@functools.lru_cache(maxsize=8192)
def analyze(code: str, filename: str = "<block>") -> Symbols:
    """Memoised: the context stage, the cache keys and the fix engine all ask about the same
    blocks."""
    try:
        tree = parse_tree(code)
        table = symtable.symtable(code, filename, "exec")
    except SyntaxError as exc:
        return Symbols(frozenset(), (), (), (), syntax_error=exc)
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        err = SyntaxError(str(exc) or type(exc).__name__)
        err.lineno, err.offset = 1, 1
        return Symbols(frozenset(), (), (), (), syntax_error=err)
    scans = [_scan(stmt) for stmt in tree.body]
    stmt_binds = [_stmt_binds(stmt, scan) for stmt, scan in zip(tree.body, scans, strict=True)]
    declared = _declared_only(tree, scans, stmt_binds)
    binds = _module_binds(table) - declared
    refs: set[str] = set()
    _global_refs(table, refs)
    free = frozenset((refs - binds - BUILTINS) | (_read_before_bound(tree, stmt_binds) & binds))
    collector = _Collector(free)
    collector.visit(tree)
    lines = source_lines(code)
    uses = [
        dataclasses.replace(u, column=char_column(lines, u.line, u.column)) for u in collector.uses
    ]
    statements = []
    strings: list[str] = []
    imported: list[tuple[str, int, int]] = []
    relative: list[tuple[int, str, int, int]] = []
    for stmt, scan, bound in zip(tree.body, scans, stmt_binds, strict=True):
        end = stmt.end_lineno or stmt.lineno
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        statements.append(
            Statement(
                source="".join(lines[start - 1 : end]),
                line=start,
                end_line=end,
                binds=frozenset(bound - declared),
                uses=frozenset(scan.loads - BUILTINS),
                declares=frozenset(bound & declared)
                if isinstance(stmt, ast.AnnAssign)
                else frozenset(),
                refers=frozenset(_names_in_strings(scan.strings) - bound),
                method=_method_shown_alone(stmt),
            )
        )
        strings += scan.strings
    nested = any(
        node is not stmt
        for stmt, scan in zip(tree.body, scans, strict=True)
        for node in scan.imports
    )
    imports = (
        [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        if nested  # the order a walk of the whole tree finds them in (outermost first)
        else [node for scan in scans for node in scan.imports]
    )
    for node in imports:
        col = char_column(lines, node.lineno, node.col_offset + 1)
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            relative.append((node.level, node.module or "", node.lineno, col))
        if isinstance(node, ast.Import):
            imported += [(a.name, node.lineno, col) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.append((node.module, node.lineno, col))
    future_end = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            future_end = stmt.end_lineno or stmt.lineno
        elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            break
    return Symbols(
        binds=frozenset(binds),
        free=tuple(uses),
        statements=tuple(statements),
        imported_modules=tuple(imported),
        relative_imports=tuple(relative),
        future_end=future_end,
        declared=frozenset(declared & free),
        refers=frozenset(_names_in_strings(strings) - binds - free),
    )


def changed_in_place(stmt: ast.stmt) -> set[str]:
    """The names a statement may change without binding them: the object of a method call
    (``holdings.update(x)``) or of an item assignment (``holdings[k] += n``)."""
    out: set[str] = set()
    for node in ast.walk(stmt):
        changed = (
            node.func.value
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            else node.value
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
            else None
        )
        if isinstance(changed, ast.Name):
            out.add(changed.id)
    return out
