"""Context stage: where does each name a block uses but does not bind come from?

Resolved like a careful reader would, in this order:
1. an earlier block of the same document binds it, by a definition or an import (no finding;
   those statements become the block's *prelude* for types and smoke);
2. an importable module exports it (an ``incomplete`` finding that names the import to add);
3. ``stubs/<doc>.py`` declares it (no finding; the stub is checked in its place);
4. nobody does (``incomplete``: a fragment), checked with a typed placeholder.
A missing name stays ``incomplete`` where running the block stops on it (the verdict adds
where); a name the block binds only after the statement that needs it is ``broken``.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import os
import re
import sys
import textwrap
import tokenize
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exampletest.model import Block, Category, Finding
from exampletest.nameindex import (
    NAMESPACES,
    STACK_PACKAGES,
    NameIndex,
    Suggestion,
    distribution_for,
    importable_spelling,
    installed_module,
    is_importable,
)
from exampletest.relative import relative_module
from exampletest.rules.base import normalize_dist
from exampletest.rules.fastapi import DEPENDS, PARAMS
from exampletest.symbols import (
    BUILTINS,
    Statement,
    Symbols,
    analyze,
    changed_in_place,
    code_lines,
    parse_code,
    parse_tree,
    source_lines,
    tree_or_none,
)

# Rule ids of the context stage.
MISSING_IMPORT = "ET001"
UNDEFINED = "ET002"
NOT_INSTALLED = "ET003"
WRONG_CASE = "ET004"  # ``from SQLAlchemy import ...``: broken for every reader
INDENTED = "ET005"  # every line of the fence's code indented: checked without it
UNPROMPTED = "ET006"  # a session's continuation line without its `...` prompt
SYNTAX = "SyntaxError"
#: How a finding says the block needs a name above the statement that defines it: its own
#: mistake, where a run's NameError makes it ``broken`` (unlike a missing import).
USED_BEFORE_DEFINED = "is used before this block defines it"


@dataclass(frozen=True)
class Provided:
    """How one free name is supplied when the block is checked."""

    name: str
    source: str  # import|stub|placeholder|declared (``x: T`` with no value: mypy has the type)
    statement: str | None = None  # the import, for source == "import"
    as_type: bool = False  # used as a type: a placeholder must be a class
    #: For a placeholder: the framework class (``fastapi:FastAPI``) whose real instance
    #: stands in at run time, so that what the fragment registers on it is checked
    standin: str | None = None
    #: For an import: exampletest's guess from the name index, or the import a later block
    #: of the document has (``later``): either way not what this block says it means
    guessed: bool = False
    later: bool = False
    #: Packages of their own offer the name too (``Path``: pathlib's, FastAPI's): the guess
    #: may not be the author's name (see ``_Resolver.rivals``)
    rivals: bool = False


@dataclass(frozen=True)
class PreludeStatement:
    block_index: int
    statement: Statement
    doc_line: int = 0  # where the statement starts in the document (0: not known)


@dataclass(frozen=True)
class BlockContext:
    block: Block
    symbols: Symbols
    prelude: tuple[PreludeStatement, ...]  # earlier blocks' statements this block needs
    provided: tuple[Provided, ...]  # for the block's and the prelude's free names
    missing: tuple[str, ...]  # the block's own free names no earlier block defines
    missing_modules: tuple[str, ...]  # top-level modules imported but not installed
    stub_source: str | None  # the document's stubs file, when it provides any name
    findings: tuple[Finding, ...]
    #: Modules the document itself writes that the block imports: (module, the block's code)
    doc_modules: tuple[tuple[str, str], ...] = ()
    #: Names the block refers to by string that only a later block defines: (name, the
    #: document line defining it). An example split across blocks, in the reader's order.
    later: tuple[tuple[str, int], ...] = ()
    #: Names the block refers to by string that no block of the document defines, none of
    #: them a near-miss of a name it does define: the block shows part of a larger example.
    nowhere: tuple[str, ...] = ()
    #: Names later blocks take from this block's imports: not unused, whatever ruff says.
    exported: tuple[str, ...] = ()
    #: Names the prelude binds that earlier statements it leaves out change in place (a loop
    #: filling a ``Counter``): what their values show here is not what the reader's are.
    altered: tuple[str, ...] = ()
    #: Attributes the block reads (``self._check_db()``) that no block of the document, nor
    #: its stubs, defines anywhere: a class shown in part, its other members left out.
    unbound_attributes: frozenset[str] = frozenset()
    #: The listings of each class the document shows more than once that the block defines
    #: or uses: (name, document line, the attributes that listing binds). A class shown again
    #: for one method (``save``) reads what the first listing's ``__init__`` set
    #: (``self._db``); a query uses a column another listing of its model shows.
    class_listings: tuple[tuple[str, int, frozenset[str]], ...] = ()
    #: The tables the document's models declare (``__tablename__``), and whether any of its
    #: blocks creates tables (``create_all``): what a "no such table" in a run means.
    tables: frozenset[str] = frozenset()
    creates_tables: bool = False
    #: Members the document shows outside their class, at the top level of a block
    #: (``labels: Mapped[list["Label"]] = relationship(...)`` under "declare it on both
    #: sides"): (name, document line, the one class of the document it can belong to). A
    #: listing of that class lacks them on purpose.
    loose_members: tuple[tuple[str, int, str], ...] = ()
    #: The document's modules the block imports that are files of a fence showing several
    #: (``# app/service.py`` under ``# app/models.py``): (module, document line naming the
    #: file). Nothing runs such a file on its own but an import of it.
    file_parts: tuple[tuple[str, int], ...] = ()
    #: The block's relative imports of the document's own modules: (the stand-in name the
    #: import resolves to, the document's module it means). ``from .database import Base`` in
    #: a block titled ``app/models.py`` gets the document's ``app/database.py``.
    relative_modules: tuple[tuple[str, str], ...] = ()
    #: The document's modules that are packages (``app/core/__init__.py``), for their runs.
    packages: tuple[str, ...] = ()
    #: Names the block takes from earlier blocks that bind them more than once, made by
    #: different callables (``with Session(engine) as session``, then ``async with
    #: AsyncSession(engine) as session``): (name, the document lines binding it). The block
    #: is checked with the last; it may mean another.
    rebound: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(p.name for p in self.provided if p.source == "placeholder")

    def guess_named(self, message: str, line: str = "", col: int = 0) -> Provided | None:
        """The guessed import of a missing name that ``message`` is about, or that starts at
        ``col`` (1-based) of ``line``, where the checker points (mypy calls the guessed
        ``collections.abc.Set`` "AbstractSet"): what a checker says of it is said of the
        guess, which need not be what the author meant."""
        at = line[col - 1 :] if col > 0 else ""
        for p in self.provided:
            if p.guessed and (
                re.search(rf'"(?:type\[)?{re.escape(p.name)}(?:"|\[|\])', message)
                or re.match(rf"{re.escape(p.name)}\b", at)
            ):
                return p
        return None


#: Standard-library names that examples far more often mean from a framework or library
#: (FastAPI's ``Request``, Pydantic's ``Field``, structlog's ``log``).
SHADOWED_STDLIB = frozenset(
    {"Request", "Field", "log", "Template", "Message", "Headers", "HTTPException", "Header"}
    | {"Cookie", "Context", "Event", "Queue", "Timeout", "Server", "Task", "Lock", "Token"}
)
#: Standard classes whose signature says ``**kwargs`` but that take no keyword arguments.
_NO_KEYWORDS = frozenset({("pathlib", "Path"), ("pathlib", "PurePath")})
#: HTTP clients, and the names they share with web frameworks: in a document that calls an
#: API with requests, a middleware's ``Request`` is still Starlette's (never guessed; the
#: document's own ``from requests import Request`` is used as written).
_HTTP_CLIENTS = frozenset({"requests", "httpx", "aiohttp", "urllib3"})
_SERVER_NAMES = frozenset({"Request", "Response", "request", "response", "Headers", "Cookie"})
#: Standard-library modules of value types (``UUID``, ``Decimal``, ``Enum``, ``Path``): a name
#: used only as a type is theirs before a library's class of the same name.
VALUE_TYPES = frozenset({"uuid", "decimal", "enum", "datetime", "pathlib", "ipaddress"})
#: Standard-library modules examples import names from. A missing name is guessed from another
#: standard module (``turtle.setup``, ``xml.dom.minidom.Comment``, ``platform.version``) only
#: when the document imports from that module itself: such a guess is a coincidence of names.
COMMON_STDLIB = frozenset(
    {
        "abc", "argparse", "array", "asyncio", "base64", "bisect", "collections", "contextlib",
        "contextvars", "copy", "csv", "dataclasses", "datetime", "decimal", "enum", "fractions",
        "functools", "glob", "hashlib", "heapq", "hmac", "http", "inspect", "io", "ipaddress",
        "itertools", "json", "logging", "math", "operator", "os", "pathlib", "pickle", "pprint",
        "queue", "random", "re", "secrets", "shutil", "sqlite3", "statistics", "string",
        "subprocess", "sys", "tempfile", "textwrap", "threading", "time", "traceback", "types",
        "typing", "unittest", "urllib", "uuid", "warnings", "weakref", "zoneinfo", "concurrent",
    }
)  # fmt: skip
#: Standard modules whose non-class, non-function names (``Optional``, ``UTC``) are worth
#: guessing; elsewhere such a name is a constant (``re.A``), a coincidence.
_STDLIB_VALUES = frozenset({"typing", "collections.abc", "datetime"})

#: Package names examples use for the reader's own project (``from app.core import config``):
#: never suggested for installation.
PROJECT_PACKAGES = frozenset(
    {
        "app", "apps", "application", "api", "backend", "server", "src", "core", "main",
        "config", "settings", "models", "schemas", "services", "utils", "helpers", "tests",
        "crud", "routers", "routes", "dependencies", "db", "database", "common", "lib",
        "domain", "infrastructure", "repositories", "handlers", "views", "tasks", "workers",
        "example", "examples", "myapp", "my_app", "myproject", "my_project", "mypackage",
        "my_package", "mymodule", "my_module", "project", "yourapp", "your_app", "internal",
        "your_project", "yourproject", "your_package", "yourpackage", "your_module", "mylib",
        "my_lib", "third_party", "thirdparty", "framework", "foo", "bar", "baz", "package",
        "module", "some_module", "somemodule", "some_package",
    }
)  # fmt: skip


def analyze_document(
    blocks: Sequence[Block],
    index: NameIndex,
    stub_source: str | None = None,
) -> list[BlockContext]:
    """Context of every block of one document, in order. Memoised: a run asks once for its
    cache keys and again for its checks (everything here is immutable)."""
    return list(_analyze_document(tuple(blocks), index, stub_source))


@functools.lru_cache(maxsize=512)
def _analyze_document(
    blocks: tuple[Block, ...], index: NameIndex, stub_source: str | None
) -> tuple[BlockContext, ...]:
    stub_names = analyze(stub_source).binds if stub_source else frozenset()
    prefer = _imported_modules(blocks)
    tops = frozenset(m.split(".")[0] for m in prefer)
    if not tops & _RIVALS:
        evident = _evident_packages(blocks, index) - tops
        prefer, tops = [*prefer, *sorted(evident)], tops | evident
    earlier: list[tuple[int, Statement]] = []
    out: list[BlockContext] = []
    versions = document_modules(blocks)
    imports = _document_imports(blocks)
    tables = frozenset().union(*(_table_bases(b.code) for b in blocks))
    files: dict[int, list[str]] = {}
    for module, written in versions.items():
        for b in written:
            files.setdefault(b.index, []).append(module)
    by_index = {b.index: b for b in blocks}
    for block in blocks:
        symbols = analyze(block.code)
        resolver = _Resolver(index, prefer, tops, imports, tables)
        modules = _as_of(versions, block)
        own = tuple(files.get(block.index, ()))
        ctx = _block_context(
            block, symbols, earlier, resolver, stub_names, stub_source, modules, own, by_index
        )
        out.append(ctx)
        if symbols.syntax_error is None and block.skip_reason is None:
            # (a method shown alone is not what a later block's bare `operation()` calls)
            shown = [s for s in symbols.statements if not s.method]
            earlier.extend((block.index, s) for s in _the_right_way(block, shown, earlier))
        elif block.skip_reason is None and symbols.syntax_error is not None:
            # `from <service>.settings import settings` elides one statement: the block's
            # others (its imports, `app = FastAPI()`) are still what later blocks build on.
            # A block that does not parse (a typo in one function) still imports what it
            # imports and defines what it defines elsewhere.
            filled = _filled(block.code, symbols.syntax_error)
            kept = analyze(filled[0] if filled else _parsing_statements(block.code)).statements
            earlier.extend(
                (block.index, s) for s in kept if s.source in block.code and not s.method
            )
    out = _with_unbound_attributes(out, (*(b.code for b in blocks), stub_source or ""))
    out = _with_class_listings(out)
    declared = frozenset(m for b in blocks for m in _TABLE_NAME.findall(b.code))
    declared |= frozenset(m for b in blocks for m in _SQL_TABLE.findall(b.code))
    creates = any(_CREATES_TABLES.search(b.code) for b in blocks)
    if declared or creates:
        out = [dataclasses.replace(c, tables=declared, creates_tables=creates) for c in out]
    bindings = _class_bindings(earlier, by_index, index)
    out = [
        dataclasses.replace(c, rebound=again) if (again := _rebound(c, bindings)) else c
        for c in out
    ]
    packages = tuple(sorted(m for m, written in versions.items() if is_package(written[-1])))
    if packages:
        out = [dataclasses.replace(c, packages=packages) for c in out]
    loose = _loose_owners(blocks)
    if loose:
        out = [dataclasses.replace(c, loose_members=loose) for c in out]
    parts = {  # the files of fences that show several
        module: by_index[b.index].doc_line(1 + len(b.code) - len(b.code.lstrip("\n")))
        for module, written in versions.items()
        for b in written
        if b.code != by_index[b.index].code
    }
    out = [
        dataclasses.replace(c, file_parts=used)
        if (used := tuple((m, parts[m]) for m, _ in c.doc_modules if m in parts))
        else c
        for c in out
    ]
    return _with_exports(list(reversed(list(_with_later_definitions(reversed(out))))))


def _rebound(
    ctx: BlockContext, bindings: Sequence[tuple[int, str, int, str]]
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """See ``BlockContext.rebound``: the names the block takes from earlier blocks that those
    bind to instances of different classes (``bindings``: see :func:`_class_bindings`)."""
    names = {n for p in ctx.prelude for n in p.statement.binds}
    made: dict[str, list[tuple[int, str]]] = {}
    for index, name, line, cls in bindings:
        if index < ctx.block.index and name in names:
            made.setdefault(name, []).append((line, cls))
    return tuple(
        (name, tuple(line for line, _ in found))
        for name, found in sorted(made.items())
        if len({cls for _, cls in found}) > 1
    )


def _class_bindings(
    earlier: Sequence[tuple[int, Statement]], by_index: Mapping[int, Block], index: NameIndex
) -> list[tuple[int, str, int, str]]:
    """Each binding of a name to an instance of a class, in document order: (block index,
    name, document line, the class). Only classes count: one the document defines before,
    or a library's (the name index says it is a class); what a function or a factory gives
    (``SessionLocal()``, ``get_settings()``) is not known here. A class is told by what the
    imports before the binding name it, and by where it is defined: ``orm.Session`` and
    ``Session`` are one, and so are FastAPI's ``JSONResponse`` and Starlette's."""
    out = []
    imported: dict[str, str] = {}  # local name -> what it is: `orm` -> `sqlalchemy.orm`
    classes: set[str] = set()  # the document's (a decorated function is none)
    for block_index, s in earlier:
        tree = tree_or_none(s.source)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
                for alias in node.names:
                    if isinstance(node, ast.ImportFrom):
                        imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    elif alias.asname or "." not in alias.name:
                        imported[alias.asname or alias.name] = alias.name
        if not isinstance(tree.body[0] if tree.body else None, _BINDING_STATEMENTS):
            continue
        for name in s.binds:
            maker = _maker(tree, name)
            last = maker.rpartition(".")[2] if maker else ""
            if not maker or not last[:1].isupper():  # (a class, by its name's convention)
                continue
            if last not in classes and not any(c.kind == "class" for c in index.candidates(last)):
                continue
            root, _, rest = maker.partition(".")
            module, _, _ = (imported.get(root, root) + (f".{rest}" if rest else "")).rpartition(".")
            origin = index.origin(last, module) if module else ""
            line = by_index[block_index].doc_line(s.line)
            out.append((block_index, name, line, f"{origin or module}.{last}"))
    return out


#: Statements that bind a name to what a call gives.
_BINDING_STATEMENTS = (ast.Assign, ast.AnnAssign, ast.With, ast.AsyncWith)


def _maker(tree: ast.Module, name: str) -> str | None:
    """The callable whose call a statement binds ``name`` to (``x = Session(engine)``, ``with
    Session(engine) as x``): ``Session``. Only the statement's own binding, not one inside a
    function it defines."""
    nodes: list[ast.AST] = []
    for top in tree.body:
        nodes.append(top)
        if isinstance(top, ast.With | ast.AsyncWith):
            nodes.extend(top.items)
    for node in nodes:
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = node.value if node.target.id == name else None
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            value = node.context_expr if node.optional_vars.id == name else None
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            return ast.unparse(value.func)
    return None


#: What only a class body declares: an ORM column or relationship, a model's field.
_MEMBER_MAKERS = frozenset(
    {"relationship", "mapped_column", "Column", "column_property", "Field", "PrivateAttr"}
)


def _loose_owners(blocks: Sequence[Block]) -> tuple[tuple[str, int, str], ...]:
    """Each member shown outside its class (see :func:`_loose_members`) with the class it
    belongs to: the one class of the document that no listing gives that member, that no
    other class derives from (``Base``) and that the member's line does not name (the
    other side of ``posts: Mapped[list["Post"]]``). None when several could have it."""
    shown = [b for b in blocks if b.skip_reason is None]
    loose = [m for b in shown for m in _loose_members(b)]
    if not loose:
        return ()
    members: dict[str, set[str]] = {}
    bases: set[str] = set()
    for block in shown:
        tree = tree_or_none(block.code)
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.ClassDef):
                members.setdefault(node.name, set()).update(_class_members(node))
                bases.update(ast.unparse(b).rpartition(".")[2] for b in node.bases)
    out = []
    for name, line, source in loose:
        said = set(re.findall(r"\w+", source))
        owners = [c for c, has in members.items() if name not in has and c not in bases | said]
        if len(owners) == 1:
            out.append((name, line, owners[0]))
    return tuple(out)


def _loose_members(block: Block) -> list[tuple[str, int, str]]:
    """The class members the block shows at its top level, outside their class, with their
    source: an annotation ``Mapped[...]`` (only a class body maps columns), or a value made
    by a column, relationship or field maker (``relationship(...)``, ``Field(...)``)."""
    tree = tree_or_none(block.code) if "Mapped" in block.code or "(" in block.code else None
    out = []
    for node in tree.body if tree is not None else ():
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target, node.value
            mapped = re.match(r"(?:\w+\.)*Mapped\b", ast.unparse(node.annotation)) is not None
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            target, value, mapped = node.targets[0], node.value, False
        else:
            continue
        made = isinstance(value, ast.Call) and (
            ast.unparse(value.func).split(".")[-1] in _MEMBER_MAKERS
        )
        if mapped or made:
            out.append((target.id, block.doc_line(node.lineno), ast.unparse(node)))
    return out


def _the_right_way(
    block: Block, statements: list[Statement], earlier: list[tuple[int, Statement]]
) -> list[Statement]:
    """The statements later blocks build on: not those of the wrong way (under a ``# ❌
    WRONG`` marker) where the right way binds the same names (``past_time`` computed both
    ways, one after the other: a later block means the right one)."""
    from exampletest.verdict import marked_lines  # (the verdict reads contexts)

    governed = marked_lines(block)
    if not governed:
        return statements
    wrong = [s for s in statements if block.doc_line(s.line) in governed]
    right = {n for _, s in earlier for n in s.binds}
    right |= {n for s in statements if s not in wrong for n in s.binds}
    return [s for s in statements if s not in wrong or not s.binds <= right]


def _with_unbound_attributes(
    contexts: list[BlockContext], codes: Sequence[str]
) -> list[BlockContext]:
    """Each context with the attributes its block reads that the document never binds."""
    bound: set[str] = set()
    for code in codes:
        bound |= _attributes(code)[0]
    if "__getattr__" in bound:  # a class that answers any attribute
        return contexts
    out = []
    for ctx in contexts:
        unbound = _attributes(ctx.block.code)[1] - bound
        out.append(dataclasses.replace(ctx, unbound_attributes=unbound) if unbound else ctx)
    return out


def _with_class_listings(contexts: list[BlockContext]) -> list[BlockContext]:
    """Each context with the listings of the classes its block defines or uses that the
    document shows more than once (what a listing binds is read only for those: most
    documents show each class once)."""
    listed: dict[str, list[tuple[BlockContext, Statement]]] = {}
    for ctx in contexts:
        statements = ctx.symbols.statements
        if ctx.symbols.syntax_error is not None:  # its elisions filled in (on the same lines)
            filled = _filled(ctx.block.code, ctx.symbols.syntax_error)
            statements = analyze(filled[0]).statements if filled else ()
        for st in statements:
            m = _CLASS_LINE.search(st.source)
            if m is not None and st.binds == {m.group(1)}:
                listed.setdefault(m.group(1), []).append((ctx, st))
    many = {name: shown for name, shown in listed.items() if len(shown) > 1}
    if not many:
        return contexts
    listings = {
        name: tuple(
            (name, ctx.block.doc_line(st.line), _attributes(st.source)[0]) for ctx, st in shown
        )
        for name, shown in many.items()
    }
    out = []
    for ctx in contexts:
        names = ctx.symbols.binds | set(ctx.symbols.free_names)
        names |= {n for p in ctx.prelude for n in p.statement.uses}  # `get_settings() -> ...`
        names &= set(many)
        mine = tuple(item for name in sorted(names) for item in listings[name])
        out.append(dataclasses.replace(ctx, class_listings=mine) if mine else ctx)
    return out


#: A top-level class statement's ``class`` line (under its decorators).
_CLASS_LINE = re.compile(r"^class[ \t]+(\w+)", re.M)


#: A binding in code that does not parse: ``def x``, ``class X``, ``.x =``, ``x:``, ``x =``.
_BINDING = re.compile(
    r"\b(?:def|class)\s+(\w+)|\.(\w+)\s*(?::[^=\n]*)?=(?!=)|^\s*(\w+)\s*(?::|=(?!=))", re.M
)


@functools.lru_cache(maxsize=4096)
def _attributes(code: str) -> tuple[frozenset[str], frozenset[str]]:
    """Every attribute the code binds (a class's methods, fields and class-level names,
    ``self.x = ...``, a method shown without its class, a relationship's ``back_populates``
    and ``backref``, ``setattr``), and the attributes it reads (``x.total += 1`` reads
    ``total``, and binds nothing new). A module-level function or name is no attribute: a
    route ``get_user`` leaves a service's ``get_user()`` unbound. One walk, memoised: a fix's
    trial analyses its whole document again."""
    tree = tree_or_none(code)
    if tree is None:
        return frozenset(n for m in _BINDING.finditer(code) for n in m.groups() if n), frozenset()
    found: set[str] = set()
    reads: set[str] = set()
    updated: set[ast.AST] = set()  # ast.walk gives a statement before its target
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign):
            updated.add(node.target)
        elif node in updated:
            if isinstance(node, ast.Attribute):
                reads.add(node.attr)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            reads.add(node.attr)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            found |= _class_members(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _method_shown_alone(node):
            found.add(node.name)
        elif isinstance(node, ast.keyword) and node.arg in ("back_populates", "backref"):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
            found.update(
                a.value
                for a in node.args[1:2]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return frozenset(found), frozenset(reads)


def _method_shown_alone(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``def _check_cache(self) -> bool:`` outside a class: a method, its class not shown."""
    return bool(node.args.args) and node.args.args[0].arg in ("self", "cls")


