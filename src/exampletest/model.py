"""The glossary: every stage, format and tool speaks in these types.

Document -> Block (a region of the document) -> Finding (one per problem, shared by every
stage and format) -> BlockResult -> DocumentResult -> Report.
Lines and columns in a Finding are always 1-based *document* coordinates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    BROKEN = "broken"
    STALE = "stale"
    INCOMPLETE = "incomplete"
    ENV = "env"
    SECURITY = "security"
    STYLE = "style"


class Status(StrEnum):
    BROKEN = "broken"
    STALE = "stale"
    INCOMPLETE = "incomplete"
    ENV = "env"
    OK = "ok"
    SKIPPED = "skipped"


#: Block statuses from worst to best; a status "reaches" another when it is at or before it.
STATUS_ORDER: tuple[Status, ...] = (
    Status.BROKEN,
    Status.STALE,
    Status.INCOMPLETE,
    Status.ENV,
    Status.OK,
    Status.SKIPPED,
)

STAGES: tuple[str, ...] = ("lint", "types", "smoke")

#: A block within a run: (document path, block index).
Key = tuple[str, int]


def reaches(s: Status, threshold: str) -> bool:
    """Whether a block status is at or above a ``--fail-on`` threshold."""
    if threshold == "never" or s in (Status.OK, Status.SKIPPED):
        return False
    return STATUS_ORDER.index(s) <= STATUS_ORDER.index(Status(threshold))


@dataclass(frozen=True)
class Directives:
    """What the document says about a block (HTML comments before the fence, info settings)."""

    skip: frozenset[str] = frozenset()  # stage names, or {"all"}
    expect: Status | None = None  # the author says the block is deliberately this
    standalone: bool = False  # no names from earlier blocks
    #: Rules whose findings the document shows on purpose: a FastAPI docs tab titled
    #: "non-Annotated" shows that style (FAST002, ET303) beside its Annotated twin.
    keeps: frozenset[str] = frozenset()
    #: ``expect`` comes from the prose (a "❌ WRONG" caption, an old-version tab), not a
    #: directive: it says the code is the wrong way, not which check must find it so.
    implied: bool = False

    def skips(self, stage: str) -> bool:
        return "all" in self.skip or stage in self.skip


@dataclass(frozen=True)
class Block:
    """One Python code region of a document, with the map back to document coordinates.

    ``code`` is what the checkers see: dedented out of lists, quotes and admonitions, with
    pycon prompts stripped, lines joined by ``\\n``. ``line_map[i]`` is the document line
    (1-based) of code line ``i + 1``; ``col_offsets[i]`` is how many characters of that
    document line precede the code (indent, ``> ``, ``>>> ``).
    """

    doc_path: str
    index: int
    fence_line: int
    start_line: int
    end_line: int
    language: str
    info: str
    heading: str | None
    code: str
    line_map: tuple[int, ...]
    col_offsets: tuple[int, ...]
    prefixes: tuple[str, ...] = ()  # exact document text before the code on each line
    fence_indent: str = ""  # container prefix of the fence line, list markers as spaces
    directives: Directives = field(default_factory=Directives)
    skip_reason: str | None = None  # e.g. an include-only block
    #: A transcript's expected tracebacks: (code line of the statement, exception class name)
    expected_exceptions: tuple[tuple[int, str], ...] = ()
    #: A transcript's shown values and printed text: (code line of the statement, the text)
    shown_outputs: tuple[tuple[int, str], ...] = ()
    #: pytest-examples' ``#>`` comments: (code line of the statement above them, the text)
    printed_outputs: tuple[tuple[int, str], ...] = ()
    #: An indent every line of the fence's code had, taken off (it is in ``prefixes``).
    code_indent: str = ""
    #: The file the document names the block (fence ``title="app.py"``, MyST ``:caption:``).
    title: str = ""
    #: The paragraph right before calls the block output ("**OUTPUT:**"): text a Python
    #: fence holds that is no code is then a wrong label, not broken code.
    output_caption: bool = False
    #: The exception the output shown right after the block (a fence of its own) ends in:
    #: its last statement is expected to raise it (see ``expected_exceptions``).
    raises_shown: str = ""

    @property
    def session(self) -> bool:
        """Whether the block is (or ends as) a console session: ``>>>`` prompts, or
        IPython's ``In [1]:``."""
        return (
            self.language in ("pycon", "python-console")
            or self.ipython
            or any(">>>" in p for p in self.prefixes)
        )

    @property
    def ipython(self) -> bool:
        """A session at IPython's prompts: read as one, not written back (its prompts count)."""
        return any("In [" in p for p in self.prefixes)

    @property
    def unprompted(self) -> tuple[int, ...]:
        """Document lines of a session's code that have no prompt (a continuation whose
        ``...`` the author left out): a REPL and doctest would take them for output."""
        if not self.session:
            return ()
        return tuple(
            line
            for line, prefix in zip(self.line_map, self.prefixes, strict=False)
            if ">>>" not in prefix and "..." not in prefix and "In [" not in prefix
        )

    def doc_line(self, code_line: int) -> int:
        """Document line of a 1-based code line (clamped into the block)."""
        if not self.line_map:
            return self.start_line
        i = min(max(code_line, 1), len(self.line_map)) - 1
        return self.line_map[i]

    def doc_column(self, code_line: int, code_col: int) -> int:
        """Document column of a 1-based (line, column) of the code."""
        if not self.col_offsets:
            return max(code_col, 1)
        i = min(max(code_line, 1), len(self.col_offsets)) - 1
        return max(code_col, 1) + self.col_offsets[i]

    def code_line_of(self, doc_line: int) -> int | None:
        """Inverse of :meth:`doc_line`; None when the document line holds no code."""
        try:
            return self.line_map.index(doc_line) + 1
        except ValueError:
            return None


