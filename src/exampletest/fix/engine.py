"""Fix engine: combine the rewrites for each block, then prove them by checking again.

Rewrites are tried group by group (missing imports, ruff's own fixes, Pydantic v1->v2,
SQLAlchemy 2.0, standard library). After each group every changed block is run through every
stage again, in the same document context, together with the later blocks that use its names.
A group that brings a new broken or stale finding is dropped for that block; what survives is
``verified`` when it resolved something and introduced nothing. What no rewrite can do safely
stays a note in words.

Round one does not wait for mypy, the slowest stage: once every other stage has spoken, the
rewrites are made from those findings and their trial documents linted and run (``speculate``)
while mypy still works, and type-checked as soon as it is done; when the final findings call
for the same rewrites, nothing is left for the end.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import json
import multiprocessing
import os
import re
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from exampletest.context import (
    MISSING_IMPORT,
    NOT_INSTALLED,
    UNDEFINED,
    WRONG_CASE,
    analyze_document,
    prelude_imports,
)
from exampletest.fix import fastapi, output, pydantic_v1, sqlalchemy, stdlib
from exampletest.fix.base import Rewrite, RewriteContext, keep_start, relocate_notes
from exampletest.fix.diff import document_diff
from exampletest.fix.imports import add_imports, drop_imports, imports_added, seed_isort
from exampletest.fix.marked import marked_lines, spare
from exampletest.model import (
    Block,
    BlockResult,
    Category,
    Document,
    DocumentResult,
    Finding,
    Fix,
    Key,
    Report,
)
from exampletest.nameindex import NameIndex, imported_packages
from exampletest.parse import parse_document, raised_last, script_claims
from exampletest.pipeline import Checked, Options, check, verdict
from exampletest.pool import Workers
from exampletest.rules.base import dotted
from exampletest.stages import without_guess
from exampletest.stages.lint import BEHAVIOUR_CHANGING, ruff_command
from exampletest.stages.types import SharedRun
from exampletest.symbols import analyze, code_lines, parse_tree
from exampletest.verdict import subjects
from exampletest.writeback import WriteError, replace_blocks, writable

STALE_LINT = ("UP", "FAST002", "RUF013")
FIXABLE = frozenset({Category.BROKEN, Category.STALE, Category.INCOMPLETE})
_WORSE = frozenset({Category.BROKEN, Category.STALE})

FindingKey = tuple[str, str, frozenset[str]]


def finding_key(f: Finding) -> FindingKey:
    """Identity of a problem across rewrites: lines move, rule and subject do not."""
    return (f.tool, f.rule, frozenset(subjects(without_guess(f.message))))


@dataclass
class _State:
    doc: Document
    result: BlockResult
    code: str
    before: Counter[FindingKey]
    groups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    after: list[Finding] | None = None
    unrun: tuple[str, ...] = ()  # "smoke (skipped)": what the check of ``after`` did not run
    best: int = 1 << 30  # fewest new broken/stale findings any combination had
    #: (group, what the group reads besides the code, code) -> its rewrite: every input is in
    #: the key, so a memo is valid for any state of the same block (speculation's for propose).
    memo: dict[tuple[str, str, str], Rewrite] = field(default_factory=dict)
    #: Groups a trial showed the block needs though its own findings did not call for them
    #: (what an added import made visible).
    extra: set[str] = field(default_factory=set)
    #: What the last trial let later blocks reach (their own failures past where their runs
    #: stopped because of this block): said in the fix's notes.
    reaching: list[str] = field(default_factory=list)


def _revealed(after: Sequence[Finding], before: Sequence[Finding], state: _State) -> set[str]:
    """The groups that would modernise stale findings a trial newly has."""
    had = {finding_key(f) for f in before}
    new = [f for f in after if finding_key(f) not in had and f.category is Category.STALE]
    return _relevant(new) - _relevant(state.result.findings) - state.extra - {"imports"}


def _rewrite_ctx(doc: Document, stub: str | None, index: NameIndex) -> RewriteContext:
    models: set[str] = set()
    settings: set[str] = set()
    encodes: list[tuple[int, str]] = []
    blocks = [(b.index, b.code) for b in doc.blocks] + ([(0, stub)] if stub else [])
    for at, code in blocks:
        try:
            tree = parse_tree(code)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if at and (algorithm := _jwt_algorithm(node)) is not None:
                encodes.append((at, algorithm))
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
                if bases & {"BaseModel", "GenericModel", "RootModel"} or bases & models:
                    models.add(node.name)
                if "BaseSettings" in bases or bases & settings:
                    settings.add(node.name)
    contexts = analyze_document(doc.blocks, index, stub)
    preludes = tuple((c.block.index, h) for c in contexts if (h := prelude_imports(c)))
    exports = tuple((c.block.index, frozenset(c.exported)) for c in contexts if c.exported)
    return RewriteContext(
        frozenset(models | settings),
        frozenset(settings),
        exports=exports,
        preludes=preludes,
        packages=frozenset(imported_packages([doc.blocks])),
        jwt_encodes=tuple(encodes),
    )


def _jwt_algorithm(node: ast.AST) -> str | None:
    """The ``algorithm`` of a ``jwt.encode(payload, key, algorithm=...)`` call: a string or
    a (dotted) name, as written."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "encode"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "jwt"
    ):
        return None
    arg = next((k.value for k in node.keywords if k.arg == "algorithm"), None)
    if arg is None and len(node.args) >= 3:
        arg = node.args[2]
    strings = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    return ast.unparse(arg) if arg is not None and (strings or dotted(arg)) else None