def _class_members(cls: ast.ClassDef) -> set[str]:
    """The names a class body binds (methods, fields, ``RED = 1``), under an ``if`` too, not
    inside its methods."""
    out: set[str] = set()
    todo: list[ast.AST] = list(cls.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
        if not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return out


#: A top-level line that goes on the statement above it rather than starting one.
_GOES_ON = re.compile(r"[)\]}#]|(?:else|elif|except|finally|case)\b(?!\s*[=.(\[])")


def _parsing_statements(code: str) -> str:
    """The top-level statements of code that does not parse, each one that parses alone
    (a decorated function with its decorators, a parenthesized import with its lines), the
    others blanked: a typo in one function leaves the block's imports, its other functions
    and its assignments to the later blocks that use them."""
    lines = code.splitlines(keepends=True)
    starts: list[int] = []
    previous = ""  # the last top-level line
    quoted = False  # inside a triple-quoted string (its lines are text, not statements)
    for i, line in enumerate(lines):
        inside = quoted
        quoted ^= (line.count('"""') + line.count("'''")) % 2 == 1
        if inside or not line[:1].strip() or _GOES_ON.match(line):
            continue
        if not previous.startswith("@"):  # else: a decorator's next decorator, or its def
            starts.append(i)
        previous = line
    kept = ["\n" * line.count("\n") for line in lines]
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=False):
        if _parses("".join(lines[start:end])):
            kept[start:end] = lines[start:end]
    return "".join(kept)


def _with_exports(contexts: list[BlockContext]) -> tuple[BlockContext, ...]:
    """Each context with the names later blocks take from its imports (their preludes)."""
    taken: dict[int, set[str]] = {}
    for ctx in contexts:
        needed = set(ctx.symbols.free_names)
        for p in ctx.prelude:
            if _is_import(p.statement):
                taken.setdefault(p.block_index, set()).update(p.statement.binds & needed)
    return tuple(
        dataclasses.replace(ctx, exported=tuple(sorted(taken[ctx.block.index])))
        if taken.get(ctx.block.index)
        else ctx
        for ctx in contexts
    )


