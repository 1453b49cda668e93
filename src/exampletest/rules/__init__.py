"""exampletest's own rule pack: staleness of the FastAPI/SQLAlchemy/Pydantic/PyJWT/stdlib APIs.

``check(block)`` runs every rule over one block and returns findings in document coordinates;
``RULES`` is the rule metadata (id -> Rule) for renderers and the fix engine.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from exampletest.model import Block, Category, Finding
from exampletest.rules import auth, fastapi, pydantic, sqlalchemy, stdlib  # noqa: F401 (register)
from exampletest.rules.base import REGISTRY, STDLIB, Context, Hit, Rule, version_in
from exampletest.symbols import parse_tree

__all__ = ["RULES", "Rule", "check"]

RULES: Mapping[str, Rule] = MappingProxyType(
    {rid: meta for rid, (meta, _) in sorted(REGISTRY.items())}
)


def check(block: Block, versions: Mapping[str, str | None] | None = None) -> list[Finding]:
    """Run every rule over ``block``; ``versions`` maps distribution -> installed version.

    With ``versions`` given, a distribution missing from it counts as not installed; with
    None the versions are read from the installed distributions.
    """
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return []  # the lint stage reports the syntax error
    ctx = Context(block.code, tree, versions)
    fallback = _import_fallbacks(ctx.nodes)
    findings: dict[tuple[str, int, int], Finding] = {}
    for meta, run in REGISTRY.values():
        note = _gate(meta, ctx)
        if note is None:
            continue
        for hit in run(ctx):
            if getattr(hit.node, "lineno", 0) in fallback:
                continue
            finding = _finding(block, ctx, meta, hit, note)
            findings.setdefault((meta.id, finding.line, finding.column), finding)
    return sorted(findings.values(), key=lambda f: (f.line, f.column, f.rule))


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _import_fallbacks(nodes: Iterable[ast.AST]) -> set[int]:
    """Lines of ``except ImportError:`` handlers: the old API a block falls back to for old
    versions (``from pydantic import BaseSettings``) is not what runs on the installed ones."""
    lines: set[int] = set()
    for node in nodes:
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            names = {k.id if isinstance(k, ast.Name) else getattr(k, "attr", "") for k in kinds}
            if names & _IMPORT_ERRORS:
                end = handler.end_lineno or handler.lineno
                lines.update(range(handler.lineno, end + 1))
    return lines


def _gate(meta: Rule, ctx: Context) -> str | None:
    """None: the rule does not apply; otherwise a note to append to its messages."""
    have = ctx.version(meta.library)
    if have is None:
        if meta.library != STDLIB and ctx.imports(*meta.modules):
            return f" ({meta.library} is not installed here, so its version was not checked)"
        return None
    return "" if version_in(meta.versions, have) else None


def _finding(block: Block, ctx: Context, meta: Rule, hit: Hit, note: str) -> Finding:
    category = hit.category or meta.category
    if note and category is Category.BROKEN:
        category = Category.STALE  # "broken" needs the installed version as evidence
    line, col, end_line, end_col = _span(ctx, hit)
    return Finding.at(
        block,
        line,
        col,
        stage="rules",
        tool="exampletest",
        rule=meta.id,
        category=category,
        message=hit.message + note,
        end_code_line=end_line,
        end_code_col=end_col,
        suggestion=hit.suggestion,
    )


def _span(ctx: Context, hit: Hit) -> tuple[int, int, int, int]:
    """1-based character (line, col, end_line, end_col) of a hit; ast gives UTF-8 offsets."""
    node = hit.node
    last = hit.end_node or node
    line = getattr(node, "lineno", 1)
    end_line = getattr(last, "end_lineno", None) or line
    start = getattr(node, "col_offset", 0)
    end = getattr(last, "end_col_offset", None)
    if end is None:
        end = start
    if hit.name_only and isinstance(node, ast.Attribute):
        line = end_line
        start = _char_col(ctx, end_line, end) - 1 - len(node.attr)
        return line, start + 1, end_line, _char_col(ctx, end_line, end)
    return line, _char_col(ctx, line, start), end_line, _char_col(ctx, end_line, end)


def _char_col(ctx: Context, line: int, byte_offset: int) -> int:
    text = ctx.lines[line - 1] if 0 < line <= len(ctx.lines) else ""
    return len(text.encode()[:byte_offset].decode(errors="ignore")) + 1
