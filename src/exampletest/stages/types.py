"""Types stage: one incremental mypy run over every block of the run, each in its context.

mypy runs with the pydantic plugin (when pydantic is installed) and the ``deprecated`` error
code on, so v1-era APIs show up as typed evidence. Its cache is kept between runs, which is
what makes a warm run cheap.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exampletest.assemble import CheckModule, check_module, stub_module_name
from exampletest.context import BlockContext, imports_own_file
from exampletest.model import Category, Finding, Key
from exampletest.nameindex import is_importable
from exampletest.sandbox import SAFE_PATH
from exampletest.stages import EXCERPT, GUESS, StageError, newer_stdlib
from exampletest.symbols import analyze, code_lines, parse_code, parse_tree, tree_or_none

#: mypy error codes that are not about the example being wrong.
IGNORED_CODES = frozenset({"empty-body", "import-not-found", "import-untyped", "name-defined"})
STALE_CODES = frozenset({"deprecated"})
#: Legal Python that only mypy's stricter reading rejects: a redefinition (docs show "before"
#: and "after" versions), an empty collection without an annotation, a decorated property,
#: a top-level `await` (docs assume a notebook or an asyncio REPL; the smoke run allows it),
#: a method replaced on an object (FastAPI's documented `app.openapi = custom_openapi`).
STYLE_CODES = frozenset(
    {
        "no-redef",
        "var-annotated",
        "prop-decorator",
        "annotation-unchecked",
        "top-level-await",
        "method-assign",
    }
)


def mypy_config(extra: Sequence[str] = ()) -> str:
    """The [mypy] section; ``extra`` lines (``key = value``) override ours, and ``plugins``
    add to the pydantic plugin rather than replace it."""
    settings: dict[str, str] = {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "plugins": "pydantic.mypy" if importlib.util.find_spec("pydantic") else "",
        "enable_error_code": "deprecated",
        "ignore_missing_imports": "True",
        "follow_imports": "silent",
        "allow_redefinition": "True",
        "warn_unused_ignores": "False",
        "show_error_end": "True",
    }
    for line in extra:
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise StageError(f"mypy-options: expected `key = value`, got {line!r}")
        if key == "plugins" and settings["plugins"]:
            value = f"{settings['plugins']}, {value}"
        settings[key] = value
    lines = ["[mypy]", *(f"{k} = {v}" for k, v in settings.items() if v)]
    return "\n".join(lines) + "\n"


@dataclass
class _Prewarm:
    proc: subprocess.Popen[bytes] | None
    seed: Path | None  # where to keep the libraries' cache for the next project
    packages: frozenset[str]


#: mypy runs analysing the documents' libraries ahead of the real check, by cache folder.
_prewarming: dict[Path, _Prewarm] = {}
SEED_FORMAT = 1
_SEEDS_KEPT = 3


def prewarm(
    workdir: Path,
    cache_dir: Path,
    packages: Sequence[str],
    extra_config: Sequence[str] = (),
    seeds: Path | None = None,
    start: bool = True,
) -> None:
    """On a cold mypy cache, start analysing the installed packages the documents import
    while the run is still preparing (name index, contexts): most of a cold mypy run is the
    libraries, and :func:`check` then finds them in the cache (same options, same folder).

    ``seeds``: a folder of the user's cache where the libraries' analysis is kept, keyed by
    the Python environment and the mypy settings (as the name index is): a new project
    starts from it, and mypy then only checks that nothing it read has changed. ``start``:
    False only seeds (a small run's own check analyses what the seed lacks)."""
    if cache_dir.is_dir() or not packages or cache_dir.resolve() in _prewarming:
        return
    wanted = frozenset(packages)
    config_text = mypy_config(extra_config)
    seed = _seed_folder(seeds, config_text) if seeds is not None else None
    has = _seeded(seed, cache_dir) if seed is not None else frozenset()
    if wanted <= has or not start:  # analysed before, or left to the check itself
        return
    workdir.mkdir(parents=True, exist_ok=True)
    config = (workdir / "mypy.ini").resolve()
    _write_if_changed(config, config_text)
    module = "exampletest_prewarm"
    _write_if_changed(workdir / f"{module}.py", "".join(f"import {p}\n" for p in packages))
    cmd = [sys.executable, *SAFE_PATH, "-m", "mypy", "--config-file", str(config),
           "--cache-dir", str(cache_dir.resolve()), f"{module}.py"]  # fmt: skip
    with contextlib.suppress(OSError):
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _prewarming[cache_dir.resolve()] = _Prewarm(proc, seed, wanted | has)


def end_prewarm(cache_dir: Path, kill: bool = False) -> None:
    """Wait for (or stop) the pre-warming run of this cache folder, if there is one; keep
    what it analysed as the seed of the next project."""
    warm = _prewarming.pop(cache_dir.resolve(), None)
    if warm is None or warm.proc is None:
        return
    if kill:
        warm.proc.kill()
    _running.add(warm.proc)  # a SIGTERM meanwhile stops it (see stop_running)
    try:
        warm.proc.wait(timeout=600)
    except subprocess.TimeoutExpired:
        warm.proc.kill()
        warm.proc.wait()
    finally:
        _running.discard(warm.proc)
    if warm.seed is not None and warm.proc.returncode in (0, 1):
        _keep_seed(cache_dir, warm.seed, warm.packages)


def _seed_folder(seeds: Path, config_text: str) -> Path:
    from exampletest.nameindex import environment_key

    key = hashlib.sha256(f"{SEED_FORMAT}\0{environment_key()}\0{config_text}".encode())
    return seeds / f"mypy-{key.hexdigest()[:16]}"


def _seeded(seed: Path, cache_dir: Path) -> frozenset[str]:
    """Copy the seed's cache into the (new) cache folder; the packages it covers. Anything
    unreadable is no seed."""
    try:
        packages = frozenset(json.loads((seed / "packages.json").read_text(encoding="utf-8")))
        shutil.copytree(seed / "cache", cache_dir)
    except (OSError, ValueError, TypeError):
        shutil.rmtree(cache_dir, ignore_errors=True)
        return frozenset()
    with contextlib.suppress(OSError):
        os.utime(seed)  # recently used: the last to be pruned
    return packages


def _keep_seed(cache_dir: Path, seed: Path, packages: frozenset[str]) -> None:
    """Replace the seed with this cache (only libraries so far), atomically: a concurrent run
    sees the old seed or the new one. Only the few most recently used seeds are kept."""
    seed.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".mypy-seed-", dir=seed.parent))
    try:
        shutil.copytree(cache_dir, tmp / "cache")
        (tmp / "packages.json").write_text(json.dumps(sorted(packages)), encoding="utf-8")
        old = seed.with_name(f".{seed.name}-old-{os.getpid()}")
        with contextlib.suppress(OSError):
            seed.rename(old)
        tmp.rename(seed)
        shutil.rmtree(old, ignore_errors=True)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return

    def used(folder: Path) -> float:
        try:
            return folder.stat().st_mtime
        except OSError:  # pruned by a concurrent run meanwhile
            return 0.0

    kept = sorted(seed.parent.glob("mypy-*"), key=used, reverse=True)
    for stale in kept[_SEEDS_KEPT:]:
        shutil.rmtree(stale, ignore_errors=True)


@dataclass
class _Rider:
    contexts: Sequence[tuple[BlockContext, str]]
    done: threading.Event = field(default_factory=threading.Event)
    results: dict[Key, list[Finding]] | None = None  # None: the run failed or did not start


