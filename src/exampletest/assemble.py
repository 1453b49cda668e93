"""Turn a block and its context into what the checkers read.

For mypy, each block becomes two files: ``<mod>_ctx.py`` (the earlier blocks' statements it
needs, the imports, stubs and typed placeholders for the names it takes for granted) and
``<mod>.py`` (the block's own code, verbatim, with one import line of its context inserted after
any ``from __future__`` imports). Errors in the context file are never reported; errors in the
block file map back to code lines by removing that one inserted line.
For smoke, the same context travels as plain data to the sandboxed harness.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from exampletest.context import BlockContext, file_sections, module_of
from exampletest.relative import relative_module
from exampletest.symbols import code_lines


@dataclass(frozen=True)
class CheckModule:
    name: str  # importable module name of the block's file
    source: str
    ctx_source: str
    inserted_after: int  # the context import line sits after this code line

    def code_line(self, check_line: int) -> int | None:
        """Code line of a line of the block's file; None for the inserted import."""
        if check_line <= self.inserted_after:
            return check_line
        if check_line == self.inserted_after + 1:
            return None
        return check_line - 1


def stub_module_name(stub_source: str) -> str:
    """One module per stubs file, shared by every block that uses it (mypy checks it once)."""
    return "stub_" + hashlib.sha256(stub_source.encode()).hexdigest()[:12]


def check_module(ctx: BlockContext, module: str) -> CheckModule:
    lines = [
        "# Context for an exampletest block: earlier blocks, imports, stubs, placeholders.",
        "# mypy: ignore-errors",
        "from typing import Any",
    ]
    for p in ctx.prelude:
        lines.extend(_absolute(line) for line in code_lines(p.statement.source))
    names: list[str] = []
    for prov in ctx.provided:
        if prov.source == "import" and prov.statement:
            lines.append(prov.statement)
        elif prov.source == "stub":
            assert ctx.stub_source is not None
            lines.append(f"from {stub_module_name(ctx.stub_source)} import {prov.name}")
        elif prov.source == "declared":
            continue  # the block's own annotation declares it
        elif prov.standin:  # the class whose instance runs in its place (``fastapi:FastAPI``)
            package, _, cls = prov.standin.partition(":")
            lines.extend((f"import {package}", f"{prov.name}: {package}.{cls}"))
        elif prov.as_type:
            lines.append(f"class {prov.name}(Any): ...")
        else:
            lines.append(f"{prov.name}: Any")
    # A name the block binds before any use of it is the block's own: imported too, mypy
    # would hold the block's value to the earlier one's type (a tutorial's `stmt` for a new
    # query), which Python never does.
    own = ctx.symbols.binds - set(ctx.symbols.free_names)
    names = sorted(
        ({n for p in ctx.prelude for n in p.statement.binds} - own)
        | {p.name for p in ctx.provided if p.source != "declared"}
    )
    code = ctx.block.code
    after = ctx.symbols.future_end
    body_lines = [_absolute(line) for line in code_lines(code)]
    header = f"from {module}_ctx import *  # noqa" if names else "pass  # no context"
    if names:
        lines.append(f"__all__ = {names!r}")
    body = [*body_lines[:after], header, *body_lines[after:]]
    return CheckModule(
        name=module,
        source="\n".join(body) + "\n",
        ctx_source="\n".join(lines) + "\n",
        inserted_after=after,
    )


_RELATIVE = re.compile(r"^(\s*from\s+)(\.+)([\w.]*)(\s+import\b)")


def _absolute(line: str) -> str:
    """mypy stops the whole run at a relative import outside a package: point it at the
    stand-in package instead (same line, so every other position is unchanged)."""
    m = _RELATIVE.match(line)
    if m is None:
        return line
    target = relative_module(len(m.group(2)), m.group(3))
    return f"{m.group(1)}{target}{m.group(4)}{line[m.end() :]}"


def smoke_payload(ctx: BlockContext, filename: str) -> dict[str, Any]:
    """Everything the sandboxed harness needs to run the block in its context."""
    return {
        "code": ctx.block.code,
        "filename": filename,
        "prelude": [
            {
                "code": p.statement.source,
                "line": p.statement.line,
                "block": p.block_index,
                "binds": sorted(p.statement.binds),
            }
            for p in ctx.prelude
        ],
        "imports": {p.name: p.statement for p in ctx.provided if p.source == "import"},
        "stub_source": ctx.stub_source,
        "stub_names": [p.name for p in ctx.provided if p.source == "stub"],
        "placeholders": {
            p.name: p.as_type for p in ctx.provided if p.source in ("placeholder", "declared")
        },
        "standins": {p.name: p.standin for p in ctx.provided if p.standin},
        "missing": list(ctx.missing),
        "fake_modules": list(ctx.missing_modules),
        "doc_modules": [list(m) for m in ctx.doc_modules],
        "relative_modules": [list(m) for m in ctx.relative_modules],
        "doc_packages": list(ctx.packages),
        "file_parts": [m for m, _ in ctx.file_parts],
        # the files the block itself shows one after another: its run's imports of them get
        # what the block defines as it runs
        # ("" for a file no import can name: `# my-script.py`)
        "own_files": [
            [module_of(title) or "", code] for title, code in file_sections(ctx.block.code)
        ],
        "expected_exceptions": [list(e) for e in ctx.block.expected_exceptions],
        "shown_outputs": [list(e) for e in ctx.block.shown_outputs],
        "session": ctx.block.session,
        "altered": list(ctx.altered),
        "printed_outputs": [list(e) for e in ctx.block.printed_outputs],
        "excused_lines": _excused_lines(ctx),
    }


def _excused_lines(ctx: BlockContext) -> list[int]:
    """Code lines an anti-pattern marker governs (``# ❌ Bad``): a failure there is shown on
    purpose, and the run goes on to the code after it (the ``# ✅ Good`` half)."""
    from exampletest.verdict import marked_lines

    governed = marked_lines(ctx.block)
    return [
        i
        for i in range(1, len(code_lines(ctx.block.code)) + 1)
        if ctx.block.doc_line(i) in governed
    ]
