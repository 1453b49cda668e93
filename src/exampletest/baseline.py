"""``--baseline FILE``: adopt the tool on a repository with existing findings, then ratchet.

A finding is keyed by its document, a fingerprint of its block's code, its stage, rule and
normalised message -- never by line numbers, so editing one block or the prose around it does
not disturb the entries of the others. A baselined finding is reported (``"baseline": true``)
but, like an intentional one, never decides a block's status, so every report format and the
exit code agree. Entries that match nothing any more are counted as stale, so that the file
only ever shrinks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exampletest.model import BlockResult, Finding, Report, Status
from exampletest.verdict import status

VERSION = 1

#: (document, block fingerprint, stage, rule, normalised message)
Key = tuple[str, str, str, str, str]
_FIELDS = ("document", "block", "stage", "rule", "message")


class BaselineError(ValueError):
    """The baseline file cannot be used: one line saying why (exit code 2)."""


def fingerprint(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def normalise(message: str) -> str:
    """Drop what moves when unrelated text moves: numbers (line numbers among them), spacing."""
    return " ".join(re.sub(r"\d+", "#", message).split())


def document_key(doc_path: str, base: Path) -> str:
    """The document as seen from the baseline file's folder, so any working directory works."""
    return Path(os.path.relpath(os.path.abspath(doc_path), base.resolve())).as_posix()


def finding_key(document: str, result: BlockResult, f: Finding) -> Key:
    return (document, fingerprint(result.block.code), f.stage, f.rule, normalise(f.message))


@dataclass
class Baseline:
    path: Path
    entries: Counter[Key]


def record(report: Report, path: Path) -> Baseline:
    """Today's non-intentional findings, as a baseline to be written at ``path``."""
    base = path.parent
    entries: Counter[Key] = Counter()
    for doc in report.documents:
        document = document_key(doc.path, base)
        for result in doc.blocks:
            entries.update(
                finding_key(document, result, f) for f in result.findings if not f.intentional
            )
    return Baseline(path, entries)


def save(baseline: Baseline) -> None:
    from exampletest import __version__

    rows = [
        {**dict(zip(_FIELDS, key, strict=True)), "count": n}
        for key, n in sorted(baseline.entries.items())
    ]
    data = {"version": VERSION, "tool": f"exampletest {__version__}", "findings": rows}
    try:
        baseline.path.write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise BaselineError(f"baseline {baseline.path}: cannot write: {exc.strerror}") from None


def load(path: Path) -> Baseline:
    where = f"baseline {path}"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"{where}: no such file (create it with: exampletest baseline --output {path})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(
            f"{where}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{where}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        found = data.get("version") if isinstance(data, dict) else None
        raise BaselineError(f"{where}: unsupported version {found!r} (expected {VERSION})")
    rows = data.get("findings")
    if not isinstance(rows, list):
        raise BaselineError(f"{where}: 'findings' must be a list")
    entries: Counter[Key] = Counter()
    for i, row in enumerate(rows):
        ok = isinstance(row, dict) and all(isinstance(row.get(k), str) for k in _FIELDS)
        count = row.get("count", 1) if isinstance(row, dict) else None
        if not ok or isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise BaselineError(
                f"{where}: findings[{i}] needs string {', '.join(_FIELDS)} and a positive count"
            )
        entries[(row["document"], row["block"], row["stage"], row["rule"], row["message"])] += count
    return Baseline(path, entries)


def apply(report: Report, baseline: Baseline) -> int:
    """Mark the report's baselined findings known, re-derive statuses; returns the stale count.

    An entry is stale when its document was checked and either no block has its code any more
    or a block with that code was checked by the entry's stage without the finding showing up.
    Entries of documents or stages this run did not look at are not stale.
    """
    base = baseline.path.parent
    remaining = Counter(baseline.entries)
    looked: dict[tuple[str, str], list[BlockResult]] = {}
    for doc in report.documents:
        document = document_key(doc.path, base)
        for result in doc.blocks:
            looked.setdefault((document, fingerprint(result.block.code)), []).append(result)
            marked = []
            for f in result.findings:
                key = finding_key(document, result, f)
                if not f.intentional and remaining[key] > 0:
                    remaining[key] -= 1
                    f = f.replace(known=True)
                marked.append(f)
            result.findings = marked
            if result.status is not Status.SKIPPED:
                result.status = status(result.block, [f for f in marked if not f.known], True)
    documents = {document_key(d.path, base) for d in report.documents}
    stale = 0
    for (document, block, stage, _rule, _msg), n in remaining.items():
        if n <= 0 or document not in documents:
            continue
        results = looked.get((document, block))
        if results is None or any(_stage_ran(r, stage) for r in results):
            stale += n
    return stale


def _stage_ran(result: BlockResult, stage: str) -> bool:
    """Whether the block was checked by ``stage`` (context and rules run with any stage)."""
    if stage in result.stages:
        return result.stages[stage] == "ran"
    return any(v == "ran" for v in result.stages.values())