def _ruff_batch(
    items: dict[Key, tuple[str, tuple[str, ...]]],
    target: str | None,
    shared: dict[Key, frozenset[str]] | None = None,
    preludes: dict[Key, str] | None = None,
) -> dict[Key, Rewrite]:
    """ruff's own fixes for many blocks in three ruff processes (not several per block).

    Each block gets its own rules only (the others' are ignored for its file), so its rewrite
    does not depend on which blocks share the batch. Imports the fixes leave unused (``Dict``
    after ``Dict`` -> ``dict``) are removed too, name by name; imports that were unused
    before stay (a document may import something only to show it), even on the same line.
    """
    if not items:
        return {}
    # F401 is this function's own business: ruff's fix would take an import unused before.
    selected = {r for _, block_rules in items.values() for r in block_rules if r[:1] != "-"}
    rules = sorted(selected - {"F401"})
    with tempfile.TemporaryDirectory(prefix="exampletest-fix-") as tmp:
        names = {key: Path(tmp) / f"b{i}.py" for i, key in enumerate(items)}
        headers = {key: (preludes or {}).get(key, "") for key in items}
        for key, path in names.items():  # earlier blocks' imports first, as the lint stage
            head = headers[key] + _BLOCK_STARTS if headers[key] else ""
            path.write_text(head + items[key][0], encoding="utf-8")
        # An unused import of a deprecated alias (`List`, UP035) is no showcase: it goes too.
        unused_before = {
            name: kept - _BUILTIN_ALIASES for name, kept in _unused_imports(tmp).items()
        }
        never = ",".join(sorted(BEHAVIOUR_CHANGING))
        others = {
            f"**/{names[key].name}": [
                *_others(rules, [r for r in block_rules if r[:1] != "-"]),
                *(r[1:] for r in block_rules if r[:1] == "-"),  # a rule the block keeps
            ]
            for key, (_, block_rules) in items.items()
        }
        per_file = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in others.items() if v)
        args = ["--fix-only", "--unsafe-fixes", "--select", ",".join(rules), "--ignore", never]
        args += ["--config", f"lint.per-file-ignores = {{{per_file}}}"]
        _ruff([tmp], args, target)
        unused_after = _unused_imports(tmp)
        out: dict[Key, Rewrite] = {}
        for key, path in names.items():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            added: list[str] = []
            if headers[key]:
                if _BLOCK_STARTS not in text:
                    continue  # ruff rewrote the marker away: nothing safe to take
                head, text = text.split(_BLOCK_STARTS, 1)
                try:
                    added = imports_added(headers[key], head)
                except SyntaxError:
                    continue
            fixed = keep_start(items[key][0], text)
            if fixed == items[key][0]:
                continue
            if added:
                fixed = keep_start(items[key][0], add_imports(fixed, added))
            made = unused_after.get(path.name, set()) - unused_before.get(path.name, set())
            keep = (shared or {}).get(key, frozenset())  # other blocks' context
            split = [(m, n) for m, _, n in (full.rpartition(".") for full in sorted(made)) if m]
            pairs = [(m, n) for m, n in split if n not in keep]
            kept = sorted(n for _, n in split if n in keep)
            if pairs:
                fixed = keep_start(items[key][0], drop_imports(fixed, pairs))
            notes = (
                (f"{', '.join(f'`{n}`' for n in kept)} stays imported: later blocks use it",)
                if kept
                else ()
            )
            applied = tuple(r for r in items[key][1] if r[:1] != "-")
            out[key] = Rewrite(fixed, applied, notes)
    return out


#: typing's aliases of builtins (UP006, UP035), as ruff's F401 names them.
_BUILTIN_ALIASES = frozenset(
    f"typing.{name}" for name in ("List", "Dict", "Set", "FrozenSet", "Tuple", "Type")
)


#: Where the block starts in a file that has earlier blocks' imports in front of it.
_BLOCK_STARTS = "# -- exampletest: the block starts here --\n"


def _unused_imports(folder: str) -> dict[str, set[str]]:
    """File name -> the imports ruff finds unused there (``typing.List``)."""
    try:
        found = json.loads(
            _ruff([folder], ["--select", "F401", "--output-format", "json"], None) or "[]"
        )
    except json.JSONDecodeError:
        return {}
    unused: dict[str, set[str]] = {}
    for item in found:
        m = re.match(r"`([\w.]+)` imported but unused", str(item.get("message", "")))
        if m:
            unused.setdefault(Path(item.get("filename", "")).name, set()).add(m.group(1))
    return unused


def _others(rules: Sequence[str], own: Sequence[str]) -> list[str]:
    """The batch's rules a block must not get. A per-file ignore beats any select, so a rule
    that overlaps one of the block's own selectors (``UP035`` under ``UP``) is not ignored."""
    mine = {"F401", *own}
    return [r for r in rules if not any(r.startswith(m) or m.startswith(r) for m in mine)]


