"""Rule machinery: metadata, the registry, the per-block view of the code, the version gate.

Rules are AST checks over ``Block.code``. A rule only fires where the library it is about is
installed at a version on which the old API is no longer current; when the library is not
installed it fires only if the block imports the library, and says the version went unchecked.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from exampletest.model import Category

STDLIB = "python"  #: library name of rules about the standard library


@dataclass(frozen=True)
class Rule:
    """What a rule is about: read by the renderers and the fix engine."""

    id: str
    title: str
    category: Category  # the usual category; a hit may be "broken" where the version removed it
    library: str  # distribution name (``pydantic``, ``sqlalchemy``…) or "python"
    versions: str  # where the rule applies: "" (all), ">=2.0" or ">=2.0,<3"
    replacement: str  # the modern API, in words
    modules: tuple[str, ...] = ()  # import roots that show a block uses the library


@dataclass(frozen=True)
class Hit:
    """One match of a rule: where, and what to say."""

    node: ast.AST
    message: str
    suggestion: str | None = None
    category: Category | None = None  # None: the rule's category
    name_only: bool = False  # point at the attribute name of an ``x.attr`` node, not at ``x``
    end_node: ast.AST | None = None  # the span ends where this node ends (default: ``node``)


Check = Callable[["Context"], Iterable[Hit]]
REGISTRY: dict[str, tuple[Rule, Check]] = {}


def rule(
    id: str,
    title: str,
    category: Category,
    library: str,
    versions: str,
    replacement: str,
    modules: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Register a check function under its rule metadata."""
    meta = Rule(id, title, category, library, versions, replacement, modules or (library,))

    def register(check: Check) -> Check:
        if id in REGISTRY:
            raise ValueError(f"rule {id} registered twice")
        REGISTRY[id] = (meta, check)
        return check

    return register


# --- versions -----------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    """Leading numeric release of a version string: ``2.0.0b1`` -> (2, 0, 0)."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


@cache  # asked for every rule of every block, with a handful of distinct arguments
def version_in(spec: str, version: str) -> bool:
    """Whether ``version`` satisfies a spec made of ``>=X`` and ``<Y`` parts."""
    have = parse_version(version)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part.startswith(">="):
            if have < parse_version(part[2:]):
                return False
        elif part.startswith("<"):
            if have >= parse_version(part[1:]):
                return False
        else:
            raise ValueError(f"unsupported version spec {spec!r}")
    return True


def normalize_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# --- the block as the rules see it -------------------------------------------------------