class SharedRun:
    """One mypy run that more blocks can join until it starts: the fix engine's trials board
    the run's own check while it waits for the libraries' analysis, which saves a mypy start
    and a load of the libraries' cache (a second run would have to wait for the first
    anyway: they share the cache)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._riders: list[_Rider] | None = []
        #: Set once the run is over (or will not happen): mypy's cache is free for another.
        self.over = threading.Event()

    def board(self, contexts: Sequence[tuple[BlockContext, str]]) -> _Rider | None:
        """Join the run (None: it has started, or is over); wait on ``done``, then read
        ``results``."""
        with self._lock:
            if self._riders is None:
                return None
            rider = _Rider(contexts)
            self._riders.append(rider)
            return rider

    def depart(self) -> list[_Rider]:
        """Close the boarding: the riders so far (none after the first call)."""
        with self._lock:
            riders, self._riders = self._riders or [], None
            return riders

    def end(self) -> None:
        """The run is over, or will not happen (nothing to check, or it failed first): riders
        it did not take wait no longer (and find no results), and a later check can run its
        own mypy at once."""
        for rider in self.depart():
            rider.done.set()
        self.over.set()


def check(
    contexts: Sequence[tuple[BlockContext, str]],
    workdir: Path,
    cache_dir: Path,
    timeout_s: float = 600.0,
    extra_config: Sequence[str] = (),
    cores: int = 1,
    shared: SharedRun | None = None,
) -> dict[Key, list[Finding]]:
    """Type-check blocks; keys are (document path, block index). ``str`` is the module name.
    ``cores``: how many this run may take (more than one only helps a cold cache).
    ``shared``: the blocks that boarded it are checked in the same mypy run."""
    riders: list[_Rider] = []
    try:
        modules = _write_modules(contexts, workdir)  # while the libraries' analysis runs
        end_prewarm(cache_dir)  # the libraries are in the cache now: only the blocks are left
        riders = shared.depart() if shared is not None else []
        for rider in riders:
            modules.update(_write_modules(rider.contexts, workdir))
        found = _check_modules(modules, workdir, cache_dir, timeout_s, extra_config, cores)
        for rider in riders:
            rider.results = _by_block(rider.contexts, found)
        return _by_block(contexts, found)
    finally:
        for rider in riders:
            rider.done.set()


def _by_block(
    contexts: Sequence[tuple[BlockContext, str]], found: dict[str, list[Finding]]
) -> dict[Key, list[Finding]]:
    return {(ctx.block.doc_path, ctx.block.index): found[module] for ctx, module in contexts}


def _write_modules(
    contexts: Sequence[tuple[BlockContext, str]], workdir: Path
) -> dict[str, tuple[BlockContext, CheckModule]]:
    """Each block as the module mypy checks (with its context module and stub), written to
    ``workdir``. Done before waiting for the libraries' analysis: on a large run it takes
    seconds, which mypy would otherwise wait for."""
    workdir.mkdir(parents=True, exist_ok=True)
    modules: dict[str, tuple[BlockContext, CheckModule]] = {}
    for ctx, module in contexts:
        mod = check_module(ctx, module)
        modules[module] = (ctx, mod)
        _write_if_changed(workdir / f"{module}.py", mod.source)
        _write_if_changed(workdir / f"{module}_ctx.py", mod.ctx_source)
        if ctx.stub_source is not None:
            stub = workdir / f"{stub_module_name(ctx.stub_source)}.py"
            _write_if_changed(stub, ctx.stub_source)
    return modules


def _check_modules(
    modules: dict[str, tuple[BlockContext, CheckModule]],
    workdir: Path,
    cache_dir: Path,
    timeout_s: float,
    extra_config: Sequence[str],
    cores: int,
) -> dict[str, list[Finding]]:
    """The findings of one mypy run over the written modules, by module."""
    files = [f"{module}.py" for module in modules]
    results: dict[str, list[Finding]] = {module: [] for module in modules}
    if not files:
        return results
    config = (workdir / "mypy.ini").resolve()
    _write_if_changed(config, mypy_config(extra_config))
    # A blocking error (mypy stops the whole run) in one block must not cost the others: that
    # block is reported and the run repeated without it.
    for _ in range(5):
        proc = _mypy(files, workdir, config, cache_dir, timeout_s, cores)
        blocking = _blocking(proc, modules) if proc.returncode == 2 else None
        if blocking is None:
            break
        module, message = blocking
        ctx = modules[module][0]
        results[module].append(
            Finding.at(
                ctx.block,
                1,
                1,
                stage="types",
                tool="mypy",
                rule="blocking-error",
                category=Category.INCOMPLETE if EXCERPT.search(message) else Category.BROKEN,
                message=f"mypy cannot check this block: {message}",
            )
        )
        files.remove(f"{module}.py")
        if not files:
            return results
    if proc.returncode not in (0, 1):
        tail = ((proc.stderr or proc.stdout).strip().splitlines() or ["no output"])[-1]
        with contextlib.suppress(ValueError, KeyError, TypeError):
            tail = str(json.loads(tail)["message"])
        raise StageError(f"mypy failed (exit {proc.returncode}): {tail}")
    standins: dict[str, set[int]] = {}
    for raw in proc.stdout.splitlines():
        try:
            err = json.loads(raw)
        except json.JSONDecodeError:
            continue
        finding = _to_finding(err, modules)
        real_api = err.get("code") == "deprecated"  # an installed API, whatever feeds it
        if finding is not None and not real_api and _from_standin(err, modules, standins):
            continue
        if finding is not None:
            module, f = finding
            results[module].append(f)
    return {module: _merge_unpacked(found) for module, found in results.items()}


#: The types a mypy message quotes (``"Column[int]"``, ``"int | None"``).
_QUOTED_TYPE = re.compile(r'"([^"]+)"')


def _legacy_column(message: str) -> bool:
    """A type error between a legacy ``Column()`` attribute and a value of the column's own
    type (``self.name = name``, ``double(item.id)`` where ``int`` is expected): ``Mapped[...]``
    would type it. A value of another type (``Column[str]`` where ``int`` is expected) is an
    error either way."""
    quoted = [t.replace(" | None", "") for t in _QUOTED_TYPE.findall(message)]
    columns = {m[1] for t in quoted if (m := re.fullmatch(r"Column\[(.+)\]", t))}
    # what a value of the column's type passes for: itself, a union with it, a wider number
    wider = {"int": {"float", "complex"}, "float": {"complex"}, "bool": {"int", "float"}}
    fits = {t for c in columns for t in {c, "object", *wider.get(c, ())}}
    others = [t for t in quoted if not t.startswith("Column[")]
    return any(t in fits or fits & set(t.split(" | ")) for t in others)


#: mypy's complaint about a ``**dict`` argument, one per parameter the dict could fill.
_UNPACKED = re.compile(r'^Argument \d+ to "([^"]+)" has incompatible type "\*\*([^"]+)"; expected ')


def _merge_unpacked(findings: list[Finding]) -> list[Finding]:
    """One finding for a ``**dict`` argument, not one per parameter it could fill (nineteen
    for ``FastAPI(**app_configs)``): the problem is the dict's one type."""
    out: list[Finding] = []
    first: dict[tuple[int, int, str, str], int] = {}
    more: Counter[tuple[int, int, str, str]] = Counter()
    for f in findings:
        m = _UNPACKED.match(f.message)
        key = (f.line, f.column, m[1], m[2]) if m else None
        if key is None or key not in first:
            if key is not None:
                first[key] = len(out)
            out.append(f)
        else:
            more[key] += 1
    for key, n in more.items():
        at = first[key]
        out[at] = out[at].replace(message=f"{out[at].message}; and {n} more parameters")
    return out


def _from_standin(
    err: dict[str, object],
    modules: dict[str, tuple[BlockContext, CheckModule]],
    standins: dict[str, set[int]],
) -> bool:
    """Whether the error's line uses a name from a module that is not installed here (mypy
    sees it as ``Any``: ``class Hero(SQLModel, table=True)`` or ``Page[int]`` as a type then
    fail for mypy, not for the reader). Such errors are no evidence; the context stage
    reports the missing module."""
    module = Path(str(err.get("file", ""))).stem
    ctx, mod = modules[module]
    if module not in standins:
        standins[module] = _standin_lines(ctx)
    line = mod.code_line(int(str(err.get("line", 1))))
    return line in standins[module]


