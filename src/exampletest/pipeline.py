"""The one-way flow: documents -> blocks -> context -> stage results -> findings -> report.

Lint and types run in threads (each is one external process over every block of the run) while
the warm smoke workers start and then run the blocks; nothing waits on what it does not need:
when every stage but types is done, the fix engine starts its first round meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import os
import platform
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from exampletest import __version__
from exampletest.cache import ResultCache, block_key, mark_cache_folder
from exampletest.discover import discover
from exampletest.extract import doc_slug, doc_slugs, module_path, path_slug, stub_path
from exampletest.model import (
    STAGES,
    STATUS_ORDER,
    Block,
    BlockResult,
    Document,
    DocumentResult,
    Finding,
    Key,
    Report,
    Status,
)
from exampletest.nameindex import (
    STACK_PACKAGES,
    EarlyBuild,
    NameIndex,
    environment_key,
    imported_modules,
    imported_packages,
    installed_module,
    is_importable,
)
from exampletest.parse import peek, read_document
from exampletest.stages import StageError, lint

if TYPE_CHECKING:
    from exampletest.context import BlockContext
    from exampletest.fix.engine import Trial
    from exampletest.pool import Workers
    from exampletest.stages.types import SharedRun

#: Distributions whose versions the report records (the stack examples are checked against).
STACK = (
    "pydantic",
    "pydantic-settings",
    "fastapi",
    "sqlalchemy",
    "starlette",
    "argon2-cffi",
    "pyjwt",
    "ruff",
    "mypy",
)

#: What a run error says when a whole stage could not run (the run is then not done: exit 2).
STAGE_FAILED = "stage failed"
#: A smoke worker more for every this many blocks (up to ``--jobs``): a worker costs an import
#: of the whole stack, and a small run's smoke jobs fit in one worker while mypy runs.
BLOCKS_PER_WORKER = 24
#: From this many new blocks on, mypy starts on the libraries before the contexts are
#: analysed (on a small run, splitting mypy in two costs more than the overlap gains).
EARLY_PREWARM_BLOCKS = 100
#: A Python fence's opening line, to count a new document's blocks before it is parsed.
_PYTHON_FENCE = re.compile(
    r"^[ \t>*+-]*(?:\d+[.)][ \t]*)?(?:`{3,}|~{3,})[ \t]*\{?[ \t]*\.?"
    r"(?:python3?|py|ipython3?|pycon)\b",
    re.M | re.I,
)


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...]
    stages: frozenset[str] = frozenset(STAGES)
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    use_cache: bool = True
    cache_dir: Path = Path(".exampletest_cache")
    stubs_dir: Path = Path("stubs")
    exclude: tuple[str, ...] = ()
    smoke_timeout_s: float = 15.0
    smoke_env: tuple[str, ...] = ()
    ruff_select: tuple[str, ...] = lint.SELECT
    ruff_ignore: tuple[str, ...] = lint.IGNORE
    mypy_options: tuple[str, ...] = ()
    target_version: str | None = None
    only: Callable[[Document], set[int] | None] | None = None  # blocks to check per document
    stages_for: Callable[[str], frozenset[str] | None] | None = None  # per-path override
    fixes: bool = True  # propose (and verify) modernization fixes
    module_suffix: str = ""  # keeps fix trials' files apart from the run's (mypy's cache)


def environment() -> dict[str, Any]:
    packages: dict[str, str] = {}
    for name in STACK:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {"python": platform.python_version(), "packages": packages}


def module_name(block_doc: str, index: int, suffix: str = "") -> str:
    digest = hashlib.sha1(block_doc.encode()).hexdigest()[:10]
    return f"m{digest}_b{index:03d}{suffix}"


def load_documents(
    options: Options, before_parse: Callable[[list[str], list[str]], object] | None = None
) -> tuple[list[Document], list[str]]:
    """The documents of the run. ``before_parse`` gets the texts of those that are new or
    changed (not parsed in an earlier run: their blocks will likely run), and those of all,
    before they are parsed, to start what can start while markdown-it works."""
    files, errors = discover(options.paths, options.exclude)
    cache = ResultCache(options.cache_dir, _own_source_digest()) if options.use_cache else None
    if before_parse is not None:
        texts, every = [], []
        for f in files:
            raw = peek(f)
            text = raw.decode("utf-8", "replace") if raw is not None else ""
            every.append(text)
            if raw is not None and (cache is None or not cache.has_parsed(f, raw)):
                texts.append(text)
        if texts:
            before_parse(texts, every)
    documents = [read_document(f, cache.parse if cache else None) for f in files]
    return documents, errors


class Progress(Protocol):
    """Where a run reports how far it got (the terminal's progress bar)."""

    def set_total(self, total: int) -> None: ...

    def __call__(self, advance: int = 1) -> None: ...


def run(options: Options, progress: Progress | None = None) -> Report:
    started = time.perf_counter()
    mark_cache_folder(options.cache_dir)
    workers: Workers | None = None
    prewarmed = False
    mypy_cache = options.cache_dir / "mypy"
    documents: list[Document] = []
    early_index: EarlyBuild | None = None

    def prewarm(start: bool = True, modules: set[str] | None = None) -> None:
        """While the name index is built or the contexts analysed: mypy on the libraries,
        the very modules the documents import (``sqlalchemy.ext.asyncio``, which importing
        ``sqlalchemy`` does not reach, would otherwise be analysed by the blocks' own check,
        after this one). ``start``: False only seeds the cache from the user's."""
        nonlocal prewarmed
        if "types" in options.stages:
            from exampletest.stages import types

            prewarmed = True
            if modules is None:
                modules = {m for d in documents for b in d.blocks for m in imported_modules(b.code)}
            tops = {m for m in modules if installed_module(m.partition(".")[0])}
            # (a module not found on disk, `os.path`, is still its package's)
            packages = sorted({m if installed_module(m) else m.partition(".")[0] for m in tops})
            workdir = options.cache_dir / "work" / "types"
            seeds = user_cache() if options.use_cache else None
            types.prewarm(workdir, mypy_cache, packages, options.mypy_options, seeds, start)

    def start_early(texts: list[str], every: list[str]) -> None:
        """New or changed documents: their blocks will likely run. The smoke workers start
        importing, and on a large run mypy starts on the libraries, while one core parses
        and analyses (timing only: what the run finds does not depend on it; the counts and
        imports are read from the text). Not with --changed-since, whose few blocks must not
        cost a start for the whole folder."""
        nonlocal workers, early_index
        blocks = sum(len(_PYTHON_FENCE.findall(t)) for t in texts)
        if not blocks or options.only:
            return
        modules = {m for t in texts for m in imported_modules(t)}
        # the name index, for the packages every document's text imports: taken if the
        # blocks import the same
        tops = {m.partition(".")[0] for t in every for m in imported_modules(t)}
        early_index = NameIndex.start(user_cache() or options.cache_dir, _index_packages(tops))
        if "smoke" in options.stages:
            workers = smoke_workers(options, blocks, modules)
            workers.start()
        prewarm(start=blocks >= EARLY_PREWARM_BLOCKS, modules=modules)

    try:
        documents, errors = load_documents(options, start_early)
        report = Report([], __version__, environment(), errors=list(errors))
        index = load_index(options, documents, prewarm, early_index)
        cache = ResultCache(options.cache_dir) if options.use_cache else None
        keys: dict[Key, str] = {}
        hits: dict[Key, BlockResult] = {}
        if cache is not None:
            salt = cache_salt(options, report.environment) + environment_key()
            for doc in documents:
                wanted = options.only(doc) if options.only else None
                stub = stub_source(options, doc)
                # an [[overrides]] entry's stages for this document are part of its results
                override = options.stages_for(doc.path) if options.stages_for else None
                doc_salt = salt + repr(sorted(override) if override is not None else None)
                try:
                    block_keys = _block_keys(cache, doc, stub, index, doc_salt)
                except Exception:  # an exampletest bug: the check says so, uncached
                    continue
                for block, key_text in zip(doc.blocks, block_keys, strict=True):
                    key = (doc.path, block.index)
                    if wanted is not None and block.index not in wanted:
                        continue  # not part of this run (--changed-since): reported as skipped
                    keys[key] = key_text
                    hit = cache.get(key_text, block)
                    if hit is not None:
                        hits[key] = hit

        def only(doc: Document) -> set[int] | None:
            wanted = options.only(doc) if options.only else None
            if not hits:
                return wanted
            todo = {b.index for b in doc.blocks if (doc.path, b.index) not in hits}
            return todo if wanted is None else todo & wanted

        misses = sum(len(d.blocks) for d in documents) - len(hits)
        if progress is not None:
            progress.set_total(misses)
        todo_docs = [d for d in documents if any((d.path, b.index) not in hits for b in d.blocks)]
        if misses and "smoke" in options.stages and workers is None:
            modules = {m for d in todo_docs for b in d.blocks for m in imported_modules(b.code)}
            workers = smoke_workers(options, misses, modules)
            workers.start()  # importing the stack overlaps with ruff and mypy
        elif not misses and workers is not None:  # every block was in the cache after all
            workers.close()
            workers = None
        if misses and options.fixes:
            _load_in_background("exampletest.fix.engine")
        speculation: list[Trial] = []
        speculating: list[threading.Thread] = []

        def speculate(preliminary: list[DocumentResult], shared: SharedRun) -> None:
            """While mypy runs: the fix trials, from the verdicts so far (their mypy joins the
            run's if that has not started yet, or follows it), in a thread of their own: the
            run's verdicts do not wait for them."""
            from exampletest.fix.engine import speculate

            def head_start() -> None:
                try:
                    speculation.append(
                        speculate(preliminary, documents, options, index, workers, shared)
                    )
                except Exception:  # only a head start: the fix engine does the work anyway
                    speculation.clear()

            speculating.append(threading.Thread(target=head_start, daemon=True))
            speculating[-1].start()

        report.documents = conclude(
            check(
                documents,
                replace(options, only=only),
                index,
                report.errors,
                progress,
                workers,
                speculate if options.fixes else None,
            )
        )
        fresh = _fresh(report, hits)
        for thread in speculating:
            thread.join()
        if options.fixes:
            from exampletest.fix.diff import attach_diffs

            if fresh:  # libcst and the rewriters load only when there is something new
                from exampletest.fix.engine import propose

                ids = {id(r) for r in fresh}
                early = speculation[0] if speculation else None
                try:
                    propose(report, documents, options, index, ids, workers, early)
                except Exception as exc:  # an exampletest bug costs the fixes, not the report
                    report.errors.append(f"fixes: {STAGE_FAILED}: {_internal(exc)}")
                    fresh = []  # nothing remembered: the next run tries the fixes again
            attach_diffs(report, documents)
    finally:
        if early_index is not None:  # only still running when the run stopped before it
            early_index.cancel()
        if workers is not None:
            workers.close()
        if prewarmed:  # only left when the run stopped before mypy
            from exampletest.stages import types

            types.end_prewarm(mypy_cache, kill=True)
    if cache is not None:
        # (a document where exampletest itself failed is checked again next time)
        failed_docs = {d.path for d in report.documents if any(STAGE_FAILED in e for e in d.errors)}
        for result in fresh:
            key = (result.block.doc_path, result.block.index)
            if key[0] in failed_docs:
                continue
            # a stage that failed, or a run that timed out (a slow moment of the machine),
            # is checked again next time rather than remembered
            failed = any(v in ("error", "timeout") for v in result.stages.values())
            if key in keys and not failed and not _skipped_by_only(options, result):
                cache.put(keys[key], result)
        if fresh:
            cache.prune()
    if options.only is not None:
        _leave_out_unselected(report, documents, options.only)
    report.duration_s = time.perf_counter() - started
    return report


def _leave_out_unselected(
    report: Report, documents: Sequence[Document], only: Callable[[Document], set[int] | None]
) -> None:
    """``--changed-since``: the unchanged blocks gave their context but are not part of the
    report (``skipped`` is a document's directive, not this run's choice); a document with
    nothing left (and no error) goes too."""
    wanted = {doc.path: only(doc) for doc in documents}
    kept: list[DocumentResult] = []
    for doc_result in report.documents:
        selected = wanted.get(doc_result.path)
        chosen = [r for r in doc_result.blocks if selected is None or r.block.index in selected]
        report.left_out += len(doc_result.blocks) - len(chosen)
        doc_result.blocks = chosen
        if chosen or doc_result.errors:
            kept.append(doc_result)
    report.documents = kept


def _block_keys(
    cache: ResultCache, doc: Document, stub: str | None, index: NameIndex, salt: str
) -> list[str]:
    """Every block's cache key. An unchanged document (same bytes, stubs and environment)
    has the keys it had last time, so a warm run does not even analyse it."""
    digest = hashlib.sha256(
        "\0".join((salt, doc.path, stub or "")).encode() + b"\0" + doc.raw
    ).hexdigest()
    known = cache.get_keys(digest)
    if known is not None and len(known) == len(doc.blocks):
        return known
    from exampletest.context import analyze_document  # a warm run has its keys: no analysis

    keys = [block_key(ctx, salt) for ctx in analyze_document(doc.blocks, index, stub)]
    cache.put_keys(digest, keys)
    return keys


def _fresh(report: Report, hits: dict[Key, BlockResult]) -> list[BlockResult]:
    """Put cache hits in place; return the results this run computed."""
    fresh: list[BlockResult] = []
    for doc_result in report.documents:
        for i, result in enumerate(doc_result.blocks):
            key = (doc_result.path, result.block.index)
            if key in hits:
                hits[key].module = result.module
                doc_result.blocks[i] = hits[key]
            elif any(v != "skipped" for v in result.stages.values()) or result.block.skip_reason:
                fresh.append(result)
    return fresh


def _skipped_by_only(options: Options, result: BlockResult) -> bool:
    return all(v == "skipped" for v in result.stages.values()) and not result.block.skip_reason


@functools.cache
def _own_source_digest() -> str:
    """exampletest's own code is part of every result (an editable install changes under us)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_salt(options: Options, env: dict[str, Any]) -> str:
    """Everything besides the block and its context that can change a block's result."""
    smoke_env = sorted((k, os.environ.get(k, "")) for k in options.smoke_env)
    return repr(
        (
            __version__,
            _own_source_digest(),
            env,
            sorted(options.stages),
            options.ruff_select,
            options.ruff_ignore,
            options.mypy_options,
            options.target_version,
            options.smoke_timeout_s,
            smoke_env,
            options.fixes,
        )
    )


def load_index(
    options: Options,
    documents: Sequence[Document],
    before_build: Callable[[], object] | None = None,
    started: EarlyBuild | None = None,
) -> NameIndex:
    """The name index belongs to the Python environment, not the project: it is kept in the
    user's cache (``$XDG_CACHE_HOME/exampletest``), keyed by the environment, and shared by
    every project using it; the project cache is the fallback. ``--no-cache`` keeps it.
    Only the packages the documents import are walked, and the stack the examples are
    checked against (no other package's names are ever suggested), which keeps a first run
    from importing the whole environment."""
    packages = _index_packages(imported_packages(d.blocks for d in documents))
    cache = user_cache() or options.cache_dir
    return NameIndex.load(cache, packages=packages, before_build=before_build, started=started)


def _index_packages(tops: Iterable[str]) -> set[str]:
    return {p for p in {*tops, *STACK_PACKAGES} if is_importable(p)}


def user_cache() -> Path | None:
    """``$XDG_CACHE_HOME/exampletest``: what belongs to the Python environment rather than
    the project (the name index, mypy's analysis of the libraries); None if not writable."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    folder = Path(base) / "exampletest"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def stub_source(options: Options, doc: Document) -> str | None:
    specific = stub_path(options.stubs_dir, path_slug(doc.path))
    stub = specific if specific.is_file() else stub_path(options.stubs_dir, doc_slug(doc.path))
    return stub.read_text(encoding="utf-8") if stub.is_file() else None


def _internal(exc: Exception) -> str:
    """An exampletest bug in one line, with where it happened (for the bug report)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {Path(frame[0].filename).name}:{frame[0].lineno}" if frame else ""
    return f"internal error ({type(exc).__name__}: {exc}{where}); please report it"


def _not_checked(block: Block, slug: str) -> BlockResult:
    result = BlockResult(block, module=module_path(block, slug=slug), status=Status.SKIPPED)
    result.stages = dict.fromkeys(STAGES, "skipped")
    return result


@dataclass
class Checked:
    """What the stages found for some blocks, before the verdict: each block's result (its
    context findings and stage statuses) and the stages' findings for it."""

    documents: list[DocumentResult]
    results: dict[Key, BlockResult]
    found: dict[Key, list[Finding]]
    no_stages: bool = False  # the run selected no stage at all (context findings only)


#: Called with the verdicts so far once every stage but types has finished, and the run's
#: mypy, which more blocks can join until it starts.
Partial = Callable[[list[DocumentResult], "SharedRun"], None]


def check(
    documents: Sequence[Document],
    options: Options,
    index: NameIndex,
    run_errors: list[str],
    progress: Callable[[int], None] | None = None,
    workers: Workers | None = None,
    partial: Partial | None = None,
    shared: SharedRun | None = None,
) -> Checked:
    """Context and stages for every block of the documents (those ``only`` allows).
    ``shared``: the types stage joins that mypy run when it can, and otherwise runs its own
    once that is over (they share mypy's cache)."""
    doc_results: list[DocumentResult] = []
    contexts: list[BlockContext] = []
    results: dict[Key, BlockResult] = {}
    slugs = doc_slugs([d.path for d in documents])
    for doc in documents:
        doc_result = DocumentResult(doc.path, errors=list(doc.errors))
        doc_results.append(doc_result)
        wanted = options.only(doc) if options.only else None
        if wanted is not None and not wanted:  # nothing to check here (all cached or unchanged)
            doc_result.blocks.extend(_not_checked(b, slugs[doc.path]) for b in doc.blocks)
            continue
        from exampletest.context import analyze_document  # loads only for a block to check

        try:
            analysed = analyze_document(doc.blocks, index, stub_source(options, doc))
        except Exception as exc:  # an exampletest bug costs this document, not the run
            line = f"{doc.path}: {STAGE_FAILED}: {_internal(exc)}; its blocks were not checked"
            doc_result.errors.append(line)
            doc_result.blocks.extend(_not_checked(b, slugs[doc.path]) for b in doc.blocks)
            continue
        for ctx in analysed:
            block = ctx.block
            if wanted is not None and block.index not in wanted:
                doc_result.blocks.append(_not_checked(block, slugs[doc.path]))
                continue
            result = BlockResult(block, module=module_path(block, slug=slugs[doc.path]))
            doc_result.blocks.append(result)
            results[(block.doc_path, block.index)] = result
            if not block.directives.skips("all") and block.skip_reason is None:
                result.findings.extend(ctx.findings)
            contexts.append(ctx)

    def early(found: dict[Key, list[Finding]], run: SharedRun) -> None:
        assert partial is not None
        partial(_preliminary(Checked(doc_results, results, found, not options.stages)), run)

    hook = early if partial is not None else None
    found = check_contexts(contexts, options, run_errors, results, progress, workers, hook, shared)
    return Checked(doc_results, results, found, not options.stages)


def conclude(checked: Checked) -> list[DocumentResult]:
    """The verdict: findings merged into one per problem, and each block's status."""
    errors = {d.path: d.errors for d in checked.documents}
    for key, result in checked.results.items():
        result.findings, result.status = verdict(
            result, checked.found.get(key, []), checked.no_stages, errors.get(key[0])
        )
    return checked.documents


def verdict(
    result: BlockResult, found: list[Finding], no_stages: bool, errors: list[str] | None = None
) -> tuple[list[Finding], Status]:
    """A block's findings (its context's and the stages') as one per problem, and its status.
    An exampletest bug here costs the block its merging, not the run: its findings as the
    stages gave them, and a line in ``errors`` (the run then exits 2)."""
    # loads only for a block checked now (not a cache hit)
    from exampletest.verdict import (
        fold_import_lines,
        mark_intentional,
        merge,
        status,
        unmet_expectation,
    )

    try:
        merged = fold_import_lines(result.block, merge(found + result.findings))
        findings = mark_intentional(result.block, merged)
        ran = any(v in ("ran", "timeout") for v in result.stages.values())
        every = bool(result.stages) and all(v == "ran" for v in result.stages.values())
        findings = [*findings, *unmet_expectation(result.block, findings, every)]
        return findings, status(result.block, findings, ran or no_stages)
    except Exception as exc:
        block = result.block
        if errors is not None:
            errors.append(
                f"{block.doc_path}:{block.fence_line}: block {block.index}: {STAGE_FAILED}: "
                f"its findings are not merged: {_internal(exc)}"
            )
        raw = [*found, *result.findings]
        worst = (s for s in STATUS_ORDER if any(f.category.value == s.value for f in raw))
        return raw, next(worst, Status.OK)


def _preliminary(checked: Checked) -> list[DocumentResult]:
    """Verdicts on copies, from what the stages found so far (the originals stay open)."""
    out: list[DocumentResult] = []
    for doc_result in checked.documents:
        blocks = []
        for result in doc_result.blocks:
            key = (result.block.doc_path, result.block.index)
            if key in checked.results:
                findings, state = verdict(
                    result, list(checked.found.get(key, [])), checked.no_stages
                )
                result = replace(
                    result, findings=findings, status=state, stages=dict(result.stages)
                )
            blocks.append(result)
        out.append(replace(doc_result, blocks=blocks))
    return out


def _taken_later(
    contexts: Sequence[BlockContext], found: dict[Key, list[Finding]]
) -> dict[Key, list[Finding]]:
    """Without ruff's "imported but unused" for what later blocks take from the import."""
    from exampletest.verdict import subjects

    for ctx in contexts:
        key = (ctx.block.doc_path, ctx.block.index)
        if ctx.exported and key in found:
            found[key] = [
                f
                for f in found[key]
                if not (f.rule == "F401" and subjects(f.message) & set(ctx.exported))
            ]
    return found


def _stage_plan(ctx: BlockContext, options: Options) -> dict[str, str]:
    plan = {}
    override = options.stages_for(ctx.block.doc_path) if options.stages_for else None
    stages = override if override is not None else options.stages
    for stage in STAGES:
        skipped = (
            stage not in stages
            or ctx.block.directives.skips(stage)
            or ctx.block.skip_reason is not None
            or (stage != "lint" and ctx.symbols.syntax_error is not None)
        )
        plan[stage] = "skipped" if skipped else "pending"
    return plan


def check_contexts(
    contexts: Sequence[BlockContext],
    options: Options,
    run_errors: list[str],
    results: dict[Key, BlockResult],
    progress: Callable[[int], None] | None = None,
    workers: Workers | None = None,
    early: Callable[[dict[Key, list[Finding]], SharedRun], None] | None = None,
    shared: SharedRun | None = None,
) -> dict[Key, list[Finding]]:
    """Run the stages over the blocks that need them; returns the findings per block.
    ``early`` gets the findings of every stage but types as soon as they are in (types, the
    slowest, is still running: the fix engine starts its trials meanwhile), and the run's
    mypy, which the trials' can join until it starts. ``shared``: see :func:`check`."""
    found: dict[Key, list[Finding]] = {}
    if not contexts:  # every block was in the cache
        return found
    # these load only when there is something to check
    from exampletest.context import prelude_imports
    from exampletest.stages import types

    lock = threading.Lock()
    plans = {(c.block.doc_path, c.block.index): _stage_plan(c, options) for c in contexts}
    for key, plan in plans.items():
        results[key].stages = dict(plan)
    workdir = options.cache_dir / "work"

    def add(stage: str, per_block: dict[Key, list[Finding]]) -> None:
        with lock:
            for key, fs in per_block.items():
                found.setdefault(key, []).extend(fs)
                results[key].stages[stage] = "ran"

    def fail(stage: str, keys: list[Key], exc: Exception) -> None:
        why = str(exc) if isinstance(exc, StageError) else f"{type(exc).__name__}: {exc}"
        with lock:
            run_errors.append(f"{stage} {STAGE_FAILED}: {why}")
            for key in keys:
                results[key].stages[stage] = "error"

    def with_stage(stage: str) -> list[BlockContext]:
        return [c for c in contexts if plans[(c.block.doc_path, c.block.index)][stage] != "skipped"]

    smoking = bool(with_stage("smoke"))  # the smoke workers take the other cores

    def run_lint() -> None:
        todo = with_stage("lint")
        try:
            add(
                "lint",
                _taken_later(
                    todo,
                    lint.check(
                        [
                            (
                                c.block,
                                module_name(c.block.doc_path, c.block.index, options.module_suffix),
                                prelude_imports(c),
                            )
                            for c in todo
                        ],
                        workdir,
                        select=options.ruff_select,
                        ignore=options.ruff_ignore,
                        target_version=options.target_version,
                    ),
                ),
            )
        except Exception as exc:  # StageError, or a bug: the stage fails, never the run
            fail("lint", [(c.block.doc_path, c.block.index) for c in todo], exc)

    own = types.SharedRun()

    def run_types() -> None:
        todo = with_stage("types")
        pairs = [
            (c, module_name(c.block.doc_path, c.block.index, options.module_suffix)) for c in todo
        ]
        try:
            if not todo:
                return
            if shared is not None and not shared.over.is_set():
                rider = shared.board(pairs)
                if rider is not None:
                    rider.done.wait()
                    if rider.results is not None:
                        add("types", rider.results)
                        return
                shared.over.wait()  # it started without these: they follow once it is over
            # (a shared run that is over leaves the cache free: this check runs its own)
            checked = types.check(
                pairs,
                workdir / "types",
                options.cache_dir / "mypy",
                extra_config=options.mypy_options,
                cores=1 if smoking else options.jobs,
                shared=own,
            )
            add("types", checked)
        except Exception as exc:  # StageError, or a bug: the stage fails, never the run
            fail("types", [(c.block.doc_path, c.block.index) for c in todo], exc)
        finally:
            own.end()  # riders it did not take, and checks waiting for the cache, go on

    def run_rules() -> None:
        try:
            per_block = _rules(contexts)
        except Exception as exc:  # a rule's bug costs the rule pack, never the run
            with lock:
                run_errors.append(f"rule pack {STAGE_FAILED}: {type(exc).__name__}: {exc}")
            return
        with lock:
            for key, fs in per_block.items():
                found.setdefault(key, []).extend(fs)

    threads = [threading.Thread(target=fn, daemon=True) for fn in (run_lint, run_rules, run_types)]
    for t in threads:
        t.start()
    try:
        smoke_todo = with_stage("smoke")
        if smoke_todo:
            _run_smoke(smoke_todo, options, found, results, lock, run_errors, progress, workers)
        for t in threads[:2]:
            t.join()
        if early is not None and threads[2].is_alive():
            with lock:
                so_far = {k: list(v) for k, v in found.items()}
            early(so_far, own)
    finally:  # never leave a mypy running on the shared cache behind
        for t in threads:
            t.join()
    return found


def _rules(contexts: Sequence[BlockContext]) -> dict[Key, list[Finding]]:
    from exampletest import rules

    return {
        (ctx.block.doc_path, ctx.block.index): rules.check(ctx.block)
        for ctx in contexts
        if ctx.symbols.syntax_error is None
        and ctx.block.skip_reason is None
        and not ctx.block.directives.skips("lint")  # the rule pack reads code, as lint does
    }


def _run_smoke(
    todo: Sequence[BlockContext],
    options: Options,
    found: dict[Key, list[Finding]],
    results: dict[Key, BlockResult],
    lock: threading.Lock,
    run_errors: list[str],
    progress: Callable[[int], None] | None,
    workers: Workers | None,
) -> None:
    from exampletest.sandbox import Limits
    from exampletest.stages import smoke

    limits = Limits(timeout_s=options.smoke_timeout_s)
    own = workers is None
    workers = workers or smoke_workers(options, len(todo))
    try:
        for key, res in smoke.check(todo, workers.start(), limits).items():
            with lock:
                found.setdefault(key, []).extend(res.findings)
                results[key].stages["smoke"] = res.status
            if progress is not None:
                progress(1)
    except OSError as exc:
        run_errors.append(f"smoke {STAGE_FAILED}: {exc}")
        for ctx in todo:
            results[(ctx.block.doc_path, ctx.block.index)].stages["smoke"] = "error"
    finally:
        if own:
            workers.close()


def _load_in_background(module: str) -> None:
    """Import ``module`` in a thread while the stages run (the main thread mostly waits on
    them): the fix engine and libcst take half a second, which an edit run would otherwise
    wait for after its last stage. Safe beside the other threads' imports because this
    package's modules import each other without cycles (a thread that needs a module another
    is loading waits for it; tests/test_imports.py keeps it so). A failure here is the later
    import's to report."""

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    threading.Thread(target=load, daemon=True, name=f"load {module}").start()


def smoke_workers(options: Options, blocks: int, modules: Iterable[str] = ()) -> Workers:
    """Workers that also pre-import the installed packages of the modules the documents import,
    so that each forked block finds them loaded. Only installed packages: document code never
    runs there."""
    from exampletest.pool import Workers

    env = {k: os.environ[k] for k in options.smoke_env if k in os.environ}
    installed = sorted(m for m in modules if is_importable(m.partition(".")[0]))
    jobs = min(options.jobs, -(-blocks // BLOCKS_PER_WORKER))
    return Workers(jobs, env, installed, whole_stack=blocks > BLOCKS_PER_WORKER)
