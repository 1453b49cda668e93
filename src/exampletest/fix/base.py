"""The shared shape of a rewrite: context in, rewritten code plus what was done and left out.

A module's rewrite is a sequence of passes, one per rule (or per rule and its aliases), each
run on the output of the previous one, so that any subset of rules can be applied on its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar, cast

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, ScopeProvider

from exampletest.fix.imports import add_imports, remove_unused_imports
from exampletest.symbols import BUILTINS, analyze


@dataclass(frozen=True)
class RewriteContext:
    """What the caller knows beyond the code: model names from earlier blocks and stubs."""

    known_models: frozenset[str] = frozenset()
    settings_classes: frozenset[str] = frozenset()  # BaseSettings subclasses
    enabled: frozenset[str] | None = None  # rule ids to apply; None means all
    #: Names later blocks take from the block's imports (a tutorial imports once): no rewrite
    #: drops those imports. Per block; the document's context holds ``exports`` for all.
    shared: frozenset[str] = frozenset()
    exports: tuple[tuple[int, frozenset[str]], ...] = ()
    #: Block index -> the imports of earlier blocks it relies on (``prelude_imports``): ruff
    #: sees them in front of the block, as the lint stage does.
    preludes: tuple[tuple[int, str], ...] = ()
    #: Top-level packages the document imports; None when not known (a rewrite alone).
    packages: frozenset[str] | None = None
    #: Block index -> (class, field) pairs mypy found required where the block leaves them out
    #: (``Missing named argument "bio" for "Customer"``): with ``bio: Optional[str]``, the
    #: block was written for Pydantic v1, where such a field defaulted to None.
    missing_args: tuple[tuple[int, frozenset[tuple[str, str]]], ...] = ()
    #: The block's own ``missing_args`` (set by ``for_block``).
    unpassed: frozenset[tuple[str, str]] = frozenset()
    #: (block index, the code of the ``algorithm`` a ``jwt.encode`` call there passes): a
    #: later block's ``jwt.decode`` without ``algorithms=`` gets it.
    jwt_encodes: tuple[tuple[int, str], ...] = ()
    #: Those of blocks before this one (set by ``for_block``).
    earlier_algorithms: frozenset[str] = frozenset()
    #: Whether ``datetime.UTC`` (3.11) exists where the block runs: not in a tab for an older
    #: Python (it keeps UP017) nor in a project whose target version is older.
    utc_alias: bool = True

    def for_block(self, index: int) -> RewriteContext:
        return dataclasses.replace(
            self,
            shared=dict(self.exports).get(index, frozenset()),
            unpassed=dict(self.missing_args).get(index, frozenset()),
            earlier_algorithms=frozenset(a for i, a in self.jwt_encodes if i < index),
        )

    def wants(self, rules: Sequence[str]) -> bool:
        return self.enabled is None or any(r in self.enabled for r in rules)


@dataclass(frozen=True)
class Rewrite:
    code: str
    applied: tuple[str, ...] = ()  # rule ids actually rewritten
    notes: tuple[str, ...] = ()  # what was left as a suggestion in words, and why


@dataclass
class Edit:
    """What one pass did, collected while it transforms and applied after it."""

    applied: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # statements to add, e.g. "import json"
    unused: list[tuple[str, str]] = field(default_factory=list)  # (module, name) maybe unused


class PassTransformer(cst.CSTTransformer):
    """A transformer that knows positions, to say where a note applies. They are computed
    only when asked for (a note is rare; positions cost a rendering of the whole tree)."""

    def __init__(self, edit: Edit) -> None:
        super().__init__()
        self.edit = edit
        self._wrapper: MetadataWrapper | None = None

    @contextmanager
    def resolve(self, wrapper: MetadataWrapper) -> Iterator[None]:
        self._wrapper = wrapper
        with super().resolve(wrapper):
            yield

    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where ``node`` (of the tree being visited) is."""
        wrapper = self._wrapper
        assert wrapper is not None, "visit through MetadataWrapper.visit"
        return per_tree(wrapper, "positions", lambda: wrapper.resolve(PositionProvider))[node]

    def note(self, rule: str, node: cst.CSTNode, text: str) -> None:
        line = self.position(node).start.line
        self.edit.notes.append(f"{rule} (line {line}): {text}")


PassFn = Callable[[MetadataWrapper, RewriteContext, Edit], cst.Module]


@dataclass(frozen=True)
class Pass:
    rules: tuple[str, ...]  # runs when any is enabled; the first is the rule it resolves
    run: PassFn
    triggers: tuple[str, ...]  # runs only on code containing one of these (analysis is slow)


_T = TypeVar("_T")
_per_tree: tuple[MetadataWrapper, dict[Hashable, object]] | None = None


def per_tree(wrapper: MetadataWrapper, key: Hashable, make: Callable[[], _T]) -> _T:
    """What a tree's analysis gives, computed once per tree: ``run_passes`` keeps one tree
    while its passes change nothing, and they share what it costs to analyse."""
    global _per_tree
    if _per_tree is None or _per_tree[0] is not wrapper:
        _per_tree = (wrapper, {})
    memo = _per_tree[1]
    if key not in memo:
        memo[key] = make()
    return cast(_T, memo[key])


