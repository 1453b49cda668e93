"""Smoke stage: run each block, in its context, in a sandboxed warm worker, and turn what
happened (exceptions, warnings, containments) into findings at document lines."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import re
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from exampletest import transcript
from exampletest.assemble import smoke_payload
from exampletest.context import (
    FILE_COMMENT,
    MISSING_IMPORT,
    BlockContext,
    Provided,
    defined_too_late,
    file_sections,
    module_of,
)
from exampletest.model import Block, Category, Finding
from exampletest.nameindex import distribution_for, installed_module, is_importable
from exampletest.pool import Job, WorkerPool
from exampletest.sandbox import Contained, Limits
from exampletest.stages import EXCERPT, GUESS, NEWER_PYTHON, newer_stdlib
from exampletest.symbols import analyze, code_lines, tree_or_none
from exampletest.verdict import subjects

TARGET = "exampletest.harness:run_job"


@dataclass(frozen=True)
class SmokeResult:
    findings: list[Finding]
    status: str  # ran|timeout|error


def filename(ctx: BlockContext) -> str:
    return f"<exampletest:{ctx.block.doc_path}:{ctx.block.index}>"


def check(
    contexts: Sequence[BlockContext], pool: WorkerPool, limits: Limits
) -> dict[tuple[str, int], SmokeResult]:
    """Run every block; one job per block, results as they arrive. A block whose run as
    written could not be read off its full-context run (see the harness) gets a second job
    that runs it as written, queued as soon as that is known."""
    jobs: deque[Job] = deque()
    by_id: dict[str, tuple[BlockContext, dict[str, Any]]] = {}
    for ctx in schedule(contexts):
        job_id = f"{ctx.block.doc_path}\0{ctx.block.index}"
        payload = smoke_payload(ctx, filename(ctx))
        # A marker or a console transcript lets the block go on after an exception as
        # written: that run is run, not read off the other.
        forks = bool(payload["expected_exceptions"] or payload["excused_lines"])
        payload["as_written"] = "fork" if forks else "infer"
        # Two runs (as written, then with the context) share the limit; one run has most of
        # it (the deep check after it has its own 2.5 s).
        share = 0.4 if ctx.missing and forks else 0.75
        payload["pass_timeout_s"] = max(limits.timeout_s * share, 0.5)
        jobs.append(Job(job_id, TARGET, payload, limits))
        by_id[job_id] = ctx, payload
    out: dict[tuple[str, int], SmokeResult] = {}
    waiting: dict[str, Contained] = {}  # full-context runs whose as-written run is queued
    for job_id, contained in pool.run(jobs):  # the pool takes what is appended to ``jobs``
        if job_id.endswith(_AS_WRITTEN):
            job_id = job_id.removesuffix(_AS_WRITTEN)
            contained = _with_pass1(waiting.pop(job_id), contained)
        elif contained.value and contained.value.get("pass1_unsure"):
            waiting[job_id] = contained
            payload = {**by_id[job_id][1], "as_written": "only"}
            jobs.append(Job(job_id + _AS_WRITTEN, TARGET, payload, limits))
            continue
        ctx = by_id[job_id][0]
        key = (ctx.block.doc_path, ctx.block.index)
        out[key] = interpret(ctx, contained)
        _TOOK[key] = contained.duration_s
    return out


_AS_WRITTEN = "\0as-written"


def _with_pass1(full: Contained, as_written: Contained) -> Contained:
    """The full-context run's result with the as-written run of its own job as its pass 1,
    and what either run ran into (a timeout, a refused connect) as one run's would be."""
    value = dict(full.value or {})
    value.pop("pass1_unsure", None)
    value["pass1"] = (as_written.value or {}).get("pass1") or {
        "exception": {
            "type": "Timeout" if as_written.timed_out else "Exit",
            "message": "the block, as written, ended its run without a result",
            "line": None,
        },
        "warnings": [],
    }
    return dataclasses.replace(
        full,
        value=value,
        events=[*full.events, *(e for e in as_written.events if e not in full.events)],
        timed_out=full.timed_out or as_written.timed_out,
        signal=full.signal if full.signal is not None else as_written.signal,
        duration_s=full.duration_s + as_written.duration_s,
        stderr=full.stderr + as_written.stderr,
    )