def _with_later_definitions(backwards: Iterable[BlockContext]) -> Iterator[BlockContext]:
    """Each context (last first) with the names it refers to by string that a later block
    defines, and those no block defines."""
    defined_after: dict[str, int] = {}
    for ctx in backwards:
        bound = {n for p in ctx.prelude for n in p.statement.binds} | ctx.symbols.binds
        # the earlier blocks' own references count too: `User.posts` here configures the
        # `relationship("Post")` an earlier block wrote
        refers = ctx.symbols.refers | {n for p in ctx.prelude for n in p.statement.refers}
        unbound = sorted(refers - bound)
        later = tuple((name, defined_after[name]) for name in unbound if name in defined_after)
        known = [*bound, *defined_after]
        nowhere = tuple(
            name
            for name in unbound
            if name not in defined_after and not difflib.get_close_matches(name, known, 1, 0.85)
        )
        if later or nowhere:
            ctx = dataclasses.replace(ctx, later=later, nowhere=nowhere)
        if any(name in defined_after for name in ctx.missing):
            ctx = dataclasses.replace(ctx, findings=_later_said(ctx.findings, defined_after))
        yield ctx
        if ctx.block.skip_reason is None:
            for st in ctx.symbols.statements:
                if not _is_import(st):
                    defined_after.update((n, ctx.block.doc_line(st.line)) for n in st.binds)


def _later_said(
    findings: tuple[Finding, ...], defined_after: dict[str, int]
) -> tuple[Finding, ...]:
    """A fragment's name that a later block defines is not "never defined in this document":
    say where it is (the block is still checked without it, as a reader reaching it would)."""
    out = []
    for f in findings:
        name = f.message.split("`")[1] if f.rule == UNDEFINED and "`" in f.message else ""
        if name in defined_after and _NEVER in f.message:
            f = dataclasses.replace(
                f,
                message=f.message.replace(
                    _NEVER, f"is defined only in a later block (line {defined_after[name]})"
                ),
            )
        out.append(f)
    return tuple(out)


_NEVER = "is never defined in this document"


#: A first code line naming the file the block is: ``# shapes.py``, ``# file: app/models.py``.
FILE_COMMENT = re.compile(r"#\s*(?:file(?:name)?:\s*)?([\w./-]+\.py)\s*$", re.I)


def _as_of(versions: dict[str, list[Block]], block: Block) -> dict[str, Block]:
    """Each document module as a block sees it: its latest version before the block, or its
    first version when the document writes it only later. Files a tutorial changes together
    (``package/__init__.py`` then ``package/thing.py``, block after block) are one state: a
    version written in the same run of file blocks counts as written before."""
    files = {b.index for blocks in versions.values() for b in blocks}
    together = {block.index}
    if block.index in files:
        i = block.index + 1
        while i in files:
            together.add(i)
            i += 1
    out: dict[str, Block] = {}
    if not versions:
        return out  # the document writes no module (most do not): nothing to walk for
    wanted = _names_imported_from(block.code)
    for module, blocks in versions.items():
        same = [b for b in blocks if b.index in together and b.index != block.index]
        before = [b for b in blocks if b.index < block.index]
        default = same[-1] if same else before[-1] if before else blocks[0]
        # Another excerpt of the same file (`# app/api/deps.py` twice, different parts of it):
        # the version that has what the block imports from it, the nearest first.
        needs = wanted.get(module, set())
        serving = [v for v in [default, *reversed(before)] if needs <= analyze(v.code).binds]
        out[module] = serving[0] if serving else default
    return out


def _names_imported_from(code: str) -> dict[str, set[str]]:
    """module -> the names the code imports from it (``from app.deps import a, b``)."""
    out: dict[str, set[str]] = {}
    try:
        tree = parse_tree(code)
    except (SyntaxError, ValueError):
        return out
    for st in ast.walk(tree):
        if isinstance(st, ast.ImportFrom) and st.module and not st.level:
            out.setdefault(st.module, set()).update(a.name for a in st.names if a.name != "*")
    return out


def document_modules(blocks: Sequence[Block]) -> dict[str, list[Block]]:
    """Modules the document writes itself: a block titled ``shapes.py`` (``title="shapes.py"``
    in its fence, MyST's ``:caption: shapes.py``, or a first line ``# shapes.py``) is the
    module ``shapes`` that other blocks import, not a package to install. Every version the
    document writes, in order (a tutorial rewrites a file as it goes)."""
    out: dict[str, list[Block]] = {}
    for block in blocks:
        if block.skip_reason is not None:
            continue
        sections = file_sections(block.code)
        if sections:  # several files in one fence: each is a module of its own
            for title, code in sections:
                if (module := module_of(title)) is not None:
                    section = dataclasses.replace(block, code=code, title=title)
                    out.setdefault(module, []).append(section)
            continue
        module = module_of(block_file(block))
        if module is not None:
            out.setdefault(module, []).append(block)
    return out


def is_package(block: Block | None) -> bool:
    """Whether the document's module a block writes is a package (``app/core/__init__.py``):
    its relative imports start from itself."""
    return block is not None and block_file(block).strip().endswith("__init__.py")


def block_file(block: Block) -> str:
    """The file a block says it is: its title, or a first line naming it (``# shapes.py``)."""
    found = FILE_COMMENT.fullmatch(block.code.lstrip().split("\n", 1)[0])
    return block.title or (found.group(1) if found else "")


def module_of(title: str) -> str | None:
    """``app/models.py`` -> ``app.models`` (``src/`` and ``__init__`` dropped)."""
    parts = _file_parts(title)
    parts = parts[:-1] if parts[-1:] == ["__init__"] else parts
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def _file_parts(title: str) -> list[str]:
    """``src/app/models.py`` -> ``["app", "models"]``; ``[]`` for no Python file."""
    if not title.strip().endswith(".py"):
        return []
    parts = title.strip().replace("\\", "/").removesuffix(".py").split("/")
    return parts[1:] if len(parts) > 1 and parts[0] in ("src", ".") else parts


def imports_own_file(code: str, line: int) -> bool:
    """Code line ``line`` is in an import from another of the files the block shows one
    after another (``# app/service.py`` then ``from app.models import User``): a name it
    imports again is no redefinition in the files apart."""
    sections = frozenset(m for title, _ in file_sections(code) if (m := module_of(title)))
    tree = tree_or_none(code) if sections else None

    def target(node: ast.ImportFrom) -> str | None:  # (`from .database import Base`)
        if not node.level:
            return node.module
        return _relative_target(_file_at(code, node.lineno), node.level, node.module or "")

    return tree is not None and any(
        isinstance(node, ast.ImportFrom)
        and target(node) in sections
        and node.lineno <= line <= (node.end_lineno or node.lineno)
        for node in tree.body
    )


def opens_own_file(code: str, line: int) -> bool:
    """Code line ``line`` is in a ``from __future__`` import at the start of one of the files
    the block shows one after another: at the start of its file, where it belongs."""
    for _, section in file_sections(code):
        tree = tree_or_none(section)
        for node in tree.body if tree is not None else ():
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                return isinstance(node, ast.ImportFrom) and node.module == "__future__"
            if not (
                (isinstance(node, ast.ImportFrom) and node.module == "__future__")
                or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
            ):
                break  # past the file's docstring and its __future__ imports
    return False


#: A line naming a file at the left margin, as a fence showing several files has them.
_FILE_LINE = re.compile(r"(?m)^#[ \t]*(?:file(?:name)?:[ \t]*)?[\w./-]+\.py[ \t]*$", re.I)


@functools.lru_cache(maxsize=4096)
def file_sections(code: str) -> tuple[tuple[str, str], ...]:
    """The files a block shows one after another, each under a line of its own naming it
    (``# app/models.py``, its code, ``# app/main.py``, ...), starting with the block: (file
    name, its code, the block's other lines blank so that lines keep their numbers). Empty
    for a block that is one file."""
    if len(_FILE_LINE.findall(code, 0, 1 << 20)) < 2:  # (before tokenizing it: most blocks)
        return ()
    lines = code_lines(code)
    try:  # comments, not a string's lines that look like them (a scaffold's templates)
        comments = [
            t.start[0] - 1
            for t in tokenize.generate_tokens(io.StringIO(code).readline)
            if t.type == tokenize.COMMENT and t.start[1] == 0
        ]
    except (tokenize.TokenError, SyntaxError):
        return ()
    marks = [
        (i, m[1])
        for i in comments
        if i < len(lines) and (m := FILE_COMMENT.fullmatch(lines[i].strip()))
    ]
    first = next((i for i, text in enumerate(lines) if text.strip()), None)
    if len(marks) < 2 or marks[0][0] != first:
        return ()
    ends = [at for at, _ in marks[1:]] + [len(lines)]
    return tuple(
        (name, "\n" * start + "\n".join(lines[start:end]) + "\n")
        for (start, name), end in zip(marks, ends, strict=True)
    )


def _bare_decorators(code: str) -> bool:
    """The code ends with decorators and nothing under them (``@click.option(...)`` shown
    alone): with a function after them it would parse."""
    decorators = [ln for ln in code.splitlines() if ln.lstrip().startswith("@")]
    if not decorators:
        return False
    indent = decorators[-1][: len(decorators[-1]) - len(decorators[-1].lstrip())]
    return _parses(f"{code.rstrip()}\n{indent}def _(): ...\n")


#: The statement a clause cannot stand without: a block that starts with it is the rest of
#: that statement, shown alone.
_CLAUSE_HEADS = {
    "except": "try:\n    pass\n",
    "finally": "try:\n    pass\n",
    "elif": "if _:\n    pass\n",
    "else": "if _:\n    pass\n",
}


def _clause_excerpt(code: str) -> str | None:
    """The clause keyword (``except ValueError:``) the code shows without the statement it
    belongs to, at its start or after other code (an anti-pattern list's `except
    CancelledError: return None`), when, with those statements put in front of each such
    clause, the code parses."""
    lines = code.split("\n")
    clause = None
    for _ in range(20):
        err = _syntax_error("\n".join(lines))
        if err is None:
            return clause
        at = (err.lineno or 0) - 1
        m = re.match(r"(except|finally|elif|else)\b", lines[at]) if 0 <= at < len(lines) else None
        before = lines[at - 1].strip() if at > 0 else ""
        if m is None or (at > 0 and before and not before.startswith("#")):
            return None  # after other code with nothing between: a clause out of place
        clause = clause or m.group(1)
        lines[at:at] = _CLAUSE_HEADS[m.group(1)].rstrip("\n").split("\n")
    return None


#: What a block of a few lines can be the inside of: (description, code around it).
_INSIDES = (
    ("a function's parameter list", "def _(\n{}\n): ..."),
    ("a call's arguments", "_(\n{}\n)"),
    ("a dict's entries", "_ = {{\n{}\n}}"),
)


def _part_of(code: str) -> str | None:
    """What the code is the inside of, when it parses once put there (``first_name: str,
    last_name: str``; ``... "item_name": item.name ...``): a line or two shown alone."""
    lines = [ln.strip() for ln in code.strip().splitlines()]
    if not lines or len(lines) > 5:
        return None
    inner = "\n".join(re.sub(r"^\.\.\.\s*|\s*\.\.\.$", "", ln) for ln in lines)
    if not inner.strip():
        return None
    return next((what for what, around in _INSIDES if _parses(around.format(inner))), None)


def _cut_in_docstring(code: str, err: SyntaxError) -> str | None:
    """The function or class whose docstring the code stops in (a listing cut off after the
    docstring it is about), when closing that docstring makes the code parse."""
    if not err.msg.startswith("unterminated triple-quoted string"):
        return None
    lines = textwrap.dedent(code).rstrip().splitlines()
    opened = err.lineno - 1 if err.lineno else -1
    if not 0 < opened < len(lines):
        return None
    quote = '"""' if '"""' in lines[opened] else "'''"
    if not lines[opened].lstrip().startswith((quote, f"r{quote}")):
        return None  # a string in an expression, not a docstring
    indent = lines[opened][: len(lines[opened]) - len(lines[opened].lstrip())]
    if any(t.strip() and not t.startswith(indent) for t in lines[opened + 1 :]):
        return None  # code at the left of the docstring follows it: a quote left open
    headers = re.findall(r"(?m)^\s*(?:async\s+)?(?:def|class)\s+(\w+)", "\n".join(lines[:opened]))
    header = headers[-1] if headers else None
    closed = "\n".join([*lines, indent + quote])
    return header if header and _parses(closed) else None


def _parses(code: str) -> bool:
    try:
        parse_code(code)
    except (SyntaxError, ValueError):
        return False
    return True