def _standin_lines(ctx: BlockContext) -> set[int]:
    """Code lines of the block that use names imported from missing modules, or names
    assigned (at top level) from them or from a call given a placeholder, or classes a
    stand-in or a placeholder decorates (``@strawberry.type``, ``@define``: what they make of
    the class is unknown), or classes derived from a stand-in (``class Task(TaskBase,
    table=True)`` over SQLModel's)."""
    missing = set(ctx.missing_modules)
    placeholders = ctx.placeholders
    # what exampletest imports for the block from a module not installed here is Any too
    tainted = {
        p.name
        for p in ctx.provided
        if p.source == "import"
        and not all(is_importable(m) for m, _, _ in analyze(p.statement or "").imported_modules)
    }
    defined: set[str] = set()  # the document's own classes and functions
    if not missing and not placeholders and not tainted:
        return set()

    def imports_missing(node: ast.stmt) -> bool:
        if isinstance(node, ast.Import):
            return any(a.name.split(".")[0] in missing for a in node.names)
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            return node.level > 0 or name.split(".")[0] in missing
        return False

    def learn(node: ast.stmt) -> None:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            defined.add(node.name)
        if imports_missing(node):
            assert isinstance(node, ast.Import | ast.ImportFrom)
            tainted.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif (
            isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
            and node.value
            and (_names(node.value) & tainted or _given(node.value, defined) & placeholders)
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            tainted.update(name for t in targets for name in _names(t))
        elif isinstance(node, ast.ClassDef) and (
            any(_names(d) & (tainted | placeholders) for d in node.decorator_list)
            or any(_names(b) & (tainted | placeholders) for b in node.bases)
        ):
            tainted.add(node.name)  # what it is, or inherits, is unknown here

    for pre in ctx.prelude:
        with contextlib.suppress(SyntaxError, ValueError):
            for node in parse_code(pre.statement.source).body:
                learn(node)
    tree = tree_or_none(ctx.block.code)
    if tree is None:
        return set()
    for node in tree.body:
        learn(node)
    return {
        line
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id in tainted and not isinstance(n.ctx, ast.Store)
        for line in range(n.lineno, (n.end_lineno or n.lineno) + 1)
    }


_DYNAMIC_TYPE = re.compile(
    r'^(?:Variable "([\w.]+)" is not valid as a type|Invalid base class "(\w+)")'
)


#: mypy's complaints that code does not fit a name's interface: about a guessed import,
#: they are as likely to say the guess is wrong as the code.
_INTERFACE_CODES = frozenset(
    {"call-arg", "attr-defined", "call-overload", "arg-type", "union-attr", "abstract"}
    # a value of the guessed class where another type goes: `Relationship[Never]`
    | {"assignment", "return-value"}
)
#: ``conv["id"]`` with ``conv`` guessed as a class: indexing it is the guess's mismatch too.
_NOT_INDEXABLE = re.compile(r"is not generic and not indexable|is not indexable")
#: mypy's complaints about a value: from a function whose body is left out, they are
#: about the elision (``async def gen(): ...  # yield bytes`` is a coroutine, not a generator).
_VALUE_CODES = frozenset(
    {"arg-type", "return-value", "assignment", "attr-defined", "union-attr", "operator"}
    | {"index", "misc", "call-overload", "var-annotated", "func-returns-value"}
)


#: A comment line that stands for code left out: ``# ...``, ``# …``.
_ELISION_COMMENT = re.compile(r"^[ \t]*#[ \t]*(?:\.\.\.|…)")


def _body_left_out(code: str, line: int) -> bool:
    """Whether the function defined (or decorated) at ``line`` says ``# ...`` in its body:
    mypy's "Missing return statement", or a lifespan that is no generator for
    ``@asynccontextmanager`` (its ``yield`` left out), is then about the part left out."""
    tree = tree_or_none(code)
    lines = code_lines(code)
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.lineno == line or any(d.lineno == line for d in node.decorator_list):
            return _says_left_out(node, lines)
    return False


#: mypy on a decorator given the function it decorates (``@asynccontextmanager``).
_DECORATED = re.compile(r'Argument 1 to "[\w.]+" has incompatible type "Callable\[')


def _says_left_out(node: ast.stmt, lines: Sequence[str]) -> bool:
    """Whether a definition's own body has a ``# ...`` line (at its indentation, not a
    nested function's), the comments after its last statement included."""
    body = getattr(node, "body", None)
    indent = body[0].col_offset if body else node.col_offset + 4
    end = node.end_lineno or node.lineno
    while end < len(lines) and (
        not lines[end].strip()
        or (
            lines[end].lstrip().startswith("#")
            and len(lines[end]) - len(lines[end].lstrip()) > node.col_offset
        )
    ):
        end += 1
    return any(
        _ELISION_COMMENT.match(text) and len(text) - len(text.lstrip()) == indent
        for text in lines[node.lineno : end]
    )


def _elided_callee(ctx: BlockContext, line: int) -> str | None:
    """A function of the block whose body is only ``...`` (a docstring aside), called on
    ``line``."""
    return next((name for name, a, b in _elided_calls(ctx.block.code) if a <= line <= b), None)


@functools.lru_cache(maxsize=256)
def _elided_calls(code: str) -> tuple[tuple[str, int, int], ...]:
    """The calls of ``code`` to its own functions whose body is ``...``, with their lines:
    once per block, not once per mypy message."""
    tree = tree_or_none(code) if "..." in code else None
    if tree is None:
        return ()
    elided = {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        and not n.returns  # `def f() -> int: ...` says what it returns: a stub, not a gap
        and _left_out(n.body)
    }
    if not elided:
        return ()
    return tuple(
        (node.func.id, node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in elided
    )


def _left_out(body: list[ast.stmt]) -> bool:
    """A body of ``...`` (and a docstring, or comments the parser drops)."""
    values = [
        b.value.value for b in body if isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant)
    ]
    return (
        len(values) == len(body)
        and Ellipsis in values
        and all(v is Ellipsis or isinstance(v, str) for v in values)
    )


_CALLABLE_ATTRIBUTE = re.compile(r'^"(?:Callable\[.*\]|def .*)" has no attribute "(\w+)"$')


def _function_attribute(ctx: BlockContext, message: str, line: int) -> bool:
    """Whether mypy's missing attribute is one the line itself sets on a function the block
    defines (``price.short_description = "Price"``, Django's admin idiom): mypy cannot model
    it (python/mypy#2087); Python has always allowed it."""
    m = _CALLABLE_ATTRIBUTE.match(message)
    tree = tree_or_none(ctx.block.code) if m is not None else None
    if m is None or tree is None:
        return False
    functions = {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return any(
        isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
        and any(
            isinstance(t, ast.Attribute)
            and t.attr == m.group(1)
            and isinstance(t.value, ast.Name)
            and t.value.id in functions
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
        for node in ast.walk(tree)
    )


def _runtime_class(ctx: BlockContext, message: str) -> str | None:
    """The function whose call made the class mypy rejects as a type or base class
    (``Base = declarative_base()``), found among the block's and its context's top-level
    assignments; None when the name is not bound that way."""
    match = _DYNAMIC_TYPE.match(message)
    if match is None:
        return None
    name = (match.group(1) or match.group(2)).rpartition(".")[2]
    sources = [p.statement.source for p in ctx.prelude] + [ctx.block.code]
    for source in sources:
        try:
            body = parse_tree(source).body
        except (SyntaxError, ValueError):
            continue
        for node in body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            ):
                func = node.value.func
                return func.attr if isinstance(func, ast.Attribute) else ast.unparse(func)
    return None


def _given(value: ast.expr, defined: set[str]) -> set[str]:
    """Names passed as they are to the call ``value`` is (``sessionmaker(engine, ...)``): a
    placeholder there is ``Any`` to mypy, which then may pick the wrong overload of a
    library's callee (a sync ``Session`` for ``class_=AsyncSession``) and type the result by
    it. Not for a class or function the document ``defined``: its type does not depend on
    the argument."""
    if not isinstance(value, ast.Call) or _names(value.func) & defined:
        return set()
    passed = [*value.args, *(k.value for k in value.keywords)]
    return {a.id for a in passed if isinstance(a, ast.Name)}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _mypy(
    files: list[str], workdir: Path, config: Path, cache_dir: Path, timeout_s: float, cores: int
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        *SAFE_PATH,
        "-m",
        "mypy",
        "--config-file",
        str(config),
        "--cache-dir",
        str(cache_dir.resolve()),
        "--output",
        "json",
        "--no-error-summary",
        *_workers(cache_dir, cores),
        *files,
    ]
    try:
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        raise StageError(f"mypy could not be started: {exc}") from None
    _running.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise StageError(f"mypy did not finish within {timeout_s:.0f} s") from None
    finally:
        _running.discard(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


#: The mypy runs the stage's thread waits for now, for :func:`stop_running`.
_running: set[subprocess.Popen[str] | subprocess.Popen[bytes]] = set()


def stop_running() -> None:
    """Kill the mypy checks that are running: the run is being stopped (SIGTERM), and the
    thread that waits for one would otherwise keep the process until mypy is done."""
    for proc in list(_running):
        with contextlib.suppress(OSError):
            proc.kill()


def _workers(cache_dir: Path, cores: int) -> list[str]:
    """mypy's parallel workers, when it has cores to itself and a cold cache: analysing the
    libraries the blocks use (pydantic, SQLAlchemy, ...) is most of a cold run and spreads
    over cores; a warm run only checks the changed blocks, where workers cost more than they
    save. Measured on 2 cores: 5.5 s instead of 6.5 s alone, but slower beside the smoke run."""
    if cores < 2 or cache_dir.is_dir():
        return []
    return ["--num-workers", str(min(cores, 4))]


def _blocking(
    proc: subprocess.CompletedProcess[str], modules: dict[str, tuple[BlockContext, CheckModule]]
) -> tuple[str, str] | None:
    """The module whose error stopped mypy. Errors mypy found before it come first in the
    output; the blocker (a syntax or semantic-analysis error, without an error code) is last."""
    found: list[tuple[str, str, bool]] = []
    for raw in proc.stdout.splitlines():
        try:
            err = json.loads(raw)
        except json.JSONDecodeError:
            continue
        stem = Path(str(err.get("file", ""))).stem.removesuffix("_ctx")
        if stem in modules and err.get("severity", "error") == "error":
            found.append((stem, str(err.get("message", "blocking error")), not err.get("code")))
    if not found:
        return None
    stem, message, _ = next((f for f in reversed(found) if f[2]), found[-1])
    return stem, message


#: A parameter whose default is None but whose annotation leaves None out: an implicit Optional.
_NONE_DEFAULT = re.compile(r'Incompatible default for parameter "[^"]*" \(default has type "None"')


#: An annotation that is a call of Pydantic's constrained-type functions: `x: conlist(str)`.
_CONSTRAINED_CALL = re.compile(
    r":\s*(?:\w+\.)?con(?:list|set|frozenset|str|int|float|decimal|bytes|date)\s*\("
)


def _to_finding(
    err: dict[str, object], modules: dict[str, tuple[BlockContext, CheckModule]]
) -> tuple[str, Finding] | None:
    """The error as a finding of its module's block (None: no evidence)."""
    path = Path(str(err.get("file", "")))
    entry = modules.get(path.stem)
    code = str(err.get("code") or "misc")
    if entry is None or err.get("severity") != "error" or code in IGNORED_CODES:
        return None
    ctx, mod = entry
    line = mod.code_line(int(str(err.get("line", 1))))
    if line is None:
        return None
    message = _GENERATED.sub("", str(err.get("message", "")))
    message = _MODULE_LINE.sub(lambda m: _doc_line(m, ctx, mod), message)
    end_line = mod.code_line(int(str(err.get("end_line") or line))) or line
    col = int(str(err.get("column", 0))) + 1
    end_col = int(str(err.get("end_column") or col))
    lines = code_lines(ctx.block.code)
    col = _character_column(lines[line - 1] if line <= len(lines) else "", col)
    if end_line <= len(lines):
        end_col = _character_column(lines[end_line - 1], end_col)
    if _caused_by_placeholder(ctx, message, line, code):
        return None  # caused by a placeholder: not evidence
    if code == "no-redef" and imports_own_file(ctx.block.code, line):
        return None  # several files checked as one module: apart, nothing is defined twice
    if _UNUSABLE_TYPE.search(message):
        return None  # `Session? has no attribute "get"`: the type's own error is the finding
    if "EllipsisType" in message or message == 'Unexpected "..."':  # `-> ...`, `list[...]`
        return None  # `x = ...` means "fill in here" in a doc; the smoke run reports the elision
    hint = _short_hint(_GENERATED.sub("", str(err["hint"]))) if err.get("hint") else None
    # runs fine; an outdated idiom. mypy gives its hint once per file, so a second `= None`
    # default is known by its message alone.
    legacy = "implicit Optional" in f"{message} {hint}" or bool(_NONE_DEFAULT.match(message))
    if legacy:
        message += " (an implicit `Optional`)"  # names the problem ruff's RUF013 names too
    if code == "syntax" and "outside async function" in message:
        code = "top-level-await"  # ``async with``/``async for`` at top level, as in a notebook
    if "used with a non-method" in message:
        message += " (a method shown without its class)"
    added = _added_later(message, code_lines(ctx.block.code)[line - 1 : line])
    if added is not None:  # `from warnings import deprecated` on Python 3.11
        message += (
            f" (added in Python {added}; this environment runs Python "
            f"{sys.version_info.major}.{sys.version_info.minor})"
        )
    category = (
        Category.ENV
        if added is not None
        else Category.INCOMPLETE  # `return x` alone: an excerpt of a function's body
        if EXCERPT.search(message)
        else Category.STALE
        if code in STALE_CODES or legacy
        else Category.STYLE
        if code in STYLE_CODES
        else Category.BROKEN
    )
    source = code_lines(ctx.block.code)[line - 1 : line]
    if category is Category.BROKEN and source and _PYRIGHT_IGNORE.search(source[0]):
        category = Category.STYLE  # the author silenced a type checker on this line
        message += (
            " (the line says `# pyright: ignore`: a type checker's complaint its author knows of)"
        )
    span = source[0][col - 1 : end_col] if source and end_line == line else ""
    unset = _from_environment(ctx, span) if '| None"' in message else None
    if category is Category.BROKEN and code in ("arg-type", "union-attr") and unset:
        category = Category.STYLE  # `None` only when the reader has not configured it
        message += (
            f" (`{unset}` is `os.getenv()`'s value, `None` only where the variable is unset, "
            "which the run reports as configuration; a type checker wants a default or a "
            "check)"
        )
    if code == "valid-type" and source and _CONSTRAINED_CALL.search(source[0]):
        category = Category.STALE  # Pydantic's V1-era idiom: it validates, it does not type
        message += (
            " (a Pydantic `con*()` call as the annotation: it validates, but a type checker "
            "cannot read a call as a type; `Annotated[T, Field(...)]` does both)"
        )
        hint = hint or "Annotated[T, Field(...)]"
    coerced = _validated_by_pydantic(ctx, code, message, line)
    if coerced is not None:
        category = Category.STYLE
        message += f" ({coerced})"
    if code == "assignment" and _model_none_default(ctx, message, line):
        category = Category.STALE  # runs; the v1 idiom of an Optional field
        message += (
            " (a model field defaulting to None: Pydantic v1 made it Optional; v2 keeps the "
            "type and never validates the default)"
        )
        hint = hint or "annotate it `T | None = None`"
    grown = _grown_from_empty(ctx, code, message, line) if category is Category.BROKEN else None
    if grown is not None:
        category = Category.STYLE  # it runs: mypy typed the container by its first use
        name = grown.split(":")[0]
        message += (
            f" (mypy types `{name}`, made empty, by what the code puts in it first; the code "
            f"runs: annotate it, `{grown}`, with `from typing import Any`)"
        )
    if category is Category.BROKEN and _OBJECT_JOIN.search(message):
        category = Category.STYLE  # a literal of mixed values: mypy's `object`, not the run's
        message += (
            " (mypy joined a literal's mixed values to `object` and cannot follow what the code "
            "does with them; the run shows whether it works)"
        )
    if code == "return-value" and _SEQUENCE_FOR_LIST.match(message) and ".all()" in "".join(source):
        message += (
            " (SQLAlchemy types a result's `.all()` as `Sequence`; the list it returns at run "
            "time is a `list` to a type checker once wrapped in `list(...)`)"
        )
        hint = hint or "return list(...all())"
    # SQLAlchemy 1.4's async recipe, sessionmaker(AsyncEngine, class_=AsyncSession): it runs,
    # but 2.0 has its own maker.
    if code == "attr-defined" and _ASYNC_RECIPE_SESSION.match(message):
        recipe = [ctx.block.code, *(p.statement.source for p in ctx.prelude)]
        if any(_async_recipe(source) for source in recipe):
            category = Category.STALE
            message += (
                " (SQLAlchemy 1.4's async recipe, `sessionmaker(engine, class_=AsyncSession)`: "
                "it runs, but its sessions type as `Session`; 2.0 has `async_sessionmaker`)"
            )
            hint = hint or "async_sessionmaker(engine, expire_on_commit=False)"
    if code == "call-overload" and re.match(
        r'No overload variant of "sessionmaker".*AsyncEngine', message
    ):
        category = Category.STALE
        message += " (SQLAlchemy 1.4's async recipe; 2.0 has `async_sessionmaker`)"
        hint = hint or "async_sessionmaker(engine, expire_on_commit=False)"
    if code in ("arg-type", "dict-item") and _NARROWER_HANDLER.search(message):
        category = Category.STYLE  # Starlette calls it with that exception class only
        message += (
            " (a handler typed for the exception class it is registered for: it runs; the "
            "library's callback type takes any Exception)"
        )
    if category is Category.BROKEN and _legacy_column(message):
        category = Category.STALE  # the model's `Column()` style: ET204 says so at the class
        message += (
            " (a `Column()` attribute: SQLAlchemy 2.0 types a model's attributes from "
            "`Mapped[...]` annotations; declared with `Column()` alone, mypy sees the column)"
        )
    if code == "arg-type" and _UNPACKED.match(message):
        category = Category.STYLE  # `FastAPI(**app_configs)` with `{"title": "x"}`: it runs
        message += (
            " (mypy types a `**dict` by its values, not its keys, so it cannot tell which "
            "parameters the dict fills; annotate it `dict[str, Any]`)"
        )
    interface = code in _INTERFACE_CODES or _NOT_INDEXABLE.search(message) is not None
    guess = ctx.guess_named(message, "".join(source), col) if interface else None
    if guess is not None and guess.later and code != "attr-defined":
        guess = None  # a later block's import, used as it is, is what the block means
    if category is Category.BROKEN and guess is not None:
        category = Category.INCOMPLETE  # the block misses the import: its own finding says so
        whose = "the import a later block has" if guess.later else GUESS
        message += (
            f" (said of `{guess.statement}`, {whose} for the missing `{guess.name}`: the "
            f"author may mean another `{guess.name}`)"
        )
    itself = code == "arg-type" and _DECORATED.match(message) is not None  # the function
    shown_in_part = (code == "return" or itself) and _body_left_out(ctx.block.code, line)
    if category is Category.BROKEN and shown_in_part:
        category = Category.INCOMPLETE
        message += " (the function is shown in part: its body leaves code out with `# ...`)"
    elided = _elided_callee(ctx, line) if category is Category.BROKEN else None
    if elided is not None and code in _VALUE_CODES:
        category = Category.INCOMPLETE
        message += (
            f" (the value comes from `{elided}()`, whose body the document leaves out with "
            "`...`: what it returns is the reader's to write)"
        )
    if code in ("attr-defined", "union-attr") and _CURSOR_RESULT.search(message):
        category = Category.STYLE
        message += (
            " (SQLAlchemy types `execute()` as returning `Result`; for an INSERT, UPDATE or "
            "DELETE it is a `CursorResult`, which has it: it runs, and a type checker needs "
            "`cast(CursorResult[Any], ...)`)"
        )
    if code == "attr-defined" and _function_attribute(ctx, message, line):
        category = Category.STYLE
        message += (
            " (an attribute set on a function: Python allows it and it runs, but mypy does not "
            "model attributes of functions)"
        )
    shown = _shown_in_part(ctx, message) if code == "attr-defined" else None
    again = _shown_again(ctx, message) if code == "attr-defined" else None
    loose = _shown_loose(ctx, message) if code == "attr-defined" else None
    if category is Category.BROKEN and loose is not None:
        category = Category.INCOMPLETE
        message += (
            f" (the document shows `{loose[1]}` at line {loose[2]} outside its class: the "
            f"listing of `{loose[0]}` leaves that member out)"
        )
    elif category is Category.BROKEN and again is not None:
        category = Category.INCOMPLETE
        message += (
            f" (the `{again[0]}` at line {again[1]} has `{again[2]}`: the document lists "
            "that class in parts)"
        )
    elif category is Category.BROKEN and shown is not None:
        category = Category.INCOMPLETE
        message += (
            f" (no block of the document defines `{shown[1]}`: it shows `{shown[0]}` in part, "
            "that member left out)"
        )
    earlier = _earlier_definition(ctx, lines, line, col, end_line, end_col)
    in_part = shown is not None and again is None and category is Category.INCOMPLETE
    rebound = dict(ctx.rebound).get(earlier[0]) if earlier is not None else None
    if '; maybe "' in message:  # a near-miss of a name it has: a typo, whichever binding
        rebound = None
    if category is Category.BROKEN and earlier is not None and rebound:
        category = Category.INCOMPLETE
        where = ", ".join(map(str, rebound))
        message += (
            f" (`{earlier[0]}` here is an earlier block's, bound on lines {where} to different "
            f"objects: checked with the last, line {earlier[1]}; the block may mean another)"
        )
    elif (category is Category.BROKEN or in_part) and earlier is not None:
        message += f" (`{earlier[0]}` here is an earlier block's: line {earlier[1]})"
    made = _runtime_class(ctx, message) if code in ("valid-type", "misc") else None
    if made is not None:  # it runs: mypy cannot follow a class a function makes
        why = f"a class made at runtime by `{made}()`: it runs, but type checkers cannot follow it"
        if made == "declarative_base":
            why += "; SQLAlchemy 2.0 declares `class Base(DeclarativeBase)`"
        category = Category.STALE if made == "declarative_base" else Category.STYLE
        message += f" ({why})"
    finding = Finding.at(
        ctx.block,
        line,
        col,
        end_code_line=end_line,
        end_code_col=end_col,
        stage="types",
        tool="mypy",
        rule=code,
        category=category,
        message=message,
        suggestion=hint,
    )
    return path.stem, finding


#: ``return session.scalars(stmt).all()`` from a function that says it returns a list.
_SEQUENCE_FOR_LIST = re.compile(
    r'Incompatible return value type \(got "Sequence\[.*\]", expected "(?:builtins\.)?list\['
)
#: ``async with maker() as session`` where ``maker = sessionmaker(engine, class_=AsyncSession)``.
_ASYNC_RECIPE_SESSION = re.compile(r'"Session" has no attribute "__a(?:enter|exit)__"')


def _async_recipe(code: str) -> bool:
    """``sessionmaker(..., class_=AsyncSession)`` somewhere in ``code``."""
    tree = tree_or_none(code) if "AsyncSession" in code else None
    return tree is not None and any(
        isinstance(node, ast.Call)
        and ast.unparse(node.func).split(".")[-1] == "sessionmaker"
        and any(
            k.arg == "class_" and ast.unparse(k.value).split(".")[-1] == "AsyncSession"
            for k in node.keywords
        )
        for node in ast.walk(tree)
    )


_NO_ATTRIBUTE = re.compile(r'"(?:type\[)?(\w+)\]?" has no attribute "(\w+)"')


def _shown_in_part(ctx: BlockContext, message: str) -> tuple[str, str] | None:
    """(class, attribute) when mypy's missing attribute is one of the block's own class that
    no block of the document defines anywhere: a method called on it or its objects
    (``self._check_db()``, ``service.get_user(id)`` of a service shown for its wiring), or a
    value the class reads of itself where it shows neither ``__init__`` nor its fields
    (``self._db`` of a repository shown for its queries). The class is shown in part,
    that member left out; not the library's doing. So too for any member of a class whose
    body is ``...``, for a method called on an earlier block's class (this block uses more of
    it than that one shows: a service's other methods), and for any member of a class the
    document lists in parts (a model's other columns). A value a shown ``__init__`` never
    sets, a value read of a class shown whole, a method this block's class with methods
    lacks, a library's attribute: the reader's error (broken)."""
    m = _NO_ATTRIBUTE.match(message)
    if m is None or m.group(2) not in ctx.unbound_attributes or '; maybe "' in message:
        return None  # mypy's "maybe" names a member of the class: a typo of it, still broken
    cls, attr = m.groups()
    tree = tree_or_none(ctx.block.code)
    shown = [
        node
        for node in (tree.body if tree is not None else ())
        if isinstance(node, ast.ClassDef) and node.name == cls
    ]
    receiver = rf"\b(?:self|cls)\.{re.escape(attr)}\b"
    if shown and re.search(receiver + r"\s*\(", ctx.block.code):
        return cls, attr  # a method it calls on itself
    called = re.search(rf"\.{re.escape(attr)}\s*\(", ctx.block.code)
    if shown and called and _partly_shown(shown[-1], ctx.block.code):
        return cls, attr  # a method, called on the objects of a class shown for its wiring
    if not shown:  # an earlier block's class: this block uses more of it than that one shows
        earlier = _earlier_class(ctx, cls)
        listed = sum(1 for name, _, _ in ctx.class_listings if name == cls)
        # a method it calls, any member of a class the document lists in parts or leaves
        # out (`...`); a value read of a class shown whole once is the reader's mistake
        return (cls, attr) if earlier and (called or listed > 1 or _elided(earlier[0])) else None
    if _elided(shown[-1]):
        return cls, attr  # `class Settings(BaseSettings): ...`
    if not shown or not re.search(receiver, ctx.block.code):
        return None
    declares = any(
        isinstance(node, ast.AnnAssign)
        or (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "__init__")
        for node in shown[-1].body
    )
    return None if declares else (cls, attr)


def _shown_again(ctx: BlockContext, message: str) -> tuple[str, int, str] | None:
    """(class, document line, attribute) when mypy's missing attribute is one that another
    listing of the class in the document has: a class listed again for one method reads what
    its first listing set up, a query uses a column another listing of its model shows. Not
    a typo (mypy's "maybe"), nor the block's own listing with an ``__init__`` that does not
    set it up."""
    m = _NO_ATTRIBUTE.match(message)
    if m is None or '; maybe "' in message:
        return None
    cls, attr = m.groups()
    tree = tree_or_none(ctx.block.code)
    for node in tree.body if tree is not None else ():
        if isinstance(node, ast.ClassDef) and node.name == cls:
            inits = (
                n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
            )
            if any(inits) or node.decorator_list:  # its own `__init__`, or a dataclass's
                return None
    return next(
        ((cls, line, attr) for name, line, has in ctx.class_listings
         if name == cls and attr in has),
        None,
    )  # fmt: skip


def _from_environment(ctx: BlockContext, span: str) -> str | None:
    """The name mypy's complaint is about (``span``, where it points: the argument, or the
    receiver of an attribute) when the block or an earlier one binds it at top level to an
    environment lookup without a default (``DATABASE_URL = os.getenv("DATABASE_URL")``)."""
    if not span.strip():
        return None
    sources = [*(p.statement.source for p in ctx.prelude), ctx.block.code]
    for source in sources:
        tree = tree_or_none(source) if "getenv" in source or "environ.get" in source else None
        for node in tree.body if tree is not None else ():
            if not (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func).endswith(("getenv", "environ.get"))
                and len(node.value.args) == 1
                and not node.value.keywords
            ):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and re.fullmatch(
                    rf"{target.id}(?:\.\w+)?", span.strip()
                ):
                    return target.id
    return None


def _shown_loose(ctx: BlockContext, message: str) -> tuple[str, str, int] | None:
    """(class, attribute, document line) when mypy's missing attribute of a class the
    document lists is a member the document shows outside any class (``labels: Mapped[...] =
    relationship(...)`` alone, "declared on both sides") that can only be that class's. Not a
    typo (mypy's "maybe")."""
    m = _NO_ATTRIBUTE.match(message)
    if m is None or '; maybe "' in message or not ctx.loose_members:
        return None
    cls, attr = m.groups()
    tree = tree_or_none(ctx.block.code)
    listed = _earlier_class(ctx, cls) is not None or any(
        isinstance(node, ast.ClassDef) and node.name == cls
        for node in (tree.body if tree is not None else ())
    )
    line = next((at for name, at, owner in ctx.loose_members if (name, owner) == (attr, cls)), None)
    return (cls, attr, line) if listed and line is not None else None


def _earlier_class(ctx: BlockContext, name: str) -> tuple[ast.ClassDef, str] | None:
    """The class an earlier block shows under ``name`` that this block's run takes (its
    prelude), with that statement's source."""
    for item in reversed(ctx.prelude):
        if name not in item.statement.binds:
            continue
        tree = tree_or_none(item.statement.source)
        node = tree.body[0] if tree is not None and len(tree.body) == 1 else None
        return (node, item.statement.source) if isinstance(node, ast.ClassDef) else None
    return None


def _elided(cls: ast.ClassDef) -> bool:
    """A class whose body is ``...`` (after a docstring, maybe): all of it left out. Not an
    exception class or a protocol, which ``...`` defines whole (``class PaymentError(Exception):
    ...``)."""
    bases = [ast.unparse(b).rpartition(".")[2] for b in cls.bases]
    if any(b.endswith(("Error", "Exception", "Warning")) or b == "Protocol" for b in bases):
        return False
    return _left_out(cls.body)


def _partly_shown(cls: ast.ClassDef, code: str) -> bool:
    """The class says it is shown in part: no method but dunders (a service shown for its
    ``__init__``), or a body that leaves code out (``...``, ``# ...``). A class with methods of
    its own that lacks the one called has a mistake (a name mypy has no "maybe" for)."""
    methods = [
        n
        for n in cls.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("__")
    ]
    if not methods:
        return True
    elided = any(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and n.value.value is ...
        for n in cls.body
    )
    return elided or _says_left_out(cls, code_lines(code))


def _validated_by_pydantic(ctx: BlockContext, code: str, message: str, line: int) -> str | None:
    """Why mypy's complaint about a call is not evidence: the block's callee is validated by
    Pydantic at run time (``@validate_call``, a Pydantic dataclass, a model that takes names
    and aliases), which coerces ``'42'`` to ``42`` and which mypy cannot follow."""
    if code == "call-arg" and 'for "PydanticDataclass"' in message:
        return "`pydantic.dataclasses.dataclass(...)` applied to a class: it takes its fields"
    if code == "arg-type" and re.match(
        r'Argument 1 to "TypeAdapter" has incompatible type "str"', message
    ):
        return "a `TypeAdapter` takes a forward reference by name, resolved at run time"
    m = re.search(r'(?:to|for) "(\w+)"', message)
    attribute = code == "attr-defined" and '"raw_function"' in message
    tree = tree_or_none(ctx.block.code)
    if tree is None:
        return None
    if code == "assignment" and _settings_default(tree, message, line):
        return "a `BaseSettings` validates its defaults, which coerces the string at run time"
    if code == "assignment" and _validated_assignment(ctx, tree, message, line):
        return (
            "the model validates assignments (`validate_assignment=True`): Pydantic converts "
            "the value at run time, or raises, which the run reports"
        )
    if m is None and not attribute:
        return None
    pydantic_dataclass = bool(
        re.search(r"from pydantic\.dataclasses import dataclass", ctx.block.code)
    )
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if m is not None and node.name != m.group(1):
            continue
        decorators = [ast.unparse(d).split("(")[0] for d in node.decorator_list]
        if any(d.endswith("validate_call") for d in decorators):
            if attribute:
                return "`@validate_call` gives the function `raw_function` at run time"
            if code == "arg-type":
                return "`@validate_call` validates and coerces the arguments at run time"
            keyword = re.match(r'Unexpected keyword argument "(\w+)"', message)
            params = ast.unparse(node.args) if not isinstance(node, ast.ClassDef) else ""
            aliases = re.findall(r"""alias\s*=\s*['"](\w+)['"]""", params)
            if code == "call-arg" and keyword and keyword.group(1) in aliases:
                return "`@validate_call` takes a parameter by its `Field` alias at run time"
        elif code == "arg-type" and any(
            d == "pydantic.dataclasses.dataclass" or (d == "dataclass" and pydantic_dataclass)
            for d in decorators
        ):
            return "a Pydantic dataclass validates and coerces its fields at run time"
        elif (
            code == "call-arg"
            and isinstance(node, ast.ClassDef)
            and re.search(r"validate_by_name|populate_by_name", ast.unparse(node))
        ):
            return "the model takes its fields by name and by alias at run time"
    return None


def _model_none_default(ctx: BlockContext, message: str, line: int) -> bool:
    """Whether mypy's "None assigned to a field of type T" is a Pydantic model's field
    (``full_name: str = None``): a model class of the block, by its bases (``BaseModel``,
    ``BaseSettings``, ``SQLModel``, or a model class the block defines before)."""
    if not message.startswith('Incompatible types in assignment (expression has type "None"'):
        return False
    tree = tree_or_none(ctx.block.code)
    if tree is None:
        return False
    models = {"BaseModel", "BaseSettings", "SQLModel"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            ast.unparse(b).split(".")[-1] in models for b in node.bases
        ):
            models.add(node.name)
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                return True
    return False


def _validated_assignment(ctx: BlockContext, tree: ast.Module, message: str, line: int) -> bool:
    """Whether mypy's "str assigned to a float" is ``product.price = "29.99"`` where
    ``product`` is made by a model of the document that says ``validate_assignment=True``
    (or it is ``self.x = ...`` in such a model): Pydantic converts it, or raises, which the
    run reports."""
    if not re.match(
        r'Incompatible types in assignment \(expression has type "(?:str|int)"', message
    ):
        return False
    trees = [tree, *(t for p in ctx.prelude if (t := tree_or_none(p.statement.source)))]
    validating = {
        node.name
        for t in trees
        for node in ast.walk(t)
        if isinstance(node, ast.ClassDef)
        and re.search(r"validate_assignment\s*[=:]\s*True", ast.unparse(node))
    }
    if not validating:
        return False
    made = {  # `product = Product(...)`, `product: Product = ...`
        target.id
        for t in trees
        for node in ast.walk(t)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and _made_by(node, validating)
    }
    for node in ast.walk(tree):  # `self.x = ...` in a method of such a model
        if isinstance(node, ast.ClassDef) and node.name in validating:
            inside = [a for a in ast.walk(node) if isinstance(a, ast.Assign) and a.lineno == line]
            if inside:
                return all(_receivers(a) <= {"self"} for a in inside)
    assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.lineno == line]
    return bool(assigns) and all(_receivers(a) <= made for a in assigns)


def _made_by(node: ast.Assign | ast.AnnAssign, classes: set[str]) -> bool:
    value = node.value
    if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in classes:
        return True
    return isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) in classes


