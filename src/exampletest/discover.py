"""Which Markdown files a run covers: paths given, folders searched, excludes applied."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence

SUFFIXES = (".md", ".markdown", ".mdx")


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Files to check (sorted, unique) and one-line errors for paths that cannot be used.

    Folders are walked without following symlinked folders, so a symlink loop cannot trap the
    walk; a file given explicitly is checked whatever its suffix.
    """
    files: dict[str, None] = {}
    errors: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(
                path,
                onerror=lambda e: errors.append(f"{e.filename}: cannot read folder: {e.strerror}"),
            ):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
                for name in sorted(names):
                    if name.lower().endswith(SUFFIXES):
                        files.setdefault(_display(os.path.join(root, name)))
        elif os.path.exists(path):
            files.setdefault(_display(path))
        elif os.path.islink(path):
            errors.append(f"{path}: broken symbolic link")
        else:
            errors.append(f"{path}: no such file or folder")
    kept = [f for f in files if not any(_match(f, pat) for pat in exclude)]
    return kept, errors


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _match(path: str, pattern: str) -> bool:
    norm = path.replace(os.sep, "/")
    return fnmatch.fnmatch(norm, pattern) or fnmatch.fnmatch(norm, f"*/{pattern}")
