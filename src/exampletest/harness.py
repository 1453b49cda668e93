"""What runs inside the sandbox for one block: its context, then the block, twice.

Pass 1 runs the block *as written*, with only the names earlier blocks define: what a reader
who copies it would see. Pass 2 runs it with its full context (missing imports, stubs and
placeholders provided) to find problems hidden behind the first error. Pass 2 keeps the
missing names out of the block's globals, in its builtins, where every lookup of them (from
the top level, a function or a class body) is recorded in order: a name the code looked up is
one it fails on as written once the names before it are there, so that lookup is the evidence
that the block is broken without it. Everything returned is JSON data in *code* coordinates.

Up to its first lookup of a missing name, pass 2 *is* pass 1: the same code on the same state.
So pass 1 is read off pass 2 (the NameError its first lookup would have raised, with the
warnings before it) wherever nothing could have handled that NameError: the lookup is in the
block's own code, reached from its top level through its own frames only, outside any ``try``
or ``with``, in a block that is not a coroutine. Anywhere else pass 1 really runs: in a forked
child (so the passes share no state: class registries, SQLAlchemy metadata) when the payload
asks for it, or, when pass 2 finds it unsure, in a job of its own (``as_written: "only"``).

``__name__`` is not ``"__main__"``: a ``if __name__ == "__main__": uvicorn.run(app)`` guard
stays off, as it would on import.
"""

from __future__ import annotations
import __future__

import ast
import asyncio
import builtins
import functools
import importlib.abc
import importlib.machinery
import inspect
import io
import json
import linecache
import os
import random
import re
import signal
import sys
import time
import traceback
import types
import typing
import warnings
from collections.abc import Iterator, Set
from contextlib import contextmanager, suppress
from typing import Any, ClassVar, TextIO

from exampletest import transcript, virtualtime
from exampletest.placeholder import MARK, is_placeholder, placeholder
from exampletest.placeholder import uses as placeholder_uses
from exampletest.relative import RELATIVE_PACKAGE
from exampletest.symbols import changed_in_place

MODULE_NAME = "exampletest_block"
CTX_FILENAME = "<exampletest-context>"


class PassTimeout(BaseException):
    """Raised by the alarm: not an Exception, so the block's own ``except`` cannot eat it."""


class MissingNames(dict[str, Any]):
    """Builtins plus the names the block needs that no earlier block defines. CPython reads
    builtins that are not an exact dict through ``__getitem__``, from module code, functions
    and class bodies alike, which is where the lookups are noted."""

    def __init__(self, missing: dict[str, Any], first: AsWritten | None = None) -> None:
        super().__init__(vars(builtins))
        self.update(missing)
        self.watched = set(missing)
        self.looked_up: list[str] = []
        self.recording = True
        self.first = first

    def __getitem__(self, key: str) -> Any:
        if self.recording and key in self.watched and key not in self.looked_up:
            if not self.looked_up and self.first is not None:
                self.first.stop_here(key, sys._getframe(1))
            self.looked_up.append(key)
        return super().__getitem__(key)


class AsWritten:
    """Pass 1, read off pass 2 at its first lookup of a missing name (see the module's
    docstring): the NameError the block as written stops on, or why that cannot be told."""

    def __init__(
        self, filename: str, missing: Set[str], warnings_so_far: list[dict[str, Any]]
    ) -> None:
        self.filename = filename
        self.missing = missing
        self.warnings_so_far = warnings_so_far  # pass 2's list, filling as it runs
        self.ns: dict[str, Any] = {}  # pass 2's globals, once they exist
        self.result: dict[str, Any] | None = None
        self.unsure: str | None = None

    def stop_here(self, name: str, frame: types.FrameType) -> None:
        chain: list[types.FrameType] = []
        at: types.FrameType | None = frame
        while at is not None and at.f_code.co_filename == self.filename:
            chain.append(at)
            if at.f_code.co_name == "<module>":
                break
            at = at.f_back
        if not chain or chain[-1].f_code.co_name != "<module>":
            self.unsure = "the first lookup came through code other than the block's"
        elif chain[-1].f_code.co_flags & inspect.CO_COROUTINE:
            self.unsure = "the block awaits at top level (asyncio.run cleans up after it)"
        elif _guarded_lines(self.filename) & {f.f_lineno for f in chain}:
            self.unsure = "the first lookup is inside a try or with statement"
        if self.unsure:
            return
        tb: types.TracebackType | None = None
        for at in chain:  # innermost first: the traceback's head is the top level
            tb = types.TracebackType(tb, at, at.f_lasti, at.f_lineno)
        exc = NameError(f"name {name!r} is not defined", name=name)
        exc.__traceback__ = tb
        # As written, the missing names are nowhere: not in the builtins pass 2 has them in.
        as_written = dict(self.ns) | {"__builtins__": builtins}
        record = _exception_record(exc, self.filename, as_written, hidden=self.missing)
        self.result = {"exception": record, "warnings": list(self.warnings_so_far)}