def _receivers(assign: ast.Assign) -> set[str]:
    """``{"p"}`` for ``p.x = 1``; a target that is not an attribute of a name: ``{""}``."""
    return {
        t.value.id if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) else ""
        for t in assign.targets
    }


#: What fills a container in place: ``response.update({...})``, ``rows.append(row)``.
_FILLS = frozenset({"update", "append", "extend", "add", "insert", "setdefault"})
_EMPTY = re.compile(r"^(?:\{\}|\[\]|dict\(\)|list\(\)|set\(\))$")


def _grown_from_empty(ctx: BlockContext, code: str, message: str, line: int) -> str | None:
    """The annotated assignment to write (``response: dict[str, Any] = {}``) for the container
    a statement fills in place (``response.update({"skip": 0})``, ``d["k"] = 1``) when mypy's
    complaint is about that fill and comes of typing the container by an earlier one: the
    block made it empty with no annotation (``response = {}``), so mypy took the first
    value's type for all of them. FastAPI's own docs do it. Not a complaint about something
    else on the line (an argument of the value appended)."""
    wanted = {"dict-item": "update", "list-item": "extend", "assignment": "[]"}.get(code)
    if code == "arg-type":
        m = re.match(r'Argument \d+ to "(\w+)" of "(?:list|dict|set)[\["]', message)
        wanted = m.group(1) if m else None
    tree = tree_or_none(ctx.block.code) if wanted else None
    if tree is None:
        return None
    filled: set[str] = set()
    empty: dict[str, str] = {}
    keys: dict[str, set[str]] = {}  # the types of the keys each container is filled with
    for node in ast.walk(tree):
        at = getattr(node, "lineno", 0) <= line <= (getattr(node, "end_lineno", 0) or 0)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _FILLS
            and isinstance(node.func.value, ast.Name)
        ):
            name = node.func.value.id
            filled |= {name} if at and node.func.attr == wanted else set()
            for arg in node.args if node.func.attr == "update" else ():
                if isinstance(arg, ast.Dict):
                    keys.setdefault(name, set()).update(_constant_types(arg.keys))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    filled |= {t.value.id} if at and wanted == "[]" else set()
                    keys.setdefault(t.value.id, set()).update(_constant_types([t.slice]))
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and _EMPTY.match(value := ast.unparse(node.value))
        ):
            empty[node.targets[0].id] = value
    grown = sorted(filled & set(empty))
    if not grown:
        return None
    name = grown[0]
    key = next(iter(keys.get(name, ())), "Any") if len(keys.get(name, ())) == 1 else "Any"
    kind = {"{}": f"dict[{key}, Any]", "dict()": f"dict[{key}, Any]", "set()": "set[Any]"}
    return f"{name}: {kind.get(empty[name], 'list[Any]')} = {empty[name]}"