_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """A node's children in source order, read off its fields (no visitor)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    kids: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            kids.append(value)
        elif isinstance(value, tuple | list):
            kids.extend(v for v in value if isinstance(v, cst.CSTNode))
    return kids


def parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Every node's parent, as libcst's ``ParentNodeProvider`` gives it (a node's children
    entered when the walk leaves it), read off the nodes' fields: the provider's visitor
    costs ten times more, and a long block's rewrite asked for it pass after pass."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[tuple[cst.CSTNode, list[cst.CSTNode] | None]] = [(root, None)]
    while stack:
        node, kids = stack.pop()
        if kids is not None:  # leaving it
            for kid in kids:
                parents[kid] = node
            continue
        kids = children(node)
        stack.append((node, kids))
        stack.extend((kid, None) for kid in reversed(kids))
    return parents


_source: tuple[cst.Module, str] | None = None


def source_of(module: cst.Module) -> str:
    """The code of ``module``: for the tree ``run_passes`` parsed, the text it parsed (libcst
    gives it back byte for byte), not a rendering of the tree again, which costs a tenth of a
    second on a long block and every pass asks for it."""
    if _source is not None and _source[0] is module:
        return _source[1]
    return module.code


def _parsed(code: str) -> cst.Module:
    global _source
    tree = cst.parse_module(code)
    _source = (tree, code)
    return tree


def global_names(wrapper: MetadataWrapper) -> frozenset[str]:
    """Names bound in the module's global scope, builtins included (what ``name in scope``
    asks of libcst's global scope), from Python's symtable: libcst's scope analysis costs
    seconds on a long block, and most passes only need this."""

    def make() -> frozenset[str]:
        symbols = analyze(source_of(wrapper.module))
        if symbols.syntax_error is None:
            return symbols.binds | BUILTINS
        scope = wrapper.resolve(ScopeProvider).get(wrapper.module)  # code only libcst reads
        return BUILTINS | frozenset(a.name for a in scope.assignments) if scope else BUILTINS

    return per_tree(wrapper, "globals", make)


def imported_from(module: cst.Module, origin: str) -> dict[str, str]:
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


def module_aliases(module: cst.Module, origin: str) -> set[str]:
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


_NOTE_LINE = re.compile(r"^(\w+) \(line (\d+)\): ")


def relocate_notes(
    notes: Sequence[str], code: str, origin: str, line_of: Callable[[int], int] = int
) -> list[str]:
    """Notes about lines of ``code`` as notes about lines of ``origin``, the code before
    earlier rewrites moved them (a line a rewrite added counts as the nearest line it
    replaced), each passed through ``line_of`` (to document lines)."""
    if code == origin and line_of is int:
        return list(notes)
    before, after = origin.splitlines(), code.splitlines()
    where = list(range(1, len(after) + 1))
    if code != origin:
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for k in range(j1, j2):
                where[k] = min(i1 + (k - j1), max(i2 - 1, i1)) + 1

    def move(m: re.Match[str]) -> str:
        line = int(m.group(2))
        mapped = where[line - 1] if 0 < line <= len(where) else line
        return f"{m.group(1)} (line {line_of(mapped)}): "

    return [_NOTE_LINE.sub(move, note, count=1) for note in notes]


def keep_start(before: str, after: str) -> str:
    """``after`` without the blank lines a removed first statement (an import) leaves at the
    top, beyond those the block started with."""
    kept = before[: len(before) - len(before.lstrip("\r\n"))]
    if after[:1] in ("\n", "\r"):
        return kept + after.lstrip("\r\n")
    return after


def run_passes(code: str, ctx: RewriteContext, passes: Sequence[Pass]) -> Rewrite:
    """Apply each enabled pass in turn; a pass that changes nothing leaves the code as it was."""
    if not any(ctx.wants(p.rules) and any(t in code for t in p.triggers) for p in passes):
        return Rewrite(code)  # nothing to look for: not even parsed
    try:
        tree = _parsed(code)
    except cst.ParserSyntaxError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        return Rewrite(code, (), (f"code does not parse, nothing rewritten: {first}",))
    applied: list[str] = []
    notes: list[str] = []
    # The code and its analysed tree are kept until a pass changes them: rendering a tree and
    # resolving scopes are the expensive parts of libcst, and most passes change nothing.
    start = code
    wrapper: MetadataWrapper | None = None
    for p in passes:
        if not ctx.wants(p.rules) or not any(t in code for t in p.triggers):
            continue
        edit = Edit()
        wrapper = wrapper or MetadataWrapper(tree, unsafe_skip_copy=True)
        new_tree = p.run(wrapper, ctx, edit)
        notes.extend(relocate_notes(edit.notes, code, start))
        if not edit.applied:
            continue
        unused = [(m, n) for m, n in edit.unused if n not in ctx.shared]
        new_code = remove_unused_imports(new_tree.code, unused)
        new_code = add_imports(new_code, edit.imports)
        new_code = keep_start(code, new_code)
        if new_code == code:
            continue
        applied.extend(r for r in p.rules if r in edit.applied and r not in applied)
        tree, code, wrapper = _parsed(new_code), new_code, None
    return Rewrite(code, tuple(applied), tuple(notes))
