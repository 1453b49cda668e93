"""Fixes as unified diffs of the document, in its own line numbers (ready for ``patch -p0``)."""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from exampletest.model import Document, Report
from exampletest.writeback import WriteError, document_lines, replace_blocks, split_keepends


def document_diff(doc: Document, replacements: dict[int, str]) -> str:
    """Unified diff of the document, in its own line numbers, for ``patch -p0``.

    Only the rewritten blocks change, so only their window (with 3 lines of context) is
    compared, and only that window of the new text is split into lines: a report with a
    hundred fixes in long documents stays cheap.
    """
    old, offsets = _old(doc.raw)
    new_text = replace_blocks(doc, replacements).decode("utf-8")
    by_index = {b.index: b for b in doc.blocks}
    blocks = [by_index[i] for i in replacements]
    lo = max(0, min(b.start_line for b in blocks) - 1 - 3)
    hi = min(len(old), max(b.end_line for b in blocks) + 3)
    head = offsets[lo]  # unchanged text before and after the window
    tail = offsets[-1] - offsets[hi]
    window = _lines(new_text[head : len(new_text) - tail])
    hunks = difflib.unified_diff(old[lo:hi], window, fromfile=doc.path, tofile=doc.path)
    return "".join(_terminated(_shift(line, lo)) for line in hunks)


def _terminated(line: str) -> str:
    """A last line without a newline (a document that does not end in one), as ``diff``
    writes it: the line, then ``\\ No newline at end of file``; else no patch tool takes it."""
    if line.endswith(("\n", "\r")):
        return line
    return f"{line}\n\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    return ["".join(p) for p in split_keepends(text) if p != ("", "")]


@functools.lru_cache(maxsize=32)
def _old(raw: bytes) -> tuple[list[str], list[int]]:
    """The document's lines and where each starts in its text (one split for all its fixes)."""
    lines = ["".join(p) for p in document_lines(raw) if p != ("", "")]
    return lines, list(itertools.accumulate(map(len, lines), initial=0))


def _shift(line: str, offset: int) -> str:
    m = _HUNK.match(line)
    if m is None or not offset:
        return line
    a, b, c, d = m.groups()
    return f"@@ -{int(a) + offset}{b or ''} +{int(c) + offset}{d or ''} @@{line[m.end() :]}"


_HUNK = re.compile(r"@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def attach_diffs(report: Report, documents: Sequence[Document]) -> None:
    """Fixes from the cache carry no diff (it depends on where the block sits): make it."""
    by_path = {d.path: d for d in documents}
    for doc_result in report.documents:
        doc = by_path.get(doc_result.path)
        for r in doc_result.blocks:
            fix = r.fix
            if doc is None or fix is None or fix.diff or fix.replacement == r.block.code:
                continue
            try:
                diff = document_diff(doc, {r.block.index: fix.replacement})
            except WriteError:
                continue
            r.fix = replace(fix, diff=diff)