def _constant_types(nodes: Sequence[ast.expr | None]) -> set[str]:
    """The type names of the constants among ``nodes`` (dict keys, subscripts)."""
    return {type(n.value).__name__ for n in nodes if isinstance(n, ast.Constant)}


def _settings_default(tree: ast.Module, message: str, line: int) -> bool:
    """Whether mypy's "str assigned to a field of another type" is a default of a
    ``BaseSettings`` class's field (pydantic-settings validates defaults: ``url: AnyUrl =
    'https://...'`` becomes a URL; a plain model keeps the string, which is a real bug)."""
    if not re.match(r'Incompatible types in assignment \(expression has type "str"', message):
        return False
    return any(
        isinstance(node, ast.ClassDef)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
        and any(ast.unparse(b).split(".")[-1] == "BaseSettings" for b in node.bases)
        and not re.search(r"validate_default\s*=\s*False", ast.unparse(node))
        for node in ast.walk(tree)
    )


#: mypy's complaints about a value it typed ``object`` (the join of a literal's mixed values:
#: ``{'id': 1, 'children': [...]}``), where the code indexes or reads it as what it is.
_OBJECT_JOIN = re.compile(
    r'^Value of type "object" is not indexable|^"object" has no attribute|'
    r'^Unsupported (?:left )?operand types? for .* \("object"'
)