#: What stands for code left out, and what it is when the code parses without it.
_ELISIONS = (
    (re.compile(r",\s*\.\.\.(?=\s*\))"), "", "the `...` stands for arguments left out"),
    (re.compile(r",\s*\.\.\.(?=\s*\})"), "", "the `...` stands for entries left out"),
    # `"username": "johndoe",` then `...` on a line of its own: more entries (before the
    # next; after a header's colon, `...` is a body)
    (
        re.compile(r"(,[ \t]*(?:#[^\n]*)?\n)[ \t]*\.\.\.[ \t]*,?[ \t]*(?=\n|#)"),
        r"\1",
        "the `...` stands for entries left out",
    ),
    (  # a line of its own in a list: "more items here" (as a statement, `...,` is still one)
        re.compile(r"(?m)^([ \t]*)\.\.\.[ \t]*$"),
        r"\1...,",
        "the `...` stands for items left out",
    ),
    (re.compile(r"(?<=\()\s*\.\.\.\s*,"), "", "the `...` stands for arguments left out"),
    # `filter(.....)`, `x = [1, 2, ....]`: more dots than Python's `...`
    (re.compile(r"(?<![\w.])\.{4,}(?![\w.])"), "...", "the dots stand for code left out"),
    (re.compile(r"<[A-Za-z_][\w .-]*>"), "_", "`<...>` stands for something the reader supplies"),
    (
        re.compile(r"\{\{\s*[A-Za-z_][\w.]*\s*\}\}"),
        "_",
        "`{{...}}` stands for something the reader supplies",
    ),
    (  # an agent command's `$ARGUMENTS`, a template's `$RESOURCE` or `${NUM}` (before
        # `{...}`, which would leave the `$`)
        re.compile(r"\$(?:[A-Z][A-Z0-9_]{2,}|\{[A-Za-z_]\w*\})(?![\w{])"),
        "_",
        "`$ARGUMENTS` stands for something the reader supplies",
    ),
    (re.compile(r"\{[A-Za-z_]\w*\}"), "_", "`{...}` stands for something the reader supplies"),
    (
        re.compile(r"(def\s+\w+)\(\s*\.\.\.\s*\)"),
        r"\1()",
        "the `...` stands for parameters left out",
    ),
    (  # `async def ask(self, request): ...` and then the body, indented: "and so on"
        re.compile(
            r"(?m)^([ \t]*)(\S[^\n]*?):[ \t]*\.\.\.[ \t]*\n((?:[ \t]*\n)*)"
            r"(?=\1[ \t]+(?!(?:async[ \t]+)?def\b|class\b|@)\S)"  # (a stub under a stub: a typo)
        ),
        r"\1\2:\n\3",
        "the `...` after the colon stands for the start of the body, left out",
    ),
    (  # an API listing: `def on_event(self, event: Event)`, the signature alone (its
        # parameters on lines of their own too, a default's call among them)
        re.compile(
            r"(?m)^([ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\((?:[^()]|\([^()]*\))*\)"
            r"(?:[ \t]*->[^:\n]+)?)[ \t]*$"
        ),
        r"\1: ...",
        "a signature listed without its body",
    ),
)
_NO_BODY = re.compile(r"expected an indented block after .* on line (\d+)")
_HEADER_END = re.compile(r":[ \t]*(?:#.*)?$")


def _elided(code: str, err: SyntaxError) -> str | None:
    """How the code elides what makes it invalid, when without the elision it parses:
    ``Model(name="x", ...)``, ``def f(..., x)``, ``model = <your model>``, or a function whose
    body is only a comment (``# do custom things here``)."""
    filled = _filled(code, err)
    return filled[1] if filled else None


def _without_elisions(code: str) -> tuple[str, list[str]]:
    """The code with each elision replaced by what parses in its place (on the same lines),
    and how it elides."""
    trimmed, why = code, []
    for pattern, fill, reason in _ELISIONS:
        trimmed, count = pattern.subn(fill, trimmed)
        if count and reason not in why:
            why.append(reason)
    return trimmed, why


def _error_beyond_elisions(code: str, err: SyntaxError) -> tuple[SyntaxError, str] | None:
    """The syntax error the code still has, on another line, once its elisions are read as
    such (a template's ``class {Resource}(Base):`` with a body that is not indented): that
    one is the author's to mend, the elision is the reader's to fill."""
    trimmed, why = _without_elisions(code)
    later = _syntax_error(trimmed) if why else None
    return (later, "; ".join(why)) if later is not None and later.lineno != err.lineno else None


def _filled(code: str, err: SyntaxError) -> tuple[str, str] | None:
    """The code with its elisions filled in so that it parses, and how it elides."""
    trimmed, why = _without_elisions(code)
    left: SyntaxError | None = err
    for _ in range(50):  # each body left out (signatures listed one after another)
        m = _NO_BODY.search(left.msg) if left is not None else None
        if m is None:
            break
        filled = _with_body(trimmed, int(m.group(1)))
        if filled is None:
            break
        trimmed, reason = filled
        if reason not in why:
            why.append(reason)
        left = _syntax_error(trimmed)
    if not why or trimmed == code:
        return None
    return (trimmed, "; ".join(why)) if _parses(trimmed) else None


def _with_body(code: str, at: int) -> tuple[str, str] | None:
    """``code`` with ``...`` as the body of the statement starting on line ``at``, and how
    the body is left out (a comment stands for it, a list of signatures); None when code
    follows its header. The header may span
    lines (a signature, one parameter per line): it ends at the first line ending in a colon
    after which nothing but comments follows."""
    lines = code.split("\n")
    head = lines[at - 1] if at <= len(lines) else ""
    body = f"{head[: len(head) - len(head.lstrip())]}    ..."
    listed = _signature_list(lines)
    for end in range(at, len(lines) + 1):
        after = [ln for ln in lines[end:] if ln.strip()]
        if after and not after[0].lstrip().startswith("#") and not listed:
            continue
        if end == at or _HEADER_END.search(lines[end - 1]):
            comment = bool(after) and after[0].lstrip().startswith("#")
            reason = (
                "signatures listed without their bodies"
                if listed
                else "its body is left out (only a comment)"
                if comment
                else "its body is left out"
            )
            return "\n".join([*lines[:end], body, *lines[end:]]), reason
    return None


#: A header on one line: ``def test_a_when_b():``, ``async def f(x: int) -> None:``, ``class A:``.
_ONE_LINE_HEADER = re.compile(r"(?:async\s+)?def\s+\w+\s*\(.*\)[^:]*:|class\s+\w+.*:")


def _signature_list(lines: Sequence[str]) -> bool:
    """The code is nothing but one-line signatures (decorators, comments) one under another
    at one depth: a naming guide's ``def test_a_when_b():`` lines, their bodies left out (the
    ``...`` bodies filled in so far aside). Not a class whose body lost its indent, nor a
    function without a body among ones with."""
    code = [ln for ln in lines if ln.strip() not in ("", "...") and not ln.lstrip().startswith("#")]
    if code and code[0].startswith("class ") and len(code) > 1 and code[1][:1].isspace():
        code = code[1:]  # an interface's outline: its class, its methods' signatures under it
    depths = {len(ln) - len(ln.lstrip()) for ln in code}
    heads = [ln for ln in code if _ONE_LINE_HEADER.fullmatch(ln.strip().split("  #")[0].strip())]
    others = [ln for ln in code if ln not in heads and not ln.lstrip().startswith("@")]
    kinds = {ln.split()[0] for ln in heads} - {"async"} | ({"def"} if any(
        ln.lstrip().startswith("async") for ln in heads) else set())  # fmt: skip
    # (a class and a `def` at one depth: a class whose body lost its indent)
    return len(heads) >= 2 and len(depths) == 1 and not others and len(kinds) == 1


def _syntax_error(code: str) -> SyntaxError | None:
    """The syntax error the code has (None also for one that cannot be parsed at all)."""
    try:
        parse_code(code)
    except SyntaxError as err:
        return err
    except ValueError:
        return None
    return None


#: What Python 3 says of Python 2's statements (``print x``, ``exec code``, ``except E, e``).
_PYTHON2 = re.compile(
    r"Missing parentheses in call to '(?:print|exec)'|multiple exception types must be "
    r"parenthesized"
)

#: A first line that is Python code, not output: under an "Output:" caption still code.
_LOOKS_LIKE_CODE = re.compile(
    r"(?:class|def|async|import|from|if|for|while|with|try|return|raise|@)\b|\w+\s*(?::[^=\n]+)?=[^=]"
    r"|print\("
)

#: A program's log line: ``[2018-07-11 12:57:23,673: INFO/MainProcess] ...``,
#: ``2024-01-02 10:00:00 INFO ...``: output, whatever the caption above says.
_LOG_LINE = re.compile(r"\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")

#: An IPython session's prompt: ``In [3]: r = add.delay(1, 3)``.
_IPYTHON_PROMPT = re.compile(r"(?m)^In \[\d+\]: ")
#: A migration table's arrow (``model.dict() → model.model_dump()``), which Python rejects.
_ARROW = re.compile(r"invalid character '[→⇒⟶➜]'")


def _arrow_table(code: str) -> bool:
    """Whether the code is notation with arrows: at least two of its lines, and a third of
    them, have one (one stray `→` in code, `def f() → int:`, is a typo)."""
    lines = [t.strip() for t in code.splitlines() if t.strip() and not t.strip().startswith("#")]
    arrowed = [t for t in lines if re.search(r"[→⇒⟶➜]", t)]
    if any(re.match(r"(?:async\s+)?def\b", t) for t in arrowed):
        return False  # `def add(a, b) → int:`, a typographic arrow for `->`: a typo
    return len(arrowed) >= 2 and len(arrowed) * 3 >= len(lines)


#: A setting of an INI file (``sqlalchemy.url = sqlite:///artists.db``).
_SETTING_LINE = re.compile(r"^[A-Za-z_][\w.\-]*\s*=\s*(\S.*)$")


def _settings_only(code: str) -> bool:
    """Whether every line is an INI file's ``key = value`` and some value is no Python."""
    lines = [
        t.strip() for t in code.splitlines() if t.strip() and not t.strip().startswith(("#", ";"))
    ]
    values = [m.group(1) for t in lines if (m := _SETTING_LINE.match(t))]
    odd = [v for v in values if not _parses(v)]
    # (a value that is no Python for want of a quote or a bracket is a Python mistake)
    plain = all(re.fullmatch(r"[^'\"()\[\]{}]+", v) for v in odd)
    return bool(lines) and len(values) == len(lines) and bool(odd) and plain


#: An env file's line: an upper-case name, ``=`` with no space around it, a value.
_ENV_LINE = re.compile(r"[A-Z][A-Z0-9_]*=\S.*")


def _settings_above(code: str) -> bool:
    """The code opens with an env file's settings (``DATABASE_URL=sqlite:///app.db``, one
    of them no Python), then Python that parses without them. Not ``total = price *`` (a
    Python typo) nor ``BASE_URL = https://...`` (a value missing its quotes)."""
    lines = code.split("\n")
    end = 0
    for i, text in enumerate(lines):
        if text.strip() and not text.lstrip().startswith("#"):
            if _ENV_LINE.fullmatch(text.strip()) is None:
                break
            end = i + 1
    head = "\n".join(lines[:end])
    rest = "\n".join(["", *lines[end:]]) if end else ""
    return bool(rest.strip()) and _settings_only(head) and _parses(("\n" * (end - 1)) + rest)


#: An IPython magic or shell escape on a line of its own: ``%pip install x``, ``!ls``.
_MAGIC = re.compile(r"^\s*(?:%{1,2}|!)[A-Za-z]")


#: A shell prompt (``$ ``), or a command line of the tools docs tell readers to run.
_PROMPT_LINE = re.compile(
    r"^\s*(?:\([\w.-]+\)\s*)?(?:[\w.-]+@[\w.-]+(?::[~/\w.-]*)?)?\$\s+\S"
)  # `$ pip install x`, `(venv) me@host:~/app$ tree`
_COMMAND_LINE = re.compile(
    r"^\s*(?:sudo\s+)?(?:pip3?|python3?|py|uv|uvx|poetry|pipx|conda|mamba|uvicorn|gunicorn|"
    r"hypercorn|fastapi|alembic|pytest|docker|docker-compose|curl|wget|export|cd|git|npm|npx|"
    r"yarn|make|celery|ruff|mypy|black|flask|django-admin|brew|apt|apt-get|pre-commit|source|"
    r"mkdir|touch|chmod|echo|ls|cat|rm|cp|mv)\s+[-\w./\"'@]"
)


