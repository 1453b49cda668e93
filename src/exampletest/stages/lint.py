"""Lint stage: one ``ruff check`` over every block of the run, rules chosen for documentation.

The selection keeps what tells a reader something about the example (pyflakes, pyupgrade,
naive/deprecated datetime, FastAPI idioms, bugbear, bandit) and leaves out formatting taste.
Undefined names (F821) belong to the context stage, which knows about earlier blocks.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from exampletest.context import imports_own_file, opens_own_file
from exampletest.model import Block, Category, Finding
from exampletest.stages import EXCERPT_RULES, NEWER_PYTHON, StageError

SELECT = ("F", "E9", "UP", "DTZ", "FAST", "B", "S", "RUF013", "ASYNC")
IGNORE = ("F821", "F822", "B008", "S101", "E999")
_STALE_PREFIXES = ("UP", "FAST002", "DTZ003", "DTZ004", "RUF013")
#: Upgrades that are a choice, not a replacement of something outdated, and whose fix changes
#: behaviour: ``(str, Enum)`` -> ``StrEnum`` changes what ``str()`` and f-strings print.
BEHAVIOUR_CHANGING = frozenset({"UP042"})
#: pyupgrade rules that prefer one spelling of the same current API to another, replacing
#: nothing deprecated or legacy: ``timezone.utc`` is as current as its alias ``UTC``, and
#: ``"{}".format(x)`` as an f-string. Style, not stale. (Textual, as ruff's rules are.)
TASTE = frozenset(
    {"UP003", "UP009", "UP011", "UP012", "UP013", "UP014", "UP015", "UP017", "UP018", "UP028"}
    | {"UP030", "UP031", "UP032", "UP033", "UP034", "UP037", "UP038", "UP039", "UP040"}
    | {"UP043", "UP044", "UP046", "UP047", "UP049"}
)
# F704 (``await`` outside a function) is not here: docs assume a notebook or asyncio REPL, and
# the smoke run allows top-level ``await``.
_ADDED_IN = re.compile(r"\(syntax was added in Python (3\.\d+)\)")
_BROKEN = frozenset({"F632", "F707", "F722", "F823", "E902"})


@functools.cache
def ruff_binary() -> str:
    """ruff's executable, found the way ``python -m ruff`` finds it, run directly: that saves
    an interpreter start (40 ms) per call, and the fix engine makes several. ``ruff`` on PATH
    when the package is not importable (then starting it fails as any missing tool does)."""
    try:
        from ruff import find_ruff_bin  # type: ignore[import-untyped]  # no py.typed

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("ruff") or "ruff"


def ruff_command(args: Sequence[str], target_version: str | None = None) -> list[str]:
    """``ruff check`` as exampletest runs it: no user config, no cache, findings are not errors."""
    target = target_version or f"py{sys.version_info.major}{sys.version_info.minor}"
    return [ruff_binary(), "check", "--isolated", "--no-cache", "--exit-zero",
            "--target-version", target, *args]  # fmt: skip


def category(code: str) -> Category:
    if code.startswith("S"):
        return Category.SECURITY
    if code.startswith(_STALE_PREFIXES) and code not in BEHAVIOUR_CHANGING | TASTE:
        return Category.STALE
    if code in EXCERPT_RULES:
        return Category.INCOMPLETE
    if code in _BROKEN:
        return Category.BROKEN
    return Category.STYLE


def check(
    blocks: Sequence[tuple[Block, str, str]],
    workdir: Path,
    *,
    select: Sequence[str] = SELECT,
    ignore: Sequence[str] = IGNORE,
    target_version: str | None = None,
    timeout_s: float = 300.0,
) -> dict[tuple[str, int], list[Finding]]:
    """Lint blocks as written: (block, a unique module name, the imports of earlier blocks it
    relies on, linted in front of it and reported nowhere)."""
    lint_dir = workdir / "lint"
    lint_dir.mkdir(parents=True, exist_ok=True)
    lint_dir = lint_dir.resolve()  # once: ruff names each file as it was given
    by_file: dict[str, Block] = {}
    offsets: dict[str, int] = {}
    for block, module, header in blocks:
        path = lint_dir / f"{module}.py"
        path.write_text(header + block.code, encoding="utf-8")
        by_file[str(path)] = block
        offsets[str(path)] = header.count("\n")
    results: dict[tuple[str, int], list[Finding]] = {
        (b.doc_path, b.index): [] for b, _, _ in blocks
    }
    if not by_file:
        return results
    args = ["--output-format", "json", "--select", ",".join(select), "--ignore", ",".join(ignore)]
    cmd = ruff_command([*args, *by_file], target_version)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise StageError(f"ruff did not finish within {timeout_s:.0f} s") from None
    except OSError as exc:
        raise StageError(f"ruff could not be started: {exc}") from None
    try:
        if proc.returncode != 0:  # with --exit-zero, only ruff's own failure is non-zero
            raise ValueError
        items = json.loads(proc.stdout or "[]")
    except ValueError:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        why = next((x.strip() for x in lines if "Cause:" in x), lines[-1] if lines else "no output")
        raise StageError(f"ruff failed (exit {proc.returncode}): {why}") from None
    syntax: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        code = item.get("code")
        filename = str(item.get("filename", ""))
        if filename not in by_file:
            filename = str(Path(filename).resolve())
        found = by_file.get(filename)
        if found is not None and code == "invalid-syntax":
            syntax.setdefault(filename, []).append(item)
        if found is None or not code or code == "invalid-syntax":  # the context stage's job
            continue
        block = found
        if code in ("B015", "B018") and block.session:
            continue  # a transcript's bare expression shows its value: the point, not a slip
        loc, end = item.get("location") or {}, item.get("end_location") or {}
        shift = offsets[filename]
        row = int(loc.get("row", 1)) - shift
        if row < 1:
            continue  # about the earlier blocks' imports: theirs to report
        if code == "F811" and imports_own_file(block.code, row):
            continue  # several files checked as one module: apart, nothing is defined twice
        if code == "F404" and opens_own_file(block.code, row):
            continue  # at the start of its own file, where it belongs
        fix = item.get("fix") or {}
        results[(block.doc_path, block.index)].append(
            Finding.at(
                block,
                row,
                int(loc.get("column", 1)),
                end_code_line=int(end.get("row", loc.get("row", 1))) - shift,
                end_code_col=int(end.get("column", loc.get("column", 1))),
                stage="lint",
                tool="ruff",
                rule=code,
                category=category(code),
                message=item.get("message", ""),
                suggestion=fix.get("message") or None,
            )
        )
    for filename, errors in syntax.items():
        block = by_file[filename]
        newer = _newer_python(block, errors, offsets[filename])
        if newer is not None:
            results[(block.doc_path, block.index)].append(newer)
    return results


def _newer_python(block: Block, errors: list[dict[str, Any]], shift: int) -> Finding | None:
    """When every syntax error ruff sees is syntax a later Python added, one ``env`` finding
    at the first: ruff parses the block as valid Python of that version."""
    versions = [_ADDED_IN.search(str(e.get("message", ""))) for e in errors]
    if not errors or not all(versions):
        return None
    needed = max((m.group(1) for m in versions if m), key=lambda v: int(v.split(".")[1]))
    first, loc = errors[0], errors[0].get("location") or {}
    what = _ADDED_IN.sub("", str(first.get("message", ""))).strip()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Finding.at(
        block,
        int(loc.get("row", 1)) - shift,
        int(loc.get("column", 1)),
        stage="lint",
        tool="ruff",
        rule=NEWER_PYTHON,
        category=Category.ENV,
        message=f"needs Python {needed} or later ({what}); this environment runs Python "
        f"{here}, where it is a syntax error, so the block is not type-checked or run here",
        suggestion=f"check the document with Python {needed} or later",
    )
