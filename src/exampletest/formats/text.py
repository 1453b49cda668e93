"""The terminal report: code frames in document coordinates, the verified fix, a summary.

Rendered with rich into a string. Without colour rich is told it is not writing to a
terminal, so the output holds no control codes (CI logs, snapshots).
"""

from __future__ import annotations

import io
import shutil
import sys
from types import TracebackType

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from exampletest.formats._common import (
    CATEGORY_ORDER,
    failing_blocks,
    is_notable,
    ordered_findings,
    source_lines,
)
from exampletest.formats._common import caret_span as _caret_span
from exampletest.model import (
    STATUS_ORDER,
    BlockResult,
    DocumentResult,
    Finding,
    Fix,
    Report,
    Status,
)

STATUS_STYLE: dict[str, str] = {
    "broken": "bold red",
    "stale": "bold yellow",
    "incomplete": "bold magenta",
    "env": "bold blue",
    "security": "bold red",
    "style": "cyan",
    "ok": "bold green",
    "skipped": "dim",
}

#: Width used without colour, so CI logs and snapshots do not depend on the terminal.
PLAIN_WIDTH = 100


def _console(color: bool) -> Console:
    width = PLAIN_WIDTH
    if color:
        width = min(max(shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns, 60), 160)
    return Console(
        file=io.StringIO(),
        force_terminal=color,
        color_system="truecolor" if color else None,
        no_color=not color,
        width=width,
        highlight=False,
        emoji=False,
        soft_wrap=True,  # long messages stay on one line; terminals and CI logs wrap them
        legacy_windows=False,
    )


def _export(console: Console, *renderables: RenderableType) -> str:
    for r in renderables:
        console.print(r)
    out = console.file
    assert isinstance(out, io.StringIO)
    text = out.getvalue()
    if console.no_color:  # rich pads cells and lines with spaces; plain logs need none of them
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return text


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """Non-ok blocks (all with ``verbose >= 1``), each finding as a frame, then the summary."""
    parts: list[RenderableType] = []
    for doc in report.documents:
        parts.extend(_document(doc, verbose))
    for error in report.errors:
        parts.append(Text.assemble(("error: ", "bold red"), error))
    parts.append(_summary(report, fail_on))
    return _export(_console(color), *parts)


def render_summary(report: Report, *, color: bool = False, fail_on: str = "broken") -> str:
    """Only the summary tables and verdict (``--quiet``)."""
    return _export(_console(color), _summary(report, fail_on))


def _document(doc: DocumentResult, verbose: int) -> list[RenderableType]:
    shown = [b for b in doc.blocks if verbose >= 1 or is_notable(b)]
    if not shown and not doc.errors and verbose < 1:
        return []
    counts = {s: 0 for s in STATUS_ORDER}
    for b in doc.blocks:
        counts[b.status] += 1
    head = Text()
    head.append(doc.path, style="bold underline")
    head.append(f"  {len(doc.blocks)} block{'s' if len(doc.blocks) != 1 else ''}: ")
    head.append_text(
        Text(", ").join(Text(f"{n} {s}", style=STATUS_STYLE[s]) for s, n in counts.items() if n)
        if doc.blocks
        else Text("no Python blocks", style="dim")
    )
    out: list[RenderableType] = [Text(""), head]
    out.extend(Text.assemble("  ", ("document error: ", "bold red"), e) for e in doc.errors)
    for b in shown:
        out.append(_block(b, verbose))
    return out


def _block(result: BlockResult, verbose: int) -> RenderableType:
    block = result.block
    title = Text("  ")
    title.append(f" {result.status.upper()} ", style=f"reverse {STATUS_STYLE[result.status]}")
    title.append(f"  block {block.index}", style="bold")
    if block.heading:
        title.append(f"  {block.heading}", style="italic")
    title.append(f"  lines {block.start_line}-{block.end_line}", style="dim")
    stages = [f"{s} {v}" for s, v in result.stages.items() if v != "ran"]
    if stages:
        title.append(f"  ({', '.join(stages)})", style="dim")
    parts: list[RenderableType] = [Text(""), title]
    if block.skip_reason and result.status is Status.SKIPPED:
        parts.append(Text(f"    skipped: {block.skip_reason}", style="dim"))
    for finding in ordered_findings(result.findings):
        if finding.intentional and verbose < 1:
            parts.append(_finding_head(finding))
        else:
            parts.append(Group(_finding_head(finding), _frame(result, finding)))
    if result.fix is not None:
        parts.append(_fix(result.fix))
    return Group(*parts)


def _finding_head(finding: Finding) -> Text:
    style = "dim" if finding.intentional else STATUS_STYLE[finding.category]
    head = Text("    ")
    head.append(f"{finding.line}:{finding.column}", style="bold")
    head.append(f" {finding.category:<10}", style=style)
    head.append(f" {finding.tool}:{finding.rule}", style="dim")
    head.append("  ")
    head.append(finding.message, style="dim" if finding.intentional else "")
    if finding.intentional:
        head.append("  [intentional]", style="italic dim")
    if finding.suggestion:
        head.append("\n      suggestion: ", style="green")
        head.append(finding.suggestion.replace("\n", "\n" + " " * 18))  # under its first line
    return head