#: An exception handler typed for its own exception class, where the framework's callback
#: type says ``Exception`` (``app.add_exception_handler(RequestValidationError, handler)``).
#: What only a DML statement's result has (``result.rowcount``), asked of ``Result``.
_CURSOR_RESULT = re.compile(
    r'^(?:Item "Result\[.*\]" of .*|"Result\[.*\]") has no attribute '
    r'"(?:rowcount|lastrowid|inserted_primary_key|inserted_primary_key_rows|returned_defaults|'
    r'returned_defaults_rows|is_insert|postfetch_cols|prefetch_cols|supports_sane_rowcount)"'
)
_NARROWER_HANDLER = re.compile(  # add_exception_handler(...), or a mapping of them
    r'incompatible type "(?:dict\[\w+, |\w+": ")?'
    r"Callable\[\[Request(?:\[\w+\])?, (?!Exception\])\w+\].*"
    r'expected .*"?Callable\[\[Request(?:\[\w+\])?, Exception\]'
)


#: How mypy spells a type it could not use (``Session?`` after "Variable "Session" is not
#: valid as a type"): what it then says about values of that type follows from that error.
_UNUSABLE_TYPE = re.compile(r"\b[A-Za-z_][\w.]*\?(?=[\s\]\[,)]|$)")


def _character_column(text: str, column: int) -> int:
    """The character column of mypy's ``column`` (1-based) on a line with non-ASCII text.
    mypy reports a character offset less the extra UTF-8 bytes before it (``msg = "é"; x``
    puts ``x`` one column early); the character column is the smallest that maps to it."""
    if text.isascii():
        return column
    at = column - 1
    for _ in range(len(text) + 1):
        nxt = column - 1 + len(text[:at].encode()) - at
        if nxt == at:
            break
        at = nxt
    return min(at, len(text)) + 1


