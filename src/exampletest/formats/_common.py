"""Building blocks every format shares, so that all formats agree on order, levels and text."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from exampletest.model import Block, BlockResult, Category, Finding, Report, Status, reaches

#: Finding categories in the order formats list them (worst first).
CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)

#: Severity of a category, in SARIF's words; GitHub says "notice" for "note".
LEVELS: dict[Category, str] = {
    Category.BROKEN: "error",
    Category.SECURITY: "error",
    Category.STALE: "warning",
    Category.INCOMPLETE: "warning",
    Category.ENV: "note",
    Category.STYLE: "note",
}


def failing_blocks(report: Report, fail_on: str) -> list[BlockResult]:
    return [b for b in report.blocks() if reaches(b.status, fail_on)]


def ordered_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Real findings first, then by position, then by category severity."""
    return sorted(
        findings,
        key=lambda f: (f.intentional, f.line, f.column, CATEGORY_ORDER.index(f.category), f.rule),
    )


def is_notable(result: BlockResult) -> bool:
    """A block worth showing by default: a bad status or a finding that is not intentional.

    Security and style findings never decide a status, so an ``ok`` block can still carry them.
    """
    if result.status not in (Status.OK, Status.SKIPPED):
        return True
    return any(not f.intentional for f in result.findings) or result.fix is not None


def block_name(path: str, block: Block) -> str:
    """The stable name of a block in CI tools: ``path:fence_line``."""
    return f"{path}:{block.fence_line}"


def finding_summary(finding: Finding) -> str:
    """One plain-text line for a finding (JUnit bodies, logs)."""
    text = f"{finding.line}:{finding.column} {finding.category} {finding.tool}:{finding.rule} "
    text += finding.message
    if finding.suggestion:
        text += f" -> {finding.suggestion}"
    if finding.intentional:
        text += " (intentional)"
    if finding.known:
        text += " (baseline)"
    return text


def rule_title(rule: str) -> str | None:
    """Title of one of exampletest's own rules, when the rule pack knows it."""
    try:
        rules = importlib.import_module("exampletest.rules")
    except ImportError:
        return None
    meta = getattr(rules, "RULES", {}).get(rule)
    title = getattr(meta, "title", None)
    return title if isinstance(title, str) else None


@dataclass(frozen=True)
class SourceLine:
    """A line of a block as the document shows it."""

    doc_line: int
    text: str
    offset: int  # document columns before ``text`` starts (0 when ``text`` is the full line)


def source_lines(block: Block) -> list[SourceLine]:
    """The block's lines with their document line numbers, rebuilt from code + line_map.

    With ``prefixes`` the exact document line is restored; otherwise the dedented code is
    shown and ``offset`` says how far to shift a document column to land in it.
    """
    rows: list[SourceLine] = []
    for i, text in enumerate(block.code.split("\n")):
        if i >= len(block.line_map):
            break
        if i < len(block.prefixes):
            rows.append(SourceLine(block.line_map[i], block.prefixes[i] + text, 0))
        else:
            offset = block.col_offsets[i] if i < len(block.col_offsets) else 0
            rows.append(SourceLine(block.line_map[i], text, offset))
    return rows


def caret_span(finding: Finding, row: SourceLine) -> tuple[int, int]:
    """0-based start index and width of the caret under ``row`` for a finding on that line."""
    start = max(finding.column - 1 - row.offset, 0)
    width = 1
    if finding.end_line == finding.line and finding.end_column is not None:
        width = max(finding.end_column - finding.column, 1)
    # Keep the caret on the text (a column past the end points just after it).
    start = min(start, len(row.text))
    return start, width


@dataclass(frozen=True)
class DiffRow:
    kind: str  # " " context, "-" removed, "+" added
    old_line: int | None
    new_line: int | None
    text: str


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    rows: tuple[DiffRow, ...]

    @property
    def new_text(self) -> str:
        """The lines that replace the hunk's old range, newline-terminated."""
        return "".join(r.text + "\n" for r in self.rows if r.kind != "-")

    @property
    def old_end(self) -> int:
        return self.old_start + self.old_count - 1


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_diff(diff: str) -> list[Hunk]:
    """Hunks of a unified diff, with old/new document line numbers on every row."""
    hunks: list[Hunk] = []
    header: tuple[int, int, int, int] | None = None
    rows: list[DiffRow] = []
    old = new = 0

    def close() -> None:
        if header is not None:
            hunks.append(Hunk(*header, rows=tuple(rows)))

    for line in diff.splitlines():
        m = _HUNK.match(line)
        if m:
            close()
            a, b, c, d = m.groups()
            header = (int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d))
            rows = []
            old, new = header[0], header[2]
        elif header is None or line.startswith("\\"):
            continue  # file headers before the first hunk, "\ No newline at end of file"
        elif line.startswith("-"):
            rows.append(DiffRow("-", old, None, line[1:]))
            old += 1
        elif line.startswith("+"):
            rows.append(DiffRow("+", None, new, line[1:]))
            new += 1
        else:
            rows.append(DiffRow(" ", old, new, line[1:]))
            old += 1
            new += 1
    close()
    return hunks
