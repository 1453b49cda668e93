"""Shared fixtures: small documents written to tmp_path, and a CLI runner in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DOC = ROOT / "docs" / "agents" / "backend-engineer-python.md"


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder per test process: the name index is built once, not once per test.
    Results are keyed by content, so sharing them between tests changes no outcome."""
    folder = tmp_path_factory.mktemp("exampletest-cache")
    old = os.environ.get("EXAMPLETEST_CACHE_DIR")
    os.environ["EXAMPLETEST_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("EXAMPLETEST_CACHE_DIR", None)
    else:
        os.environ["EXAMPLETEST_CACHE_DIR"] = old


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Work in an empty folder (no pyproject, own cache), like a fresh project."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture
def write_doc(in_tmp: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = in_tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_json(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, dict[str, Any]]]:
    from exampletest.cli import main

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        code = main(["run", "--format", "json", *args])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else {}

    return run