def _ruff(paths: list[str], args: list[str], version: str | None) -> str:
    try:
        return subprocess.run(
            ruff_command([*args, *paths], version), capture_output=True, text=True, timeout=120
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


GROUPS = ("imports", "pydantic", "sqlalchemy", "models", "fastapi", "stdlib", "output", "ruff")


def _groups(
    state: _State, rctx: RewriteContext, target: str | None
) -> dict[str, tuple[str, Callable[[str], Rewrite]]]:
    """Each group's rewriter, with what it reads besides the code (the memo's key: the
    document's models and the target are fixed for a run)."""
    findings = [f for f in state.result.findings if not f.intentional]
    imports = sorted({f.suggestion for f in findings if f.rule == MISSING_IMPORT and f.suggestion})
    found = [_SPELLING.search(f.message) for f in findings if f.rule == WRONG_CASE]
    spellings = {m.group(1): m.group(2) for m in found if m}
    block = state.result.block
    outputs = sorted(
        (line, f.suggestion)
        for f in findings
        if f.rule == output.RULE and f.suggestion is not None
        if (line := block.code_line_of(f.line)) is not None
    )

    def add(code: str) -> Rewrite:
        new = add_imports(_respell(code, spellings), imports)
        applied = [r for r, on in ((MISSING_IMPORT, imports), (WRONG_CASE, spellings)) if on]
        return Rewrite(new, tuple(applied) if new != code else ())

    return {
        "imports": (repr((imports, sorted(spellings.items()))), add),
        "pydantic": (repr(sorted(rctx.unpassed)), lambda code: pydantic_v1.rewrite(code, rctx)),
        "sqlalchemy": ("", lambda code: sqlalchemy.rewrite(code, rctx)),
        "models": ("", lambda code: sqlalchemy.rewrite_models(code, rctx)),
        "fastapi": ("", lambda code: fastapi.rewrite(code, rctx)),
        "stdlib": ("", lambda code: stdlib.rewrite(code, rctx)),
        "output": (repr(outputs), lambda code: output.rewrite(code, outputs)),
    }


_SPELLING = re.compile(r"no module `(\w+)`.*the installed module is `(\w+)`")


def _respell(code: str, spellings: dict[str, str]) -> str:
    """``from SQLAlchemy import x`` -> ``from sqlalchemy import x``; a bare ``import Wrong``
    keeps its name for the code that uses it (``import right as Wrong``)."""
    for wrong, right in spellings.items():
        code = re.sub(rf"(?m)^(\s*from\s+){wrong}(?=[.\s])", rf"\g<1>{right}", code)
        code = re.sub(rf"(?m)^(\s*import\s+){wrong}(?=\s+as\s)", rf"\g<1>{right}", code)
        code = re.sub(rf"(?m)^(\s*import\s+){wrong}\s*$", rf"\g<1>{right} as {wrong}", code)
    return code


def _ruff_rules(state: _State) -> tuple[str, ...]:
    """Every stale lint rule, not only those found: an added import may need modernising too.
    Not where the block shows a typing alias beside its builtin (``Type[str]`` and
    ``type[str]``) without ruff having reported it: it contrasts the two on purpose."""
    findings = [f for f in state.result.findings if not f.intentional]
    found = {f.rule for f in findings if f.tool == "ruff" and f.category in FIXABLE} | {
        r.split(":", 1)[1] for f in findings for r in f.corroboration if r.startswith("ruff:")
    }
    contrast = not found & {"UP006", "UP035"} and _shows_both_spellings(state.result.block.code)
    rules = found if contrast else found | set(STALE_LINT)
    # what the block keeps on purpose (an older Python's tab) is ignored for its file: `-UP045`
    # (ruff's own codes only: a kept ET303 is no selector ruff knows, and it would refuse all)
    kept = {k for k in state.result.block.directives.keeps if any(k.startswith(r) for r in rules)}
    return (*sorted(rules - kept), *(f"-{r}" for r in sorted(kept)))


def _shows_both_spellings(code: str) -> bool:
    return any(
        re.search(rf"\b{alias}\[", code) and re.search(rf"(?<![\w.]){alias.lower()}\[", code)
        for alias in ("List", "Dict", "Set", "FrozenSet", "Tuple", "Type")
    )


def _needs_fix(result: BlockResult) -> bool:
    return any(f.category in FIXABLE and not f.intentional for f in result.findings)


@dataclass
class Trial:
    """One check of rewritten documents: per document the blocks whose code differs from the
    document's, the blocks checked, and what was found. The head start (round one, run while
    mypy still runs) and every round are kept; a later round reuses a document's part when
    its codes come out the same (leaving out a group no block of it used)."""

    codes: dict[Key, str] = field(default_factory=dict)
    wanted: dict[str, set[int]] = field(default_factory=dict)
    checked: Checked | None = None
    memos: dict[Key, dict[tuple[str, str, str], Rewrite]] = field(default_factory=dict)

    def reusable(self, path: str, codes: dict[Key, str], wanted: set[int]) -> bool:
        """Whether this check saw ``path`` with these codes and checked every wanted block."""
        then = {k: c for k, c in self.codes.items() if k[0] == path}
        now = {k: c for k, c in codes.items() if k[0] == path}
        return self.checked is not None and then == now and wanted <= self.wanted.get(path, set())


def _states(
    doc_results: Sequence[DocumentResult],
    by_path: dict[str, Document],
    only: set[int] | None,
) -> dict[Key, _State]:
    """A state for every block with something to fix (of those whose ``id`` is in ``only``)."""
    states: dict[Key, _State] = {}
    for doc_result in doc_results:
        doc = by_path.get(doc_result.path)
        for result in doc_result.blocks if doc is not None else []:
            wanted = only is None or id(result) in only
            if wanted and _needs_fix(result) and writable(result.block) is None and doc is not None:
                key = (doc.path, result.block.index)
                before = Counter(finding_key(f) for f in result.findings if not f.intentional)
                states[key] = _State(doc, result, result.block.code, before)
    return states


def _rewrite_ctxs(
    options: Options, by_path: dict[str, Document], states: dict[Key, _State], index: NameIndex
) -> dict[str, RewriteContext]:
    """The rewrite context of each document that has a block to fix (only those: after one
    edit, the other documents are cache hits)."""
    from exampletest.pipeline import stub_source

    paths = {path for path, _ in states}
    missing: dict[str, list[tuple[int, frozenset[tuple[str, str]]]]] = {}
    for (path, block_index), state in states.items():
        pairs = frozenset(
            (m[2], m[1])
            for f in state.result.findings
            if f.rule == "call-arg" and (m := _MISSING_ARG.match(f.message))
        )
        if pairs:
            missing.setdefault(path, []).append((block_index, pairs))
    return {
        p: dataclasses.replace(
            _rewrite_ctx(d, stub_source(options, d), index), missing_args=tuple(missing.get(p, ()))
        )
        for p, d in by_path.items()
        if p in paths
    }


_MISSING_ARG = re.compile(r'Missing named argument "(\w+)" for "(\w+)"')


def speculate(
    doc_results: Sequence[DocumentResult],
    documents: Sequence[Document],
    options: Options,
    index: NameIndex,
    workers: Workers | None = None,
    shared: SharedRun | None = None,
) -> Trial:
    """The first round of trials from preliminary verdicts (every stage but types). Their
    mypy joins the run's (``shared``) if that has not started yet, and otherwise runs on its
    own as soon as that is over (they share mypy's cache)."""
    by_path = {d.path: d for d in documents}
    states = _states(doc_results, by_path, None)
    skips: dict[Key, set[str]] = {key: set() for key in states}
    applied = _apply_all(
        states, _rewrite_ctxs(options, by_path, states, index), options.target_version, skips
    )
    codes = {
        key: code
        for key, (code, groups) in applied.items()
        if groups and code != states[key].result.block.code
    }
    memos = {key: state.memo for key, state in states.items()}
    if not codes:
        return Trial(memos=memos)
    docs = {key[0]: state.doc for key, state in states.items()}
    rewritten, wanted = _trial_documents(codes, list(codes), docs)
    opts = _trial_options(options, wanted)
    checked = check(rewritten, opts, index, [], None, workers, shared=shared)
    return Trial(codes, wanted, checked, memos)


def propose(
    report: Report,
    documents: Sequence[Document],
    options: Options,
    index: NameIndex,
    only: set[int] | None = None,
    workers: Workers | None = None,
    speculation: Trial | None = None,
) -> None:
    """Attach a checked Fix to every block of the report that has something to fix (of those
    whose ``id`` is in ``only``, when given: blocks from the cache already have theirs)."""
    by_path = {d.path: d for d in documents}
    original: dict[Key, list[Finding]] = {
        (d.path, r.block.index): r.findings for d in report.documents for r in d.blocks
    }
    states = _states(report.documents, by_path, only)
    for key, state in states.items():  # the head start's rewrites hold for the same inputs
        state.memo.update(speculation.memos.get(key, {}) if speculation else {})
    rctxs = _rewrite_ctxs(options, by_path, states, index)
    # Round 1 tries every group together. A block whose result is worse because a rewrite
    # revealed what another group modernises (an added `datetime` import: ruff now sees
    # `utcnow()`) tries again with that group too. Then each block leaves out one of the
    # groups it applied at a time (its own queue, so blocks of different groups share a
    # round), keeping a removal whenever it helps. A block made worse only through later
    # blocks that are being tried too waits for them, and a block whose document had another
    # block settle in the last round tries its own combination again first (the settled
    # block's code may have been what made it worse).
    dropped: dict[Key, set[str]] = {key: set() for key in states}
    first: dict[Key, str] = {}  # what every group together made worse
    tried: set[Key] = set()
    pending = set(states)
    history = [speculation] if speculation is not None else []
    queues: dict[Key, list[str]] = {}  # the groups each block has still to leave out
    together, rounds = True, 0
    settled: set[str] = set()  # documents with a block settled in the last round
    #: The later blocks that made a block worse (its own code may be fine: it waits while
    #: they are still being tried)
    blamed: dict[Key, set[Key]] = {}
    last = False  # the last round: see below
    while pending or not last:
        if not pending:
            # One last try, in the document as it ends, for each block every combination
            # made worse itself beside an earlier block that was being tried: that one may
            # have ended without the rewrite that did it (it waited for this one, blaming
            # it, then left out a group of its own). Not the blocks that blamed later ones.
            last = True
            pending = {
                k
                for k in tried
                if not states[k].groups
                and not blamed.get(k)
                and any(o[0] == k[0] and o[1] < k[1] for o in tried)
            }
            continue
        leave: dict[Key, str | None] = {}
        for key in sorted(pending):
            waits = (later := blamed.get(key)) and later <= pending - {key}
            if together or last or key[0] in settled or waits:
                leave[key] = None
            elif queues.get(key):
                leave[key] = queues[key].pop(0)
        pending &= set(leave)
        skips = {k: dropped[k] | ({g} if (g := leave[k]) else set()) for k in pending}
        trial: dict[Key, tuple[str, Rewrite]] = {}
        applied: dict[Key, list[str]] = {}
        for key, (code, groups) in _apply_all(states, rctxs, options.target_version, skips).items():
            if groups and code != states[key].result.block.code:
                trial[key] = (code, Rewrite(code))
                applied[key] = groups
        if not trial:
            pending.clear()
            continue
        checked, unrun = _recheck(trial, states, options, index, workers, history)
        tried |= set(trial)
        revealing, settled = False, set()
        for key, (code, _) in trial.items():
            state = states[key]
            if key not in checked:
                continue
            deps = _dependents([key], by_path, {key: code})
            state.reaching = []
            worse, blamed[key] = _introduces(key, state, checked, original, deps, code)
            if worse and key not in first:
                first[key] = worse
                more = _revealed(checked[key], original[key], state)
                state.extra |= more
                revealing = revealing or bool(more)
            if not worse:
                state.code, state.after, state.groups = code, checked[key], applied[key]
                state.notes.extend(n for n in state.reaching if n not in state.notes)
                state.unrun = unrun.get(key, ())
                pending.discard(key)
                if not together:  # (together, the others saw this code already)
                    settled.add(key[0])
                left = sorted(dropped[key] | ({g} if (g := leave[key]) else set()))
                if left:
                    state.notes.append(_left_out(left, first.get(key)))
            elif together:
                queues[key] = [g for g in GROUPS if g in applied[key]]
            elif (g := leave[key]) and _count_worse(checked[key], original[key]) < state.best:
                dropped[key].add(g)
            state.best = min(state.best, _count_worse(checked[key], original[key]))
        pending &= set(trial)
        if last:
            pending.clear()
        together, rounds = revealing and not rounds, rounds + 1
    for key in tried:
        if states[key].groups:
            continue
        if states[key].best == 1 << 30:  # no check of it ever came back (its document failed)
            states[key].notes.append("the rewrites could not be checked again; nothing applied")
            continue
        why = f" (with every one, {first[key]})" if key in first else ""
        states[key].notes.append(  # every combination was worse, or none was left to try
            "the rewrites were checked again and each combination found a new problem"
            f"{why}; nothing applied"
        )
    for state in states.values():
        state.result.fix = _fix(state)


def _left_out(groups: Sequence[str], why: str | None) -> str:
    """Why a rewrite the block would have had is not in its fix."""
    what = ", ".join(f"the {g} rewrites" for g in groups)
    return f"left out: {what}; with them, {why}" if why else f"left out: {what}"


def _apply_all(
    states: dict[Key, _State],
    rctxs: dict[str, RewriteContext],
    target: str | None,
    skips: dict[Key, set[str]],
) -> dict[Key, tuple[str, list[str]]]:
    """Every block's rewrite: the libcst groups block by block, then ruff once for all."""
    out = _apply_many(states, rctxs, target, skips)
    ruff_in: dict[Key, tuple[str, tuple[str, ...]]] = {}
    for key in sorted(skips):
        state = states[key]
        groups = out[key][1]
        code = out[key][0]
        wants_ruff = "ruff" in _relevant(state.result.findings) or groups
        if "ruff" not in skips[key] and wants_ruff:
            ruff_in[key] = (code, _ruff_rules(state))
    memo = {k: ("ruff", ",".join(rules), code) for k, (code, rules) in ruff_in.items()}
    todo = {k: v for k, v in ruff_in.items() if memo[k] not in states[k].memo}
    fixed = _ruff_batch(
        todo,
        target,
        {k: rctxs[k[0]].for_block(k[1]).shared for k in todo},
        {k: dict(rctxs[k[0]].preludes).get(k[1], "") for k in todo},
    )
    for key, (code, _) in todo.items():
        states[key].memo[memo[key]] = fixed.get(key, Rewrite(code))
    for key, (code, _) in ruff_in.items():
        rewrite = states[key].memo.get(memo[key], Rewrite(code))
        if rewrite.code == code:
            continue
        code, groups = out[key]
        try:
            _still_python(rewrite.code)
        except (SyntaxError, ValueError):
            continue
        out[key] = (rewrite.code, [*groups, "ruff"])
        notes = states[key].notes
        notes.extend(n for n in rewrite.notes if n not in notes)
    for key, (code, groups) in out.items():
        out[key] = (_spare_marked(states[key], code), groups)
    return out


#: The note of a fix that keeps an example marked as the wrong way (only with a fix).
LEFT_AS_WRITTEN = "left as written: the example marked as the wrong way"


def _spare_marked(state: _State, code: str) -> str:
    """The rewritten code with an example marked as the wrong way kept as written (its
    intentional findings' statements, not those of a rule the whole block keeps: a tab's
    style), and a note saying so."""
    block = state.result.block
    keeps = block.directives.keeps
    marks = [f for f in state.result.findings if f.intentional and f.rule not in keeps]
    lines = [block.code_line_of(f.line) for f in marks]
    marked = marked_lines(block.code, (n for n in lines if n is not None))
    spared = spare(block.code, code, marked)
    if spared != code:
        where = ", ".join(str(block.doc_line(n)) for n in sorted({n for n in lines if n}))
        note = f"{LEFT_AS_WRITTEN} (line {where})"
        if note not in state.notes:
            state.notes.append(note)
    return spared


_FORKED: tuple[dict[Key, _State], dict[str, RewriteContext], str | None, dict[Key, set[str]]]
_FORKED = ({}, {}, None, {})  # what forked rewrite workers read (inherited, never pickled)


def _apply_many(
    states: dict[Key, _State],
    rctxs: dict[str, RewriteContext],
    target: str | None,
    skips: dict[Key, set[str]],
) -> dict[Key, tuple[str, list[str]]]:
    """The libcst rewrites of many blocks, spread over forked processes (they are pure and
    CPU-bound; libcst is slow), with what each learnt (notes, memo) brought back."""
    global _FORKED
    out: dict[Key, tuple[str, list[str]]] = {}
    keys: list[Key] = []
    for key in sorted(skips):  # what the memo already knows costs no process
        known = _apply(states[key], rctxs[key[0]], target, skips[key], compute=False)
        if known is None:
            keys.append(key)
        else:
            out[key] = known
    # The imports group asks ruff whether each block's imports are sorted: one ruff for all.
    adding = [
        k
        for k in keys
        if "imports" not in skips[k] and "imports" in _relevant(states[k].result.findings)
    ]
    seed_isort(states[k].result.block.code for k in adding)
    procs = min(os.cpu_count() or 1, 4)
    if len(keys) < 8 or procs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return out | {k: _require(_apply(states[k], rctxs[k[0]], target, skips[k])) for k in keys}
    _FORKED = (states, rctxs, target, skips)
    try:
        # Leaving the pool terminates it (SIGTERM): the CLI's handler would print a traceback.
        default_sigterm = (signal.SIGTERM, signal.SIG_DFL)
        with multiprocessing.get_context("fork").Pool(
            procs, signal.signal, default_sigterm
        ) as pool:
            # Longest blocks first, one at a time: a long block started last is the whole tail.
            longest = sorted(keys, key=lambda k: -len(states[k].result.block.code))
            done = pool.map(_apply_forked, longest, chunksize=1)
    except (OSError, multiprocessing.ProcessError):
        return out | {k: _require(_apply(states[k], rctxs[k[0]], target, skips[k])) for k in keys}
    finally:
        _FORKED = ({}, {}, None, {})
    for key, code, groups, notes, memo in done:
        state = states[key]
        state.notes.extend(n for n in notes if n not in state.notes)
        state.memo.update(memo)
        out[key] = (code, groups)
    return out


def _apply_forked(
    key: Key,
) -> tuple[Key, str, list[str], list[str], dict[tuple[str, str, str], Rewrite]]:
    states, rctxs, target, skips = _FORKED
    state = states[key]
    notes, memo = len(state.notes), set(state.memo)
    code, groups = _require(_apply(state, rctxs[key[0]], target, skips[key]))
    fresh = {k: v for k, v in state.memo.items() if k not in memo}
    return key, code, groups, state.notes[notes:], fresh


def _require(applied: tuple[str, list[str]] | None) -> tuple[str, list[str]]:
    assert applied is not None  # only a memo-only call returns None
    return applied


def _apply(
    state: _State, rctx: RewriteContext, target: str | None, skip: set[str], compute: bool = True
) -> tuple[str, list[str]] | None:
    """The block with its groups applied in turn. ``compute=False``: from the memo only (None
    when a rewrite is not in it)."""
    code = state.result.block.code
    groups: list[str] = []
    relevant = _relevant(state.result.findings) | state.extra
    rctx = rctx.for_block(state.result.block.index)
    if "UP017" in state.result.block.directives.keeps or int((target or "py311")[3:]) < 11:
        rctx = dataclasses.replace(rctx, utc_alias=False)  # no datetime.UTC before 3.11
    for name, (inputs, fn) in _groups(state, rctx, target).items():
        if name in skip or name not in relevant:
            continue
        memo = (name, inputs, code)
        try:
            if memo not in state.memo:
                if not compute:
                    return None
                rewrite = fn(code)
                _still_python(rewrite.code)
                state.memo[memo] = rewrite
            rewrite = state.memo[memo]
        except Exception as exc:  # a rewriter bug must cost one group, never the run
            note = f"{name} rewrite skipped: it failed on this block ({type(exc).__name__})"
            if note not in state.notes:
                state.notes.append(note)
            continue
        block = state.result.block
        moved = relocate_notes(rewrite.notes, code, block.code, block.doc_line)
        state.notes.extend(n for n in moved if n not in state.notes)
        if rewrite.code != code and rewrite.applied:
            code = rewrite.code
            groups.append(name)
    return code, groups


_GROUP_EVIDENCE = {
    "imports": re.compile(r"^ET00[14]$"),
    "pydantic": re.compile(r"^ET1\d\d$|^Pydantic|pydantic|^Missing named argument", re.I),
    "sqlalchemy": re.compile(r"^ET2(?!04)\d\d$|sqlalchemy", re.I),
    "models": re.compile(r"^ET204$|`declarative_base\(\)`"),
    "fastapi": re.compile(r"^ET30[1367]$|^FAST002$|^StarletteDeprecationWarning$"),
    "stdlib": re.compile(
        r"^ET(40\d|5\d\d)$|^DTZ00[34]$|utcnow|utcfromtimestamp|no attribute .?coroutine"
        r"|return type of an? (?:async )?generator function"
    ),
    "output": re.compile(r"^wrong-output$"),
    "ruff": re.compile(r"^(UP|FAST|RUF013)"),
}


def _still_python(code: str) -> None:
    """Raises SyntaxError unless a rewrite still parses (top-level ``await`` allowed, as the
    smoke run allows it: docs assume a notebook or an asyncio REPL). Parses, not compiles: an
    excerpt of a function's body (``return task`` at the top) does not compile before its
    rewrite either, and the check of the rewritten block judges the rest."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST
    compile(code, "<rewrite>", "exec", flags=flags, dont_inherit=True)


def _relevant(findings: Sequence[Finding]) -> set[str]:
    """The rewrite groups the block's own findings call for: no finding, no rewrite."""
    out: set[str] = set()
    for f in findings:
        if f.intentional or f.category not in FIXABLE:
            continue
        texts = [f.rule, *(c.split(":", 1)[-1] for c in f.corroboration)]
        if f.stage != "context":  # not the import a missing-name finding suggests
            texts.append(f.message)
        out |= {
            g for g, pattern in _GROUP_EVIDENCE.items() if any(pattern.search(t) for t in texts)
        }
    return out


def _count_worse(after: Sequence[Finding], before: Sequence[Finding]) -> int:
    return sum(_new_worse(after, before).values())


def _new_worse(after: Sequence[Finding], before: Sequence[Finding]) -> Counter[FindingKey]:
    """The worse findings (see :func:`_worse`) the rewrite brings, less those its run only
    *reached*."""
    return _worse(after) - _worse(before) - _reached(after, before)


def _reached(after: Sequence[Finding], before: Sequence[Finding]) -> Counter[FindingKey]:
    """New worse findings only the rewritten block's run got to: run-time failures of the same
    kind as one the rewrite resolved (``Field(regex=...)`` raised before the ``const=`` beside
    it could), and run-time findings past the line where the original run stopped at a
    failure the rewrite resolved (the outputs a model shows once it can be made at all). Not
    the rewrite's doing; the fix says so in a note."""
    new = _worse(after) - _worse(before)
    gone = _worse(before) - _worse(after)
    kinds = {(tool, rule) for tool, rule, _ in gone if tool == "python"}
    # where the original run stopped: at a failure, or at a missing name (its NameError
    # folded into the missing-import finding) that the rewrite resolved
    stops = [
        f.line
        for f in before
        if _worse_key(f) in gone
        and (
            (f.stage == "smoke" and f.category is Category.BROKEN)
            or "python:NameError" in f.corroboration
        )
    ]
    past = {finding_key(f) for f in after if stops and f.stage == "smoke" and f.line > min(stops)}
    return Counter({k: n for k, n in new.items() if (k[0], k[1]) in kinds or k in past})


def _worse(findings: Sequence[Finding]) -> Counter[FindingKey]:
    """Broken and stale findings, and a name used that nothing defines: a rewrite that
    brings one (``UTC`` without its import) leaves the reader a NameError."""
    worse: Counter[FindingKey] = Counter()
    for f in findings:
        key = _worse_key(f)
        if key is not None:
            worse[key] += 1
    return worse


def _worse_key(f: Finding) -> FindingKey | None:
    """How :func:`_worse` counts a finding; None when it does not."""
    if f.intentional:
        return None
    if f.rule in _UNDEFINED_NAME and (m := _FIRST_NAME.search(f.message)):
        # by name: `Timeout`, a fragment's before, may be guessable once `requests` is in
        return ("exampletest", "undefined", frozenset({m.group(1)}))
    return finding_key(f) if f.category in _WORSE else None


_UNDEFINED_NAME = frozenset({MISSING_IMPORT, UNDEFINED})
_FIRST_NAME = re.compile(r"`([^`]+)`")


def _introduces(
    key: Key,
    state: _State,
    checked: dict[Key, list[Finding]],
    original: dict[Key, list[Finding]],
    dependents: dict[Key, set[Key]],
    code: str,
) -> tuple[str | None, set[Key]]:
    """What makes the rewrite worse, in words, or None: a new worse finding in the block, or
    in a later block that uses its names; or an intentional finding gone: the rewrite changed
    an example marked as the wrong way. With it, the later blocks blamed (none when the block
    itself is worse)."""
    if brought := _new_worse(checked[key], original[key]):
        return f"the block had a new {_kinds(brought)}", set()
    if _intentional(original[key]) - _intentional(checked[key]):
        return "an example marked as the wrong way would have changed", set()
    # A block whose run no longer fails gives the later blocks real objects where they had
    # stand-ins: what their own code does with them (`user.dict()`) shows only now.
    repaired = any(t == "python" for t, _, _ in _worse(original[key]) - _worse(checked[key]))
    stops = _stops_of_later(state, original[key], checked[key], dependents, key, code)
    blamed: dict[Key, Counter[FindingKey]] = {}
    for later, sources in sorted(dependents.items()):
        if key not in sources or later not in checked:
            continue
        new = _new_worse(checked[later], original[later]) - _shown_only_now(
            checked[later], repaired
        )
        past = new & _past(checked[later], stops.get(later), state.doc.blocks[later[1] - 1])
        if new - past:
            blamed[later] = new - past
        elif past:
            line = state.doc.blocks[later[1] - 1].fence_line
            note = (
                f"the block at line {line}, which uses this one, now runs further and then "
                f"stops at its own {_kinds(past)}, which its run never reached before"
            )
            if note not in state.reaching:
                state.reaching.append(note)
    if not blamed:
        return None, set()
    later, new = next(iter(blamed.items()))
    line = state.doc.blocks[later[1] - 1].fence_line
    return f"the block at line {line}, which uses this one, had a new {_kinds(new)}", set(blamed)


def _stops_of_later(
    state: _State,
    before: Sequence[Finding],
    after: Sequence[Finding],
    dependents: Mapping[Key, set[Key]],
    key: Key,
    code: str,
) -> dict[Key, tuple[int, frozenset[str]]]:
    """Where each later block's original run stopped because of this block: at its first use
    of a name that a top-level statement of this block failed to bind (``class User`` raised,
    so ``User(id=1)`` below was a NameError, which that block's report leaves to this one's),
    when the rewrite repaired that statement. Document lines, each with the other names the
    rewrite changed (``current_time``, whose ``utcnow()`` it rewrote): what uses them fails
    by the rewrite's doing, not its own."""
    block = state.result.block
    repaired = [
        f
        for f in before
        if f.stage == "smoke" and f.category is Category.BROKEN and not f.intentional
    ]
    still = {finding_key(f) for f in after}
    lines = {block.code_line_of(f.line) for f in repaired if finding_key(f) not in still}
    if not lines - {None}:
        return {}
    unbound = {
        name
        for stmt in analyze(block.code).statements
        if any(n is not None and stmt.line <= n <= stmt.end_line for n in lines)
        for name in stmt.binds
    }
    was = {n: st.source for st in analyze(block.code).statements for n in st.binds}
    now = {n: st.source for st in analyze(code).statements for n in st.binds}
    changed = frozenset(n for n in was.keys() | now.keys() if was.get(n) != now.get(n))
    stops: dict[Key, tuple[int, frozenset[str]]] = {}
    for later, sources in dependents.items():
        if key not in sources:
            continue
        other = state.doc.blocks[later[1] - 1]
        uses = [u.line for u in analyze(other.code).free if u.eager and u.name in unbound]
        if uses:
            stops[later] = (other.doc_line(min(uses)), changed - unbound)
    return stops


def _past(
    findings: Sequence[Finding], stop: tuple[int, frozenset[str]] | None, later: Block
) -> Counter[FindingKey]:
    """What a later block's run found at or past the line where its original run stopped:
    its own code, which it only now reaches (see :func:`_stops_of_later`). Not where the
    failing statement uses a name the rewrite changed otherwise."""
    if stop is None:
        return Counter()
    line, changed = stop
    statements = analyze(later.code).statements

    def own(f: Finding) -> bool:
        at = later.code_line_of(f.line)
        used = next((st.uses for st in statements if at and st.line <= at <= st.end_line), None)
        return used is not None and not used & changed

    return Counter(
        k
        for f in findings
        if f.stage == "smoke" and f.line >= line and own(f) and (k := _worse_key(f))
    )


def _shown_only_now(findings: Sequence[Finding], repaired: bool) -> Counter[FindingKey]:
    """The stale findings of a later block, when the block it uses was repaired: revealed,
    not brought (each is the later block's own to fix)."""
    if not repaired:
        return Counter()
    return Counter(finding_key(f) for f in findings if f.category is Category.STALE)


def _kinds(found: Counter[FindingKey]) -> str:
    return ", ".join(sorted({f"{tool}:{rule}" for tool, rule, _ in found}))


def _intentional(findings: Sequence[Finding]) -> Counter[FindingKey]:
    return Counter(finding_key(f) for f in findings if f.intentional)


def _dependents(
    trial: Sequence[Key], docs: dict[str, Document], codes: Mapping[Key, str] | None = None
) -> dict[Key, set[Key]]:
    """Later blocks that use a name a trial block binds, as written or as rewritten (``codes``:
    an import the fix adds is what the later blocks see next) -> the trial blocks they
    depend on."""
    out: dict[Key, set[Key]] = {}
    for path, index in trial:
        doc = docs[path]
        binds = analyze(doc.blocks[index - 1].code).binds
        if codes is not None and (path, index) in codes:
            binds |= analyze(codes[(path, index)]).binds
        for later in doc.blocks[index:]:
            if set(analyze(later.code).free_names) & binds:
                out.setdefault((path, later.index), set()).add((path, index))
    return {k: v for k, v in out.items() if k not in trial}


def _trial_documents(
    codes: dict[Key, str], trial: Sequence[Key], docs: dict[str, Document]
) -> tuple[list[Document], dict[str, set[int]]]:
    """The documents with ``codes`` in place, and per document the blocks to check: the
    ``trial`` ones and the later blocks that use their names."""
    wanted: dict[str, set[int]] = {}
    for path, i in [*trial, *_dependents(list(trial), docs, codes)]:
        wanted.setdefault(path, set()).add(i)
    rewritten = [
        replace(
            doc,
            blocks=tuple(
                _with_code(b, codes[(path, b.index)], doc) if (path, b.index) in codes else b
                for b in doc.blocks
            ),
        )
        for path, doc in docs.items()
    ]
    return rewritten, wanted


def _trial_options(options: Options, wanted: dict[str, set[int]]) -> Options:
    """Options that check only ``wanted`` (each document with its own stages)."""
    return replace(
        options, only=lambda d: wanted.get(d.path, set()), fixes=False, module_suffix="_fix"
    )


def _recheck(
    trial: dict[Key, tuple[str, Rewrite]],
    states: dict[Key, _State],
    options: Options,
    index: NameIndex,
    workers: Workers | None,
    history: list[Trial],
) -> tuple[dict[Key, list[Finding]], dict[Key, tuple[str, ...]]]:
    """Every stage again on the rewritten blocks and their dependents, in their documents;
    what each has now, and the stages that did not run on it (skipped, timed out).

    Where an earlier check (the head start's, an earlier round's) saw a document with the
    same codes, what it found is the answer: nothing runs again. This check joins
    ``history``."""
    docs = {key[0]: state.doc for key, state in states.items()}
    codes: dict[Key, str] = {k: s.code for k, s in states.items()}
    codes.update({k: code for k, (code, _) in trial.items()})
    changed = {k: c for k, c in codes.items() if c != states[k].result.block.code}
    rewritten, wanted = _trial_documents(codes, list(trial), docs)
    out: dict[Key, list[Finding]] = {}
    unrun: dict[Key, tuple[str, ...]] = {}
    priors = {
        p: next((t for t in history if t.reusable(p, changed, i)), None) for p, i in wanted.items()
    }
    todo = {p: i for p, i in wanted.items() if priors[p] is None}
    if todo:
        opts = _trial_options(options, todo)
        checked = check(rewritten, opts, index, [], None, workers)
        history.append(Trial({k: c for k, c in changed.items() if k[0] in todo}, todo, checked))
    for path, indexes in wanted.items():
        seen = priors[path] if path not in todo else history[-1]
        assert seen is not None and seen.checked is not None
        for i in indexes:
            result = seen.checked.results.get((path, i))
            if result is not None:
                found = seen.checked.found.get((path, i), [])
                out[(path, i)] = verdict(result, found, seen.checked.no_stages)[0]
                unrun[(path, i)] = _unrun(result)
    return out, unrun


def _unrun(result: BlockResult) -> tuple[str, ...]:
    return tuple(sorted(f"{stage} ({how})" for stage, how in result.stages.items() if how != "ran"))


def _with_code(block: Block, code: str, doc: Document) -> Block:
    """The block with new code; lines past its end map to its last line (for messages only).
    A session is written into its document and read back: its outputs are claims about the
    statements they follow, wherever the rewrite put those."""
    if block.session:
        with contextlib.suppress(WriteError):
            new = parse_document(doc.path, replace_blocks(doc, {block.index: code}))
            again = next((b for b in new.blocks if b.index == block.index), None)
            if again is not None and _nonblank(again.code) == _nonblank(code):
                return again  # (a session has no blank lines between its statements)
    n = len(code_lines(code))
    last = block.line_map[-1] if block.line_map else block.start_line
    line_map = tuple(block.line_map[:n]) + tuple(last for _ in range(n - len(block.line_map)))
    offsets = tuple(block.col_offsets[:n]) + tuple(
        (block.col_offsets[-1] if block.col_offsets else 0)
        for _ in range(n - len(block.col_offsets))
    )
    prefixes = tuple(block.prefixes[:n]) + tuple(
        (block.prefixes[-1] if block.prefixes else "") for _ in range(n - len(block.prefixes))
    )
    expected, printed = script_claims(code_lines(code))  # a fix may have moved or changed them
    if not expected and block.raises_shown:
        expected = raised_last(code, block.raises_shown)
    return replace(
        block,
        code=code,
        line_map=line_map,
        col_offsets=offsets,
        prefixes=prefixes,
        expected_exceptions=expected,
        printed_outputs=printed,
    )


def _nonblank(code: str) -> list[str]:
    return [line for line in code_lines(code) if line.strip()]


def _fix(state: _State) -> Fix | None:
    if not state.groups or state.after is None:
        notes = tuple(n for n in state.notes if not n.startswith(LEFT_AS_WRITTEN))
        return Fix(state.result.block.code, "", (), False, notes) if notes else None
    after = Counter(finding_key(f) for f in state.after if not f.intentional)
    gone = state.before - after
    # A new run-time failure in the trial (an added import that cannot be imported here) may
    # stop the run before what it "resolves": what only the run saw is then not resolved. (Not
    # one the run only reached past where the original stopped.)
    reached = _reached(state.after, state.result.findings)
    stops_earlier = any(
        f.stage == "smoke" and f.category in (Category.BROKEN, Category.ENV)
        for f in state.after
        if not f.intentional and finding_key(f) not in state.before and not reached[finding_key(f)]
    )
    # A rule counts as resolved only when none of the block's findings of it is left (the
    # rest of a rule the fix resolves only partly is said in a note; a finding the fixed code
    # newly has, `Timeout` guessable once `requests` is imported, is not one of them).
    left = {rule for _, rule, _ in after & state.before}
    # (or one folded into another finding of the fixed block: mypy's `call-arg` beside the
    # run's TypeError on the same line is still there)
    had = {f"{tool}:{rule}" for tool, rule, _ in state.before}
    left |= {
        c.split(":", 1)[1]
        for f in state.after or ()
        if not f.intentional
        for c in f.corroboration
        if c in had
    }
    resolves = tuple(
        sorted(
            {
                rule
                for f in state.result.findings
                if not f.intentional
                and finding_key(f) in gone
                and not (stops_earlier and f.stage == "smoke")
                for rule in (f.rule, *(c.split(":", 1)[1] for c in f.corroboration))
            }
            - left
        )
    )
    try:
        diff = document_diff(state.doc, {state.result.block.index: state.code})
    except WriteError as exc:
        return Fix(state.code, "", resolves, False, (*state.notes, str(exc)))
    new_bad = _worse(state.after) - _worse(state.result.findings)
    partly = _partly_resolved(state, resolves)
    # "verified": the fixed block went through every stage (the contract's word); a block
    # whose run the document skips (test="skip"), or that timed out, was checked by less.
    # A fix that only reduces a rule claims to resolve nothing: nothing to call verified.
    verified = bool(resolves) and not new_bad - reached and not state.unrun
    # A rewrite that said "by hand" in one round, where another (ruff's fix, a later round)
    # did resolve that rule after all: the note would contradict the diff.
    kept = [n for n in state.notes if not ("by hand" in n and n.split(" ", 1)[0] in resolves)]
    notes = (*kept, *_stand_in_notes(state), *partly, *_unrun_note(state))
    if reached:
        kinds = ", ".join(sorted({f"{tool}:{rule}" for tool, rule, _ in reached}))
        notes += (
            f"the fixed block runs further and then stops at another {kinds}, which the "
            "original never reached",
        )
    return Fix(state.code, diff, resolves, verified, (*notes, *_still_broken(state)))


def _unrun_note(state: _State) -> list[str]:
    if not state.unrun:
        return []
    said = ", ".join(state.unrun)
    return [f"not verified: the fixed block was not checked by every stage: {said}"]


def _still_broken(state: _State) -> list[str]:
    """A verified fix resolves what it claims; a reader should still not take the block for
    working when the fixed block is broken all the same (a ``__root__`` model)."""
    broken = sorted(
        {
            f"{f.tool}:{f.rule}"
            for f in state.after or ()
            if f.category is Category.BROKEN and not f.intentional
        }
    )
    return [f"the fixed block is still broken: {', '.join(broken)}"] if broken else []


def _partly_resolved(state: _State, resolves: tuple[str, ...]) -> list[str]:
    """The stale or broken rules the fix resolves only some findings of: they are not in
    ``resolves`` ("resolves UP035" would read as if none were left), and said here. (Lint
    noise, F401 and the like, is not counted.)"""
    before = Counter(
        f.rule for f in state.result.findings if f.category in _WORSE and not f.intentional
    )
    after = Counter(f.rule for f in state.after or () if f.category in _WORSE and not f.intentional)
    return [
        f"{rule}: {after[rule]} of {before[rule]} still reported after the fix"
        for rule in sorted(before)
        if rule not in resolves and 0 < after[rule] < before[rule]
    ]


def _stand_in_notes(state: _State) -> list[str]:
    """What the trial could only check against stand-ins: the rewrite imports a module that is
    not installed here (its own ET003), so "verified" cannot cover what that module does."""
    had = {f.message for f in state.result.findings if f.rule == NOT_INSTALLED}
    return [
        f"{f.message.split(',')[0].split(';')[0]}: the import this fix adds was checked "
        "against a stand-in"
        for f in state.after or ()
        if f.rule == NOT_INSTALLED and f.message not in had
    ]
