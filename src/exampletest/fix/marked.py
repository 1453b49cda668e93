"""An example marked as the wrong way stays as written while the rest of its block is
modernised: a rewrite's changes that touch a marked statement are undone, line by line.

A "❌ Before (slow)" function beside its "After (fast)" twin in one block: the twin gets
``select()``, the "before" keeps its ``db.query()``. What is left is checked like any fix.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable

from exampletest.fix.imports import add_imports, imports_added
from exampletest.symbols import source_lines, tree_or_none


def marked_lines(code: str, lines: Iterable[int]) -> set[int]:
    """The code lines of each simple statement that holds one of ``lines`` (an intentional
    finding's: the statement's other lines belong to the example too)."""
    wanted = set(lines)
    tree = tree_or_none(code)
    if tree is None or not wanted:
        return wanted
    out = set(wanted)
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not hasattr(node, "body"):
            span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            if wanted.intersection(span):
                out.update(span)
    return out


def spare(before: str, after: str, marked: set[int]) -> str:
    """``after`` with every change that replaces or removes a ``marked`` line of ``before``
    undone. ``before`` itself when what is left changes only imports (an import the undone
    change needed) or no longer parses."""
    if not marked:
        return after
    spared = _undone(before, after, marked)
    if spared == after:
        return after
    # The imports as they were, with the ones the rewrite adds: it may have dropped one only
    # the marked example still uses (`List`, once ruff wrote `list[int]` there).
    tree = tree_or_none(before)
    imports = {
        n
        for s in (tree.body if tree is not None else [])
        if isinstance(s, ast.Import | ast.ImportFrom)
        for n in range(s.lineno, (s.end_lineno or s.lineno) + 1)
    }
    try:
        added = imports_added(before, after)
    except (SyntaxError, ValueError):
        return before
    spared = add_imports(_undone(before, after, marked | imports), added)
    if _without_imports(spared) in (None, _without_imports(before)):
        return before
    return spared


def _undone(before: str, after: str, marked: set[int]) -> str:
    """``after`` with each change that replaces or removes a ``marked`` line undone."""
    old, new = source_lines(before), source_lines(after)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        touched = tag != "insert" and any(i1 < n <= i2 for n in marked)
        out += old[i1:i2] if touched else new[j1:j2]
    return "".join(out)


def _without_imports(code: str) -> str | None:
    tree = tree_or_none(code)
    if tree is None:
        return None
    kept = [s for s in tree.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    return ast.dump(ast.Module(body=kept, type_ignores=[]))