def _frame(result: BlockResult, finding: Finding) -> Text:
    """The finding's line with one line of context each side and a caret under the column."""
    rows = source_lines(result.block)
    lines = [r.doc_line for r in rows]
    if finding.line not in lines:
        return Text("")
    at = lines.index(finding.line)
    last = at
    if finding.end_line is not None and finding.end_line in lines:
        last = min(max(lines.index(finding.end_line), at), at + 2)
    width = len(str(rows[min(last + 1, len(rows) - 1)].doc_line))
    frame = Text()
    style = STATUS_STYLE[finding.category] if not finding.intentional else "dim"
    for i in range(max(at - 1, 0), min(last + 2, len(rows))):
        row = rows[i]
        marker = ">" if at <= i <= last else " "
        frame.append(
            f"     {marker} {row.doc_line:>{width}} | ", style="dim" if marker == " " else ""
        )
        frame.append(row.text.expandtabs())  # the caret below counts the columns it shows
        frame.append("\n")
        if i == at:
            start, span = _caret_span(finding, row)
            span = min(span, max(len(row.text) - start, 1))
            shown = len(row.text[:start].expandtabs())
            wide = max(len(row.text[: start + span].expandtabs()) - shown, 1)
            frame.append(f"       {'':>{width}} | " + " " * shown, style="dim")
            frame.append("^" * wide, style=style)
            frame.append("\n")
    frame.rstrip()
    return frame


def _fix(fix: Fix) -> RenderableType:
    label = Text("    ")
    if not fix.diff:  # nothing to apply: only what the fix engine could not do, and why
        label.append(" no fix ", style="reverse dim")
        notes = [Text(f"      note: {n}", style="yellow") for n in fix.notes]
        return Group(label, *notes)
    if fix.verified:
        label.append(" verified fix ", style="reverse bold green")
    else:
        label.append(" proposed fix (not verified) ", style="reverse yellow")
    if fix.resolves:
        label.append(f"  resolves {', '.join(fix.resolves)}", style="dim")
    body = Text()
    for line in fix.diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        body.append("      ")
        body.append(line + "\n", style=style)
    body.rstrip()
    notes = [Text(f"      note: {n}", style="yellow") for n in fix.notes]
    return Group(label, body, *notes)


def _summary(report: Report, fail_on: str) -> RenderableType:
    statuses = report.status_counts()
    categories = report.category_counts()
    intentional = sum(f.intentional for b in report.blocks() for f in b.findings)

    by_status = _count_table(
        "blocks by status",
        ("status", "blocks"),
        [(Text(s, style=STATUS_STYLE[s]), statuses[s]) for s in STATUS_ORDER]
        + [(Text("total", style="bold"), len(report.blocks()))],
    )
    by_category = _count_table(
        "findings by category",
        ("category", "findings"),
        [(Text(c, style=STATUS_STYLE[c]), categories[c]) for c in CATEGORY_ORDER]
        + [(Text("(intentional)", style="dim"), intentional)],
    )
    grid = Table.grid(padding=(0, 4))
    grid.add_row(by_status, by_category)

    failing = failing_blocks(report, fail_on)
    docs = len(report.documents)
    verdict = Text(
        f"{docs} document{'s' if docs != 1 else ''}, {len(report.blocks())} blocks "
        + (f"({report.left_out} unchanged left out) " if report.left_out else "")
        + f"in {report.duration_s:.2f} s: "
    )
    if failing:
        verdict.append(f"FAIL ({len(failing)} at or above --fail-on {fail_on})", style="bold red")
    else:
        verdict.append(f"PASS (nothing reaches --fail-on {fail_on})", style="bold green")
    return Group(Text(""), grid, Text(""), verdict)


def _count_table(title: str, header: tuple[str, str], rows: list[tuple[Text, int]]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
    table.add_column(header[0])
    table.add_column(header[1], justify="right")
    for label, count in rows:
        table.add_row(label, str(count))
    return table


class BlockProgress:
    """A per-block progress bar on stderr; every method is a no-op when it is not shown."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._progress: Progress | None = None
        if enabled and sys.stderr.isatty():
            self._progress = Progress(
                TextColumn("[bold]checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}", style="dim"),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._task = self._progress.add_task("", total=total)

    def set_total(self, total: int) -> None:
        """The number of blocks to check, once the run knows it (cache hits are not checked)."""
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def tick(self, description: str = "", advance: int = 1) -> None:
        """Blocks done; ``description`` names the last one (e.g. ``path:fence_line``)."""
        if self._progress is not None:
            self._progress.update(self._task, advance=advance, description=description)

    def __call__(self, advance: int = 1) -> None:
        """The ``Callable[[int], None]`` the pipeline takes as ``progress``."""
        self.tick(advance=advance)

    def __enter__(self) -> BlockProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


def progress(total: int, enabled: bool) -> BlockProgress:
    """``with progress(n, enabled) as bar: run(options, progress=bar)`` — silent off a TTY."""
    return BlockProgress(total, enabled)
