"""Where does a forgotten name come from?  An index built from the installed packages.

Documentation blocks use names they never import (``select``, ``HTTPException``, ``Dict``).
The index maps each public name of the standard library and of the installed distributions to
the modules that export it, so a finding can name the exact import that fixes it.

Building imports modules, which runs arbitrary code: it happens in a subprocess
(``python -m exampletest.nameindex --build OUT``) with warnings silenced, output discarded and a
time bound.  The result is cached as JSON, keyed by the Python version, the installed
distributions and this file.

Ranking of the modules that export a name (deterministic; the first wins):

1. with ``prefer``: a module the document already imports from, then a module whose top-level
   package the document imports from;
2. strength: a *strong* export (listed in ``__all__``, defined in the module's Python source, or
   re-exported explicitly: ``import X as X``, or a package ``__init__`` importing from its own
   package) beats the top-level module of that name (``import argon2``), which beats a *weak*
   export (a name of a C module without ``__all__``, e.g. ``select.select``, ``sqlite3``'s
   ``IntegrityError``);
3. packages installed for exampletest itself (its dependency closure: libcst, mypy, rich...)
   after the others;
4. the shorter dotted path (``sqlalchemy`` before ``sqlalchemy.sql.expression``);
5. the standard library before third-party packages;
6. the module name, alphabetically.

Modules and packages whose name starts with ``_``, test packages, development scripts and
vendored copies are never walked, nor deprecated or non-library standard modules; packages are
walked two levels below the top-level.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import glob
import hashlib
import importlib
import importlib.util
import inspect
import json
import logging
import os
import pkgutil
import re
import signal
import subprocess
import sys
import tempfile
import threading
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    from exampletest.model import Block

Kind = Literal["class", "function", "module", "other"]

FORMAT = 4
#: Seconds a build may take before it is abandoned (the index is then empty, and not cached).
BUILD_TIMEOUT = 60.0
#: How many package levels below a top-level package are walked (``a.b.c`` at most).
MAX_DEPTH = 2

STRONG, MODULE, WEAK = 0, 1, 2
_MODULE = "exampletest.nameindex"  # what the build subprocess runs
_MISSING = object()
_KIND_CODES: dict[str, Kind] = {"c": "class", "f": "function", "m": "module", "o": "other"}

#: Conventional import aliases; suggested only when the module is importable.
ALIASES: dict[str, str] = {
    "np": "numpy",
    "npt": "numpy.typing",
    "pd": "pandas",
    "pl": "polars",
    "plt": "matplotlib.pyplot",
    "mpl": "matplotlib",
    "sns": "seaborn",
    "sa": "sqlalchemy",
    "tf": "tensorflow",
    "nx": "networkx",
    "xr": "xarray",
    "pa": "pyarrow",
    "pq": "pyarrow.parquet",
    "px": "plotly.express",
    "go": "plotly.graph_objects",
    "sm": "statsmodels.api",
    "jnp": "jax.numpy",
    "da": "dask.array",
    "dd": "dask.dataframe",
    "st": "streamlit",
    "gpd": "geopandas",
    "ET": "xml.etree.ElementTree",
    "mp": "multiprocessing",
    "dt": "datetime",
    "tk": "tkinter",
}

#: The libraries the examples are checked against: always indexed, so that a document of
#: fragments that imports no library at all still gets their imports suggested (see
#: ``context._evident_packages``).
STACK_PACKAGES = (
    "pydantic",
    "pydantic_settings",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "jwt",
    "argon2",
)

#: Top-level modules whose import name differs from the PyPI distribution that provides them,
#: for when the distribution is not installed (installed metadata is asked first).
DISTRIBUTIONS: dict[str, str] = {
    "opentelemetry.sdk": "opentelemetry-sdk",
    "jwt": "PyJWT",
    "jose": "python-jose",
    "playhouse": "peewee",
    "pythonjsonlogger": "python-json-logger",
    "azure.identity": "azure-identity",
    "azure.core": "azure-core",
    "google.auth": "google-auth",
    "yaml": "PyYAML",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "magic": "python-magic",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "google.protobuf": "protobuf",
    "psycopg2": "psycopg2",
    "multipart": "python-multipart",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "attr": "attrs",
    "serial": "pyserial",
    "usb": "pyusb",
    "git": "GitPython",
    "github": "PyGithub",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "slugify": "python-slugify",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "telegram": "python-telegram-bot",
    "dns": "dnspython",
    "nacl": "PyNaCl",
    "zmq": "pyzmq",
    "Levenshtein": "python-Levenshtein",
    "fitz": "PyMuPDF",
    "win32api": "pywin32",
    "ldap": "python-ldap",
    "memcache": "python-memcached",
    "kafka": "kafka-python",
    "mysql": "mysql-connector-python",
    "MySQLdb": "mysqlclient",
    "gi": "PyGObject",
    "wx": "wxPython",
    "markdown_it": "markdown-it-py",
    "pydantic_settings": "pydantic-settings",
    "argon2": "argon2-cffi",
    "typing_extensions": "typing-extensions",
    "agents": "openai-agents",  # PyPI's "agents" is an unrelated TensorFlow project
    "key_value": "py-key-value-aio",
    "docket": "pydocket",
    "google.genai": "google-genai",
    "google.generativeai": "google-generativeai",
    "discord": "discord.py",
    "faiss": "faiss-cpu",
    "grpc": "grpcio",
    "websocket": "websocket-client",
    "Bio": "biopython",
    "umap": "umap-learn",
    "OpenGL": "PyOpenGL",
    "rest_framework": "djangorestframework",
    "corsheaders": "django-cors-headers",
    "weaviate": "weaviate-client",
    "pkg_resources": "setuptools",
    "win32com": "pywin32",
    "decouple": "python-decouple",
    "django_filters": "django-filter",
    "taggit": "django-taggit",
    "graphql_jwt": "django-graphql-jwt",
    "environ": "django-environ",
    "debug_toolbar": "django-debug-toolbar",
    "crispy_forms": "django-crispy-forms",
    "storages": "django-storages",
    "factory": "factory-boy",
    "strawberry": "strawberry-graphql",
}
#: Modules whose PyPI project has the same name (the common case, listed where docs often
#: need them): suggested with confidence.
SAME_NAME = frozenset(
    {"requests", "httpx", "fastapi", "pydantic", "sqlalchemy", "starlette", "uvicorn", "numpy"}
    | {"pandas", "redis", "celery", "openai", "anthropic", "boto3", "stripe", "sqlmodel"}
    | {"fastmcp", "mcp", "typer", "click", "rich", "loguru", "structlog", "tenacity"}
    | {"aiohttp", "asyncpg", "alembic", "pytest", "hypothesis", "attrs", "cattrs", "msgspec"}
    | {"torch", "transformers", "langchain", "instructor", "marvin", "litellm", "tiktoken"}
    | {"flask", "django", "jinja2", "orjson", "ujson", "polars", "pyarrow", "scipy", "matplotlib"}
    | {"motor", "pymongo", "beanie", "odmantic", "tortoise", "peewee", "ormar", "databases"}
    | {"slowapi", "passlib", "bcrypt", "itsdangerous", "authlib", "prometheus_client"}
    | {"sentry_sdk", "logfire", "arq", "dramatiq", "kombu", "aioredis", "elasticsearch"}
    | {"aiosqlite", "aiomysql", "psycopg", "pymysql", "greenlet", "uvloop", "httptools"}
    | {"pypdf", "graphene", "graphene_django", "drf_spectacular", "celery", "channels"}
    | {"pytest_asyncio", "pytest_mock", "freezegun", "faker", "respx", "responses"}
    | {"tensorflow", "keras", "sklearn_pandas", "xgboost", "lightgbm", "seaborn", "plotly"}
    | {"streamlit", "gradio", "fastapi_users", "sqladmin", "ariadne", "httpcore"}
)

#: Standard-library modules that are programs, demos or tests rather than libraries.
_STDLIB_SKIP = frozenset(
    {"antigravity", "this", "idlelib", "turtledemo", "test", "pydoc_data", "ensurepip"}
    # deprecated, gone from later Pythons (PEP 594 and others)
    | {"lib2to3", "distutils", "imp", "asynchat", "asyncore", "smtpd", "aifc", "audioop", "cgi"}
    | {"cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev"}
    | {"pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib"}
    | {"encodings"}  # codecs, found by name through the codec registry
)
#: Subpackage names never walked: tests, development scripts, vendored copies of other projects.
_SUBMODULE_SKIP = frozenset(
    {"test", "tests", "testing", "conftest", "setup", "codegen", "scripts", "examples", "docs"}
)


@dataclass(frozen=True)
class Suggestion:
    """The import that binds a missing name."""

    module: str
    name: str | None  # None: import the module itself
    alias: str | None
    kind: Kind

    @property
    def statement(self) -> str:
        if self.name is None:
            suffix = f" as {self.alias}" if self.alias else ""
            return f"import {self.module}{suffix}"
        suffix = f" as {self.alias}" if self.alias and self.alias != self.name else ""
        return f"from {self.module} import {self.name}{suffix}"


class NameIndex:
    """Public names of the environment, each with its exporting modules, best first."""

    def __init__(
        self,
        modules: list[str],
        names: dict[str, list[list[typing.Any]]],
        complete: bool = True,
        facts: object = None,
    ) -> None:
        self._modules = modules
        self._names = names
        self._importable: dict[str, bool] = {}
        #: False when the build failed or timed out: lookups then only know the alias table.
        self.complete = complete
        if isinstance(facts, dict):
            for kind, table in facts.items():
                if kind in _FACT_KINDS and isinstance(table, dict):
                    _FACTS.setdefault(kind, {str(k): str(v) for k, v in table.items()})

    def __len__(self) -> int:
        return len(self._names)

    @classmethod
    def load(
        cls,
        cache_dir: Path | None,
        *,
        packages: Iterable[str] | None = None,
        timeout: float = BUILD_TIMEOUT,
        before_build: Callable[[], object] | None = None,
        started: EarlyBuild | None = None,
    ) -> NameIndex:
        """The cached index for this environment, built (and cached) when missing or unreadable.
        ``before_build`` is called when it has to be built (work to overlap with the build).
        ``started``: a build begun before the documents were parsed; taken when it walks the
        same packages (the index never depends on when it was built), stopped otherwise.

        ``packages``: the third-party top-level packages whose names matter (those the
        documents import: no other package's names are ever suggested). The standard library
        is always walked; every other installed package is only known as ``import top``, which
        costs no import. None walks everything. A cached full index serves any subset.
        """
        key = environment_key()
        subset = None if packages is None else sorted(_third_party(packages))
        paths = [] if cache_dir is None else _paths(cache_dir, key, subset)
        taken = started is not None and started.subset == subset
        if started is not None and not taken:
            started.cancel()
        for path in paths:
            cached = cls._read(path, key)
            if cached is not None:
                with contextlib.suppress(OSError):
                    os.utime(path)  # recently used: pruned last
                if started is not None:
                    started.cancel()
                return cached
        if before_build is not None:
            before_build()
        if started is not None and taken:
            index = started.result()
        else:
            index = cls.build(timeout=timeout, packages=subset)
        if paths and index.complete:
            with contextlib.suppress(OSError):
                index._write(paths[-1], key)
                _prune(paths[-1].parent, key)
        return index

    @classmethod
    def start(
        cls,
        cache_dir: Path | None,
        packages: Iterable[str],
        timeout: float = BUILD_TIMEOUT,
    ) -> EarlyBuild | None:
        """Begin building the index ``load`` will want for ``packages`` (read from the raw
        text, before the documents are parsed: the build takes seconds that parsing can
        overlap); None when a cached index may serve them."""
        subset = sorted(_third_party(packages))
        paths = [] if cache_dir is None else _paths(cache_dir, environment_key(), subset)
        if any(p.exists() for p in paths):
            return None
        return EarlyBuild(subset, timeout)

    @classmethod
    def build(
        cls,
        *,
        timeout: float = BUILD_TIMEOUT,
        packages: Sequence[str] | None = None,
        started: Callable[[subprocess.Popen[bytes]], object] | None = None,
    ) -> NameIndex:
        """Build in a subprocess; an empty, incomplete index when that fails or runs out of time.
        ``started`` gets the process (to stop it early)."""
        from exampletest.sandbox import SAFE_PATH  # the parent's side only: builds stay lean

        with tempfile.TemporaryDirectory(prefix="exampletest-nameindex-") as tmp:
            out = Path(tmp) / "index.json"
            cmd = [sys.executable, *SAFE_PATH, "-W", "ignore", "-m", _MODULE, "--build", str(out)]
            if packages is not None:
                cmd += ["--packages", ",".join(packages)]
            # The directory holding this package: the build must find it even when it is not
            # installed (a source checkout on ``sys.path``).
            home = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")]))
            env = {**os.environ, "PYTHONPATH": path, "PYTHONWARNINGS": "ignore"}
            proc = subprocess.Popen(
                cmd,
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if started is not None:
                started(proc)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            finally:
                # The build's own workers and anything an imported module started die with it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            try:
                data = json.loads(out.read_text(encoding="utf-8"))
                return cls(data["modules"], data["names"], facts=data.get("facts"))
            except (OSError, ValueError, KeyError, TypeError):
                return cls([], {}, complete=False)

    @classmethod
    def _read(cls, path: Path, key: str) -> NameIndex | None:
        try:
            data = json.loads(path.read_bytes())
            if data["format"] != FORMAT or data["key"] != key:
                return None
            modules, names = data["modules"], data["names"]
            if not isinstance(modules, list) or not isinstance(names, dict):
                return None
            return cls(modules, names, facts=data.get("facts"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, path: Path, key: str) -> None:
        """Atomic: concurrent runs each replace the file with a complete one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": FORMAT, "key": key, **self.to_json()}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nameindex-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def to_json(self) -> dict[str, typing.Any]:
        return {"modules": self._modules, "names": self._names, "facts": _environment_facts()}

    def lookup(self, name: str, prefer: Sequence[str] = ()) -> Suggestion | None:
        """The import that most likely binds ``name``; ``prefer``: modules already imported from."""
        conventional = ALIASES.get(name)
        if conventional is not None and self._is_importable(conventional):
            return Suggestion(conventional, None, name, "module")
        entries = self._names.get(name)
        if not entries:
            return None
        best = entries[0]
        if prefer:
            exact = set(prefer)
            tops = {p.partition(".")[0] for p in prefer}
            best_rank = 2
            first = self._modules[best[0]].partition(".")[0]
            stdlib_first = best[2] == STRONG and first in sys.stdlib_module_names
            for entry in entries:
                module = self._modules[entry[0]]
                rank = 0 if module in exact else 1 if module.partition(".")[0] in tops else 2
                if rank < 2 and entry[2] == WEAK and stdlib_first:
                    continue  # a library's re-export of the standard object: the standard one
                if rank < best_rank:
                    best, best_rank = entry, rank
                    if rank == 0:
                        break
        module = self._modules[best[0]]
        if best[2] == MODULE:
            return Suggestion(module, None, None, "module")
        return Suggestion(module, name, None, _KIND_CODES[best[1]])

    def submodule(self, name: str, attributes: Iterable[str]) -> Suggestion | None:
        """``from sqlalchemy import event`` for ``event.listens_for(...)``: the one public
        module named ``name`` inside a package that exports every attribute the code reads of
        it (``engine.sync_engine`` is the reader's engine: ``sqlalchemy.engine`` has none)."""
        wanted = set(attributes)
        found = [
            Suggestion(parent, name, None, "module")
            for module in self._modules
            for parent, _, last in [module.rpartition(".")]
            if wanted and parent and last == name and not _private_path(module)
            and all(any(c.module == module for c in self.candidates(a)) for a in wanted)
        ]  # fmt: skip
        return found[0] if len(found) == 1 else None

    def origin(self, name: str, module: str) -> str:
        """The module defining ``module``'s class or function ``name`` ("" when not known)."""
        for module_id, _, _, *rest in self._names.get(name, ()):
            if self._modules[module_id] == module:
                return str(rest[0]) if rest else ""
        return ""

    def same_object(self, name: str, module: str, other: str) -> bool:
        """Whether ``module``'s ``name`` and ``other``'s are one object under two names
        (``fastapi.Request`` is ``starlette.requests.Request``): by the module defining it."""
        mine, theirs = self.origin(name, module), self.origin(name, other)
        return bool(mine) and mine == theirs

    def candidates(self, name: str) -> list[Suggestion]:
        """Every known import of ``name``, best first (for messages that list alternatives)."""
        out = []
        for module_id, kind, strength, *_ in self._names.get(name, ()):
            module = self._modules[module_id]
            if strength == MODULE:
                out.append(Suggestion(module, None, None, "module"))
            else:
                out.append(Suggestion(module, name, None, _KIND_CODES[kind]))
        return out

    def _is_importable(self, module: str) -> bool:
        known = self._importable.get(module)
        if known is None:
            known = self._importable[module] = is_importable(module)
        return known


class EarlyBuild:
    """A name index build running in a thread (its subprocess does the work)."""

    def __init__(self, subset: list[str], timeout: float) -> None:
        self.subset = subset
        self._proc: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._index: NameIndex | None = None
        self._thread = threading.Thread(target=self._build, args=(timeout,), daemon=True)
        self._thread.start()

    def _build(self, timeout: float) -> None:
        self._index = NameIndex.build(timeout=timeout, packages=self.subset, started=self._began)

    def _began(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        if self._cancelled.is_set():
            self._kill()

    def _kill(self) -> None:
        """The build's leader (Popen knows whether it was reaped); ``build`` then kills the
        rest of its process group."""
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()

    def result(self) -> NameIndex:
        self._thread.join()
        return self._index if self._index is not None else NameIndex([], {}, complete=False)

    def cancel(self) -> None:
        """Stop the build (not wanted after all); its index is never used."""
        self._cancelled.set()
        self._kill()


def is_importable(module: str) -> bool:
    """Whether the top-level package of ``module`` can be found, without importing it."""
    top = module.partition(".")[0]
    if not top.isidentifier():
        return False
    if sys.modules.get(top) is not None:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def installed_module(module: str) -> bool:
    """Whether ``module`` (``sqlalchemy.ext.asyncio``) is a module of an installed package,
    found on disk without importing anything (a submodule's parents would run their code:
    the names may come from an untrusted block)."""
    parts = module.split(".")
    if not all(p.isidentifier() for p in parts) or not is_importable(parts[0]):
        return False
    if len(parts) == 1:
        return True
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name: nothing is imported
    except (ImportError, ValueError, AttributeError):
        return False
    for folder in (spec.submodule_search_locations or []) if spec else []:
        base = os.path.join(folder, *parts[1:])
        if any(os.path.isfile(base + end) for end in ("/__init__.py", ".py", ".pyi")):
            return True
        if os.path.isdir(base) or glob.glob(glob.escape(base) + ".*.so"):
            return True  # a namespace package, an extension module
    return False


_IMPORT = re.compile(r"(?:^|;)[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)|import[ \t]+([^\n;#]+))", re.M)


def imported_packages(documents: Iterable[Sequence[Block]]) -> set[str]:
    """Top-level packages the documents import (absolute imports), read from the text: a
    warm run asks for them too and must not parse every block. A package only named in a
    string may be counted; that costs a package more in the index, never a wrong answer."""
    out: set[str] = set()
    for blocks in documents:
        for block in blocks:
            out |= {module.partition(".")[0] for module in imported_modules(block.code)}
    return out


def imported_modules(text: str) -> set[str]:
    """Modules (dotted, absolute) ``import`` and ``from`` lines of ``text`` name."""
    out: set[str] = set()
    for match in _IMPORT.finditer(text):
        names = [match.group(1)] if match.group(1) else match.group(2).split(",")
        for name in names:
            module = name.strip().split(" ")[0].strip("()").rstrip(".")
            if module and all(part.isidentifier() for part in module.split(".")):
                out.add(module)
    return out


def importable_spelling(top: str) -> str | None:
    """The importable top-level module that ``top`` names in another case (``SQLAlchemy`` ->
    ``sqlalchemy``): imports are case-sensitive, so the spelling is the bug. None otherwise."""
    if is_importable(top):
        return None
    spelled = _tops_by_lower().get(top.lower())
    return spelled if spelled is not None and is_importable(spelled) else None


#: Facts about the environment. The module -> distribution table takes a read of every
#: installed distribution's files (about a second): the index build makes it anyway, and it is
#: cached with the index, so a run that loads the index does not read them again.
_FACTS: dict[str, dict[str, str]] = {}
_FACT_KINDS = ("distributions",)


def _environment_facts() -> dict[str, dict[str, str]]:
    return {"distributions": _installed_distributions()}


def _tops_by_lower() -> dict[str, str]:
    """Lower-case name -> name of what may be a top-level module: the entries of the
    ``sys.path`` folders, one listing each (``pkgutil.iter_modules`` stats every entry and
    takes about a second). A candidate is checked with ``is_importable`` before it is used."""
    if "tops" not in _FACTS:
        names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
        for entry in filter(None, sys.path):
            with contextlib.suppress(OSError):
                names.update(
                    stem for item in os.scandir(entry) if (stem := item.name.partition(".")[0])
                )
        _FACTS["tops"] = {n.lower(): n for n in sorted(names) if n.isidentifier()}
    return _FACTS["tops"]


def distribution_for(module: str) -> str | None:
    """The PyPI distribution that provides ``module`` (``jwt`` -> ``PyJWT``), from installed
    metadata or the table; None for stdlib, for a namespace package's module no rule names
    (``azure``, ``google`` alone), and for a module neither knows: PyPI's project of the same
    name may be a stranger's (``agents`` is not the OpenAI Agents SDK)."""
    top = module.partition(".")[0]
    if not top.isidentifier():
        return None
    if top in sys.stdlib_module_names:
        return None
    for prefix in _parents(module):  # namespace packages: google.protobuf, not google
        if prefix in DISTRIBUTIONS:
            return DISTRIBUTIONS[prefix]
    # OpenTelemetry's parts are distributions of their own, whatever else of it is installed.
    otel = re.match(r"opentelemetry\.(exporter|instrumentation|propagators)\.(\w+)", module)
    if otel:
        return f"opentelemetry-{otel[1]}-{otel[2]}"
    installed = _installed_distributions().get(top)
    if installed is not None:
        return installed
    if top in NAMESPACES:  # azure.keyvault.secrets -> azure-keyvault-secrets
        parts = module.split(".")[: NAMESPACES[top]]
        return "-".join(parts) if len(parts) == NAMESPACES[top] else None
    # PyPI spells a module's underscores as hyphens (``pytest_asyncio`` -> pytest-asyncio).
    return DISTRIBUTIONS.get(top) or (top.replace("_", "-") if top in SAME_NAME else None)


#: Namespace packages whose distributions are named after their modules, with how many
#: levels of the module name the distribution's name takes.
NAMESPACES = {"azure": 3, "google": 3}


def _parents(module: str) -> Iterator[str]:
    """``a.b.c``, ``a.b`` - the dotted prefixes longer than the top-level."""
    while "." in module:
        yield module
        module = module.rpartition(".")[0]


def _installed_distributions() -> dict[str, str]:
    """Top-level module -> distribution, one deterministic choice when several provide it."""
    if "distributions" not in _FACTS:
        import importlib.metadata  # 40 ms: only when asked (the cached index does not need it)

        chosen = {}
        for top, dists in importlib.metadata.packages_distributions().items():
            names = sorted(set(dists), key=lambda d: (_normalise(d) != _normalise(top), d.lower()))
            chosen[top] = names[0]
        _FACTS["distributions"] = chosen
    return _FACTS["distributions"]


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def environment_key() -> str:
    """A hash of what the index depends on: interpreter, installed distributions, this builder.

    Distributions are read from the ``*.dist-info`` / ``*.egg-info`` entry names on ``sys.path``
    (they carry name and version) - much cheaper than parsing every METADATA file.
    """
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version}|{sys.implementation.cache_tag}|{sys.prefix}".encode())
    h.update(Path(__file__).read_bytes())
    entries: set[str] = set()
    for entry in filter(None, sys.path):
        with contextlib.suppress(OSError):
            for item in os.scandir(entry):
                if item.name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")):
                    entries.add(item.name)
    for name in sorted(entries):
        h.update(name.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


# --- Building (runs in the subprocess) --------------------------------------------------------


def _top_levels() -> list[str]:
    """Public top-level modules: the standard library's and the installed distributions'."""
    own = _MODULE.partition(".")[0]  # the checker is not part of the checked environment
    stdlib = {m for m in sys.stdlib_module_names if m not in _STDLIB_SKIP}
    third = set(_installed_distributions()) - {own}
    return sorted(m for m in stdlib | third if _public(m) and is_importable(m))


def _public(name: str) -> bool:
    parts = name.split(".")
    return all(
        p.isidentifier()
        and not p.startswith("_")
        and p not in _SUBMODULE_SKIP
        and "vendor" not in p.lower()
        for p in parts
    )


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except BaseException:  # a module may raise anything, SystemExit included
        return None


def _walk(top: str) -> Iterator[ModuleType]:
    """``top`` and its public submodules, MAX_DEPTH levels down, in name order."""
    module = _import(top)
    if module is None:
        return
    yield module
    path = getattr(module, "__path__", None)
    if path is None or top.count(".") >= MAX_DEPTH:
        return
    try:
        children = sorted({info.name for info in pkgutil.iter_modules(path)})
    except Exception:  # a broken package path
        return
    for child in children:
        if _public(child):
            yield from _walk(f"{top}.{child}")


def _source(module: ModuleType) -> str | None:
    """The module's Python source (the ``.py`` shipped next to a compiled module too).

    Read as text and searched for the names in question: parsing every module with ``ast``
    would cost seconds.
    """
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    path = Path(file)
    if path.suffix != ".py":
        path = path.with_name(f"{path.name.partition('.')[0]}.py")
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _exported(module: ModuleType) -> dict[str, int]:
    """The public names ``module`` means to export, each with its strength.

    ``__all__`` is authoritative.  Without it a name is strong when the source defines or
    assigns it, re-exports it as ``X as X`` (PEP 484's convention), or (in a package) the
    object comes from the package's own submodules.  Names of C modules, and names a Python
    module got from a C or private module (``sqlite3``'s ``IntegrityError``), are weak.
    Anything else (``os`` in ``shutil``, ``Any`` in most modules) was imported for use.
    """
    declared = getattr(module, "__all__", None)
    if isinstance(declared, list | tuple) and all(isinstance(n, str) for n in declared):
        return {n: STRONG for n in declared if not n.startswith("_")}
    public = sorted(n for n in dir(module) if not n.startswith("_"))
    source = _source(module)
    if source is None:
        return dict.fromkeys(public, WEAK)
    reexported = _reexports(source)
    defined = _defined(source)
    own = f"{module.__name__}." if hasattr(module, "__path__") else None
    out: dict[str, int] = {}
    for name in public:
        if name in reexported:
            out[name] = STRONG
            continue
        obj = _attribute(module, name)
        if inspect.ismodule(obj) or (_kind(obj) == "o" and not name[0].isupper()):
            continue  # modules imported for use; application objects (``app``, ``db``)
        origin = getattr(obj, "__module__", None)
        if own is not None and isinstance(origin, str) and origin.startswith(own):
            out[name] = STRONG
        elif not isinstance(origin, str) or origin == module.__name__ or _private(origin):
            out[name] = STRONG if inspect.isfunction(obj) or name in defined else WEAK
        elif name in defined:  # an alias of another module's object
            out[name] = STRONG
    return out


#: ``as NAME``; a re-export when the imported name before it is NAME too.
_AS = re.compile(r"[ \t]as[ \t]+(\w+)")
#: A definition or assignment at module level or one block down.
_DEFINITION = re.compile(
    r"^(    |\t)?(?:(?:async )?def (\w+)|class (\w+)|(\w+) *(?::[^=\n]*)?=(?!=))", re.MULTILINE
)
#: A module-level statement (the start of its line).
_TOP_STATEMENT = re.compile(r"^[A-Za-z_@]", re.MULTILINE)
_BLOCKS = ("if ", "elif ", "else:", "try:", "except", "finally:", "with ")


def _defined(source: str) -> set[str]:
    """Names defined or assigned at module level, also inside module-level ``if``/``try``."""
    tops: list[int] | None = None
    out = set()
    for match in _DEFINITION.finditer(source):
        indent, *names = match.groups()
        name = next(n for n in names if n)
        if indent:  # inside a block: count it unless the block is a class or a function
            if tops is None:
                tops = [m.start() for m in _TOP_STATEMENT.finditer(source)]
            i = bisect.bisect(tops, match.start()) - 1
            if i < 0 or not source.startswith(_BLOCKS, tops[i]):
                continue
        out.add(name)
    return out


def _reexports(source: str) -> set[str]:
    """Names imported as ``X as X``: an explicit re-export (PEP 484's convention)."""
    out = set()
    for match in _AS.finditer(source):
        name = match.group(1)
        start = match.start()
        before = source[start - len(name) - 1 : start]
        if before[1:] == name and not (before[0].isalnum() or before[0] in "_."):
            out.add(name)
    return out


def _private_path(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


def _private(module: str) -> bool:
    return module.rpartition(".")[2].startswith("_")


def _attribute(module: object, name: str) -> object:
    try:
        return getattr(module, name)
    except BaseException:  # lazy attributes may raise anything
        return _MISSING


def _text(value: object) -> str:
    """A value an object claims (its ``__module__``) when it is a string: some lie."""
    return value if isinstance(value, str) else ""


def _kind(obj: object) -> str | None:
    """Kind code of an exported object; None for things that are not API (TypeVars, loggers)."""
    if inspect.ismodule(obj):
        return "m"
    if isinstance(obj, type):
        return "c"
    if inspect.isroutine(obj):
        return "f"
    if isinstance(obj, typing.TypeVar | typing.ParamSpec | typing.TypeVarTuple | logging.Logger):
        return None
    return "o"


_Row = tuple[str, str, str, int, str]


def _module_entries(top: str) -> list[_Row]:
    """(name, module, kind code, strength, the module defining the object) for everything
    ``top`` and its submodules export: ``fastapi.Request`` is defined in
    ``starlette.requests``, one object under two names, not two rivals."""
    warnings.simplefilter("ignore")
    rows: list[_Row] = []
    for module in _walk(top):
        if module.__name__ == top:  # importable: ``import top`` binds the name
            rows.append((top, top, "m", MODULE, ""))
        for name, strength in sorted(_exported(module).items()):
            obj = _attribute(module, name)
            if obj is _MISSING and hasattr(module, "__path__"):
                # A submodule named in ``__all__``: an attribute only once something imported it.
                obj = _import(f"{module.__name__}.{name}") or _MISSING
            kind = None if obj is _MISSING else _kind(obj)
            if kind is None:
                continue
            if kind == "m" and strength != STRONG:
                continue  # a module imported for use, not one offered
            if strength == STRONG and kind in ("c", "f") and _stdlib_reexport(module, obj):
                strength = WEAK  # ``fastapi.concurrency.asynccontextmanager`` is contextlib's
            origin = _attribute(obj, "__module__") if kind in ("c", "f") else ""
            rows.append((name, module.__name__, kind, strength, _text(origin)))
    return rows


def _stdlib_reexport(module: ModuleType, obj: object) -> bool:
    """A library module offering a standard-library class or function: a convenience, not its
    own API; a document that forgot the import meant the standard module."""
    if module.__name__.partition(".")[0] in sys.stdlib_module_names:
        return False
    origin = getattr(obj, "__module__", None)
    return isinstance(origin, str) and origin.partition(".")[0] in sys.stdlib_module_names


def _tool_modules() -> frozenset[str]:
    """Top-level modules of the distributions installed for this checker (libcst, mypy, rich).

    They are in the environment because of the checker, not because the documents use them: in
    a tie (``Integer``: ``sqlalchemy`` or ``libcst``) they lose.
    """
    import importlib.metadata

    requires: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        needs = requires.setdefault(_normalise(dist.metadata["Name"] or ""), set())
        for requirement in dist.requires or ():
            match = _REQUIREMENT.match(requirement)
            if match and "extra" not in requirement.partition(";")[2]:
                needs.add(_normalise(match.group(0)))
    own = _normalise(_installed_distributions().get(_MODULE.partition(".")[0], ""))
    tool: set[str] = set()
    pending = list(requires.get(own, ()))
    while pending:
        name = pending.pop()
        if name in requires and name not in tool:
            tool.add(name)
            pending.extend(requires[name])
    return frozenset(
        top
        for top, dists in importlib.metadata.packages_distributions().items()
        if all(_normalise(d) in tool for d in dists)
    )


_REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _rank(row: _Row, tool: frozenset[str]) -> tuple[int, bool, int, bool, str]:
    _, module, _, strength, _ = row
    top = module.partition(".")[0]
    stdlib = top in sys.stdlib_module_names
    return (strength, top in tool, module.count("."), not stdlib, module)


def _paths(cache_dir: Path, key: str, subset: list[str] | None) -> list[Path]:
    """Where an index that serves ``subset`` may be cached: the full index serves any subset;
    the last path is where a new build goes."""
    full = cache_dir / f"nameindex-{key}.json"
    if subset is None:
        return [full]
    digest = hashlib.sha256("\0".join(subset).encode()).hexdigest()[:12]
    return [full, cache_dir / f"nameindex-{key}-{digest}.json"]


#: Subset indexes kept per environment (each set of documents' packages has its own).
MAX_SUBSETS = 8


def _prune(cache_dir: Path, key: str) -> None:
    """Keep the environment's most recently used subset indexes, remove the others."""
    subsets = sorted(
        cache_dir.glob(f"nameindex-{key}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in subsets[MAX_SUBSETS:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _third_party(packages: Iterable[str]) -> set[str]:
    return {
        p for p in packages if p.isidentifier() and p not in sys.stdlib_module_names and _public(p)
    }


def build_data(
    workers: int | None = None, packages: Sequence[str] | None = None
) -> dict[str, typing.Any]:
    """The index data for this interpreter (imports what it walks: call in a subprocess).

    With ``packages``, only the standard library and those packages are walked; the other
    installed top-level packages get their ``import top`` row without being imported.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    tops = _top_levels()
    shallow: list[str] = []
    if packages is not None:
        wanted = set(packages)
        shallow = [t for t in tops if t not in sys.stdlib_module_names and t not in wanted]
        tops = [t for t in tops if t in sys.stdlib_module_names or t in wanted]
    # one core is left to the mypy run that analyses the libraries meanwhile (the prewarm):
    # a first run waits for that, not for the index
    workers = workers or max(1, min(4, (os.cpu_count() or 1) - 1))
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
    # Third-party packages first: they are the long imports (a long one last would be a tail).
    order = sorted(tops, key=lambda t: (t in sys.stdlib_module_names, t))
    chunks = pool.map(_module_entries, order)
    tool = _tool_modules()  # while the workers import
    rows = [row for chunk in chunks for row in chunk]
    rows += [(top, top, "m", MODULE, "") for top in shallow]
    # No waiting for workers: an imported module's threads could keep one alive forever.
    pool.shutdown(wait=False, cancel_futures=True)
    rows = sorted(set(rows), key=lambda r: (r[0], *_rank(r, tool)))
    modules = sorted({r[1] for r in rows})
    ids = {m: i for i, m in enumerate(modules)}
    names: dict[str, list[list[typing.Any]]] = {}
    for name, module, kind, strength, origin in rows:
        names.setdefault(name, []).append([ids[module], kind, strength, origin])
    return {"modules": modules, "names": names, "facts": _environment_facts()}


def main(argv: Sequence[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(prog="python -m exampletest.nameindex")
    parser.add_argument("--build", metavar="OUT", type=Path, required=True)
    parser.add_argument("--packages", help="comma-separated third-party packages to walk")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    packages = None if args.packages is None else [p for p in args.packages.split(",") if p]
    data = build_data(packages=packages)
    tmp = args.build.with_suffix(".part")
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, args.build)
    os._exit(0)  # imported modules may have started threads that would block a normal exit


if __name__ == "__main__":
    main()