def _shell(code: str) -> str | None:
    """Shell in a Python fence: ``all`` when the block is a shell session (every line a
    command, or a ``$ `` prompt first and its output after), ``some`` when it is Python with
    command lines among it (``pip install x`` above the code: without them it parses)."""
    lines = [ln for ln in code.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    if _PROMPT_LINE.match(lines[0]) or all(_COMMAND_LINE.match(ln) for ln in lines):
        return "all"
    if not any(_COMMAND_LINE.match(ln) for ln in lines):
        return None
    kept = "\n".join("" if _COMMAND_LINE.match(ln) else ln for ln in code.split("\n"))
    return "some" if _parses(kept) else None


def _notebook_cell(code: str) -> bool:
    """A notebook cell: without its magic lines the code parses."""
    lines = code.split("\n")
    if not any(_MAGIC.match(ln) for ln in lines):
        return False
    return _parses("\n".join("" if _MAGIC.match(ln) else ln for ln in lines))


def _with_dependencies(
    written: dict[str, str], modules: dict[str, Block]
) -> tuple[tuple[str, str], ...]:
    """The document's modules a block imports, with the document's modules they import in
    turn (``app/main.py`` importing ``app/schemas.py``), each after what it imports: loaded
    alone, ``app.main`` would get a stand-in for ``app.schemas`` and lose every route that
    uses its models."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, code: str) -> None:
        if name in seen:
            return
        seen.add(name)
        found = analyze(code)
        imported = [m for m, _, _ in found.imported_modules]
        package = name if is_package(modules.get(name)) else name.rpartition(".")[0]
        for level, module, _, _ in found.relative_imports:
            imported.append(_relative_target(package, level, module) or "")
        for module in imported:
            for dep in _own_modules(module, modules) if module else ():
                visit(dep, modules[dep].code)
        order.append(name)

    for name in sorted(written):
        visit(name, written[name])
    return tuple((name, written.get(name, modules[name].code)) for name in order)


def _own_modules(module: str, modules: dict[str, Block]) -> list[str]:
    """The document's modules an import of ``module`` loads (it, or modules inside it)."""
    return [m for m in modules if m == module or m.startswith(module + ".")]


#: An import statement's module(s), at the start of a line or after a semicolon.
def _imported_modules(blocks: Sequence[Block]) -> list[str]:
    """The modules the document imports, the first place to look for a missing name."""
    seen: dict[str, None] = {}
    for block in blocks:
        for module, _, _ in analyze(block.code).imported_modules:
            seen.setdefault(_spelled(module))
    return list(seen)


#: Frameworks whose documents use names the stack has too (Django's ``Response``, Flask's
#: ``request``, SQLModel's ``Field``): a document importing one gets no stack guesses.
_RIVALS = frozenset(
    {"django", "rest_framework", "ninja", "flask", "flask_sqlalchemy", "quart", "sanic"}
    | {"litestar", "starlite", "tornado", "falcon", "bottle", "pyramid", "aiohttp", "peewee"}
    | {"tortoise", "pony", "mongoengine", "odmantic", "beanie", "ormar", "sqlmodel"}
    | {"marshmallow", "msgspec", "attrs", "attr", "cattrs", "piccolo", "masonite"}
)
#: Web frameworks with route decorators of their own: a document importing one of them
#: gets no FastAPI stand-in for its ``@app.get(...)``.
_WEB_RIVALS = frozenset(
    {"django", "rest_framework", "ninja", "flask", "quart", "sanic", "litestar", "starlite"}
    | {"tornado", "falcon", "bottle", "pyramid", "aiohttp", "masonite", "robyn", "blacksheep"}
)
#: What a fragment does with FastAPI's app or router that FastAPI checks when it is done: a
#: route's signature (an upload needs python-multipart), a deprecated ``on_event``.
_FRAMEWORK_DECORATOR = r"^[ \t]*@[ \t]*{name}[ \t]*\.[ \t]*(?:{methods})[ \t]*\("
_FASTAPI_DECORATORS = (
    "get|post|put|delete|patch|options|head|trace|api_route|websocket|on_event|middleware"
    "|exception_handler"
)


def _framework_standin(name: str, code: str, tops: frozenset[str]) -> str | None:
    """The FastAPI class whose real instance can stand in for ``name``, a name the document
    never defines but decorates routes or event handlers with (``@app.get``,
    ``@router.post``), in a document that uses FastAPI and no other web framework. A
    placeholder would swallow the route; a real app or router checks it as the reader's
    would. ``router``-like names get an ``APIRouter``, others a ``FastAPI`` app."""
    if "fastapi" not in tops or tops & _WEB_RIVALS or not is_importable("fastapi"):
        return None
    pattern = _FRAMEWORK_DECORATOR.format(name=re.escape(name), methods=_FASTAPI_DECORATORS)
    if not re.search(pattern, code, re.MULTILINE):
        return None
    return "fastapi:APIRouter" if "router" in name.lower() else "fastapi:FastAPI"


#: Names that alone say which package of the stack a fragment uses (a class or function
#: nobody else exports under that name in examples).
_SIGNATURE_NAMES = frozenset(
    {"BaseModel", "ConfigDict", "field_validator", "model_validator", "BaseSettings"}
    | {"SettingsConfigDict", "FastAPI", "APIRouter", "HTTPException", "Depends"}
    | {"AsyncSession", "async_sessionmaker", "create_async_engine", "sessionmaker"}
    | {"declarative_base", "DeclarativeBase", "mapped_column", "Mapped", "relationship"}
    | {"create_engine", "PasswordHasher"}
)


def _evident_packages(blocks: Sequence[Block], index: NameIndex) -> frozenset[str]:
    """The stack's packages a document evidently uses without importing them: of the names
    it never defines, at least two are that package's and no other package's (``Column``
    and ``relationship``: SQLAlchemy), or one is a name only it exports (``BaseModel``,
    ``AsyncSession``). Its imports are then suggested as if the document imported the
    package somewhere; ``Response`` or ``status`` alone could be another framework's."""
    bound: set[str] = set()
    free: dict[str, None] = {}
    for block in blocks:
        symbols = analyze(block.code)
        bound |= symbols.binds
        free.update(dict.fromkeys(symbols.free_names))
    names: dict[str, set[str]] = {}
    for name in free:
        sug = index.lookup(name) if name not in bound else None
        if sug is not None and sug.name == name:
            top = sug.module.partition(".")[0]
            others = {c.module.partition(".")[0] for c in index.candidates(name)} - {top}
            rivals = {o for o in others if o in STACK_PACKAGES or _stdlib(o)}
            # `Connection` is sqlite3's too; a signature name is the stack's all the same
            if top in STACK_PACKAGES and (not rivals or name in _SIGNATURE_NAMES):
                names.setdefault(top, set()).add(name)
    return frozenset(
        top for top, used in names.items() if len(used) >= 2 or used & _SIGNATURE_NAMES
    )


def _project_folder(doc_path: str, top: str) -> str | None:
    """The folder above the document named after the module (``fastapi-pagination``,
    ``fastapi_pagination-0.12.3``): the document is that project's own, not a stranger's."""
    for folder in list(Path(os.path.abspath(doc_path)).parents)[:6]:
        name = re.sub(r"-v?\d[\w.]*$", "", folder.name).lower().replace("-", "_")
        if name == top.lower():
            return folder.name
    return None


def _spelled(module: str) -> str:
    """A wrong-case spelling (``SQLAlchemy.orm``) as the module it means, never as itself."""
    top, dot, rest = module.partition(".")
    spelled = importable_spelling(top)
    return f"{spelled}{dot}{rest}" if spelled else module


def _block_context(
    block: Block,
    symbols: Symbols,
    earlier: list[tuple[int, Statement]],
    resolver: _Resolver,
    stub_names: frozenset[str],
    stub_source: str | None,
    modules: dict[str, Block] | None = None,
    own_modules: tuple[str, ...] = (),
    blocks: Mapping[int, Block] | None = None,
) -> BlockContext:
    findings: list[Finding] = []
    if block.code_indent:
        width = len(block.code_indent.expandtabs(4))
        findings.append(
            Finding.at(
                block, 1, 1, stage="extract", tool="exampletest", rule=INDENTED,
                category=Category.STYLE,
                message=f"every line of the code is indented ({width} columns) inside its fence: "
                "copied as is, Python rejects it (unexpected indent); checked without the indent",
                suggestion="start the code at the fence's own indentation",
            )
        )  # fmt: skip
    unprompted = block.unprompted
    if unprompted:
        at = block.code_line_of(unprompted[0]) or 1
        many = f" ({len(unprompted)} lines)" if len(unprompted) > 1 else ""
        findings.append(
            Finding.at(
                block, at, 1, stage="extract", tool="exampletest", rule=UNPROMPTED,
                category=Category.STYLE,
                message=f"a statement's continuation without the `... ` prompt{many}: a REPL "
                "and doctest read it as output; checked as the statement's continuation",
                suggestion="start the line with `... `",
            )
        )  # fmt: skip
    modules = modules or {}
    written: dict[str, str] = {}  # the document's modules the block imports
    if symbols.syntax_error is not None:
        err = symbols.syntax_error
        beyond = _error_beyond_elisions(block.code, err)
        if beyond is not None and _elided(block.code, err) is None:
            err = beyond[0]
        line = min(max(err.lineno or 1, 1), max(len(block.line_map), 1))
        # "(detected at line 3)" counts lines of the block: say the document's
        message = "SyntaxError: " + re.sub(
            r"\bline (\d+)", lambda m: f"line {block.doc_line(int(m[1]))}", err.msg
        )
        if beyond is not None and err is beyond[0]:
            message += f" (read with its elisions filled in: {beyond[1]})"
        rule = SYNTAX
        clause = _clause_excerpt(block.code)
        if clause is not None:
            rule = "excerpt"
            message += f": `{clause}`, a clause of a statement the block does not show (an excerpt)"
        elif (cut := _cut_in_docstring(block.code, err)) is not None:
            rule = "excerpt"
            message += (
                f": the block stops inside the docstring of `{cut}`; the rest of it is left "
                "out (an excerpt)"
            )
        elif _bare_decorators(block.code):
            rule = "excerpt"
            message += (
                ": the block ends with a decorator and nothing it decorates (an excerpt: "
                "the reader puts it on their own function)"
            )
        elif _PYTHON2.search(err.msg):
            rule = "python2"
            message += ": Python 2 syntax, which Python 3 removed"
        elif (block.output_caption or _LOG_LINE.match(block.code.lstrip())) and not (
            _LOOKS_LIKE_CODE.match(block.code.lstrip())
        ):
            rule = "output"
            said = (
                "the text above calls this block output"
                if block.output_caption
                else "these are a program's log lines"
            )
            message += f": {said}, and it is no Python; label the fence `text` (or `console`)"
        elif _ARROW.search(err.msg) and _arrow_table(block.code):
            rule = "arrows"
            message += (
                ": lines with `→` arrows (`old → new`, a decision tree), not Python; label "
                "the fence `text`"
            )
        elif _IPYTHON_PROMPT.search(block.code):
            rule = "ipython"
            message += (
                ": IPython prompts (`In [1]:`) after lines without one, not Python as it "
                "stands; a block that starts at a prompt is read as a session and checked"
            )
        elif _notebook_cell(block.code):
            rule = "notebook"
            message += ": `%pip`/`!cmd` lines are IPython's, not Python (a notebook cell)"
        elif (shell := _shell(block.code)) is not None:
            rule = "shell"
            message += (
                ": these are shell commands in a Python fence; label the fence `console` or `bash`"
                if shell == "all"
                else ": shell command lines among the Python; move them to a `console` or "
                "`bash` block"
            )
        else:
            elided = _elided(block.code, err)
            part = None if elided is not None else _part_of(block.code)
            if elided is not None:
                rule = "elided"
                message += f": {elided}"
            elif part is not None:
                rule = "excerpt"
                message += f": the block shows part of {part} (an excerpt)"
            elif not block.title.endswith(".py") and _settings_only(block.code):
                rule = "configuration"
                message += (
                    ": `key = value` settings (an INI file's, `sqlalchemy.url = "
                    "sqlite:///app.db`), not Python; label the fence `ini`"
                )
            elif _settings_above(block.code):
                rule = shell = "configuration"  # (only some lines: the block is incomplete)
                message += (
                    ": `KEY=value` settings above the Python (a `.env` file's, "
                    "`DATABASE_URL=sqlite:///app.db`), not Python; without them the code "
                    "parses (show them in a block of their own)"
                )
        findings.append(
            Finding.at(
                block,
                line,
                err.offset or 1,
                stage="extract",
                tool="python",
                rule=rule,
                # Shell commands under a Python label are a wrong label, not broken code.
                category=Category.BROKEN
                if rule == SYNTAX
                else Category.STALE
                if rule == "python2"
                else Category.STYLE
                if (rule == "shell" and shell == "all")
                or rule in ("output", "ipython", "arrows")
                or (rule == "configuration" and shell != "configuration")
                else Category.INCOMPLETE,
                message=message,
            )
        )
        return BlockContext(block, symbols, (), (), (), (), None, tuple(findings))
    available = [] if block.directives.standalone else earlier
    by_index = blocks or {}
    prelude = [
        dataclasses.replace(p, doc_line=by_index[p.block_index].doc_line(p.statement.line))
        if p.block_index in by_index
        else p
        for p in _closure({*symbols.free_names, *symbols.refers}, available)
    ]
    prelude_binds = {n for p in prelude for n in p.statement.binds}
    prelude_free = (
        {n for p in prelude for n in p.statement.uses} - prelude_binds - BUILTINS - symbols.binds
    )
    # What earlier blocks bind, by definition or by import, is the document's context: the
    # reader has read them (a tutorial imports once and goes on section by section).
    # At a prompt `_` is the last value the REPL displayed (the smoke run keeps it so).
    repl = {"_"} if block.session else set()
    missing = [n for n in symbols.free_names if n not in prelude_binds | repl]
    as_type = {u.name for u in symbols.free if u.annotation or u.name[:1].isupper()}
    provided: list[Provided] = []
    used_stub = False
    prelude_code = "\n".join(p.statement.source for p in prelude)
    for name in [*missing, *sorted(prelude_free - set(missing))]:
        own = name in missing
        if own and name in symbols.declared:  # the reader supplies it: never guessed
            provided.append(Provided(name, "declared", None, name in as_type))
            findings.append(_declared(block, symbols, name))
            continue
        # The document's own import of the name (in a later block) beats any guess. A name
        # only the earlier blocks' statements use is guessed from how they use it
        # (`datetime.datetime.today()` there is the module, whatever this block does).
        suggestion: Suggestion | str | None = resolver.document_imports.get(name)
        later = suggestion is not None
        used_in = (symbols, block.code) if own else (analyze(prelude_code), prelude_code)
        if suggestion is None:
            suggestion = resolver.suggest(name, *used_in)
        statement = suggestion if isinstance(suggestion, str | None) else suggestion.statement
        itself = "|".join(map(re.escape, own_modules)) if own_modules else None
        if (
            itself
            and statement
            and re.match(rf"(?:from|import) (?:[\w.]+\.)?(?:{itself})\b", statement)
        ):
            # the block *is* that module (`# main.py` and `from app.main import app`): never
            # import itself
            suggestion = statement = None
        if suggestion is not None and statement is not None:
            rivals = isinstance(suggestion, Suggestion) and resolver.rivals(
                name, suggestion, *used_in
            )
            provided.append(
                Provided(name, "import", statement, name in as_type, None, True, later, rivals)
            )
            if own:
                findings.append(_missing_import(block, symbols, name, suggestion))
        elif name in stub_names:
            provided.append(Provided(name, "stub", None, name in as_type))
            used_stub = True
        else:
            standin = _framework_standin(name, f"{prelude_code}\n{block.code}", resolver.tops)
            provided.append(Provided(name, "placeholder", None, name in as_type, standin))
            if own:
                declared = any(name in st.declares for _, st in earlier)
                findings.append(_undefined(block, symbols, name, declared, standin))
    missing_modules: list[str] = []
    for module, line, col in symbols.imported_modules:
        top = module.split(".")[0]
        if top in missing_modules or is_importable(top):
            continue
        if _own_modules(module, modules):  # the document writes it: run as written
            # (a file of the block's own, in a fence of several: the block's run has it)
            mine = [m for m in _own_modules(module, modules) if m not in own_modules]
            written.update((m, modules[m].code) for m in mine)
            continue
        missing_modules.append(top)
        spelled = importable_spelling(top)
        if spelled is not None:
            message = (
                f"no module `{top}`: imports are case-sensitive, and the installed module is "
                f"`{spelled}`"
            )
            fix = f"import `{spelled}`"
            findings.append(_env(block, line, col, message, fix, WRONG_CASE, Category.BROKEN))
            continue
        if top in PROJECT_PACKAGES:  # `pip install app` would fetch a stranger's package
            message = (
                f"module `{top}` is not installed here; by its name it is the example's own "
                "project, so code using it is only partly checked (checked with stand-ins)"
            )
            findings.append(_env(block, line, col, message, None))
            continue
        project = _project_folder(block.doc_path, top)
        if project is not None:  # fastapi-pagination/docs/*.md: that project's own docs
            message = (
                f"module `{top}` is not installed here; the document is in the folder of its "
                f"project (`{project}`), so code using it is only partly checked (install the "
                "project, e.g. `pip install -e .` there)"
            )
            findings.append(_env(block, line, col, message, None))
            continue
        dist = distribution_for(module)
        if dist is None and top in NAMESPACES:  # `azure`, `google`, no rule for this module
            message = (
                f"module `{module}` is not installed here, so code using it is only partly "
                f"checked (`{top}` is a namespace several distributions share)"
            )
            findings.append(_env(block, line, col, message, None))
            continue
        if dist is None:  # PyPI's project of that name may be a stranger's
            message = (
                f"module `{top}` is not installed here, so code using it is only partly checked "
                f"(install the distribution that provides it; PyPI's `{top}` may be another "
                "project)"
            )
            findings.append(_env(block, line, col, message, None))
            continue
        message = (
            f"module `{top}` is not installed here, so code using it is only partly checked "
            f"(install the `{dist}` distribution)"
        )
        findings.append(_env(block, line, col, message, f"pip install {dist}"))
    own_missing = set(missing_modules)  # the block's own imports say so themselves
    told: set[str] = set()
    for p in prelude:  # earlier blocks' imports of what is not installed: stand-ins
        for module, line, _ in analyze(p.statement.source).imported_modules:
            top = module.split(".")[0]
            if top in own_missing or top in told or is_importable(top):
                continue
            if _own_modules(module, modules):
                written.update((m, modules[m].code) for m in _own_modules(module, modules))
                continue
            if top not in missing_modules:
                missing_modules.append(top)
            where = p.doc_line + line - 1 if p.doc_line else None
            dependent = _uses_missing_module(block, symbols, p, available, top, where)
            if dependent is not None:
                findings.append(dependent)
                told.add(top)
    aliases: list[tuple[str, str]] = []
    for level, module, line, col in symbols.relative_imports:
        fake = relative_module(level, module)
        package = _package_at(block, line)
        names = [module] if module else _imported_names(block.code, line)  # `from . import x`
        targets = [
            (relative_module(level, name), target)
            for name in names
            if (target := _relative_target(package, level, name)) and _own_modules(target, modules)
        ]
        base = _relative_target(package, level, "") if not module else None
        if base is not None and base in modules and base not in own_modules:
            # `from . import app, VERSION` in `app/routes.py`: what the package's
            # `app/__init__.py` defines, and its modules the document shows
            init = modules[base].code
            defines = analyze(init).binds
            known = defines | {m.rpartition(".")[2] for m in modules if m.startswith(f"{base}.")}
            shown = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
            if (
                re.search(r"(?m)^\s*from\s+\S+\s+import\s+\*", init)  # defines what it gets
                or all(f"{base}.{n}" in modules or n in defines for n in names)
                # a near-miss of what it has (`modles`): its run says the name is not there
                or any(
                    n not in known and difflib.get_close_matches(n, known, 1, 0.8) for n in names
                )
            ):
                written[base] = modules[base].code
                for target in shown:
                    written.update(
                        (m, modules[m].code)
                        for m in _own_modules(target, modules)
                        if m not in own_modules
                    )
                aliases.append((fake, base))
                continue
        if targets and len(targets) == len(names):
            # `from .database import Base` in `app/models.py`: the document's `app/database.py`
            for standin, target in targets:
                mine = [m for m in _own_modules(target, modules) if m not in own_modules]
                written.update((m, modules[m].code) for m in mine)
                aliases.append((standin, target))
            continue
        if fake in missing_modules:
            continue
        missing_modules.append(fake)
        message = (
            f"relative import `{'.' * level + module}`: the example assumes the project around "
            "it, so what it imports is checked as a stand-in"
        )
        findings.append(_env(block, line, col, message, None))
    kept = {id(p.statement) for p in prelude}
    altered = {
        name
        for _, stmt in available
        if id(stmt) not in kept and stmt.uses & prelude_binds
        for name in _changes(stmt.source) & prelude_binds
    }
    return BlockContext(
        block=block,
        symbols=symbols,
        prelude=tuple(prelude),
        provided=tuple(provided),
        missing=tuple(missing),
        missing_modules=tuple(missing_modules),
        stub_source=stub_source if used_stub else None,
        findings=tuple(findings),
        doc_modules=_with_dependencies(written, modules),
        altered=tuple(sorted(altered)),
        relative_modules=tuple(aliases),
    )


def _package_at(block: Block, line: int) -> str | None:
    """The package of the file that code line ``line`` of the block is (``app`` for
    ``app/models.py`` and for ``app/__init__.py``; ``""`` for ``crud.py``, shown without its
    folder): in a fence showing several, the file the line is in; None for an untitled block."""
    if file_sections(block.code):
        return _file_at(block.code, line)
    return _package_of(block_file(block))


def _file_at(code: str, line: int) -> str | None:
    """The package of the file that code line ``line`` is in, of a fence showing several."""
    starts = [(len(part) - len(part.lstrip("\n")), title) for title, part in file_sections(code)]
    return next((_package_of(t) for start, t in reversed(starts) if start < line), None)


def _package_of(title: str) -> str | None:
    parts = _file_parts(title)
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts[:-1])


