"""Which Markdown files a run covers: paths given, folders searched, excludes applied."""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Sequence

#: Markdown, MDX, and Cursor's rule files (``.cursor/rules/*.mdc``: Markdown with front matter).
SUFFIXES = (".md", ".markdown", ".mdx", ".mdc")
#: Folders of tools, caches and environments: their Markdown is not the project's. Other
#: hidden folders are searched: agent docs live in ``.claude/``, ``.agents/``, ``.github/``.
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", ".tox", ".nox", ".eggs", ".cache", ".idea",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".exampletest_cache", ".ipynb_checkpoints",
        "node_modules", "__pycache__", "site-packages",
    }
)  # fmt: skip


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Files to check (sorted, unique) and one-line errors for paths that cannot be used.

    Folders are walked without following symlinked folders, so a symlink loop cannot trap the
    walk; a file given explicitly is checked whatever its suffix.
    """
    files: dict[str, None] = {}
    errors: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = 0  # Markdown files in the folder, those given already too
            for root, dirs, names in os.walk(
                path,
                onerror=lambda e: errors.append(f"{e.filename}: cannot read folder: {e.strerror}"),
            ):
                dirs[:] = sorted(d for d in dirs if not _skipped(os.path.join(root, d)))
                for name in sorted(names):
                    if not name.lower().endswith(SUFFIXES):
                        continue
                    found_at = os.path.join(root, name)
                    found += 1
                    if _unprintable(found_at):
                        errors.append(f"{_shown(found_at)}: file name is not valid UTF-8; skipped")
                    else:
                        files.setdefault(_display(found_at))
            if not found:
                kinds = ", ".join(f"*{suffix}" for suffix in SUFFIXES)
                errors.append(f"{path}: no Markdown files ({kinds}) in this folder")
        elif os.path.exists(path) and _unprintable(path):
            errors.append(f"{_shown(path)}: file name is not valid UTF-8; skipped")
        elif os.path.exists(path):
            files.setdefault(_display(path))
        else:
            errors.append(f"{_shown(path)}: {_why_missing(path)}")
    kept = [f for f in files if not any(_match(f, pat) for pat in exclude)]
    if files and not kept:
        errors.append(f"all {len(files)} Markdown files found match an exclude pattern")
    return kept, errors


def _skipped(folder: str) -> bool:
    """A tool's folder, or a virtual environment under any name."""
    name = os.path.basename(folder)
    return name in SKIPPED_FOLDERS or os.path.exists(os.path.join(folder, "pyvenv.cfg"))


def _why_missing(path: str) -> str:
    """Why a path that does not exist for us does not: the words a user can act on."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if os.path.islink(path):
            return "broken symbolic link"
        if exc.errno != errno.ENOENT:
            return f"cannot read: {exc.strerror}"
    return "no such file or folder"


def _unprintable(path: str) -> bool:
    """A name with bytes that are not UTF-8 (kept by Python as surrogates): no report, cache
    key or terminal can carry it as it is."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shown(path: str) -> str:
    """A path as one line of an error message (undecodable bytes and newlines escaped)."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\n", "\\n").replace("\r", "\\r")


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _match(path: str, pattern: str) -> bool:
    norm = path.replace(os.sep, "/")
    return fnmatch.fnmatch(norm, pattern) or fnmatch.fnmatch(norm, f"*/{pattern}")