#: Code that likely waits (sleeps) rather than computes: only decides the order of the jobs.
_WAITS = re.compile(r"\bsleep\s*\(")
#: How long each block's run took in this process (the fix engine's re-checks run the same
#: blocks again, rewritten): only decides the order of the jobs.
_TOOK: dict[tuple[str, int], float] = {}
_SLOW_S = 0.25


def schedule(contexts: Sequence[BlockContext]) -> list[BlockContext]:
    """The order to run the blocks in. Blocks known to take long (their run before, in this
    process) go first, longest first: the workers' last job is then a short one. A block
    that sleeps holds a worker without using its core; two sleeping at once leave a core
    idle. Other blocks that look like they sleep are spread over the first three quarters of
    the queue (not bunched, as a document's async examples are, and not last, where nothing
    else is left to overlap with). Textual, but only the order depends on it."""
    took = {id(c): _TOOK.get((c.block.doc_path, c.block.index), 0.0) for c in contexts}
    slow = sorted((c for c in contexts if took[id(c)] >= _SLOW_S), key=lambda c: -took[id(c)])
    if slow:
        return slow + _spread([c for c in contexts if took[id(c)] < _SLOW_S])
    return _spread(contexts)


def _spread(contexts: Sequence[BlockContext]) -> list[BlockContext]:
    waits = [c for c in contexts if _WAITS.search(c.block.code)]
    if not waits or len(waits) == len(contexts):
        return list(contexts)
    rest = [c for c in contexts if not _WAITS.search(c.block.code)]
    gap = max(1, (len(rest) * 3 // 4) // len(waits))
    ordered: list[BlockContext] = []
    for i, ctx in enumerate(waits):
        ordered.append(ctx)
        ordered.extend(rest[i * gap : (i + 1) * gap])
    ordered.extend(rest[len(waits) * gap :])
    return ordered


#: A write the sandbox refused under the temporary folder (``/tmp/storage``), not ``..``.
_TEMP_WRITE = re.compile(r" on /(?:var/)?tmp/(?![^\s]*\.\.)\S")


def interpret(ctx: BlockContext, contained: Contained) -> SmokeResult:
    block = ctx.block
    findings: list[Finding] = []
    status = "timeout" if contained.timed_out else "ran"
    events = {(e["kind"], e.get("line"), str(e["message"])): e for e in contained.containments()}
    for event in events.values():  # a client that retries asks four times: one finding
        # An example that calls an API or starts a server needs the network (a service), as
        # the contract's `env` says; writing outside its folder or a fork bomb is its fault.
        # Running out of time is no evidence either way (slow on purpose, or never ending).
        network = event["kind"] == "network"
        slow = event["kind"] == "timeout"
        # getpass() opens the terminal to ask the reader: there is none here
        terminal = event["kind"] == "write" and "/dev/tty" in str(event["message"])
        # a folder under /tmp is where examples keep their files: the reader's machine has it
        scratch = (
            event["kind"] == "write"
            and "/tmp/" in block.code  # the example's own spelling, not a path it escaped to
            and _TEMP_WRITE.search(str(event["message"])) is not None
        )
        findings.append(
            _at(
                block,
                event.get("line"),
                "sandbox:" + str(event["kind"]),
                Category.ENV if network or slow or terminal or scratch else Category.BROKEN,
                str(event["message"])
                + (" (it needs the network or a port)" if network else "")
                + (" (not checked to the end: slow, or never ending)" if slow else "")
                + (" (it asks the reader at a terminal: there is none here)" if terminal else "")
                + (
                    " (a scratch folder the example assumes; the sandbox keeps it out)"
                    if scratch
                    else ""
                ),
            )
        )
    value = contained.value
    if value is None:
        if not findings:
            status = "error"
        return SmokeResult(findings, status)
    pass1: dict[str, Any] = value.get("pass1") or {}
    pass2: dict[str, Any] = value.get("pass2") or {}
    first = pass1.get("exception")
    seen: set[tuple[str, int | None]] = set()
    # As written the block stops at its first missing name. What stops it once its missing
    # names are there (a use before an import, a real bug) is a problem of its own, seen as
    # written: the full-context run is that run (it differs only in names never looked up).
    stopped = first.get("name") if first and first.get("type") == "NameError" else None
    then = pass2.get("exception") if stopped in ctx.missing else None
    for exc in (first, then):
        if not exc or (exc.get("type"), exc.get("line")) in seen:
            continue
        findings.extend(_exception(ctx, exc, as_written=True, supplied=exc is then))
        seen.add((exc.get("type", ""), exc.get("line")))
        if exc.get("type") == "Timeout":
            status = "timeout"
    # Only a name an import would fix, or one the block itself defines too late, makes the
    # block broken; a name the author leaves to the reader (a stub or a placeholder) keeps it
    # a fragment, whatever running it says.
    importable = _importable(ctx)
    for name in pass2.get("looked_up", []):
        if name != stopped and name in importable:
            findings.append(_name_error(ctx, name, hidden=True))
    second = pass2.get("exception")
    if second and (second.get("type"), second.get("line")) not in seen:
        findings.extend(_exception(ctx, second, as_written=False))
    warned: set[tuple[str, int | None, str]] = set()
    for record in [*pass1.get("warnings", []), *pass2.get("warnings", []), *pass2.get("deep", [])]:
        key = (record.get("type", ""), record.get("line"), record.get("message", ""))
        if key in warned:
            continue
        warned.add(key)
        finding = _event(ctx, record)
        if finding is not None:
            findings.append(finding)
    findings.extend(_wrong_outputs(ctx, pass2.get("outputs", [])))
    findings.extend(_failed_files(ctx, value.get("module_errors", [])))
    findings.extend(_unimported_across_files(ctx, value.get("files_alone", [])))
    return SmokeResult(findings, status)


def _unimported_across_files(ctx: BlockContext, errors: list[dict[str, Any]]) -> list[Finding]:
    """The files of a fence showing several: a name a file uses that an earlier file of the
    fence binds and this one never imports (run as one module the fence has it; as a file
    of its own it is a NameError: seen so at its top level, when each file ran as a module,
    or, in a function's body, when that is called). Other failures of a file run alone lack
    the document's context (an earlier block's names): no evidence."""
    sections = [(module_of(t), t, analyze(c)) for t, c in file_sections(ctx.block.code)]
    ran = {
        (e.get("file"), str(e.get("name"))): e.get("line")
        for e in errors
        if e.get("type") == "NameError" and e.get("name")
    }
    out = []
    for at, (_, title, found) in enumerate(sections):
        seen: set[str] = set()
        for use in found.free:
            if use.name in seen:
                continue
            owner = next(
                ((m, t, st) for m, t, f in sections[:at] for st in f.statements
                 if use.name in st.binds),
                None,
            )  # fmt: skip
            if owner is None or owner[0] is None:
                continue
            seen.add(use.name)
            line = ran.get((at, use.name))
            imported = re.match(r"\s*(?:from\s+\S+\s+)?import\b", owner[2].source)
            add = owner[2].source.strip() if imported else f"from {owner[0]} import {use.name}"
            how = (
                "as a file of its own it stops here"
                if line is not None
                else "as a file of its own, a NameError when this runs"
            )
            verb = "imports" if imported else "defines"
            out.append(
                _at(
                    ctx.block,
                    line if line is not None else use.line,
                    "file-import",
                    Category.INCOMPLETE,
                    f"NameError: name '{use.name}' is not defined: `{title}` uses `{use.name}`, "
                    f"which `{owner[1]}` above {verb}, and never imports it (run as one module "
                    f"the block has it; {how})",
                    suggestion=add,
                )
            )
    return out


def _failed_files(ctx: BlockContext, errors: list[dict[str, Any]]) -> list[Finding]:
    """A file of a fence showing several (``# app/service.py``) that stops when the block
    imports it, run as a module of its own (a name the file uses but imports from nowhere,
    that the fence, run as one module, had from an earlier file): what it did not define is a
    stand-in here, so the block is only partly checked. The fence's own finding says why."""
    shown = dict(ctx.file_parts)
    out = []
    for error in errors:
        module = str(error.get("module", ""))
        if error.get("placeholder"):
            continue  # a stand-in exampletest supplied took part: no evidence
        # a package it imports, not installed; a setting or an extra the environment lacks
        missing = bool(error.get("module_not_found") or error.get("environment"))
        at = next((line for m, line, _ in ctx.symbols.imported_modules if module.startswith(m)), 1)
        out.append(
            _at(
                ctx.block,
                at,
                "file-failed",
                Category.ENV if missing else Category.INCOMPLETE,
                f"`{module}`, the file the document shows at line {shown.get(module, '?')}, "
                f"stops when imported on its own: {error.get('type')}: {error.get('message')}; "
                "what it did not define is checked with stand-ins",
            )
        )
    return out


def _wrong_outputs(ctx: BlockContext, records: list[dict[str, Any]]) -> list[Finding]:
    """A session's statements that ran but did not give the output the document shows: the
    transcript claims what the installed libraries do not do. Not where the statement uses a
    name exampletest supplied (a stub, a placeholder): that value is of its making."""
    out = []
    for rec in records:
        first, line = int(rec.get("first", rec["line"])), int(rec["line"])
        if any(_uses_provided(ctx, n) for n in range(first, line + 1)):
            continue
        want, got = transcript.difference(str(rec["want"]), str(rec["got"]))
        message = f"the document shows `{want}` as its output; running it gives " + (
            f"`{got}`" if got else "nothing"
        )
        # the whole real output: what the reader would write there (and the fix writes)
        real = str(rec["got"]).rstrip("\n")
        out.append(_at(ctx.block, line, "wrong-output", Category.BROKEN, message, real))
    return out


_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def _missing_from_installed(module: str) -> bool:
    """A submodule an installed package does not have (not a package that is missing). A
    namespace package's parts are distributions of their own (``opentelemetry.sdk``): one
    missing is a package that is not installed."""
    top, dot, _ = module.partition(".")
    if not dot or not is_importable(top):
        return False
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin is not None and spec.origin != "namespace"


def _importable(ctx: BlockContext) -> set[str]:
    """Missing names whose NameError is the block's own fault: an import would fix them, or
    the block defines them itself, after their first use."""
    imports = {
        m.group(1)
        for f in ctx.findings
        if f.rule == MISSING_IMPORT
        for m in [re.match(r"`(\w+)`", f.message)]
        if m
    }
    return imports | {name for name in ctx.missing if defined_too_late(ctx.symbols, name)}


def _guess_on(ctx: BlockContext, line: int | None) -> Provided | None:
    """The import exampletest guessed for a name code line ``line`` uses, among rivals
    (``Path``: pathlib's or FastAPI's; not ``json``): a failure there may be the guess's."""
    used = {u.name for u in ctx.symbols.free if u.line == line}
    return next((p for p in ctx.provided if p.rivals and p.name in used), None)


def _uses_provided(ctx: BlockContext, line: int | None) -> bool:
    """Whether a code line uses a name exampletest supplied (an import it guessed, a stub, a
    placeholder): an error there in the full-context pass may be of exampletest's making."""
    provided = {p.name for p in ctx.provided}
    return any(u.line == line and u.name in provided for u in ctx.symbols.free)


def _relocate(ctx: BlockContext, line: int | None, message: str) -> int | None:
    """A warning raised while a class is created points at the ``class`` line; move it to the
    line inside that class that the message is about (``class Config``, ``json_encoders``)."""
    if line is None:
        return line
    tree = tree_or_none(ctx.block.code)
    if tree is None:
        return line
    names = {n.lower() for n in subjects(message)}
    lines = code_lines(ctx.block.code)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.lineno == line:
            end = node.end_lineno or line
            for number in range(line + 1, end + 1):
                words = set(re.findall(r"\w+", lines[number - 1].lower()))
                if names & words:
                    return number
    return line


#: The block's file in its job directory (``__file__``): the document, to the reader.
_JOB_FILE = re.compile(r"(?:(?:/[^\s'\"]*)?/exampletest-\w+/work/|(?<![\w/.])\./)example\.py")


def _at(
    block: Block,
    line: int | None,
    rule: str,
    category: Category,
    message: str,
    suggestion: str | None = None,
    span: dict[str, Any] | None = None,
) -> Finding:
    """A finding at a code line; at the exact call when ``span`` (a harness record with
    ``col``, ``end_line``, ``end_col`` for that line) says where it is."""
    code_line = line if isinstance(line, int) and line >= 1 else 1
    col = _first_col(block, code_line)
    message = _JOB_FILE.sub(block.doc_path, message)  # FastAPI names the endpoint's file
    end_line = end_col = None
    if span and span.get("line") == line and isinstance(span.get("col"), int):
        col, end_line, end_col = int(span["col"]), int(span["end_line"]), int(span["end_col"])
    return Finding.at(
        block,
        code_line,
        col,
        end_code_line=end_line,
        end_code_col=end_col,
        stage="smoke",
        tool="python",
        rule=rule,
        category=category,
        message=message,
        suggestion=suggestion,
    )


def _first_col(block: Block, code_line: int) -> int:
    lines = code_lines(block.code)
    if 1 <= code_line <= len(lines):
        text = lines[code_line - 1]
        return len(text) - len(text.lstrip()) + 1
    return 1


#: How a block that awaits at top level is run (as docs assume: a notebook, asyncio's REPL);
#: ``python file.py`` would reject it with a SyntaxError instead.
_REPL = " (as an asyncio REPL runs it: it awaits at top level)"


#: A database without the table the code queries, and what would have created it.
_NO_TABLE = re.compile(r"no such table: ([\w.]+)|relation \"?([\w.]+)\"? does not exist")


_LATE_FUTURE = re.compile(r"from __future__ imports must occur at the beginning of the file")


def _files_shown(block: Block, line: int | None) -> str | None:
    """The files a block shows one after another (``# models/user.py`` on a line of its
    own, then its code, then ``# models/post.py``...), when one of them starts after the
    block's first line and no later than code line ``line``, and the block is not run file
    by file (its first lines name no file): their names, for a message."""
    marks = [
        (i, m[1])
        for i, text in enumerate(code_lines(block.code), 1)
        if (m := FILE_COMMENT.fullmatch(text.strip()))
    ]
    if line is None or file_sections(block.code) or not any(1 < at <= line for at, _ in marks):
        return None
    return ", ".join(f"`{name}`" for _, name in marks[:4])


def _awaits_at_top(block: Block) -> bool:
    tree = tree_or_none(block.code)
    if tree is None:
        return False
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Await | ast.AsyncWith | ast.AsyncFor):
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return False


def _name_error(ctx: BlockContext, name: str, hidden: bool) -> Finding:
    uses = [u for u in ctx.symbols.free if u.name == name]
    eager = [u for u in uses if u.eager] or uses
    line = eager[0].line if eager else 1
    how = (
        "its top level needs this name when it runs (seen once the earlier error was fixed)"
        if hidden
        else f"running it as written{_REPL if _awaits_at_top(ctx.block) else ''} stops here"
    )
    return _at(
        ctx.block,
        line,
        "NameError",
        Category.BROKEN,
        f"NameError: name '{name}' is not defined: {how}",
    )


def _exception(
    ctx: BlockContext, exc: dict[str, Any], as_written: bool, supplied: bool = False
) -> Iterable[Finding]:
    """``supplied``: seen as written once the names it stopped at first were there."""
    block = ctx.block
    line = exc.get("line")
    kind = exc.get("type", "Exception")
    message = str(exc.get("message", kind))
    when = "running the block as written" if as_written else "running the block with its context"
    inside = exc.get("module_frame")
    if kind == "NameError" and inside in dict(ctx.doc_modules):
        yield _at(
            block,
            line,
            "NameError",
            Category.INCOMPLETE,
            f"{message}: raised inside `{inside}`, the document's own module, which "
            "uses the name without defining or importing it (its own block reports that); "
            "this block's call into it was checked as far as that",
            span=exc,
        )
        return
    if exc.get("compile"):
        if EXCERPT.search(message):  # `return x` alone: lines taken out of a function
            yield _at(
                block,
                line,
                "excerpt",
                Category.INCOMPLETE,
                f"{message}: the block is an excerpt of a function's body (or a loop's), "
                "so it does not compile on its own",
            )
            return
        files = _files_shown(block, line)
        if files is not None and _LATE_FUTURE.search(message):
            yield _at(
                block,
                line,
                "files",
                Category.INCOMPLETE,
                f"{message}: the block shows several files ({files}), and this one starts "
                "with a `from __future__` import; its first lines name no file, so it was "
                "checked as one module, which does not compile: it was not run (give each "
                "file a block of its own, or name the first file too)",
                span=exc,
            )
            return
        when = "compiling the block: it never ran"
    if supplied:
        when += ", its missing imports added"
    if as_written and _awaits_at_top(block):
        when += _REPL
    prelude_binds = {n for p in ctx.prelude for n in p.statement.binds}
    if kind == "NameError" and exc.get("name") in prelude_binds - set(ctx.missing):
        return  # an earlier block failed to define it; that block reports its own error
    if exc.get("stand_in_loop"):
        return  # a loop over a stand-in never ran; the reader's data would run it
    if exc.get("after_earlier_failure"):
        return  # what an earlier block's failed statement left broken: it reports its own
    table = _NO_TABLE.search(message)
    if table is not None and not ctx.creates_tables:
        yield _at(
            block,
            line,
            "needs-database",
            Category.ENV,
            f"{message}: the example assumes a database that has its tables already (no block "
            "of the document creates them, as `Base.metadata.create_all(engine)` would)",
            span=exc,
        )
        return
    if table is not None and (table.group(1) or table.group(2) or "") in ctx.tables:
        return  # created by a block this block's run does not repeat: no evidence
    if exc.get("contained"):
        return  # the sandbox refused something: its own finding says what
    if exc.get("needs_args"):
        yield _at(block, line, "needs-arguments", Category.ENV, message, span=exc)
        return
    m = _CANNOT_IMPORT.search(message) if exc.get("import_error") else None
    if m is not None and m.group(2) in dict(ctx.doc_modules):
        yield _at(
            block,
            line,
            "excerpt-module",
            Category.INCOMPLETE,
            f"{message}: the document's own `{m.group(2)}` does not define `{m.group(1)}`; "
            "either it shows only part of that file or the name is misspelt",
            span=exc,
        )
        return
    # `from copy import replace` (ImportError) or `copy.replace(...)` (AttributeError).
    lacking = (m.group(2), m.group(1)) if m else None
    if lacking is None and kind == "AttributeError":
        a = re.search(r"module '([\w.]+)' has no attribute '(\w+)'", message)
        lacking = (a.group(1), a.group(2)) if a else None
    newer = newer_stdlib(*lacking) if lacking else None
    said = _NEEDS_PYTHON.search(message)
    if said and tuple(map(int, said.group(1).split("."))) > sys.version_info[:2]:
        # The library says so itself: "only supported in Python 3.14 and above".
        version = said.group(1)
        yield _at(
            block,
            line,
            NEWER_PYTHON,
            Category.ENV,
            f"{message}: needs Python {version} or later; this environment runs Python "
            f"{sys.version_info.major}.{sys.version_info.minor}",
            f"check the document with Python {version} or later",
            span=exc,
        )
        return
    if lacking is not None and newer is not None:
        yield _at(
            block,
            line,
            NEWER_PYTHON,
            Category.ENV,
            f"needs Python {newer} or later (`{lacking[0]}.{lacking[1]}` was added in {newer}); "
            f"this environment runs Python {sys.version_info.major}.{sys.version_info.minor}",
            f"check the document with Python {newer} or later",
            span=exc,
        )
        return
    unloaded = (
        f"{lacking[0]}.{lacking[1]}"
        if lacking is not None and kind == "AttributeError" and installed_module(".".join(lacking))
        else None
    )
    if unloaded is not None and ctx.missing_modules:
        # `sqlalchemy.dialects.postgresql` used after `import sqlalchemy` alone: a submodule
        # is an attribute once something imports it, and the missing `databases` would.
        missing = ", ".join(f"`{m}`" for m in ctx.missing_modules)
        yield _at(
            block,
            line,
            kind,
            Category.ENV,
            f"{message} (while {when}): `{unloaded}` is a submodule, an attribute only once "
            f"something imports it; {missing}, not installed here, may: no evidence",
            span=exc,
        )
        return
    if unloaded is not None:
        yield _at(
            block,
            line,
            kind,
            Category.BROKEN,
            f"{message} (raised while {when}): `{unloaded}` is a submodule, an attribute only "
            "once something imports it",
            f"import {unloaded}",
            span=exc,
        )
        return
    if exc.get("needs_input"):
        yield _at(
            block,
            line,
            "needs-input",
            Category.ENV,
            f"waits for the reader's input, which a check has none of: {message}",
            span=exc,
        )
        return
    if exc.get("needs_file"):
        yield _at(
            block,
            line,
            "needs-file",
            Category.ENV,
            f"needs a file the example assumes: {message}",
            span=exc,
        )
        return
    if exc.get("elision") or exc.get("template"):
        how = (
            "has a placeholder value (`{name}`, `host:port`) for the reader to fill in"
            if exc.get("template")
            else "leaves code out with `...`"
        )
        yield _at(
            block,
            line,
            "elided",
            Category.INCOMPLETE,
            f"the example {how} and stops there when run: {message}",
            span=exc,
        )
        return
    if kind == "NameError" and exc.get("name") in ctx.missing:
        if exc.get("name") in _importable(ctx):
            yield _name_error(ctx, str(exc["name"]), hidden=False)
        # else: a name left to the reader; the context stage reports the fragment
    elif (
        kind != "NameError"
        # a library saying which package it needs ("Form data requires python-multipart")
        # says so whatever else took part: the reader's install would fail the same way
        and not exc.get("needs_install")
        and (exc.get("placeholder") or (not as_written and _uses_provided(ctx, line)))
    ):
        return  # something exampletest supplied was involved: not evidence
    elif exc.get("module_not_found") and _missing_from_installed(str(exc.get("name") or "")):
        # `markdown_it.extensions` with markdown-it-py installed: gone from this version.
        top = str(exc["name"]).partition(".")[0]
        yield _at(
            block,
            line,
            kind,
            Category.BROKEN,
            f"{message} (raised while {when}; `{top}` is installed, but this version has no "
            f"module `{exc['name']}`)",
            span=exc,
        )
    elif exc.get("module_not_found"):
        # A library importing its optional backend (`sqlite+aiosqlite://` needs aiosqlite).
        dist = distribution_for(str(exc.get("name") or ""))
        yield _at(
            block,
            line,
            kind,
            Category.ENV,
            f"{message} (while {when}; not installed here"
            + (f": the `{dist}` distribution provides it)" if dist else ")"),
            f"pip install {dist}" if dist else None,
            span=exc,
        )
    elif exc.get("needs_config"):
        yield _at(
            block,
            line,
            "needs-configuration",
            Category.ENV,
            f"needs configuration to run: {message} (the sandbox's environment is empty)",
            "expected when settings come from the environment; provide them via "
            "[tool.exampletest] smoke-env to check deeper",
            span=exc,
        )
    elif exc.get("needs_install"):
        yield _at(
            block,
            line,
            "needs-install",
            Category.ENV,
            f"{message} (a package the block needs is not installed here)",
            span=exc,
        )
    elif exc.get("needs_service"):
        yield _at(
            block,
            line,
            "needs-service",
            Category.ENV,
            f"needs a service to run: {message}",
            span=exc,
        )
    elif kind == "Timeout" and exc.get("busy"):  # computing the whole time: never ending
        yield _at(block, line, "timeout", Category.BROKEN, f"{when} {message}{_BUSY}", span=exc)
    elif kind == "Timeout":  # waiting (on a thread, I/O): it may just be slow
        yield _at(block, line, "timeout", Category.ENV, f"{when} {message}{_UNFINISHED}", span=exc)
    elif (partial := _partial_model(ctx, message)) is not None:
        yield _at(
            block,
            line,
            "excerpt",
            Category.INCOMPLETE,
            f"{message}: the block shows part of the model `{partial}` (no column at all, "
            "so no primary key): an excerpt of a class shown whole elsewhere",
            span=exc,
        )
    elif (elsewhere := _refers_elsewhere(ctx, message)) is not None:
        rule, why = elsewhere
        yield _at(block, line, rule, Category.INCOMPLETE, f"{message}: {why}", span=exc)
    elif supplied and (guess := _guess_on(ctx, line)) is not None:
        yield _at(
            block,
            line,
            kind,
            Category.INCOMPLETE,
            f"{message} (raised while {when}, on a line that uses `{guess.name}`: said of "
            f"`{guess.statement}`, {GUESS} for it; the author may mean another "
            f"`{guess.name}`)",
            span=exc,
        )
    else:
        yield _at(block, line, kind, Category.BROKEN, f"{message} (raised while {when})", span=exc)


#: Why a block that ran out of time waiting is `env`: it could not be checked to the end.
_UNFINISHED = (
    " while waiting, not computing (a thread, I/O): not checked to the end; a larger "
    "smoke-timeout tells whether it is only slow"
)
#: Why one that ran out of time computing is `broken`, and what would say otherwise.
_BUSY = ", computing all along: a loop that never ends (raise smoke-timeout if it is only slow)"


#: An error that names the Python it needs: "only supported in Python 3.14 and above".
_NEEDS_PYTHON = re.compile(
    r"\bPython (3\.\d+)(?:\+| and (?:above|later|newer)| or (?:above|later|newer))", re.I
)


def _refers_elsewhere(ctx: BlockContext, message: str) -> tuple[str, str] | None:
    """Why an error about a name the block refers to by string (``relationship("Parent")``)
    is the example's order or extent, not a mistake: a later block defines that name, or none
    does (and it is no near-miss of one that is defined)."""
    for name, line in ctx.later:
        if _quoted(name, message):
            return "defined-later", (
                f"`{name}` is defined in a later block (line {line}); the block refers to it "
                "by name, so it is checked here without it"
            )
    for name in ctx.nowhere:
        if _quoted(name, message):
            return "defined-nowhere", (
                f"no block of the document defines `{name}`, which the block refers to by "
                "name: it shows part of a larger example (define it to run this one)"
            )
    return None


_NO_PRIMARY_KEY = re.compile(r"Mapper\[(\w+)\(\w*\)\] could not assemble any primary key")
_COLUMNS = frozenset({"mapped_column", "Column", "column_property", "composite", "synonym"})


def _partial_model(ctx: BlockContext, message: str) -> str | None:
    """The block's model SQLAlchemy found no primary key in, when its body declares no
    column at all (only relationships, methods, comments): the part of a model a section is
    about, not a model that forgot its key."""
    m = _NO_PRIMARY_KEY.search(message)
    tree = tree_or_none(ctx.block.code) if m is not None else None
    if m is None or tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == m.group(1):
            return None if any(_declares_column(stmt) for stmt in node.body) else node.name
    return None


def _declares_column(stmt: ast.stmt) -> bool:
    """``id = Column(...)``, ``id: Mapped[int] = mapped_column(...)``, or a bare
    ``title: Mapped[str]`` (a column in 2.0's declarative mapping)."""
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return "Mapped" in ast.unparse(stmt.annotation)
    value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _COLUMNS


def _quoted(name: str, message: str) -> bool:
    return re.search(rf"['\"]{re.escape(name)}['\"]", message) is not None


#: What fails on an elided value: ``return {...}`` dumped, ``[...]`` iterated.
_ELLIPSIS_TYPE = re.compile(r"'ellipsis'|EllipsisType")
_ELIDED_VALUE = re.compile(r"[\[{(]\s*\.\.\.\s*[\]})]|(?:=|return)\s*\.\.\.\s*$", re.M)


def _event(ctx: BlockContext, record: dict[str, Any]) -> Finding | None:
    block = ctx.block
    kind = record.get("kind", "warning")
    message = str(record.get("message", ""))
    what = f" while {record['what']}" if record.get("what") else ""
    if kind == "exception":
        if "placeholder" in message:
            return None
        # One line: a ValidationError lists its errors on several.
        text = "; ".join(x.strip() for x in message.splitlines() if x.strip())[:500]
        elsewhere = _refers_elsewhere(ctx, message)
        if (
            elsewhere is None
            and _ELLIPSIS_TYPE.search(message)
            and _ELIDED_VALUE.search(block.code)
        ):
            elsewhere = ("elided", "the example leaves a value out with `...` (`{...}`)")
        if elsewhere is not None:
            rule, why = elsewhere
            return _at(
                block,
                record.get("line"),
                rule,
                Category.INCOMPLETE,
                f"{text}{what} (deep smoke): {why}",
                span=record,
            )
        return _at(
            block,
            record.get("line"),
            str(record.get("type", "Exception")),
            Category.BROKEN,
            f"{text}{what} (deep smoke)",
            span=record,
        )
    if kind == "internal":
        return None
    stale = bool(record.get("deprecation") or record.get("stale_hint"))
    category = Category.STALE if stale else Category.STYLE
    # Pydantic's "Valid config keys have changed in V2:" names the keys on the next lines.
    first = "; ".join(x.strip(" *") for x in message.strip().splitlines() if x.strip())[:500]
    line = _relocate(ctx, record.get("line"), first)
    return _at(
        block,
        line,
        str(record.get("type", "Warning")),
        category,
        f"{first}{what} (warning raised when run)",
        span=record,
    )