@functools.cache
def _built_on(top: str, other: str) -> bool:
    """Whether the distribution of module ``top`` requires the one of ``other`` (not for an
    extra: Starlette's ``httpx; extra == 'full'`` is no part of it)."""
    mine, theirs = distribution_for(top), distribution_for(other)
    if mine is None or theirs is None:
        return False
    try:
        needs = importlib.metadata.requires(mine) or []
    except importlib.metadata.PackageNotFoundError:
        return False
    wanted = normalize_dist(theirs)
    return any(
        normalize_dist(re.split(r"[\s;<>=!~\[(]", need, maxsplit=1)[0]) == wanted
        for need in needs
        if "extra" not in need.partition(";")[2]
    )


def _relative_target(package: str | None, level: int, name: str) -> str | None:
    """What ``from <level dots><name> import`` in a module of ``package`` imports:
    ``.database`` in ``app`` is ``app.database``; None past the top."""
    if package is None:
        return None
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base) or None


def _imported_names(code: str, line: int) -> list[str]:
    """The names ``from . import a, b`` on code line ``line`` imports: the package's modules."""
    tree = tree_or_none(code)
    return [
        alias.name
        for node in (ast.walk(tree) if tree is not None else ())
        if isinstance(node, ast.ImportFrom) and node.lineno == line and not node.module
        for alias in node.names
    ]


@functools.lru_cache(maxsize=4096)
def _changes(source: str) -> frozenset[str]:
    """What a top-level statement changes in place (see :func:`changed_in_place`)."""
    tree = tree_or_none(source)
    return frozenset(n for s in tree.body for n in changed_in_place(s)) if tree else frozenset()


@dataclass(frozen=True)
class _Resolver:
    """Which import suggestion is credible for *this* document.

    The index knows every public name of the environment; a fragment's ``user`` or ``settings``
    is still the reader's variable, not ``sqlalchemy.sql.functions.user``. A third-party
    suggestion must come from a package the document itself imports, from a public module at
    most two levels deep (or one the document imports from); a module suggestion needs the
    name to be used like a module (``argon2.Type``).
    """

    index: NameIndex
    prefer: list[str]
    tops: frozenset[str]
    #: name -> how the document itself imports it somewhere (the first such import)
    document_imports: dict[str, str] = field(default_factory=dict)
    #: bases the document's classes declare tables on (`class User(BaseModel):
    #: __tablename__ = ...`): the project's ORM base, never Pydantic's, in any block
    table_bases: frozenset[str] = frozenset()

    def suggest(self, name: str, symbols: Symbols, code: str = "") -> Suggestion | None:
        as_module = any(u.attribute for u in symbols.free if u.name == name)
        first = self.index.lookup(name, self.prefer)
        if first is None:
            sub = self._submodule(name, symbols, code) if as_module else None
            if sub is not None:
                return sub
            if as_module and name in self.tops and self._project_member(name, symbols, code):
                # `cattrs.Converter()` where the document imports `from cattrs.gen import ...`
                # and cattrs is not installed here (the index knows only what is).
                return Suggestion(name, None, None, "module")
            return None
        candidates = [first, *self.index.candidates(name)]
        if as_module and (
            first.name is None or first.module != name or _module_attributes(name, code)
        ):
            # ``time.sleep()``: the module ``time``, not ``datetime.time`` (but ``datetime.now()``
            # keeps the class ``datetime.datetime``, which shares its module's name, unless an
            # attribute used is the module's: ``datetime.timedelta``).
            modules = [c for c in candidates if c.name is None and c.module == name]
            candidates = modules + candidates
        elif first.module == "typing" and any(c.module == "collections.abc" for c in candidates):
            # ``Callable``, ``Iterator``: typing's are deprecated aliases (ruff UP035) of these.
            candidates = [c for c in candidates if c.module == "collections.abc"] + candidates
        elif (
            first.module != "typing"
            and (_stdlib(first.module) or first.kind == "other")
            and _typing_own(name)
        ):
            # ``Protocol`` is typing's, not asyncio's; ``TYPE_CHECKING`` is typing's, not a
            # library's re-export of it (a library's own class, ``sqlalchemy.Text``, stays).
            candidates = [c for c in candidates if c.module == "typing"] + candidates
        elif not _stdlib(first.module) and all(
            u.annotation for u in symbols.free if u.name == name
        ):
            # `item_id: UUID` in a document that imports SQLAlchemy: the value's type is
            # uuid's; a SQL column type (`sqlalchemy.UUID`) is passed to a column, never a type.
            typed = [c for c in candidates if c.kind == "class" and c.module in VALUE_TYPES]
            candidates = typed + candidates
        elif first.module not in self.prefer and _stdlib(first.module):
            # ``warn``: the standard module named after the function (``warnings.warn``) before
            # another module's alias of it (``logging.warn``).
            named = [c for c in candidates if c.name and c.module.startswith(name)]
            candidates = named + candidates
        for sug in candidates:
            if self._accepts(sug, name, as_module, symbols, code):
                return sug
        return self._submodule(name, symbols, code) if as_module else None

    def _accepts(
        self, sug: Suggestion, name: str, as_module: bool, symbols: Symbols, code: str
    ) -> bool:
        return (
            self._credible(sug, as_module)
            and self._companion_used(sug, symbols)
            and self._test_code_for(sug, symbols, code)
            and self._same_family(sug, name, symbols)
            and _fits(sug, name, code)
            and not (sug.module.partition(".")[0] == "pydantic" and name in self.table_bases)
        )

    def rivals(self, name: str, chosen: Suggestion, symbols: Symbols, code: str) -> bool:
        """Whether another package's ``name`` would fit the block as well as the one chosen
        (``Column``: SQLAlchemy's, or rich's in a document importing both): the guess may not
        be the author's. One object under two names (``fastapi.Request``, Starlette's) is no
        rival, nor are typing's aliases of standard classes (``typing.Counter``)."""
        as_module = any(u.attribute for u in symbols.free if u.name == name)
        mine = chosen.module.partition(".")[0]
        return any(
            other.module.partition(".")[0] not in (mine, "typing", "typing_extensions")
            and not self._same(name, chosen.module, other.module)
            and self._accepts(other, name, as_module, symbols, code)
            for other in self.index.candidates(name)
        )

    def _same(self, name: str, module: str, other: str) -> bool:
        """One object under two names: by the module defining it (a class, a function), or,
        for what the index does not trace (``PydanticUndefined``, a status constant), when
        one package is built on the other (pydantic on pydantic-core)."""
        if self.index.origin(name, module) and self.index.origin(name, other):
            return self.index.same_object(name, module, other)
        mine, theirs = module.partition(".")[0], other.partition(".")[0]
        return _built_on(mine, theirs) or _built_on(theirs, mine)

    def _submodule(self, name: str, symbols: Symbols, code: str) -> Suggestion | None:
        """``event.listens_for(...)``: ``from sqlalchemy import event``, in a document that
        uses that package (see ``NameIndex.submodule``)."""
        read = set(re.findall(rf"(?<![\w.]){re.escape(name)}\.(\w+)", code))
        sub = self.index.submodule(name, read)
        if sub is None or not (sub.module.partition(".")[0] in self.tops or _stdlib(sub.module)):
            return None
        return sub if self._test_code_for(sub, symbols, code) else None

    def _same_family(self, sug: Suggestion, name: str, symbols: Symbols) -> bool:
        """A module guessed for ``jwt`` must also have the block's other missing name of its
        family, ``JWTError`` (a library's own exception): PyJWT has none, so the fragment is
        another library's ``jwt`` (python-jose's ``from jose import JWTError, jwt``), and
        ``import jwt`` would leave the ``except`` clause a NameError."""
        if sug.name is not None or len(name) < 3:
            return True
        family = re.compile(rf"{re.escape(name)}\w*(?:Error|Exception)", re.I)
        kin = {u.name for u in symbols.free if u.name != name and family.fullmatch(u.name)}
        return all(
            any(c.module == sug.module or c.module.startswith(f"{sug.module}.") for c in found)
            for k in kin
            for found in [self.index.candidates(k)]
        )

    def _project_member(self, name: str, symbols: Symbols, code: str) -> bool:
        """Whether ``name.attr`` reads a part of the reader's own project package the document
        imports from (``app.api`` where it imports ``from app.api import ...``): its ``app``
        used otherwise (``app.include_router``) is the FastAPI instance, not the package.
        A real distribution (cattrs, not installed here) is taken at its word."""
        if name not in PROJECT_PACKAGES:
            return True
        members = {m.split(".")[1] for m in self.prefer if m.startswith(f"{name}.")}
        try:
            tree = parse_tree(code)
        except (SyntaxError, ValueError):
            return False
        read = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        }
        return bool(read) and read <= members

    def _test_code_for(self, sug: Suggestion, symbols: Symbols, code: str) -> bool:
        """A test framework's name (``pytest.Item``) only for test code or a block that
        imports the framework itself: a route's `Item` is the reader's model, though the
        document's tests import pytest."""
        top = sug.module.partition(".")[0]
        if top not in _TEST_FRAMEWORKS or (sug.name is None and sug.alias is None):
            return True  # (`pytest.fail(...)`: the framework itself, by its own name)
        own = {m.partition(".")[0] for m, _, _ in symbols.imported_modules}
        return top in own or _TEST_CODE.search(code) is not None

    def _companion_used(self, sug: Suggestion, symbols: Symbols) -> bool:
        """A standard-library name that only works beside another (``dataclasses.field`` in a
        ``@dataclass``) is guessed only where that one is used too: ``field(converter=...)``
        under attrs' ``@define`` is attrs'."""
        companion = _COMPANIONS.get((sug.module, sug.name or ""))
        if companion is None or sug.module in self.prefer:
            return True
        return companion in symbols.binds or any(u.name == companion for u in symbols.free)

    def _credible(self, sug: Suggestion, as_module: bool) -> bool:
        parts = sug.module.split(".")
        if sug.module in _LEGACY_MODULES:
            return False  # the rule pack would call the import it adds stale (ET207)
        if any(p.startswith("_") or p in _TEST_PARTS for p in parts):
            return False
        if sug.name in _SERVER_NAMES and parts[0] in _HTTP_CLIENTS:
            return False  # a handler's `request: Request` is the web framework's, not requests'

        if sug.name is None:
            return as_module and (sug.alias is not None or len(parts) == 1)
        if _stdlib(sug.module):
            if sug.module in self.prefer:
                return True
            # A name web frameworks and libraries export too, or one from a module examples
            # rarely use: the stdlib's is a guess worth making only when the document imports
            # that module.
            common = parts[0] in COMMON_STDLIB and sug.name not in SHADOWED_STDLIB
            return common and (sug.kind in ("class", "function") or sug.module in _STDLIB_VALUES)
        return parts[0] in self.tops and (
            len(parts) <= 2
            or sug.module in self.prefer
            # a deep public module's classes and factories; its other functions' names are
            # the reader's variables too (`async_session`, a sessionmaker)
            or (sug.module in _PUBLIC_DEEP and (sug.kind == "class" or sug.name in _FACTORIES))
        )