class _RecordingEnviron(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` that notes the variables a lookup found unset (``getenv``, ``.get``,
    ``in`` and ``[...]`` all go through ``__getitem__``): the evidence that an error the block
    raised itself ("REDIS_URL is not set") is about configuration the sandbox lacks."""

    unset: ClassVar[set[str]] = set()
    #: the unset ones a ``getenv``/``.get`` without a default answered with None
    gave_none: ClassVar[set[str]] = set()

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            if isinstance(key, str):
                _RecordingEnviron.unset.add(key)
            raise

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            if default is None and isinstance(key, str):
                _RecordingEnviron.gave_none.add(key)
            return default


def run_job(payload: dict[str, Any]) -> dict[str, Any]:
    # This process is the job's own fork: the worker's environ keeps its class, its clock.
    os.environ.__class__ = _RecordingEnviron
    virtualtime.install()
    filename = payload["filename"]
    code_text = payload["code"]
    linecache.cache[filename] = (len(code_text), None, code_text.splitlines(True), filename)
    _PACKAGES.update(payload.get("doc_packages", []))
    for module in payload.get("fake_modules", []):
        parts = module.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in sys.modules:
                _fake_module(parent)
        _fake_module(module)
    parts = set(payload.get("file_parts", []))
    failed = []
    for name, code in payload.get("doc_modules", []):
        error = _document_module(name, code)
        if error is not None and name in parts:  # a fence's file: nothing else reports it
            failed.append({"module": name, **error})
    _relative_modules(payload)
    own = payload.get("own_files") or []
    alone = _in_fork(functools.partial(_files_alone, own)) if len(own) > 1 else {}
    context = _context_namespace(payload)
    missing = set(payload.get("missing", []))
    prelude = context["__exampletest_prelude__"]
    # Copies: the context's own dict stays the globals of the functions earlier blocks define.
    given = {
        k: v for k, v in context.items() if k not in missing and k != "__exampletest_prelude__"
    }
    budget = float(payload.get("pass_timeout_s", 4.0))
    result: dict[str, Any] = {}
    how = payload.get("as_written", "fork") if missing else "none"
    if how in ("fork", "only"):
        as_written = {k: v for k, v in given.items() if k in prelude}
        run = functools.partial(_run_pass, payload, _module_namespace(as_written), budget)
        if how == "only":  # this job is a fork of its own already
            return {"pass1": run()}
        result["pass1"] = _in_fork(run)
    recorded: list[dict[str, Any]] = []
    probe = AsWritten(filename, missing, recorded) if how == "infer" else None
    names = MissingNames({k: context[k] for k in missing if k in context}, probe)
    ns = _module_namespace(given | {"__builtins__": names})
    if probe is not None:
        probe.ns = ns
    pass2 = _run_pass(payload, ns, budget, recorded)
    names.recording = False
    if how == "none" or (probe is not None and not names.looked_up):
        # nothing missing was looked up: as written, the block ran just as it did here
        result["pass1"] = {"exception": pass2["exception"], "warnings": pass2["warnings"]}
    elif probe is not None:
        result["pass1"] = probe.result
        if probe.unsure:
            result["pass1_unsure"] = probe.unsure
    if failed:
        result["module_errors"] = failed
    if alone.get("errors"):
        result["files_alone"] = alone["errors"]
    pass2["looked_up"] = list(names.looked_up)
    if pass2.get("exception") is None and payload.get("deep", True):
        pass2["deep"] = _deep(ns, code_text)
    result["pass2"] = pass2
    return result


def _module_namespace(names: dict[str, Any]) -> dict[str, Any]:
    """The globals of a new module for the block, registered in ``sys.modules`` as a script's
    ``__main__`` is: libraries look their caller's module up (Pydantic's ``Model[int]`` and
    postponed annotations, pickle, dataclasses)."""
    module = types.ModuleType(MODULE_NAME)
    module.__dict__.update(_base_globals() | names)
    sys.modules[MODULE_NAME] = module
    return module.__dict__


def _base_globals() -> dict[str, Any]:
    return {
        "__name__": MODULE_NAME,
        "__file__": os.path.join(os.getcwd(), "example.py"),  # a script knows where it is
        "__builtins__": builtins,
        "__package__": ".".join(RELATIVE_PACKAGE),
    }


def _fake_module(name: str) -> None:
    """A stand-in for a module that is not installed, so the rest of the block still runs.
    Its submodules are stand-ins too (``from django.urls import path`` under a fake
    ``django``): the context stage reports the package as not installed once, at the import."""
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: _fake_attribute(name, attr)  # type: ignore[method-assign]
    setattr(module, MARK, True)  # what a statement naming it raises is no evidence either
    module.__path__ = []
    module.__spec__ = importlib.machinery.ModuleSpec(name, _FAKES, is_package=True)
    sys.modules[name] = module
    _FAKES.tops.add(name.partition(".")[0])
    if _FAKES not in sys.meta_path:
        sys.meta_path.insert(0, _FAKES)


def _register(name: str, module: types.ModuleType) -> None:
    """``module`` as ``name`` in ``sys.modules`` and as its package's attribute (a package
    not installed here gets a stand-in)."""
    parent, _, child = name.rpartition(".")
    if parent and parent not in sys.modules:
        try:
            importlib.import_module(parent)
        except Exception:
            _fake_module(parent)
    before = sys.modules.get(name)
    sys.modules[name] = module
    if parent:
        setattr(sys.modules[parent], child, module)
    for attr, value in list(vars(before).items()) if before is not None else ():
        # its modules registered before it, on the stand-in it replaces
        ours = isinstance(value, types.ModuleType) and value.__name__ == f"{name}.{attr}"
        if ours and attr not in vars(module):
            setattr(module, attr, value)


def _relative_modules(payload: dict[str, Any]) -> None:
    """The block's relative imports of the document's modules (``from .database import
    Base`` in ``app/models.py``) get them: the name the import resolves to is that module."""
    for standin, name in payload.get("relative_modules", []):
        if name in sys.modules:
            _register(standin, sys.modules[name])


#: The document's modules that are packages (``app/core/__init__.py``): this job's.
_PACKAGES: set[str] = set()


def _document_module(name: str, code: str) -> dict[str, Any] | None:
    """A module the document writes itself (a block titled ``shapes.py``), from that block's
    code. Its own block reports what goes wrong in it; if it stops early, what it did not
    define is a stand-in, so the importing block is not blamed. What stopped it, if
    anything: (type, message, line)."""
    module = types.ModuleType(name)
    parts = [*name.split("."), "__init__"] if name in _PACKAGES else name.split(".")
    module.__file__ = os.path.join(os.getcwd(), *parts) + ".py"
    # its own relative imports (``from .schemas import ...``): a package's start from itself
    module.__package__ = name if name in _PACKAGES else name.rpartition(".")[0]
    if name in _PACKAGES:
        module.__path__ = []
    _register(name, module)
    filename = f"<exampletest-module {name}>"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, filename, "exec", dont_inherit=True), vars(module))
    except Exception as exc:
        module.__getattr__ = lambda attr: _fake_attribute(name, attr)  # type: ignore[method-assign]
        lines = [
            f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename
        ]
        return {
            "type": type(exc).__name__,
            "message": str(exc),
            "line": lines[-1] if lines else None,
            "name": getattr(exc, "name", None) if isinstance(exc, NameError) else None,
            "placeholder": _involves_placeholder(exc),
            "module_not_found": isinstance(exc, ModuleNotFoundError),
            "environment": _needs_config(exc, vars(module)) or _needs_install(exc),
        }
    return None


def _files_alone(files: list[list[str]]) -> dict[str, Any]:
    """Each file a block shows one after another, run as a module of its own, in order (what
    stops one: a name it uses that only an earlier file defines, never imported)."""
    errors = []
    for at, (name, code) in enumerate(files):
        error = _document_module(name or f"_exampletest_file_{at}", code)
        if error is not None:
            errors.append({"module": name, "file": at, **error})
    return {"errors": errors}


class _OwnFiles:
    """The files a block shows one after another (``# app/models.py``, ..., ``# app/crud.py``
    importing ``from app.models import User``), run in order in the block's namespace, one
    module each for their imports: what a file's import of another gets is what that file
    bound when it ran (``models.User``, not the ``User`` a later ``schemas.py`` binds), so
    each class is defined once (a model defined again by an import would meet its own table).
    A file imported before its turn (``main.py`` above ``models.py``) runs then, as a module,
    and its turn takes what it bound."""

    def __init__(self, files: list[list[str]], ns: dict[str, Any]) -> None:
        # a file no import can name (`# my-script.py`) still runs in its turn
        self.files = [(str(name) or f"#{at}", str(code)) for at, (name, code) in enumerate(files)]
        self.ns = ns
        self.bound: dict[str, dict[str, Any]] = {}  # file -> what it bound when it ran
        for name, code in self.files:
            if name.startswith("#"):
                continue
            alias = types.ModuleType(name)
            alias.__getattr__ = functools.partial(self._lookup, name, code)  # type: ignore[method-assign]
            _register(name, alias)

    def _lookup(self, name: str, code: str, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if name not in self.bound:  # imported before its turn: run it now, as a module
            alias = sys.modules[name]
            _document_module(name, code)
            self.bound[name] = dict(vars(sys.modules[name]))
            sys.modules[name] = alias
        try:
            return self.bound[name][attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    def run(self, filename: str) -> None:
        """Each file's code in the block's namespace, in order (on the block's lines)."""
        for name, code in self.files:
            if name in self.bound:  # it ran already, imported before its turn
                self.ns.update(
                    (k, v) for k, v in self.bound[name].items() if not k.startswith("__")
                )
                continue
            before = dict(self.ns)
            piece = compile(
                code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
            )
            try:
                _await(eval(piece, self.ns))
            finally:
                # what it bound: new or changed names, and what it imports (an earlier
                # file's `User` imported again is this file's attribute too)
                imported = {
                    (a.asname or a.name).partition(".")[0]
                    for node in ast.parse(code).body
                    if isinstance(node, ast.Import | ast.ImportFrom)
                    for a in node.names
                }
                self.bound[name] = {
                    k: v
                    for k, v in self.ns.items()
                    if k not in before or before[k] is not v or k in imported
                }


#: The methods of a FastAPI app or router that everything a fragment registers goes through.
_REGISTERING = (
    "add_api_route", "add_api_websocket_route", "include_router", "add_route",
    "add_websocket_route", "mount", "add_middleware", "add_exception_handler",
    "add_event_handler",
)  # fmt: skip


def _framework_standin(name: str, factory: str) -> Any:
    """A real framework object (``fastapi:FastAPI``) for a name the fragment never defines:
    what the fragment registers on it is checked as on the reader's own (FastAPI reads each
    route's signature and says which package an upload needs; ``on_event`` warns). What
    fails only because a placeholder took part (a route parameter typed with a stand-in
    class) is left unregistered, as a placeholder app would have left it."""
    module, _, attr = factory.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)()
    except Exception:
        return placeholder(name)
    for target in (obj, getattr(obj, "router", None)):
        for method in _REGISTERING:
            real = getattr(target, method, None)
            if callable(real):
                setattr(target, method, _unless_placeholder(real))
    return obj


def _unless_placeholder(method: Any) -> Any:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            needs_install = _NEEDS_INSTALL.search(str(exc)) is not None
            if needs_install or not _reaches_placeholder((args, kwargs)):
                raise
            return None

    return call


def _reaches_placeholder(obj: object, depth: int = 5) -> bool:
    """Whether a placeholder is among what a registration was given: the values, the
    containers, a function's annotations and defaults, a dependency's callable. An annotation
    that cannot be resolved counts as one (it names something the fragment lacks)."""
    if is_placeholder(obj):
        return True
    if depth == 0:
        return False
    inner: list[object]
    if isinstance(obj, list | tuple | set | frozenset):
        inner = list(obj)
    elif isinstance(obj, dict):
        inner = [*obj.keys(), *obj.values()]
    elif inspect.isfunction(obj) or inspect.ismethod(obj):
        try:
            hints = typing.get_type_hints(obj, include_extras=True)
            signature = inspect.signature(obj)
        except Exception:
            return True
        inner = [*hints.values(), *(p.default for p in signature.parameters.values())]
    else:
        try:
            args = typing.get_args(obj)
            inner = [typing.get_origin(obj), *args] if args else [getattr(obj, "dependency", None)]
        except Exception:
            return False
    return any(_reaches_placeholder(o, depth - 1) for o in inner)


def _fake_attribute(module: str, attr: str) -> Any:
    if attr.startswith("__") and attr.endswith("__"):  # __all__ (a star import), __file__, ...
        raise AttributeError(attr)
    return placeholder(f"{module}.{attr}", attr[:1].isupper())


class _FakeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds every submodule of a faked package, as a fake."""

    def __init__(self) -> None:
        self.tops: set[str] = set()

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.tops or fullname in sys.modules:
            return None
        parent = sys.modules.get(fullname.rpartition(".")[0])
        if parent is not None and not getattr(parent, MARK, False):
            return None  # a real module in a stand-in's place (a relative import's package)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        _fake_module(spec.name)
        return sys.modules[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        pass


_FAKES = _FakeFinder()


def _context_namespace(payload: dict[str, Any]) -> dict[str, Any]:
    ns: dict[str, Any] = _base_globals()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, statement in payload.get("imports", {}).items():
            try:
                exec(compile(statement, CTX_FILENAME, "exec", dont_inherit=True), ns)
            except Exception:
                ns[name] = placeholder(name)
        if payload.get("stub_source"):
            stub_ns: dict[str, Any] = _base_globals()
            with suppress(Exception):
                exec(
                    compile(
                        payload["stub_source"], "<exampletest-stub>", "exec", dont_inherit=True
                    ),
                    stub_ns,
                )
            for name in payload.get("stub_names", []):
                ns[name] = stub_ns.get(name, placeholder(name))
        for name, as_type in payload.get("placeholders", {}).items():
            ns[name] = placeholder(name, as_type)
        for name, factory in payload.get("standins", {}).items():
            ns[name] = _framework_standin(name, factory)
        bound: set[str] = set()
        _PRELUDE_TAINTED.update(payload.get("altered", []))
        for stmt in payload.get("prelude", []):
            before, uses = set(ns), placeholder_uses()
            try:
                exec(compile(stmt["code"], CTX_FILENAME, "exec", dont_inherit=True), ns)
                with suppress(SyntaxError, ValueError):
                    body = ast.parse(stmt["code"]).body
                    _taint(body, placeholder_uses() != uses, _PRELUDE_TAINTED)
            except BaseException:
                # The earlier block reports its own failure; this block still runs, with a
                # stand-in for what the statement did not define (trouble with it is no
                # evidence), instead of stopping at the first use of that name. What it used
                # may be left broken by it (a session whose commit failed).
                with suppress(SyntaxError, ValueError):
                    _PRELUDE_FAILED.update(_receivers(ast.parse(stmt["code"]), ns))
                is_class = stmt["code"].lstrip().startswith(("class ", "@"))
                for name in stmt.get("binds", ()):
                    ns.setdefault(name, placeholder(name, is_class))
            bound |= set(ns) - before
            bound |= {k for k in ns if k in stmt.get("binds", ())}
    ns["__exampletest_prelude__"] = bound | {
        k for s in payload.get("prelude", []) for k in s.get("binds", ())
    }
    return ns


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise PassTimeout(f"still running after {seconds:.1f} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _run_pass(
    payload: dict[str, Any],
    ns: dict[str, Any],
    budget: float,
    recorded: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the block once in ``ns`` (a module's globals); its warnings go to ``recorded``
    as they come."""
    filename = block_file = payload["filename"]
    recorded = [] if recorded is None else recorded

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        recorded.append(_warning_record(message, category, block_file, filename, lineno))

    outputs: list[dict[str, Any]] = []  # a session's shown outputs the run did not give
    out: dict[str, Any] = {"exception": None, "warnings": recorded}
    files = _OwnFiles(payload["own_files"], ns) if payload.get("own_files") else None
    if files is not None:
        _relative_modules(payload)  # (the fence's own files, too)
    # The same draws every run (a fork reseeds from the OS): an example that simulates a flaky
    # service with `random` gets one verdict, not a different one run to run.
    random.seed(0)
    try:
        # Top-level ``await`` is common in docs (they assume a notebook or asyncio REPL).
        source, flags = payload["code"], ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        for _, part in files.files if files is not None else ():
            compile(part, filename, "exec", flags=flags, dont_inherit=True)  # each file alone
        if payload.get("session") or files is not None:  # each piece compiles alone
            source, flags = _late_futures(source, flags)
        code = compile(source, filename, "exec", flags=flags, dont_inherit=True)
    except SyntaxError as exc:
        out["exception"] = {
            "type": type(exc).__name__,  # or IndentationError, TabError
            "message": str(exc.msg),
            "line": exc.lineno,
            "compile": True,
        }
        return out
    printed: list[dict[str, Any]] = []
    if payload.get("printed_outputs"):
        _record_prints(ns, filename, printed)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        cpu = time.process_time()
        try:
            with _alarm(budget):
                _execute(code, payload, ns, filename, outputs, files)
        except PassTimeout as exc:
            out["exception"] = {
                "type": "Timeout",
                "message": str(exc),
                "line": _line_of(exc, filename),
                # `while page.next_cursor:` on a stand-in never ends: not the block's doing
                "placeholder": _involves_placeholder(exc),
                # computing all along (a loop that never ends), not waiting (a thread, I/O),
                # which uses next to no CPU; a loaded machine (a CI runner) may give a busy
                # loop only a share of a core, so a fifth of the wall time is enough
                "busy": time.process_time() - cpu >= budget / 5,
            }
        except SystemExit as exc:
            cli = _command_line_exit(exc)
            said = [x for x in str(exc.code).splitlines() if x.strip()] or [""]
            why = said[-1] if isinstance(exc.code, str) else repr(exc.code)  # "error: ..."
            out["exception"] = {
                "type": "SystemExit",
                "message": f"{cli} exited ({why}): the block needs command-line arguments"
                if cli
                else f"the block called sys.exit({exc.code!r}) at top level",
                "line": _line_of(exc, filename),
                "needs_args": bool(cli),
                # `except ValidationError: sys.exit(1)` around a settings class: the exit
                # is about the configuration the error it handles lacked.
                "needs_config": not cli
                and (
                    _names_unset_variable(str(exc.code))
                    or (exc.__context__ is not None and _needs_config(exc.__context__, ns))
                ),
            }
        except BaseException as exc:
            out["exception"] = _exception_record(exc, filename, ns)
    out["warnings"] = recorded
    _check_printed(payload.get("printed_outputs", []), filename, printed, outputs)
    if outputs:
        out["outputs"] = outputs
    return out


def _late_futures(source: str, flags: int) -> tuple[str, int]:
    """A session's ``from __future__`` imports after its first statement: the REPL compiles
    each statement alone, so they are legal there. Compiled whole, they become flags (and
    ``pass`` on their lines); the statement-by-statement run executes them as they are."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return source, flags
    lines = source.split("\n")
    for stmt in body[1:]:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= feature.compiler_flag if feature is not None else 0
            first, last = stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            lines[first : last + 1] = [f"{indent}pass"] + [""] * (last - first)
    return "\n".join(lines), flags


def _execute(
    code: types.CodeType,
    payload: dict[str, Any],
    ns: dict[str, Any],
    filename: str,
    outputs: list[dict[str, Any]],
    files: _OwnFiles | None = None,
) -> None:
    """Run the block (file by file, when it shows several). A console session whose output
    shows a traceback expects that exception (as doctest does): its statements run one by
    one, and that statement may raise it. So do
    the statements of a block with an anti-pattern marker: a failure of the marked code is
    shown on purpose, the code after it still runs (reported, if nothing after it fails).
    A session's statement that shows a value or text is run as the REPL runs it, and what it
    really gives, where that differs, goes to ``outputs``."""
    expected = [(int(line), str(name)) for line, name in payload.get("expected_exceptions", [])]
    excused = set(payload.get("excused_lines", []))
    claims = {int(line): str(text) for line, text in payload.get("shown_outputs", [])}
    if not expected and not excused and not claims:
        if files is not None:
            files.run(filename)
            return
        _await(eval(code, ns))  # a coroutine when the code awaits at top level
        return
    body = ast.parse(payload["code"]).body
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for stmt in body:  # each piece is compiled alone: the block's __future__ imports too
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                flags |= getattr(__future__, alias.name, __future__.annotations).compiler_flag
    shown: Exception | None = None
    # names bound from a stand-in's work (an earlier block's too): their values say nothing
    tainted = set(_PRELUDE_TAINTED)
    for stmt in body:
        uses = placeholder_uses()
        piece = compile(
            ast.Module(body=[stmt], type_ignores=[]), filename, "exec", flags=flags,
            dont_inherit=True,
        )  # fmt: skip
        end = stmt.end_lineno or stmt.lineno
        wanted = [name for line, name in expected if stmt.lineno <= line <= end]
        want = next((t for line, t in claims.items() if stmt.lineno <= line <= end), None)
        try:
            if want is None:
                _await(eval(piece, ns))
            else:
                _check_shown(stmt, want, ns, (filename, flags), outputs, tainted)
        except Exception as exc:
            if any(cls.__name__ in wanted for cls in type(exc).__mro__):
                continue
            if not excused.intersection(range(stmt.lineno, end + 1)):
                raise
            shown = shown or exc
        finally:
            _taint([stmt], placeholder_uses() != uses, tainted)
    if shown is not None:
        raise shown


#: What the earlier blocks' statements bound from a stand-in's work, as this job ran them.
_PRELUDE_TAINTED: set[str] = set()
#: What the earlier blocks' statements that failed in this job used (``session``, after a
#: ``session.commit()`` that raised): trouble with them is the earlier block's.
_PRELUDE_FAILED: set[str] = set()


def _taint(stmts: list[ast.stmt], used: bool, tainted: set[str]) -> None:
    """Add to ``tainted`` what the statements bind when a stand-in took part (``used``) or
    they read a tainted name."""
    for stmt in stmts:
        if used or _loaded(stmt) & tainted:
            tainted |= _bound(stmt)


def _loaded(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def _bound(stmt: ast.stmt) -> set[str]:
    """The names a statement binds (assigned, imported, defined) or changes in place
    (``constants.append(x)``, ``d[k] = v``)."""
    out = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    out |= {
        (a.asname or a.name).partition(".")[0]
        for n in ast.walk(stmt)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    out |= {
        n.name
        for n in ast.walk(stmt)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    return out | changed_in_place(stmt)


def _check_shown(
    stmt: ast.stmt,
    want: str,
    ns: dict[str, Any],
    compiling: tuple[str, int],
    outputs: list[dict[str, Any]],
    tainted: Set[str] = frozenset(),
) -> None:
    """Run one statement of a session as the REPL does (compiled as ``single``: the value of
    every expression statement, in a ``with`` or ``for`` body too, is displayed unless None)
    with its printed text caught, and note it when it is not what is shown. Not evidence, so
    not noted: a value from a missing name's stand-in or a placeholder, now or through a
    ``tainted`` name an earlier statement bound from one (``table = list(reader(StringIO(s)))``
    over a stand-in ``StringIO``, then ``>>> table`` shows ``[]``), or a session that uses the
    clock, chance or the machine (see :mod:`exampletest.transcript`)."""
    filename, flags = compiling
    caught, real, errors, hook = io.StringIO(), sys.stdout, sys.stderr, sys.displayhook
    values: list[object] = []

    def display(value: object) -> None:  # sys.displayhook's work, in this namespace
        if value is not None:
            values.append(value)
            caught.write(repr(value) + "\n")
            table = ns.get("__builtins__", builtins)  # the job's own fork: its to change
            if isinstance(table, dict):
                table["_"] = value
            else:
                builtins._ = value  # type: ignore[attr-defined]

    # stderr too: the terminal of a session shows a warning or a log line as it shows values
    sys.stdout, sys.stderr, sys.displayhook = caught, caught, display
    used = placeholder_uses()
    try:
        single = ast.Interactive(body=[stmt])
        _await(eval(compile(single, filename, "single", flags=flags, dont_inherit=True), ns))
    finally:
        sys.stdout, sys.stderr, sys.displayhook = real, errors, hook
        real.write(caught.getvalue())
    got = _as_script(caught.getvalue())
    source = "".join(linecache.getlines(filename)[: stmt.end_lineno or stmt.lineno])
    if (
        not got.strip()  # it went where this run does not look (a logger's own stream, a file)
        or getattr(ns.get("__builtins__"), "looked_up", None)
        or _reaches_placeholder(values)
        or placeholder_uses() != used  # `str(settings.KEY)` of a placeholder is plain text
        or _loaded(stmt) & tainted
        or transcript.varies(source, got)
        or transcript.matches(want, got)
    ):
        return
    outputs.append(
        {"first": stmt.lineno, "line": stmt.end_lineno or stmt.lineno, "want": want, "got": got}
    )


def _as_script(text: str) -> str:
    """Output as the reader's run of the block, a script, prints it: its classes are
    ``__main__.Model``, not the module name the block runs under here."""
    return text.replace(f"{MODULE_NAME}.", "__main__.")


def _record_prints(ns: dict[str, Any], filename: str, printed: list[dict[str, Any]]) -> None:
    """Note what each ``print()`` of the block's own code writes to stdout, and where, for
    its ``#>`` comments; the call still prints. ``supplied``: the text may come from a stand-in
    (a missing name was looked up by then, or an argument reaches a placeholder)."""
    table = ns.get("__builtins__")
    if not isinstance(table, dict):
        table = ns["__builtins__"] = dict(vars(builtins))
    real = builtins.print
    used = [placeholder_uses()]  # as of the last print: a statement's start is not seen here

    def print_(*args: Any, **kwargs: Any) -> None:
        frame = sys._getframe(1)
        if kwargs.get("file") is None and frame.f_code.co_filename == filename:
            caught = io.StringIO()
            real(*args, **{**kwargs, "file": caught})
            supplied = (
                bool(getattr(table, "looked_up", None))
                or _reaches_placeholder(args)
                or placeholder_uses() != used[0]  # `len(settings.HOSTS)`: a plain 0
            )
            used[0] = placeholder_uses()
            printed.append(
                {"line": frame.f_lineno, "text": caught.getvalue(), "supplied": supplied}
            )
        real(*args, **kwargs)

    table["print"] = print_


def _check_printed(
    claims: list[Any], filename: str, printed: list[dict[str, Any]], outputs: list[dict[str, Any]]
) -> None:
    """Each ``#>`` output against what the statement above it printed (every time it ran, as
    in a loop). A statement that never printed, or printed what a stand-in gave, says nothing."""
    lines = linecache.getlines(filename)
    for line, want in claims:
        stmt = _innermost_ending(filename, int(line))
        first = stmt.lineno if stmt is not None else int(line)
        hits = [p for p in printed if first <= p["line"] <= int(line)]
        if not hits or any(p["supplied"] for p in hits):
            continue
        got = _as_script("".join(p["text"] for p in hits))
        source = "".join(lines[: int(line)])
        if transcript.varies(source, got) or transcript.matches(str(want), got):
            continue
        outputs.append({"first": first, "line": int(line), "want": str(want), "got": got})


def _innermost_ending(filename: str, line: int) -> ast.stmt | None:
    """The innermost statement of the block whose last line is ``line``."""
    tree = _block_tree(filename)
    found = None
    for node in ast.walk(tree) if tree is not None else ():
        if (
            isinstance(node, ast.stmt)
            and node.end_lineno == line
            and (found is None or node.lineno >= found.lineno)
        ):
            found = node
    return found


def _await(result: object) -> None:
    if inspect.iscoroutine(result):
        asyncio.run(result)


def _warning_record(
    message: Warning | str, category: type[Warning], filename: str, fname: str, lineno: int
) -> dict[str, Any]:
    frame = _block_frame(filename)  # the block's frame that made the call that warned
    line = lineno if fname == filename else (frame.f_lineno if frame is not None else None)
    record: dict[str, Any] = {
        "type": category.__name__,
        # A library's own deprecation class may subclass UserWarning (FastAPI's does).
        "deprecation": issubclass(category, DeprecationWarning) or "Deprecat" in category.__name__,
        "message": _here(str(message)),
        "line": line,
        "stale_hint": "Valid config keys have changed in V2" in str(message),
    }
    if frame is not None and frame.f_lineno == line:
        record.update(_span(frame.f_code, frame.f_lasti, line))
    return record


def _span(code: types.CodeType, lasti: int, line: int | None) -> dict[str, int]:
    """The columns (1-based, in characters) of the instruction at ``lasti``: the call that
    raised or warned, not just its line. Empty when they are unknown or on another line."""
    try:
        start, end, col, end_col = list(code.co_positions())[lasti // 2]
    except (IndexError, ValueError):
        return {}
    if start is None or start != line or col is None or end is None or end_col is None:
        return {}
    text = linecache.getline(code.co_filename, start).encode()
    last = linecache.getline(code.co_filename, end).encode()

    def chars(raw: bytes, at: int) -> int:
        return len(raw[:at].decode("utf-8", "ignore")) + 1

    return {"col": chars(text, col), "end_line": end, "end_col": chars(last, end_col)}


def _block_frame(filename: str) -> types.FrameType | None:
    """The innermost frame of the block's code on the current stack."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == filename:
            return frame
        frame = frame.f_back
    return None


def _line_of(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    return line


def _exception_span(exc: BaseException, filename: str, line: int | None) -> dict[str, int]:
    """Columns of the innermost block instruction the exception went through."""
    found: dict[str, int] = {}
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            found = _span(tb.tb_frame.f_code, tb.tb_lasti, line)
        tb = tb.tb_next
    return found


def _exception_record(
    exc: BaseException, filename: str, ns: dict[str, Any], hidden: Set[str] = frozenset()
) -> dict[str, Any]:
    """What the stage needs to know of ``exc``; ``hidden``: builtins the block did not have
    (the missing names, for a pass 1 read off pass 2)."""
    exc = _name_error_under(exc, filename) or exc
    record: dict[str, Any] = {
        "type": type(exc).__name__,
        "qualname": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": _short(exc),
        "line": _line_of(exc, filename),
        "name": getattr(exc, "name", None) if isinstance(exc, NameError | ImportError) else None,
        "import_error": isinstance(exc, ImportError),
        "module_not_found": isinstance(exc, ModuleNotFoundError),
        "placeholder": _involves_placeholder(exc, hidden),
        "contained": _refused_by_sandbox(exc),
        "stand_in_loop": _unbound_by_stand_in(exc, filename, ns),
        # `routes = ...` in a doc means "fill in here": what fails on that value is an elision
        "template": _template_value(exc, filename),
        "elision": bool(re.search(r"'ellipsis'|EllipsisType", str(exc)))
        or (
            not isinstance(exc, NameError | ImportError)  # about a name, not the elided value
            and _elided(filename, _line_of(exc, filename))
        ),
        "needs_config": _needs_config(exc, ns, filename),
        "needs_service": isinstance(exc, ConnectionError | TimeoutError)
        or type(exc).__name__ == "gaierror"
        or (
            type(exc).__name__ in {"OperationalError", "InterfaceError"}
            and bool(
                re.search(
                    r"connect|refused|unreachable|timed? ?out|host|server|socket", str(exc), re.I
                )
            )
        ),
        "memory": isinstance(exc, MemoryError),
        # A file or folder on the reader's machine, wherever the example says it lives.
        "needs_file": (
            isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError)
            and bool(getattr(exc, "filename", None))
        )
        or bool(_MISSING_PATH.search(str(exc))),
        "needs_install": _needs_install(exc),
        "needs_input": _needs_input(exc),
        "after_earlier_failure": _uses_failed_prelude(filename, _line_of(exc, filename)),
        "module_frame": _document_frame(exc),
    }
    if isinstance(exc, IndexError) and _reads_argv(filename, record["line"]):
        record["needs_args"] = True  # `sys.argv[1]` with no arguments: the reader gives them
        record["message"] += " (it reads `sys.argv`: the block needs command-line arguments)"
    record.update(_exception_span(exc, filename, record["line"]))
    return record


def _document_frame(exc: BaseException) -> str | None:
    """The document's own module (``app.service``, a block titled so or a fence's file) the
    exception was raised in, when its innermost frame is that module's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    m = re.fullmatch(r"<exampletest-module ([\w.]+)>", frames[-1].filename) if frames else None
    return m[1] if m else None


def _receivers(tree: ast.Module, ns: dict[str, Any]) -> set[str]:
    """The objects a statement acted on: ``session`` of ``session.commit()`` (not a module,
    not a builtin: ``int("abc")`` failing leaves ``int`` as it was)."""
    names = {
        n.value.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    return {n for n in names if n in ns and not isinstance(ns[n], types.ModuleType)}


def _uses_failed_prelude(filename: str, line: int | None) -> bool:
    """Whether the block's statement at ``line`` uses what an earlier block's failed statement
    used (``session.query(User)`` after the earlier ``session.commit()`` raised)."""
    if not _PRELUDE_FAILED:
        return False
    stmt = _statement_at(filename, line)
    return stmt is not None and bool(_loaded(stmt) & _PRELUDE_FAILED)


def _reads_argv(filename: str, line: int | None) -> bool:
    """Whether the block's line indexes the command line (``sys.argv[1]``, ``argv[2:]``)."""
    return line is not None and bool(re.search(r"\bargv\s*\[", linecache.getline(filename, line)))


def _here(text: str) -> str:
    """``text`` with the block's own temporary folder as ``.``: what the reader would see
    running it in a folder of theirs, and the same in every run."""
    here = os.getcwd()
    return text.replace(here + os.sep, "./").replace(here, ".")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = _here(text[0]) if text else ""
    if isinstance(exc, ImportError):  # "... from 'warnings' (/usr/lib/python3.11/warnings.py)"
        first = re.sub(r" \((?:/|[A-Za-z]:\\)[^()]*\)$", "", first)
    return (f"{type(exc).__name__}: {first}" if first else type(exc).__name__)[:500]


def _name_error_under(exc: BaseException, filename: str) -> NameError | None:
    """The block's own NameError that a library's exception was raised over as it left a
    ``with`` (``pytest.warns`` exiting with "DID NOT WARN" while the missing ``old_func`` was
    propagating): that NameError is what happened. Not when the block raised the other
    exception itself, chained it on purpose (``raise ... from``), or handled the NameError
    (``except NameError:``, where the library raised)."""
    under = exc.__context__
    if not isinstance(under, NameError) or isinstance(exc, NameError):
        return None
    if exc.__cause__ is not None or exc.__suppress_context__:
        return None
    tb, last, at = exc.__traceback__, None, None
    while tb is not None:
        if at is None and tb.tb_frame.f_code.co_filename == filename:
            at = tb.tb_lineno  # where the block was when the library raised
        last, tb = tb, tb.tb_next
    if last is None or last.tb_frame.f_code.co_filename == filename or at is None:
        return None
    # Raised by a `with` statement's exit (the NameError escaping its body), not in an
    # `except NameError:` handler of the block's, which handled it.
    tree = _block_tree(filename)
    nodes = ast.walk(tree) if tree is not None else ()
    exits = any(isinstance(n, ast.With | ast.AsyncWith) and n.lineno == at for n in nodes)
    return under if exits else None


def _involves_placeholder(exc: BaseException, hidden: Set[str] = frozenset()) -> bool:
    """Whether a stand-in exampletest supplied took part: it is in a frame's local variables,
    or, at module level (where every global is a "local"), the failing statement names it."""
    if "placeholder" in str(exc).lower() or _raised_a_stand_in(exc):
        return True
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        try:
            if frame.f_locals is frame.f_globals:
                names = _statement_names(frame.f_code.co_filename, tb.tb_lineno)
                # The missing names are in the builtins (see ``MissingNames``).
                scope = {k: v for k, v in frame.f_builtins.items() if k not in hidden}
                scope |= frame.f_globals
                values = list(scope.values()) if names is None else [scope.get(n) for n in names]
            else:  # its locals, and the globals its failing statement names
                values = list(frame.f_locals.values())
                where = frame.f_code.co_filename  # the block's own code, not a library's
                named = (
                    _names_at(where, tb.tb_lineno) if where.startswith("<exampletest") else set()
                )
                scope = {k: v for k, v in frame.f_builtins.items() if k not in hidden}
                scope |= frame.f_globals
                values += [scope.get(n) for n in named if n not in frame.f_locals]
            if any(is_placeholder(v) for v in values):
                return True
            # a library's frame: its objects may wrap a stand-in (`TestClient(app)`); the
            # block's own frames are judged by their own values only
            library = not frame.f_code.co_filename.startswith("<exampletest")
            if library and any(map(_holds_placeholder, values)):
                return True
        except Exception:
            pass
        tb = tb.tb_next
    return False


def _raised_a_stand_in(exc: BaseException) -> bool:
    """``raise bad_request("...")`` failing as "exceptions must derive from BaseException"
    where what the block raises is a stand-in's: the callee is one, or a function that returns
    one (annotated so) or builds its value from one (``return ErrorResponse(...)``, a class of
    a module not installed here)."""
    if not (isinstance(exc, TypeError) and "must derive from BaseException" in str(exc)):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or not tb.tb_frame.f_code.co_filename.startswith("<exampletest"):
        return False
    frame = tb.tb_frame
    tree = _block_tree(frame.f_code.co_filename)
    raised = [
        n.exc
        for n in (ast.walk(tree) if tree is not None else ())
        if isinstance(n, ast.Raise) and n.lineno == tb.tb_lineno and n.exc is not None
    ]
    for value in raised:
        called = value.func if isinstance(value, ast.Call) else value
        if not isinstance(called, ast.Name):
            continue
        scope = {**frame.f_builtins, **frame.f_globals, **frame.f_locals}
        found = scope.get(called.id)
        if is_placeholder(found):
            return True
        if isinstance(found, types.FunctionType):
            made = [found.__globals__.get(n) for n in found.__code__.co_names]
            returns = found.__annotations__.get("return")
            if is_placeholder(returns) or any(map(is_placeholder, made)):
                return True
    return False


def _holds_placeholder(value: object, depth: int = 2) -> bool:
    """Whether an object's own attributes hold a stand-in, or theirs do: the ``TestClient``
    transport whose ``app`` wraps one (``TestClient(app)``, ``app`` from a module the reader
    has)."""
    attributes = getattr(value, "__dict__", None)
    if not isinstance(attributes, dict) or is_placeholder(value) or isinstance(value, type):
        return False
    inner = list(attributes.values())[:50]
    if any(is_placeholder(v) for v in inner):
        return True
    return depth > 1 and any(_holds_placeholder(v, depth - 1) for v in inner)


def _refused_by_sandbox(exc: BaseException) -> bool:
    """Whether ``exc`` comes of a sandbox refusal (a connect, a write): the containment is
    the finding, not what the library made of the refusal (``URLError``, ``ConnectionError``)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        cur = todo.pop()
        if not isinstance(cur, BaseException) or id(cur) in seen:
            continue  # (a URLError's first argument is the exception it wraps)
        seen.add(id(cur))
        if "refused by the exampletest sandbox" in str(cur):
            return True
        todo += [cur.__cause__, cur.__context__, *cur.args[:1]]
    return False


def _unbound_by_stand_in(exc: BaseException, filename: str, ns: dict[str, Any]) -> bool:
    """A NameError on a name the block binds only in a loop over a stand-in: a stand-in yields
    nothing, so the loop never ran, where the reader's real data would have run it."""
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    if name is None:
        return False
    tree = _block_tree(filename)
    if tree is None:
        return False
    builtins_ = ns.get("__builtins__")
    scope = (builtins_ if isinstance(builtins_, dict) else {}) | ns
    for loop in ast.walk(tree):
        if not isinstance(loop, ast.For | ast.AsyncFor):
            continue
        inside = [loop.target, *loop.body]
        bound = {
            n.id for part in inside for n in ast.walk(part)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }  # fmt: skip
        iterable = {n.id for n in ast.walk(loop.iter) if isinstance(n, ast.Name)}
        if name in bound and any(is_placeholder(scope.get(n)) for n in iterable):
            return True
    return False


#: Pydantic's and FastAPI's parameter functions, whose ``...`` means "required".
_REQUIRED_MARKER = re.compile(
    r"(?:\w+\.)*(?:Field|Query|Path|Body|Header|Cookie|Form|File|Security|Param|PrivateAttr)"
)


#: Where a command-line parser exits when the arguments it needs are not there.
_CLI_EXITS = {
    "argparse": "argparse",
    "click": "click",
    "distutils": "setup()",
    "setuptools": "setup()",
}


def _command_line_exit(exc: SystemExit) -> str | None:
    """The command-line parser (argparse, click, setup()) that raised ``exc``, if one did: a
    script run with no arguments (the sandbox gives none), not a broken example."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        top = module.partition(".")[0] if isinstance(module, str) else ""
        if top in _CLI_EXITS:
            return _CLI_EXITS[top]
        tb = tb.tb_next
    return None


def _template_value(exc: BaseException, filename: str) -> bool:
    """The error is about a template placeholder the block passes as a plain string
    (``beartype_package('{your_package}')``): the reader fills it in."""
    stmt = _statement_at(filename, _line_of(exc, filename))
    if stmt is None:
        return False
    message = str(exc)
    for n in ast.walk(stmt):
        if not isinstance(n, ast.Constant) or not isinstance(n.value, str):
            continue
        if re.fullmatch(r"\{[A-Za-z_]\w*\}", n.value) is not None and n.value in message:
            return True
        # a URL whose port is a word (`socks5://user:pass@host:port`) and the error quotes it
        m = _WORD_PORT.search(n.value)
        if m is not None and re.search(rf"\b{re.escape(m.group(1))}\b", message):
            return True
    return False


_WORD_PORT = re.compile(r"^[a-z][\w+.-]*://[^/\s]*:([A-Za-z_<{][\w<>{}]*)(?:[/?#]|$)")


def _elided(filename: str, line: int | None) -> bool:
    """Whether the top-level statement at ``line`` leaves code out with ``...`` as a value
    (``Table(...)``, ``routes = [...]``) or in a string (``"INSERT INTO t ..."``): an
    exception there is about the elision. A ``...`` body (``def f(): ...``) or a type's
    ``...`` (``tuple[int, ...]``) is not one. A class whose body says ``# ...`` shows part of
    a class (the rest shown before): making it fails for what it leaves out (no
    ``__tablename__``)."""
    stmt = _statement_at(filename, line)
    if stmt is None:
        return False
    if isinstance(stmt, ast.ClassDef) and stmt.lineno == line:
        body = linecache.getlines(filename)[stmt.lineno : stmt.end_lineno or stmt.lineno]
        if any(text.strip().startswith("# ...") for text in body):
            return True
    parents = {id(c): p for p in ast.walk(stmt) for c in ast.iter_child_nodes(p)}

    def value(node: ast.AST) -> bool:
        up = parents.get(id(node))
        if isinstance(up, ast.Tuple):  # `tuple[int, ...]`, `Callable[..., T]`
            up = parents.get(id(up))
        if isinstance(up, ast.Call) and _REQUIRED_MARKER.fullmatch(ast.unparse(up.func)):
            return False  # `Field(...)`, `Query(...)`: "required", not left out
        return not isinstance(up, ast.Expr | ast.Subscript)

    return any(
        (isinstance(n, ast.Constant) and n.value is Ellipsis and value(n))
        # a string that leaves part of itself out: `execute("INSERT INTO t ...")`
        or (
            isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and _ELIDED_TEXT.search(n.value)
        )
        for n in _run_at_definition(stmt)
    )


def _run_at_definition(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a top-level statement that run when it runs: a function's decorators,
    defaults and annotations, not its body (a ``return_value=...`` in the body is not what
    failed at ``def``)."""
    if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        yield from ast.walk(stmt)
        return
    body = {id(n) for part in stmt.body for n in ast.walk(part)}
    yield from (n for n in ast.walk(stmt) if id(n) not in body)


_ELIDED_TEXT = re.compile(r"(?:^|\s)(?:\.\.\.|…)(?=\s|$|\))")


def _statement_names(filename: str, line: int) -> set[str] | None:
    """The names the top-level statement at ``line`` uses; None when its source is unknown."""
    stmt = _statement_at(filename, line)
    return None if stmt is None else _loaded(stmt)


def _names_at(filename: str, line: int) -> set[str]:
    """The names the innermost statement at ``line`` uses, a compound one's body left out
    (``async with client(url) as (r, w):`` -> client, url, r, w)."""
    tree = _block_tree(filename)
    spans = [
        s
        for s in (ast.walk(tree) if tree is not None else ())
        if isinstance(s, ast.stmt) and s.lineno <= line <= (s.end_lineno or s.lineno)
    ]
    if not spans:
        return set()
    names: set[str] = set()
    todo: list[ast.AST] = [min(spans, key=lambda s: (s.end_lineno or s.lineno) - s.lineno)]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.stmt | ast.excepthandler):
                todo.append(child)
    return names


