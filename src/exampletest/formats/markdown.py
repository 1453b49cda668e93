"""A pull-request comment: status table, findings list, fixes as suggestions or diffs.

GitHub caps a comment at 65,536 characters, so the findings list is cut at ``MAX_FINDINGS``.
"""

from __future__ import annotations

import re

from exampletest.formats._common import (
    CATEGORY_ORDER,
    block_name,
    failing_blocks,
    ordered_findings,
    parse_diff,
)
from exampletest.model import STATUS_ORDER, Report

MAX_FINDINGS = 200

_ICONS = {
    "broken": "🔴",
    "stale": "🟠",
    "incomplete": "🟣",
    "env": "🔵",
    "security": "🔴",
    "style": "⚪",
    "ok": "🟢",
    "skipped": "⚫",
}

_SPECIAL = re.compile(r"([\\*_\[\]<>|#])")


def escape(text: str) -> str:
    """Escape Markdown outside `code spans` (messages quote code in backticks)."""
    parts = re.split(r"(`[^`\n]+`)", text.replace("\n", " "))
    return "".join(p if i % 2 else _SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def fenced(body: str, info: str) -> str:
    """A fence longer than any backtick run inside ``body``."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body.rstrip(chr(10))}\n{fence}"


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """Summary first (what a reviewer reads), details folded."""
    failing = failing_blocks(report, fail_on)
    blocks = report.blocks()
    verdict = (
        f"❌ {len(failing)} of {len(blocks)} blocks reach `--fail-on {fail_on}`"
        if failing
        else f"✅ {len(blocks)} blocks, none reaches `--fail-on {fail_on}`"
    )
    out = [f"## exampletest report\n\n{verdict} ({report.duration_s:.1f} s)\n"]

    statuses = [s for s in STATUS_ORDER if report.status_counts()[s]]
    out.append("| document | " + " | ".join(f"{_ICONS[s]} {s}" for s in statuses) + " |")
    out.append("|---|" + "---:|" * len(statuses))
    for doc in report.documents:
        counts = {s: 0 for s in statuses}
        for b in doc.blocks:
            counts[b.status] += 1
        cells = " | ".join(str(counts[s] or "") for s in statuses)
        out.append(f"| `{doc.path}` | {cells} |")
    totals = " | ".join(f"**{report.status_counts()[s]}**" for s in statuses)
    out.append(f"| **total** | {totals} |\n")

    errors = report.errors + [f"`{d.path}`: {e}" for d in report.documents for e in d.errors]
    if errors:
        out.append("**Errors**\n")
        out.extend(f"- {e}" for e in errors)
        out.append("")

    real: list[str] = []
    intentional: list[str] = []
    for doc in report.documents:
        for b in doc.blocks:
            for f in ordered_findings(b.findings):
                line = (
                    f"- {_ICONS[f.category]} **{f.category}** `{doc.path}:{f.line}:{f.column}` "
                    f"`{f.rule}` {escape(f.message)}"
                )
                if f.suggestion:
                    line += f" — _{escape(f.suggestion)}_"
                (intentional if f.intentional else real).append(line)
    if real:
        found = report.category_counts()
        by_cat = ", ".join(f"{found[c]} {c}" for c in CATEGORY_ORDER if found[c])
        out.append(f"<details open><summary><b>Findings</b> ({by_cat})</summary>\n")
        out.extend(real[:MAX_FINDINGS])
        if len(real) > MAX_FINDINGS:
            out.append(f"- … and {len(real) - MAX_FINDINGS} more (see the full report)")
        out.append("\n</details>\n")
    if intentional:
        out.append(
            f"<details><summary>{len(intentional)} intentional finding"
            f"{'s' if len(intentional) != 1 else ''} (marked deliberate in the document)"
            "</summary>\n"
        )
        out.extend(intentional[:MAX_FINDINGS])
        out.append("\n</details>\n")

    fixes = [(d.path, b) for d in report.documents for b in d.blocks if b.fix and b.fix.verified]
    if fixes:
        out.append("### Verified fixes\n")
    for path, b in fixes:
        assert b.fix is not None
        hunks = parse_diff(b.fix.diff)
        where = f"`{block_name(path, b.block)}`"
        resolves = ", ".join(f"`{r}`" for r in b.fix.resolves)
        if len(hunks) == 1 and hunks[0].old_count:
            h = hunks[0]
            out.append(
                f"{where} lines {h.old_start}\N{EN DASH}{h.old_end} (resolves {resolves}):\n"
            )
            out.append(fenced(h.new_text, "suggestion") + "\n")
        else:
            out.append(f"{where} (resolves {resolves}):\n")
            out.append(fenced(b.fix.diff, "diff") + "\n")
    return "\n".join(out).rstrip("\n") + "\n"