_TEST_PARTS = frozenset({"test", "tests", "testing"})
#: Modules that only re-export what their package now has at the top: never a guess.
_LEGACY_MODULES = frozenset({"sqlalchemy.future"})
_TEST_FRAMEWORKS = frozenset({"pytest", "_pytest", "unittest", "hypothesis", "nose", "doctest"})
_TEST_CODE = re.compile(
    r"^\s*(?:async\s+)?def test_|@pytest\.|^\s*class Test|\.return_value\b|\.assert_called", re.M
)
#: Public modules deeper than two levels that examples import from by name (most deep
#: modules are internals: ``sqlalchemy.sql.functions.user`` is no fragment's ``user``).
_PUBLIC_DEEP = frozenset(
    {"sqlalchemy.ext.asyncio", "sqlalchemy.ext.hybrid", "sqlalchemy.ext.associationproxy"}
    | {"sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.mysql"}
    | {"fastapi.middleware.cors", "fastapi.middleware.gzip", "fastapi.middleware.trustedhost"}
    | {"starlette.middleware.cors", "starlette.middleware.base", "starlette.middleware.sessions"}
)
_FACTORIES = frozenset({"create_async_engine", "async_sessionmaker", "async_scoped_session"})
#: (module, name) -> the name it is used with, without which the guess is a coincidence.
_COMPANIONS = {("dataclasses", "field"): "dataclass"}


_TABLE_MARKS = re.compile(
    r"^\s+(?:__tablename__\b|\w+\s*(?::[^=\n]*)?=\s*(?:\w+\.)*(?:Column|relationship|mapped_column)\()",
    re.M,
)


#: A model's table name, and what creates a document's tables.
_TABLE_NAME = re.compile(r"""__tablename__\s*(?::[^=\n]*)?=\s*["']([\w.]+)["']""")
_SQL_TABLE = re.compile(r"""(?i)CREATE TABLE (?:IF NOT EXISTS )?[`"']?(\w+)""")
_CREATES_TABLES = re.compile(r"create_all\(|CREATE TABLE|SQLModel\.metadata|alembic", re.I)


@functools.lru_cache(maxsize=1024)
def _table_bases(code: str) -> frozenset[str]:
    """The bases of the code's classes that declare a table (``__tablename__``,
    ``Column(...)``, ``relationship(...)``): SQLAlchemy's, whatever the base is called."""
    tree = tree_or_none(code)
    lines = source_lines(code)
    return frozenset(
        base.id
        for node in (tree.body if tree is not None else ())
        if isinstance(node, ast.ClassDef)
        and _TABLE_MARKS.search("".join(lines[node.lineno - 1 : node.end_lineno]))
        for base in node.bases
        if isinstance(base, ast.Name)
    )


#: Where a FastAPI marker's call stands: a parameter's default, ``Annotated[...]``, a
#: parameter line shown alone (``db: Session = Depends(get_db)``) or kept in a variable,
#: and the annotation a slip puts it in (``token: Depends(scheme)``: mypy's to report).
_MARKER_PLACES = (ast.arguments, ast.arg, ast.Subscript, ast.Assign, ast.AnnAssign, ast.Expr)


def _as_marker(name: str, code: str) -> bool:
    """Whether ``name`` is used as FastAPI's markers are: always called, where a marker goes
    (a parameter's default, ``Annotated[...]``'s metadata, a ``dependencies=[...]`` list, a
    parameter line shown alone or kept in a variable), and what the call gives never used
    as an object (``Path(__file__).parent``, ``Path(root) / "x"``, through a variable:
    ``UPLOADS = Path("uploads")``, ``UPLOADS.mkdir()``), nor passed to a call
    (``open(Path("a.txt"))``), nor the name a type (``p: Path``): those are pathlib's."""
    tree = tree_or_none(code)
    if tree is None:
        return True
    nodes = list(ast.walk(tree))
    parents = {id(child): node for node in nodes for child in ast.iter_child_nodes(node)}
    calls = {id(n.func): n for n in nodes if isinstance(n, ast.Call)}
    uses = [n for n in nodes if isinstance(n, ast.Name) and n.id == name]
    if not all(id(n) in calls for n in uses):
        return False
    made = [calls[id(n)] for n in uses]

    def placed(call: ast.Call) -> bool:  # where a marker goes
        parent = parents.get(id(call))
        if not isinstance(parent, ast.List | ast.Tuple):
            return isinstance(parent, _MARKER_PLACES)
        while isinstance(parent, ast.List | ast.Tuple):  # in a list: `dependencies=[...]`
            parent = parents.get(id(parent))
        return isinstance(parent, ast.Subscript | ast.Assign | ast.AnnAssign) or (
            isinstance(parent, ast.keyword) and parent.arg == "dependencies"
        )  # (a list kept in a variable: `COMMON = [Depends(verify)]`, passed on later)

    if not all(placed(call) for call in made):
        return False
    if any(len(call.args) > 1 for call in made):  # FastAPI's take one positional argument
        return False
    if (
        name == "Path"
        and any(  # FastAPI's takes no default: `Path("static")` is pathlib's
            a
            for call in made
            for a in call.args[:1]
            if not (isinstance(a, ast.Constant) and a.value is ...)
        )
    ):
        return False
    held = {  # variables holding what a call gave
        t.id
        for n in nodes
        if isinstance(n, ast.Assign | ast.AnnAssign) and any(n.value is c for c in made)
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    objects = [n.value for n in nodes if isinstance(n, ast.Attribute)]
    objects += [side for n in nodes if isinstance(n, ast.BinOp) for side in (n.left, n.right)]
    objects += [a for n in nodes if isinstance(n, ast.Call) for a in n.args]
    objects += [k.value for n in nodes if isinstance(n, ast.Call) for k in n.keywords]
    return not any(isinstance(o, ast.Name) and o.id in held for o in objects)


def _fits(sug: Suggestion, name: str, code: str) -> bool:
    """Whether the standard library's object can be the ``name`` the block uses: every
    attribute the block reads from it exists, and every call passes keywords it takes.
    ``ReferenceType.ORDER`` is not weakref's, ``Token(access_token=...)`` not contextvars'.
    (Only the standard library is imported here; a library's code never runs in this
    process.) A library's function is not the name the block reads attributes of but never
    calls: ``table.insert()`` is the reader's Table, not ``sqlalchemy.table``."""
    if sug.kind == "function" and _only_attributes_read(code, name):
        return False
    if sug.module.partition(".")[0] == "fastapi" and sug.name in (*PARAMS, *DEPENDS):
        return _as_marker(name, code)
    if not _stdlib(sug.module):
        return True
    try:
        module = importlib.import_module(sug.module)
        obj: object = module if sug.name is None else getattr(module, sug.name)
        tree = parse_tree(code)
    except Exception:
        return True  # nothing to compare with: the guess stands
    if sug.name is not None and callable(obj) and not _used_as_callable(tree, name):
        return False  # `{"count": count}`, `len(array)`: the reader's value, not a function
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
            and not hasattr(obj, node.attr)
            and not (sug.name is None and installed_module(f"{sug.module}.{node.attr}"))
        ):
            return False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            keywords = {k.arg: None for k in node.keywords if k.arg}
            if keywords and (sug.module, sug.name) in _NO_KEYWORDS:
                return False  # `Path(..., gt=0)` is FastAPI's; pathlib's takes no keywords
            if not callable(obj):
                continue
            try:
                inspect.signature(obj).bind_partial(**keywords)
            except TypeError as exc:  # a keyword it does not take
                if keywords and "argument" in str(exc):
                    return False
            except ValueError:  # no signature to read (some builtins)
                continue
    return True


def _only_attributes_read(code: str, name: str) -> bool:
    """``name.attr`` somewhere, ``name(...)`` nowhere."""
    try:
        tree = parse_tree(code)
    except (SyntaxError, ValueError):
        return False
    read = called = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            read = read or node.value.id == name
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = called or node.func.id == name
    return read and not called