class Context:
    """A parsed block plus what every rule asks about it: imports, bindings, versions."""

    def __init__(
        self, code: str, tree: ast.Module, versions: Mapping[str, str | None] | None
    ) -> None:
        self.code = code
        self.tree = tree
        self.lines = code.split("\n")
        self._versions = (
            None if versions is None else {normalize_dist(k): v for k, v in versions.items()}
        )
        self.aliases: dict[str, str] = {}  # local name -> dotted name it was imported as
        self.imported: set[str] = set()  # every imported module path (and its parents)
        self.bound: set[str] = set()  # every name the block binds, anywhere
        self.assigned: dict[str, list[ast.expr]] = {}  # name -> values assigned to it
        self.annotations: dict[str, list[ast.expr]] = {}  # name -> annotations it was given
        self.parents: dict[ast.AST, ast.AST] = {}
        self.nodes: list[ast.AST] = []  # every node, in ``ast.walk`` order: walked once
        self._calls: list[ast.Call] = []
        #: positions in ``nodes`` by node class: a rule asks for a few classes of node, and
        #: every rule of the pack asking every node was most of the pack's time
        self._by_type: dict[type[ast.AST], list[int]] = {}
        self._scan()

    # imports and bindings
    def _scan(self) -> None:
        for node in ast.walk(self.tree):
            self._by_type.setdefault(type(node), []).append(len(self.nodes))
            self.nodes.append(node)
            if isinstance(node, ast.Call):
                self._calls.append(node)
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.Import):
                for a in node.names:
                    self._add_module(a.name)
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        root = a.name.split(".")[0]
                        self.aliases[root] = root
                    self.bound.add(a.asname or a.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self._add_module(node.module)
                for a in node.names:
                    local = a.asname or a.name
                    self.aliases[local] = f"{node.module}.{a.name}"
                    self.bound.add(local)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.bound.add(node.name)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
                if node.annotation is not None:
                    self.annotations.setdefault(node.arg, []).append(node.annotation)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.bound.add(node.id)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.annotations.setdefault(node.target.id, []).append(node.annotation)
                if node.value is not None:
                    self.assigned.setdefault(node.target.id, []).append(node.value)

    def _add_module(self, module: str) -> None:
        parts = module.split(".")
        self.imported.update(".".join(parts[: i + 1]) for i in range(len(parts)))

    def imports(self, *modules: str) -> bool:
        """Whether the block imports any of these modules (or something inside them)."""
        return any(m in self.imported for m in modules)

    def qualname(self, node: ast.AST) -> str | None:
        """Dotted name an expression refers to through the block's imports, else None."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def matches(self, node: ast.AST, qualnames: Iterable[str]) -> bool:
        """Whether ``node`` names one of ``qualnames``, by import or textually.

        Textually: a dotted name whose root the block never binds (it came from an earlier
        block) and that is a suffix of a wanted name, e.g. ``validator`` or ``datetime.utcnow``.
        """
        wanted = set(qualnames)
        qual = self.qualname(node)
        if qual is not None:
            return qual in wanted
        text = dotted(node)
        if text is None or text.split(".")[0] in self.bound:
            return False
        return any(q == text or q.endswith("." + text) for q in wanted)

    def is_textual(self, node: ast.AST) -> bool:
        """True when ``node`` matched by name only, not through an import."""
        return self.qualname(node) is None

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        cur = self.parents.get(node)
        while cur is not None:
            if isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return cur if not isinstance(cur, ast.Lambda) else None
            cur = self.parents.get(cur)
        return None

    # versions
    def version(self, dist: str) -> str | None:
        """Installed version of a distribution (from the given mapping when there is one)."""
        if dist == STDLIB:
            return "{}.{}.{}".format(*sys.version_info[:3])
        if self._versions is not None:
            return self._versions.get(normalize_dist(dist))
        return installed_version(normalize_dist(dist))

    def at_least(self, dist: str, minimum: str) -> bool:
        """Installed and at least ``minimum``: the evidence a removed API is really gone."""
        have = self.version(dist)
        return have is not None and version_in(f">={minimum}", have)

    # nodes
    def walk(self, *types: type[ast.AST]) -> Iterator[ast.AST]:
        """The nodes of these classes (or their subclasses), in ``ast.walk`` order."""
        classes = {c for c in self._by_type if issubclass(c, types)}
        if len(classes) == 1:
            return (self.nodes[i] for i in self._by_type[classes.pop()])
        return (self.nodes[i] for i in sorted(i for c in classes for i in self._by_type[c]))

    def references(self, module: str, names: Iterable[str]) -> Iterator[tuple[ast.AST, str]]:
        """Where the code imports ``from module import name`` or spells ``module.name``: the
        way every rule about a moved or removed name finds it. Yields (node, name)."""
        wanted = set(names)
        qualnames = {f"{module}.{n}": n for n in wanted}
        for node in self.walk(ast.ImportFrom, ast.Attribute):
            if isinstance(node, ast.ImportFrom) and node.module == module and not node.level:
                for alias in node.names:
                    if alias.name in wanted:
                        yield node, alias.name
            elif isinstance(node, ast.Attribute):
                name = qualnames.get(self.qualname(node) or "")
                if name is not None:
                    yield node, name

    def calls(self) -> Iterator[ast.Call]:
        return iter(self._calls)


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


TEXTUAL_NOTE = " (matched by name: the block does not import it)"
