"""Fixes as unified diffs of the document, in its own line numbers (ready for ``patch -p0``)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace

from exampletest.model import Document, Report
from exampletest.writeback import WriteError, replace_blocks


def document_diff(doc: Document, replacements: dict[int, str]) -> str:
    """Unified diff of the document, in its own line numbers, for ``patch -p0``."""
    old = doc.raw.decode("utf-8").splitlines(keepends=True)
    new = replace_blocks(doc, replacements).decode("utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, fromfile=doc.path, tofile=doc.path))


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