def _used_as_callable(tree: ast.Module, name: str) -> bool:
    """Whether the code uses ``name`` as a class or function can be used: called, read an
    attribute of, subscripted, in an annotation, a base, a decorator, an ``except`` or an
    ``isinstance`` check, or passed by keyword (``default_factory=uuid4``). A name only ever
    passed along as a value (``{"count": count}``, ``len(array)``) is the reader's variable."""

    def named(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if named(node.func) or any(named(k.value) for k in node.keywords):
                return True
            func = node.func
            checks = isinstance(func, ast.Name) and func.id in ("isinstance", "issubclass")
            if checks and len(node.args) > 1 and any(named(n) for n in ast.walk(node.args[1])):
                return True
        elif isinstance(node, ast.Attribute | ast.Subscript) and named(node.value):
            return True
        elif isinstance(node, ast.ExceptHandler) and node.type is not None:
            if any(named(n) for n in ast.walk(node.type)):
                return True
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if any(named(d) for d in node.decorator_list):
                return True
            if isinstance(node, ast.ClassDef) and any(named(b) for b in node.bases):
                return True
        annotation = getattr(node, "annotation", None) or getattr(node, "returns", None)
        if isinstance(annotation, ast.AST) and any(named(n) for n in ast.walk(annotation)):
            return True
    return False


def _typing_own(name: str) -> bool:
    """A name typing defines itself (``Protocol``, ``TYPE_CHECKING``), not one of its
    deprecated aliases of another module's class (``typing.Counter``)."""
    import typing

    obj = getattr(typing, name, None)
    return obj is not None and getattr(obj, "__origin__", None) is None


def _stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


def _module_attributes(module: str, code: str) -> bool:
    """Whether ``code`` uses an attribute of the standard module ``module`` (``datetime``)
    that its same-named class lacks (``datetime.timedelta``). Standard modules only: they are
    safe to import here."""
    if not _stdlib(module) or not code:
        return False
    used = set(re.findall(rf"(?<![\w.]){re.escape(module)}\.(\w+)", code))
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return False
    cls = getattr(mod, module, None)
    return cls is not None and any(hasattr(mod, a) and not hasattr(cls, a) for a in used)


def _document_imports(blocks: Sequence[Block]) -> dict[str, str]:
    """Name -> the first import of it anywhere in the document (blocks that are checked).
    Not a name the document defines itself and imports only from a module not installed
    (``from app.db.session import get_db`` in a conftest, where a block defines ``get_db``):
    the definition is what the reader has, the import a layout the fix cannot check. Nor an
    import from a legacy module (``sqlalchemy.future``): the rule pack calls it stale."""
    out: dict[str, str] = {}
    defined: set[str] = set()
    for block in blocks:
        symbols = analyze(block.code)
        if symbols.syntax_error is not None or block.skip_reason is not None:
            continue
        found = _imports_by_name(st for st in symbols.statements if _is_import(st))
        for name, statement in found.items():
            out.setdefault(name, statement)
        defined.update(n for st in symbols.statements if not _is_import(st) for n in st.binds)
    return {
        name: statement
        for name, statement in out.items()
        if (name not in defined or is_importable(statement.split()[1].split(".")[0]))
        and statement.split()[1] not in _LEGACY_MODULES  # not copied into another block
    }


def prelude_imports(ctx: BlockContext) -> str:
    """What the block takes from earlier blocks' imports, as import lines of its own names
    only: what ruff needs in front of the block to know that ``Optional`` is typing's and
    ``datetime`` the class (a continuation block's legacy API is the block's to report)."""
    wanted = set(ctx.symbols.free_names)
    imports = _imports_by_name(p.statement for p in ctx.prelude if _is_import(p.statement))
    return "".join(f"{statement}\n" for name, statement in imports.items() if name in wanted)


def _is_import(statement: Statement) -> bool:
    return _IMPORT_STATEMENT.match(statement.source) is not None


_IMPORT_STATEMENT = re.compile(r"\s*(?:import|from)\b")


def _imports_by_name(statements: Iterable[Statement]) -> dict[str, str]:
    """Name -> the single-name import statement that binds it, from import statements."""
    out: dict[str, str] = {}
    for stmt in statements:
        out.update(_statement_imports(stmt.source))
    return out


@functools.lru_cache(maxsize=8192)
def _statement_imports(source: str) -> tuple[tuple[str, str], ...]:
    """(name, single-name import) for what one import statement binds: every block's prelude
    asks about the same earlier statements."""
    try:
        tree = parse_code(source)
    except (SyntaxError, ValueError):
        return ()
    out: list[tuple[str, str]] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = _spelled(node.module)
            for a in node.names:
                alias = f" as {a.asname}" if a.asname else ""
                out.append((a.asname or a.name, f"from {module} import {a.name}{alias}"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if importable_spelling(a.name.partition(".")[0]):
                    continue  # ``import SQLAlchemy`` binds a name no reader can have
                bound = a.asname or a.name.split(".")[0]
                out.append(
                    (bound, f"import {a.name} as {a.asname}" if a.asname else f"import {bound}")
                )
    return tuple(out)


def _closure(needed: set[str], earlier: list[tuple[int, Statement]]) -> list[PreludeStatement]:
    """Earlier statements that bind the needed names, and what those need, in document order;
    then the earlier statements that act on what those made (a tutorial's
    ``Base.metadata.create_all(engine)``, ``app.include_router(r)``, a route
    ``@app.get(...)`` defined on the app, ``app.dependency_overrides[f] = g``), with what
    they need from still earlier statements: the state a reader running the document in
    order has."""
    chosen = _binders(needed, earlier, len(earlier))
    first: dict[str, int] = {}  # name -> the first statement binding it
    for pos, (_, stmt) in enumerate(earlier):
        for name in stmt.binds:
            first.setdefault(name, pos)
    grew = True
    while grew:  # what an acting statement brings in (a router) may be acted on in turn
        grew = False
        made = {n for p in chosen if not _is_import(earlier[p][1]) for n in earlier[p][1].binds}
        known = {n for p in chosen for n in earlier[p][1].binds}
        for pos, (_, stmt) in enumerate(earlier):
            if pos in chosen or not stmt.uses & made or not _acts_on(stmt, made):
                continue
            # its free names (``uses`` holds every name it loads, a function's locals too)
            rest = set(analyze(stmt.source).free_names) - known
            if any(first.get(n, pos) >= pos for n in rest):
                continue  # it needs a name nothing before it defines: it would fail
            found = _binders(rest, earlier, pos)
            chosen |= {pos, *found}
            known |= stmt.binds | {n for q in found for n in earlier[q][1].binds}
            grew = True
    # A later statement of the chosen blocks may rebind a needed name: keep document order.
    return [PreludeStatement(earlier[p][0], earlier[p][1]) for p in sorted(chosen)]


def _binders(needed: set[str], earlier: list[tuple[int, Statement]], upto: int) -> set[int]:
    """Positions (before ``upto``) of the statements that bind the needed names, the latest
    binding first, and of what those need in turn."""
    chosen: set[int] = set()
    need = set(needed)
    while True:  # again while a string names a class defined further down (``"Address"``)
        before = len(chosen)
        for pos in range(upto - 1, -1, -1):
            _, stmt = earlier[pos]
            if pos not in chosen and stmt.binds & need:
                chosen.add(pos)
                need -= stmt.binds
                need |= (stmt.uses | stmt.refers) - stmt.binds
        if len(chosen) == before:
            return chosen


#: Calls that run something (a server, a loop, a prompt) rather than set state up.
_RUNS = frozenset(
    {"run", "serve", "serve_forever", "start", "listen", "run_forever", "run_until_complete",
     "run_polling", "polling", "mainloop", "join", "wait", "sleep", "interact", "prompt",
     "cli", "main", "exec", "spawn"}
)  # fmt: skip


def _acts_on(stmt: Statement, made: set[str]) -> bool:
    """``x.method(...)`` on an object the document made (not a module), a definition
    decorated by one (``@app.get("/")``), an item or attribute of one set
    (``app.dependency_overrides[f] = g``, ``counts["a"] = 1``), or a ``with`` over one
    (``with Session(engine) as session:`` that adds rows): setting it up."""
    try:
        body = parse_tree(stmt.source).body
    except (SyntaxError, ValueError):
        return False
    if len(body) != 1:
        return False
    node = body[0]
    if isinstance(node, ast.With):
        return all(_made_from(item.context_expr, made) for item in node.items)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return any(
            _method_of(d.func if isinstance(d, ast.Call) else d, made) for d in node.decorator_list
        )
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return all(
            isinstance(t, ast.Subscript | ast.Attribute) and _root_in(t, made) for t in targets
        )
    if not isinstance(node, ast.Expr) or stmt.binds:
        return False
    return isinstance(node.value, ast.Call) and _method_of(node.value.func, made)


def _method_of(func: ast.expr, made: set[str]) -> bool:
    """``app.get``, ``app.router.add_route``: a method of a made object that sets it up."""
    return isinstance(func, ast.Attribute) and func.attr not in _RUNS and _root_in(func, made)


def _root_in(expr: ast.expr, made: set[str]) -> bool:
    while isinstance(expr, ast.Attribute | ast.Subscript):
        expr = expr.value
    return isinstance(expr, ast.Name) and expr.id in made


def _made_from(expr: ast.expr, made: set[str]) -> bool:
    """``Session(engine)``, ``engine.begin()``: a call that takes or is on a made object."""
    if not isinstance(expr, ast.Call):
        return False
    name = expr.func.attr if isinstance(expr.func, ast.Attribute) else ""
    used = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
    return name not in _RUNS and bool(used & made)


def _env(
    block: Block,
    line: int,
    col: int,
    message: str,
    suggestion: str | None,
    rule: str = NOT_INSTALLED,
    category: Category = Category.ENV,
) -> Finding:
    """A finding about the environment an import needs (a module missing, misspelt)."""
    return Finding.at(
        block,
        line,
        col,
        stage="context",
        tool="exampletest",
        rule=rule,
        category=category,
        message=message,
        suggestion=suggestion,
    )


def _uses_missing_module(
    block: Block,
    symbols: Symbols,
    importer: PreludeStatement,
    available: list[tuple[int, Statement]],
    top: str,
    line: int | None,
) -> Finding | None:
    """The block uses what an earlier block imported from ``top``, which is not installed
    (that block has the ET003): a name it imports, or a value, function or class of that
    block whose definition needs one. Those uses are checked against a stand-in, so this
    block cannot be fully checked here either."""
    where = f"imported at line {line}" if line else "imported by an earlier block"
    own = sorted(
        set(symbols.free_names) & importer.statement.binds, key=lambda n: _first_use(symbols, n)
    )
    if own:
        name, how = own[0], f"`{own[0]}` comes from `{top}`"
    else:
        built = [
            n
            for n in sorted(symbols.free_names, key=lambda n: _first_use(symbols, n))
            if any(q.statement is importer.statement for q in _closure({n}, available))
        ]
        if not built:
            return None
        name, how = built[0], f"`{built[0]}`, from an earlier block, needs `{top}`"
    dist = None if top in PROJECT_PACKAGES or top in NAMESPACES else distribution_for(top)
    first, col, _ = _first_use(symbols, name)
    return _env(
        block,
        first,
        col,
        f"{how}, which is not installed here ({where}): this block's use of it is checked "
        "against a stand-in, so it is only partly checked",
        f"pip install {dist}" if dist else None,
    )


def _first_use(symbols: Symbols, name: str) -> tuple[int, int, int]:
    uses = [u for u in symbols.free if u.name == name]
    first = uses[0]
    return first.line, first.column, len(uses)


def _missing_import(block: Block, symbols: Symbols, name: str, sug: Suggestion | str) -> Finding:
    statement = sug if isinstance(sug, str) else sug.statement
    return _free_name(
        block, symbols, name, MISSING_IMPORT,
        f"`{name}` is used but never imported (used {{count}}x); `{statement}` provides it",
        statement,
    )  # fmt: skip


def defined_too_late(symbols: Symbols, name: str) -> bool:
    """The block binds ``name`` in a later statement than the one that first needs it
    (``Depends(get_user)`` above ``def get_user``): running it raises NameError. Not when the
    statement reading it binds it too (``model = wrap(model)``): that continues a definition
    from before the example."""
    if name not in symbols.binds:
        return False
    first = min((u.line for u in symbols.free if u.name == name), default=None)
    if first is None:
        return False
    return not any(s.line <= first <= s.end_line and name in s.binds for s in symbols.statements)


def _undefined(
    block: Block, symbols: Symbols, name: str, declared: bool = False, standin: str | None = None
) -> Finding:
    if declared:  # an earlier block's `name: T` (no value) binds nothing either
        return _declared(block, symbols, name, " in an earlier block")
    checked = (
        f"checked with a new `{standin.replace(':', '.')}()` in its place"
        if standin
        else "checked with a placeholder"
    )
    if defined_too_late(symbols, name):
        return _free_name(
            block, symbols, name, UNDEFINED,
            f"`{name}` {USED_BEFORE_DEFINED} (used {{count}}x), and no earlier "
            f"block does; {checked}",
            f"define `{name}` before its first use",
        )  # fmt: skip
    return _free_name(
        block, symbols, name, UNDEFINED,
        f"fragment: `{name}` {_NEVER} (used {{count}}x); {checked}",
        f"define `{name}` in the example, or declare it in stubs/ (`exampletest stubs`)",
    )  # fmt: skip


def _declared(block: Block, symbols: Symbols, name: str, where: str = "") -> Finding:
    return _free_name(
        block, symbols, name, UNDEFINED,
        f"fragment: `{name}` is only declared{where} (an annotation without a value) and never "
        "given one in this document (used {count}x); checked with a placeholder",
        f"give `{name}` a value in the example, or declare it in stubs/ (`exampletest stubs`)",
    )  # fmt: skip


def _free_name(
    block: Block, symbols: Symbols, name: str, rule: str, message: str, suggestion: str
) -> Finding:
    """A finding at the first use of a name the block does not bind (``{count}`` filled in)."""
    line, col, count = _first_use(symbols, name)
    return Finding.at(
        block,
        line,
        col,
        end_code_line=line,
        end_code_col=col + len(name),
        stage="context",
        tool="exampletest",
        rule=rule,
        category=Category.INCOMPLETE,
        message=message.format(count=count),
        suggestion=suggestion,
    )