@dataclass(frozen=True)
class Document:
    """A Markdown file as read: its exact bytes (for write-back) and its Python blocks."""

    path: str  # as given / relative to the working directory
    raw: bytes
    blocks: tuple[Block, ...]
    errors: tuple[str, ...] = ()  # one-line problems found while reading or parsing it


@dataclass(frozen=True)
class Finding:
    """One problem, found by one stage, in document coordinates."""

    stage: str  # extract|context|lint|types|smoke|rules
    tool: str  # ruff|mypy|python|exampletest
    rule: str
    category: Category
    line: int
    column: int
    message: str
    end_line: int | None = None
    end_column: int | None = None
    suggestion: str | None = None
    intentional: bool = False
    known: bool = False  # recorded in the --baseline file: reported, never decides a status
    corroboration: tuple[str, ...] = ()  # "tool:rule" of other evidence for the same problem

    def replace(self, **changes: object) -> Finding:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @staticmethod
    def at(
        block: Block,
        code_line: int,
        code_col: int,
        *,
        stage: str,
        tool: str,
        rule: str,
        category: Category,
        message: str,
        end_code_line: int | None = None,
        end_code_col: int | None = None,
        suggestion: str | None = None,
    ) -> Finding:
        """Build a finding from code coordinates: the one place that maps them to the document."""
        end_line = end_col = None
        if end_code_line is not None:
            end_line = block.doc_line(end_code_line)
            end_col = block.doc_column(end_code_line, end_code_col or 1)
        return Finding(
            stage=stage,
            tool=tool,
            rule=rule,
            category=category,
            line=block.doc_line(code_line),
            column=block.doc_column(code_line, code_col),
            end_line=end_line,
            end_column=end_col,
            message=message,
            suggestion=suggestion,
        )


@dataclass(frozen=True)
class Fix:
    """A rewritten block and the evidence that it is better."""

    replacement: str  # whole new block code (same coordinates convention as Block.code)
    diff: str  # unified diff in document lines
    resolves: tuple[str, ...]
    verified: bool
    notes: tuple[str, ...] = ()  # what could not be rewritten safely, in words


@dataclass
class BlockResult:
    block: Block
    findings: list[Finding] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ran|skipped|timeout|error
    status: Status = Status.OK
    module: str | None = None  # extracted module path, relative to the project
    fix: Fix | None = None


@dataclass
class DocumentResult:
    path: str
    blocks: list[BlockResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one-line problems with the document itself


@dataclass
class Report:
    documents: list[DocumentResult]
    tool_version: str
    environment: dict[str, object]
    duration_s: float = 0.0
    errors: list[str] = field(default_factory=list)  # run-level problems (a checker missing, ...)
    #: Blocks this run was not asked about (``--changed-since``: unchanged since the ref); they
    #: are not in ``documents``: a block's status is about a check that happened.
    left_out: int = 0

    def blocks(self) -> list[BlockResult]:
        return [b for d in self.documents for b in d.blocks]

    def status_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in STATUS_ORDER}
        for b in self.blocks():
            counts[b.status.value] += 1
        return counts

    def category_counts(self) -> dict[str, int]:
        counts = {c.value: 0 for c in Category}
        for b in self.blocks():
            for f in b.findings:
                counts[f.category.value] += 1
        return counts
