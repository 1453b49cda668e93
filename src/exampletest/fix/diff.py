"""Fixes as unified diffs of the document, in its own line numbers (ready for ``patch -p0``)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import replace

from exampletest.model import Document, Report
from exampletest.writeback import WriteError, replace_blocks, split_keepends


def document_diff(doc: Document, replacements: dict[int, str]) -> str:
    """Unified diff of the document, in its own line numbers, for ``patch -p0``.

    Only the rewritten blocks change, so only their window (with 3 lines of context) is
    compared: a report with a hundred fixes in long documents stays cheap.
    """
    old = ["".join(p) for p in split_keepends(doc.raw.decode("utf-8"))]
    new = ["".join(p) for p in split_keepends(replace_blocks(doc, replacements).decode("utf-8"))]
    by_index = {b.index: b for b in doc.blocks}
    blocks = [by_index[i] for i in replacements]
    lo = max(0, min(b.start_line for b in blocks) - 1 - 3)
    hi = min(len(old), max(b.end_line for b in blocks) + 3)
    hunks = difflib.unified_diff(
        old[lo:hi], new[lo : hi + len(new) - len(old)], fromfile=doc.path, tofile=doc.path
    )
    return "".join(_shift(line, lo) for line in hunks)


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