#: pyright's own ignore comment (mypy honours only ``# type: ignore``).
_PYRIGHT_IGNORE = re.compile(r"#\s*pyright:\s*ignore\b")


def _added_later(message: str, source: list[str]) -> str | None:
    """The newer Python that has what mypy says this one's module lacks (``from copy import
    replace``; ``copy.replace(...)``, where the module is read off the ``source`` line)."""
    m = re.match(r'Module "([\w.]+)" has no attribute "(\w+)"', message)
    if m is not None:
        return newer_stdlib(m.group(1), m.group(2))
    attr = re.match(r'Module has no attribute "(\w+)"', message)
    name = attr.group(1) if attr else ""
    for line in source if attr else ():
        for used in re.finditer(rf"\b([A-Za-z_][\w.]*)\.{name}\b", line):
            if (newer := newer_stdlib(used.group(1), name)) is not None:
                return newer
    return None


#: "already defined on line 2": a line of the checked module, not of the document.
_MODULE_LINE = re.compile(r"\bon line (\d+)\b")


def _earlier_definition(
    ctx: BlockContext, lines: list[str], line: int, col: int, end_line: int, end_col: int
) -> tuple[str, int] | None:
    """The first name the erring expression takes from an earlier block (the block does not
    bind it), and that block's line binding it: a fragment that means another ``User`` or
    ``client`` than the one the document defined before is checked against that one."""
    if end_line != line or not 0 < line <= len(lines):
        return None
    span = lines[line - 1][col - 1 : end_col - 1]
    # the names read here that the block does not bind (a parameter or a local is its own)
    free = {u.name for u in ctx.symbols.free if u.line == line and col <= u.column < end_col}
    for m in re.finditer(r"(?<![\w.])[A-Za-z_]\w*", span):
        name = m.group(0)
        if name not in free:
            continue
        binders = [p for p in ctx.prelude if name in p.statement.binds and p.doc_line]
        if binders:
            return name, binders[-1].doc_line
    return None