@functools.lru_cache(maxsize=8)
def _block_tree(filename: str) -> ast.Module | None:
    """The syntax tree of the block compiled as ``filename`` (its source is in linecache)."""
    try:
        return ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError):
        return None


@functools.cache
def _guarded_lines(filename: str) -> frozenset[int]:
    """Lines whose exception the block itself may handle, or run more code on the way out
    of: inside a ``try`` statement, or in the body of a ``with`` (whose ``__exit__`` runs,
    and may suppress it)."""
    tree = _block_tree(filename)
    lines: set[int] = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Try | ast.TryStar):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, ast.With | ast.AsyncWith) and node.body:
            lines.update(range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1))
    return frozenset(lines)


def _statement_at(filename: str, line: int | None) -> ast.stmt | None:
    """The block's top-level statement that spans ``line``."""
    tree = _block_tree(filename) if line is not None else None
    if tree is None or line is None:
        return None
    return next((s for s in tree.body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)


#: A library saying an optional dependency is missing ("orjson is not installed", "To use
#: ZMQ broker please install pyzmq lib", "requires the X package to be installed").
_NEEDS_INSTALL = re.compile(
    r"(?i)requires? .{0,80}install|must be installed|pip install|is not installed"
    r"|please install|install (?:the )?[\w.\[\]-]+ (?:lib|library|package|extra)"
)
#: The same, said so plainly that the exception's class does not matter (limits'
#: ConfigurationError: "'redis' prerequisite not available").
_SAYS_INSTALL = re.compile(
    r"(?i)\bpip install \S|please install \S|\bprerequisite not (?:available|installed)"
)
#: A library saying a relative file or folder the example assumes is not there
#: (Starlette's ``StaticFiles(directory="static")``: "Directory 'static' does not exist").
_MISSING_PATH = re.compile(
    r"(?i)\b(?:directory|folder|file|path)\s+'(?![/\\])[^']*'\s+(?:does not|doesn't) exist"
)
#: A configuration library saying a setting is not in the (empty) environment.
#: A value that was None where the code wanted something else: what an unset variable gives.
_NONE_VALUE = re.compile(r"""'None'|"None"|\bNoneType\b""")
#: A library refusing a ``None`` it was given (SQLAlchemy's "Expected string or URL object,
#: got None").
_GOT_NONE = re.compile(r"\bgot None\b")
_MISSING_SETTING = re.compile(
    r"(?i)\b(?:config|setting|env(?:ironment)?(?: variable)?|envvar)\b[^\n]{0,80}?"
    r"\b(?:is missing|not set|not found|is required|undefined)"
)


def _needs_input(exc: BaseException) -> bool:
    """The block asked the reader something: ``input()`` found no more input (stdin is empty
    here), or a terminal was opened (``/dev/tty``: none here). What a library makes of it
    (click's ``Abort``) keeps the cause in its chain."""
    seen: set[int] = set()
    chained: BaseException | None = exc
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        # input() says "EOF when reading a line"; getpass() (its fallback, reading stdin) says
        # nothing
        if isinstance(chained, EOFError) and str(chained) in ("EOF when reading a line", ""):
            return True
        if isinstance(chained, OSError) and getattr(chained, "filename", None) == "/dev/tty":
            return True
        chained = chained.__cause__ or chained.__context__
    return False


def _needs_install(exc: BaseException) -> bool:
    """The library says which package to install: with any exception class when it names
    the command (anyio's LookupError, "pip install anyio[trio]") or a prerequisite."""
    return bool(_SAYS_INSTALL.search(str(exc))) or (
        isinstance(exc, RuntimeError | ImportError) and bool(_NEEDS_INSTALL.search(str(exc)))
    )


def _unset_here(exc: BaseException, filename: str) -> bool:
    """The block's failing statement looks an environment variable up, or uses a name the
    block binds to such a lookup (``DATABASE_URL = os.getenv("DATABASE_URL")``)."""
    line = _line_of(exc, filename)
    stmt = _statement_at(filename, line) if line is not None else None
    if stmt is None:
        return False
    lookup = re.compile(r"getenv\(|environ\.get\(")
    if lookup.search(ast.unparse(stmt)):
        return True
    source = "".join(linecache.getlines(filename))
    return any(
        re.search(
            rf"(?m)^{re.escape(name)}\s*(?::[^=\n]*)?=[^\n]*(?:getenv|environ\.get)\(", source
        )
        for name in _loaded(stmt)
    )


def _needs_config(exc: BaseException, ns: dict[str, Any], filename: str = "") -> bool:
    """A settings object that cannot be built from this (empty) environment."""
    if isinstance(exc, KeyError):
        tb = exc.__traceback__
        while tb is not None:  # os.environ["X"]
            code = tb.tb_frame.f_code
            where = code.co_filename  # "<frozen os>" when os is frozen (3.11+)
            if code.co_name == "__getitem__" and where in ("<frozen os>", os.__file__):
                return True
            tb = tb.tb_next
    if isinstance(exc, LookupError | ValueError | RuntimeError) and _MISSING_SETTING.search(
        str(exc)
    ):
        return True
    if _names_unset_variable(str(exc)):
        return True
    if _RecordingEnviron.gave_none and _NONE_VALUE.search(str(exc)):
        return True  # `f"...:{os.getenv('DB_PORT')}"`: "invalid literal for int(): 'None'"
    if _RecordingEnviron.gave_none and _GOT_NONE.search(str(exc)) and _unset_here(exc, filename):
        return True  # `create_engine(DATABASE_URL)`, `DATABASE_URL = os.getenv(...)` unset
    if type(exc).__name__ != "ValidationError":
        return False
    title = getattr(exc, "title", None)
    cls = ns.get(title) if isinstance(title, str) else None
    return any(base.__name__ == "BaseSettings" for base in getattr(cls, "__mro__", ()))


def _names_unset_variable(message: str) -> bool:
    """The message names an environment variable the run looked up and found unset."""
    return any(
        re.search(rf"(?<![\w$]){re.escape(name)}(?!\w)", message)
        for name in _RecordingEnviron.unset
        if len(name) >= 3
    )


def _deep(ns: dict[str, Any], code: str) -> list[dict[str, Any]]:
    try:
        from exampletest.deepsmoke import exercise
    except ImportError:
        return []
    try:
        with _alarm(2.5):
            return exercise(dict(ns), code)
    except BaseException as exc:
        return [{"kind": "internal", "message": _short(exc)}]


def _in_fork(fn: Any) -> dict[str, Any]:
    """Run ``fn`` in a forked child and return its JSON result (inline if fork is refused)."""
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
    except OSError:
        return dict(fn())
    if pid == 0:
        os.close(read_fd)
        try:
            data = json.dumps(fn(), default=str).encode()
        except BaseException as exc:
            data = json.dumps({"exception": {"type": "internal", "message": repr(exc)}}).encode()
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(data)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    try:
        return dict(json.loads(data))
    except (json.JSONDecodeError, TypeError):
        code = os.waitstatus_to_exitcode(status)
        return {
            "exception": {
                "type": "Exit",
                "message": f"the block ended the process ({code})",
                "line": None,
            },
            "warnings": [],
        }
