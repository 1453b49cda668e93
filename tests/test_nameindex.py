"""The name index, built from the packages really installed in this environment."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from exampletest.nameindex import (
    NameIndex,
    Suggestion,
    distribution_for,
    environment_key,
    is_importable,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nameindex-cache")


@pytest.fixture(scope="module")
def index(cache_dir: Path) -> NameIndex:
    built = NameIndex.load(cache_dir)
    assert built.complete
    return built


@pytest.mark.parametrize(
    ("name", "statement", "kind"),
    [
        ("select", "from sqlalchemy import select", "function"),
        ("HTTPException", "from fastapi import HTTPException", "class"),
        ("Dict", "from typing import Dict", "other"),
        ("IntegrityError", "from sqlalchemy.exc import IntegrityError", "class"),
        ("argon2", "import argon2", "module"),
        ("datetime", "from datetime import datetime", "class"),
        ("sa", "import sqlalchemy as sa", "module"),
        ("Depends", "from fastapi import Depends", "function"),
        ("BaseModel", "from pydantic import BaseModel", "class"),
        ("AsyncSession", "from sqlalchemy.ext.asyncio import AsyncSession", "class"),
        ("status", "from fastapi import status", "module"),
        ("json", "import json", "module"),
        ("Enum", "from enum import Enum", "class"),
        ("UUID", "from uuid import UUID", "class"),
    ],
)
def test_missing_names_resolve_to_their_import(
    index: NameIndex, name: str, statement: str, kind: str
) -> None:
    found = index.lookup(name)
    assert found is not None
    assert found.statement == statement
    assert found.kind == kind


def test_field_is_pydantic_in_a_document_that_imports_pydantic(index: NameIndex) -> None:
    found = index.lookup("Field", prefer=["pydantic"])
    assert found == Suggestion("pydantic", "Field", None, "function")
    assert found.statement == "from pydantic import Field"


def test_prefer_breaks_ties(index: NameIndex) -> None:
    # Without context the standard library wins a tie at equal depth; the document's own imports
    # decide otherwise.
    assert index.lookup("Field") == Suggestion("dataclasses", "Field", None, "class")
    # fastapi re-exports starlette's Request: the shorter public path wins ...
    request = index.lookup("Request")
    assert request is not None and request.statement == "from fastapi import Request"
    # ... unless the document imports from starlette.requests, or only from starlette
    exact = index.lookup("Request", prefer=["starlette.requests"])
    assert exact is not None and exact.statement == "from starlette.requests import Request"
    same_package = index.lookup("Request", prefer=["starlette.middleware.cors"])
    assert same_package is not None and same_package.module.startswith("starlette.")
    # A package whose top level the document imports from beats a shorter path elsewhere.
    sqlite = index.lookup("IntegrityError", prefer=["sqlite3"])
    assert sqlite is not None and sqlite.statement == "from sqlite3 import IntegrityError"


def test_canonical_home_beats_private_and_deep_modules(index: NameIndex) -> None:
    modules = [s.module for s in index.candidates("select")]
    assert modules[0] == "sqlalchemy"
    assert "sqlalchemy.sql.expression" in modules
    assert not any(part.startswith("_") for m in modules for part in m.split("."))


@pytest.mark.parametrize("name", ["user_id", "User", "Base", "app", "db", "logger", "get_db"])
def test_application_names_are_unknown(index: NameIndex, name: str) -> None:
    assert index.lookup(name) is None


def test_conventional_alias_needs_an_importable_module(
    index: NameIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = "import numpy as np" if is_importable("numpy") else None
    found = index.lookup("np")
    assert (found.statement if found else None) == expected
    (tmp_path / "numpy").mkdir()
    (tmp_path / "numpy" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = NameIndex([], {})
    assert fresh.lookup("np") == Suggestion("numpy", None, "np", "module")
    assert fresh.lookup("np").statement == "import numpy as np"  # type: ignore[union-attr]


def test_builds_are_deterministic(index: NameIndex) -> None:
    assert NameIndex.build().to_json() == index.to_json()


def test_cache_is_reused_and_loads_fast(index: NameIndex, cache_dir: Path) -> None:
    path = cache_dir / f"nameindex-{environment_key()}.json"
    assert path.is_file()
    start = time.perf_counter()
    again = NameIndex.load(cache_dir)
    assert time.perf_counter() - start < 1.0  # ~15 ms measured; a build takes seconds
    assert again.to_json() == index.to_json()


def test_corrupt_cache_is_rebuilt(index: NameIndex, tmp_path: Path) -> None:
    path = tmp_path / f"nameindex-{environment_key()}.json"
    path.write_bytes(b'{"format": 1, "key": "truncated')
    rebuilt = NameIndex.load(tmp_path)
    assert rebuilt.complete
    assert rebuilt.to_json() == index.to_json()
    assert json.loads(path.read_bytes())["names"] == index.to_json()["names"]
    assert not list(tmp_path.glob(".nameindex-*"))  # no temporary file left behind


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\xff\xfe", b"[1, 2]", b'{"format": 1}', b'{"format": 1, "key": "%s", "names": []}'],
)
def test_unusable_cache_is_ignored(tmp_path: Path, garbage: bytes) -> None:
    key = environment_key()
    (tmp_path / f"nameindex-{key}.json").write_bytes(garbage.replace(b"%s", key.encode()))
    # A tiny time bound: the cache is not trusted, the (abandoned) build gives an empty index.
    assert not NameIndex.load(tmp_path, timeout=0.05).complete


def test_build_out_of_time_gives_an_empty_uncached_index(tmp_path: Path) -> None:
    start = time.perf_counter()
    index = NameIndex.load(tmp_path, timeout=0.05)
    assert time.perf_counter() - start < 5
    assert not index.complete
    assert index.lookup("select") is None
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("jwt", "PyJWT"),  # installed: from metadata
        ("yaml", "PyYAML"),
        ("sqlalchemy.orm", "SQLAlchemy"),
        ("argon2", "argon2-cffi"),
        ("cv2", "opencv-python"),  # not installed: the table
        ("PIL", "Pillow"),
        ("sklearn", "scikit-learn"),
        ("bs4", "beautifulsoup4"),
        ("dateutil", "python-dateutil"),
        ("jose", "python-jose"),
        ("google.protobuf", "protobuf"),
        ("psycopg2", "psycopg2"),
        ("multipart", "python-multipart"),
        ("some_unheard_of_module", None),  # PyPI's project of that name may be a stranger's
        ("agents", "openai-agents"),  # PyPI's "agents" is one
        ("fastmcp", "fastmcp"),  # a project known to share its module's name
        ("pytest_asyncio", "pytest-asyncio"),  # PyPI spells it with a hyphen
        ("os.path", None),  # the standard library
        ("playhouse.shortcuts", "peewee"),  # PyPI's "playhouse" is a squatted placeholder
        ("pythonjsonlogger", "python-json-logger"),
        ("azure.keyvault.secrets", "azure-keyvault-secrets"),  # a namespace, by convention
        ("azure.identity", "azure-identity"),
        ("azure", None),  # the namespace alone names no distribution
        ("opentelemetry.sdk.trace", "opentelemetry-sdk"),  # not the installed API's
        ("opentelemetry.exporter.otlp.proto.grpc", "opentelemetry-exporter-otlp"),
    ],
)
def test_distribution_for(module: str, distribution: str | None) -> None:
    assert distribution_for(module) == distribution


def test_is_importable_does_not_import() -> None:
    assert "antigravity" not in sys.modules
    assert is_importable("antigravity")  # importing it would open a web browser
    assert "antigravity" not in sys.modules
    assert is_importable("sqlalchemy.orm")
    assert not is_importable("no_such_module_at_all")
    assert not is_importable("")
    assert not is_importable("1abc")


def test_a_subset_walks_only_the_named_packages(tmp_path: Path) -> None:
    subset = NameIndex.load(tmp_path, packages={"sqlalchemy", "os"})
    assert subset.complete
    select = subset.lookup("select")
    assert select is not None and select.statement == "from sqlalchemy import select"
    assert subset.lookup("Path") == Suggestion("pathlib", "Path", None, "class")  # stdlib: always
    assert subset.lookup("BaseModel") is None  # pydantic was not asked for: not walked
    pydantic = subset.lookup("pydantic")  # ...but every installed package is importable by name
    assert pydantic is not None and pydantic.statement == "import pydantic"
    cached = list(tmp_path.glob("nameindex-*-*.json"))
    assert len(cached) == 1  # cached under its own name, beside (not instead of) a full index
    assert NameIndex.load(tmp_path, packages={"os", "sqlalchemy"}).to_json() == subset.to_json()


def test_a_cached_full_index_serves_any_subset(index: NameIndex, cache_dir: Path) -> None:
    start = time.perf_counter()
    subset = NameIndex.load(cache_dir, packages={"pydantic"})
    assert time.perf_counter() - start < 1.0
    assert subset.to_json() == index.to_json()


def test_subset_indexes_are_bounded_least_recently_used_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exampletest.nameindex as nameindex

    monkeypatch.setattr(nameindex, "MAX_SUBSETS", 2)

    def files() -> set[Path]:
        return set(tmp_path.glob("nameindex-*-*.json"))

    NameIndex.load(tmp_path, packages={"sqlalchemy"})
    (sqlalchemy,) = files()
    time.sleep(0.05)
    NameIndex.load(tmp_path, packages={"jwt"})
    (jwt,) = files() - {sqlalchemy}
    time.sleep(0.05)
    NameIndex.load(tmp_path, packages={"sqlalchemy"})  # used again: the most recent
    time.sleep(0.05)
    NameIndex.load(tmp_path, packages={"argon2"})  # a third set: the least recently used goes
    left = files()
    assert len(left) == 2
    assert sqlalchemy in left
    assert jwt not in left


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[list[str] | None]:
    """Record each build's packages (the real build still runs)."""
    builds: list[list[str] | None] = []
    real = NameIndex.build.__func__  # type: ignore[attr-defined]

    def counted(cls: type[NameIndex], /, **kwargs: object) -> NameIndex:
        builds.append(kwargs.get("packages"))  # type: ignore[arg-type]
        return real(cls, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(NameIndex, "build", classmethod(counted))
    return builds


def test_a_build_started_early_is_taken_for_the_same_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from the raw text before parsing, the build is the one ``load`` makes for the
    same packages: one build, the same index, cached as usual."""
    builds = _count_builds(monkeypatch)
    early = NameIndex.start(tmp_path, {"sqlalchemy", "os"})
    assert early is not None
    index = NameIndex.load(tmp_path, packages={"os", "sqlalchemy"}, started=early)
    assert builds == [["sqlalchemy"]]
    assert index.complete
    select = index.lookup("select")
    assert select is not None and select.statement == "from sqlalchemy import select"
    assert len(list(tmp_path.glob("nameindex-*-*.json"))) == 1
    assert NameIndex.start(tmp_path, {"sqlalchemy"}) is None  # cached now: nothing to start


def test_a_build_started_for_other_packages_is_stopped_and_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocks import other packages than the text suggested: the early build is killed
    and the index is the one for the blocks' packages (never depends on timing)."""
    builds = _count_builds(monkeypatch)
    early = NameIndex.start(tmp_path, {"sqlalchemy", "jwt"})
    assert early is not None
    index = NameIndex.load(tmp_path, packages={"sqlalchemy"}, started=early)
    assert builds == [["jwt", "sqlalchemy"], ["sqlalchemy"]]
    assert index.lookup("PyJWTError") is None  # jwt was not asked for: not walked
    assert not early.result().complete  # killed: its (empty) index is never used


def test_an_installed_submodule_is_found_on_disk_without_importing_it() -> None:
    """The prewarm's and the smoke stage's check of a dotted module name (from an untrusted
    block): found by its file, nothing imported (importing it would run its parents)."""
    import subprocess

    probe = (
        "import sys\nfrom exampletest.nameindex import installed_module as m\n"
        "print(m('sqlalchemy.ext.asyncio'), m('sqlalchemy'), m('json.decoder'),"
        " m('sqlalchemy.no_such_module'), m('no_such_package.x'), m('sqlalchemy.'),"
        " m('pydantic_core._pydantic_core'), 'sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "True", "True", "False", "False", "False", "True", "False"]


def test_an_object_that_lies_about_its_module_is_indexed_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class whose ``__module__`` is no string (or raises) has no known origin; the rest of
    its package is indexed, and a re-export keeps the module defining it (one object under
    two names is no rival)."""
    from exampletest.nameindex import _module_entries

    package = tmp_path / "oddlib"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from oddlib.core import Real\n\n\nclass Odd:\n    pass\n\n\n"
        "Odd.__module__ = ['not', 'a', 'string']\n__all__ = ['Odd', 'Real']\n"
    )
    (package / "core.py").write_text("class Real:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = {(name, module): origin for name, module, _, _, origin in _module_entries("oddlib")}
    assert rows[("Odd", "oddlib")] == ""
    assert rows[("Real", "oddlib")] == rows[("Real", "oddlib.core")] == "oddlib.core"
    real = [[0, "c", 0, rows[("Real", "oddlib")]], [1, "c", 0, rows[("Real", "oddlib.core")]]]
    index = NameIndex(["oddlib", "oddlib.core"], {"Real": real})
    assert index.same_object("Real", "oddlib", "oddlib.core")