def _doc_line(m: re.Match[str], ctx: BlockContext, mod: CheckModule) -> str:
    """The document line a message's module line is, or the message's words when the line
    is not the block's own (the prelude, the imports exampletest adds)."""
    code_line = mod.code_line(int(m.group(1)))
    return m.group(0) if code_line is None else f"on line {ctx.block.doc_line(code_line)}"


def _caused_by_placeholder(ctx: BlockContext, message: str, line: int, code: str = "") -> bool:
    """The message names a placeholder (``"type[ALGORITHM]"``), or blames ``object`` for a
    class keyword on a line whose base class is a placeholder (``class T(Base, table=1)``), or
    an error about a type form is on a line using a placeholder as a type (``Generic[T]`` with
    ``T`` a placeholder: mypy points at ``Generic``)."""
    names = ctx.placeholders
    if not names:
        return False
    if any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", message) for n in names):
        return True
    if code in _TYPE_FORM_CODES and any(
        u.line == line and u.name in names and u.annotation for u in ctx.symbols.free
    ):
        return True
    return '"__init_subclass__" of "object"' in message and any(
        u.line == line and u.name in names for u in ctx.symbols.free
    )


#: Errors about a type expression itself: a placeholder inside it is the likely cause.
_TYPE_FORM_CODES = frozenset({"misc", "valid-type", "type-arg", "type-var"})

#: The module names exampletest gives blocks (``m1a2b3c4d5e_b001.``): not the reader's. A
#: plugin may spell one into a name (attrs: ``__m1a2b3c4d5e_b001_ctx_User_AttrsAttributes__``).
_GENERATED = re.compile(r"(?<![0-9a-zA-Z])m[0-9a-f]{10}_b\d{3}(?:_fix)?(?:_ctx)?[._]")


def _short_hint(hint: str, lines: int = 4, width: int = 200) -> str:
    """mypy's notes can list every overload of a signature (kilobytes): a few short lines."""
    rows = hint.splitlines()
    kept = [r if len(r) <= width else r[: width - 1] + "…" for r in rows[:lines]]
    if len(rows) > lines:
        kept.append(f"… ({len(rows) - lines} more lines from mypy)")
    return "\n".join(kept)


def _write_if_changed(path: Path, text: str) -> None:
    """Keep mtimes of unchanged files so mypy's incremental cache stays valid. A changed file
    gets a new whole-second mtime: mypy trusts its cache when size and ``int(mtime)`` match,
    and a block's context module often changes within a second without changing size (a
    stub module's name is a hash)."""
    before: int | None = None
    try:
        if path.read_text(encoding="utf-8") == text:
            return
        before = path.stat().st_mtime_ns // 1_000_000_000
    except OSError:
        pass
    path.write_text(text, encoding="utf-8")
    if before is not None:
        after = path.stat().st_mtime_ns
        if after // 1_000_000_000 <= before:
            os.utime(path, ns=(after, (before + 1) * 1_000_000_000))
