"""Command line: ``exampletest run|extract|fix|stubs|baseline|clean``.

Exit codes (the contract): 0 nothing reached --fail-on, 1 something did, 2 the run itself could
not be done (bad option, unreadable path, bad config) with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from exampletest import __version__
from exampletest.changed import ChangedSince, GitError, parse_shard, shard_paths
from exampletest.config import FAIL_ON, Config, ConfigError, load, parse_stages
from exampletest.formats import FORMATS
from exampletest.model import Document, DocumentResult, Report, reaches
from exampletest.parse import left_unread, misread_directive
from exampletest.pipeline import STAGE_FAILED, Options

if TYPE_CHECKING:
    from exampletest.baseline import Baseline


class UsageError(Exception):
    """Exit code 2 with this one-line message."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="exampletest", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"exampletest {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("paths", nargs="*", metavar="PATH", help="Markdown files or folders")
        sp.add_argument("--exclude", action="append", default=[], metavar="GLOB")
        sp.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
        sp.add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="at most N smoke workers, and mypy's when no smoke run shares the cores "
            "(default: CPUs; a small run starts fewer)",
        )
        sp.add_argument("--stages", metavar="LIST", help="lint,types,smoke (default: all)")
        sp.add_argument("--smoke-timeout", type=float, metavar="S")

    run = sub.add_parser("run", help="check every Python block, print a report")
    common(run)
    run.add_argument("--format", default="text", choices=sorted(FORMATS))
    run.add_argument("--report", action="append", default=[], metavar="FORMAT=FILE")
    run.add_argument("--fail-on", choices=FAIL_ON)
    run.add_argument("--no-fix", action="store_true", help="do not propose (and verify) fixes")
    run.add_argument("-q", "--quiet", action="store_true", help="summary only")
    run.add_argument("-v", "--verbose", action="count", default=0)
    run.add_argument("--changed-since", metavar="GIT_REF", help="only blocks new or edited since")
    run.add_argument("--baseline", metavar="FILE", help="findings in FILE never fail the run")
    run.add_argument("--shard", metavar="K/N", help="only the K-th of N slices of the documents")

    ex = sub.add_parser("extract", help="write the blocks as modules under extracted/")
    ex.add_argument("paths", nargs="*", metavar="PATH")
    ex.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    ex.add_argument("--output", default="extracted", metavar="DIR")
    ex.add_argument("--check", action="store_true", help="exit 1 when extracted/ is out of date")

    fx = sub.add_parser("fix", help="propose (--diff) or apply (--write) verified fixes")
    common(fx)
    mode = fx.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print the diff (default); exit 1 if any")
    mode.add_argument("--write", action="store_true", help="apply verified fixes in place")
    fx.add_argument("--unverified", action="store_true", help="also apply unverified fixes")

    st = sub.add_parser("stubs", help="write/refresh context stubs for names no block defines")
    common(st)

    bl = sub.add_parser("baseline", help="record today's findings for run --baseline")
    common(bl)
    bl.add_argument("--output", required=True, metavar="FILE", help="baseline file to write")

    cl = sub.add_parser("clean", help="remove the cache (only a folder that is exampletest's)")
    cl.add_argument("--cache-dir", default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:  # an interrupt while the parser is built is an interrupt too, not a traceback
        parser = _parser()
        args = parser.parse_args(argv)
        config = load()
        commands = {"run": _run, "extract": _extract, "fix": _fix, "stubs": _stubs,
                    "baseline": _baseline, "clean": _clean}  # fmt: skip
        if args.command in commands:
            return commands[args.command](args, config)
        parser.error(f"unknown command {args.command}")
    except (ConfigError, UsageError) as exc:
        print(f"exampletest: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt as exc:  # Ctrl-C, or CI cancelling the job (SIGTERM)
        print("exampletest: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    return 2


def resolve_paths(args_paths: Sequence[str], config: Config) -> list[str]:
    if args_paths:
        return list(args_paths)
    if not config.paths:
        return ["."]  # like ruff and pytest: the current folder (hidden folders are skipped)
    base = config.source.parent if config.source else Path.cwd()
    return [os.path.relpath(base / p) for p in config.paths]


def options_from(args: argparse.Namespace, config: Config) -> Options:
    paths = resolve_paths(args.paths, config)
    stages = parse_stages(args.stages) if getattr(args, "stages", None) else config.stages
    asked = getattr(args, "jobs", None)
    if asked is not None and asked < 1:
        raise UsageError(f"--jobs must be at least 1, got {asked}")
    jobs = asked or config.jobs or os.cpu_count() or 1
    timeout = getattr(args, "smoke_timeout", None)
    if timeout is not None and not 0 < timeout <= 3600:
        raise UsageError(f"--smoke-timeout: expected seconds in (0, 3600], got {timeout:g}")
    from exampletest.stages import lint

    return Options(
        paths=tuple(paths),
        stages=stages,
        jobs=jobs,
        use_cache=not getattr(args, "no_cache", False),
        cache_dir=Path(os.environ.get("EXAMPLETEST_CACHE_DIR") or config.cache_dir),
        stubs_dir=Path(config.stubs_dir),
        exclude=tuple(config.exclude) + tuple(getattr(args, "exclude", [])),
        smoke_timeout_s=timeout or config.smoke_timeout,
        smoke_env=config.smoke_env,
        ruff_select=config.ruff_select or lint.SELECT,
        ruff_ignore=config.ruff_ignore if config.ruff_ignore is not None else lint.IGNORE,
        mypy_options=config.mypy_options,
        target_version=config.target_version,
        stages_for=config.stages_for,
        fixes=not getattr(args, "no_fix", False),
    )


def _parse_reports(specs: Sequence[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for spec in specs:
        fmt, sep, path = spec.partition("=")
        if not sep or not path:
            raise UsageError(f"--report expects FORMAT=FILE, got {spec!r}")
        if fmt not in FORMATS:
            known = ", ".join(sorted(FORMATS))
            raise UsageError(f"--report: unknown format {fmt!r} (known: {known})")
        same = next((f for f, p in out if os.path.realpath(p) == os.path.realpath(path)), None)
        if same is not None:  # the second would silently overwrite the first
            raise UsageError(f"--report {fmt}={path}: the {same} report is written there too")
        out.append((fmt, path))
    return out


def _run(args: argparse.Namespace, config: Config) -> int:
    from exampletest.pipeline import run

    options = _narrow(args, options_from(args, config))
    reports = _parse_reports(args.report)
    fail_on = args.fail_on or config.fail_on
    baseline = _load_baseline(args.baseline) if args.baseline else None
    if args.format == "text" and not args.quiet and not os.environ.get("CI"):
        from exampletest.formats.text import progress  # rich loads only for the terminal

        with progress(0, True) as bar:
            report = run(options, progress=bar)
    else:
        report = run(options)
    _print_errors(report)
    if not report.blocks() and _nothing_readable(report) and options.paths:
        return 2
    if baseline is not None:
        _apply_baseline(report, baseline)
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    render = FORMATS[args.format]
    if args.quiet and args.format == "text":
        from exampletest.formats.text import render_summary

        sys.stdout.write(render_summary(report, fail_on=fail_on))
    else:
        sys.stdout.write(render(report, color=color, verbose=args.verbose, fail_on=fail_on))
    for fmt, path in reports:
        try:
            Path(path).write_text(FORMATS[fmt](report, fail_on=fail_on), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--report {fmt}={path}: cannot write: {exc.strerror}") from None
    failed = any(
        reaches(b.status, args.fail_on or config.fail_on_for(b.block.doc_path))
        for b in report.blocks()
    )
    if _not_done(report, options):
        return 2  # the rest ran and is reported; the run as asked was still not done
    return 1 if failed else 0


def _not_done(report: Report, options: Options) -> bool:
    """What makes a run that checked the rest still exit 2: a path given that is not there
    (a typo in CI), a document named on the command line that could not be read at all
    (binary, not UTF-8, too large, not a file; one found in a folder is an error line), a
    stage that could not run (a bad ruff rule or mypy plugin in the config, an internal
    error on one document), a directive that could not be read (what it asked for was not
    done)."""
    if any(not os.path.exists(p) for p in options.paths):
        return True
    if _named_unread(options.paths, report.documents):
        return True
    if any(misread_directive(d.errors) for d in report.documents):
        return True
    errors = [*report.errors, *(e for d in report.documents for e in d.errors)]
    return any(STAGE_FAILED in e for e in errors)


def _named_unread(paths: Sequence[str], documents: Sequence[Document | DocumentResult]) -> bool:
    named = {os.path.normpath(p) for p in paths if not os.path.isdir(p)}
    return any(os.path.normpath(d.path) in named and left_unread(d.errors) for d in documents)


def _narrow(args: argparse.Namespace, options: Options) -> Options:
    """--shard picks the documents, --changed-since the blocks of them that this run checks."""
    try:
        if args.shard:
            shard = parse_shard(args.shard)
            paths = shard_paths(options.paths, options.exclude, shard)
            options = replace(options, paths=tuple(paths))
        if args.changed_since:
            options = replace(options, only=ChangedSince(args.changed_since))
    except (GitError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return options


def _load_baseline(path: str) -> Baseline:
    from exampletest.baseline import BaselineError, load

    try:
        return load(Path(path))
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _apply_baseline(report: Report, baseline: Baseline) -> None:
    """Baselined findings stop deciding statuses; say how many entries can be dropped."""
    from exampletest.baseline import apply

    stale = apply(report, baseline)
    if stale:
        what = "1 entry no longer matches" if stale == 1 else f"{stale} entries no longer match"
        print(f"exampletest: baseline: {what}; regenerate with exampletest baseline",
              file=sys.stderr)  # fmt: skip


def _baseline(args: argparse.Namespace, config: Config) -> int:
    from exampletest.baseline import BaselineError, record, save
    from exampletest.pipeline import run

    report = run(replace(options_from(args, config), fixes=False))
    _print_errors(report)
    if not report.blocks() and _nothing_readable(report):
        return 2
    baseline = record(report, Path(args.output))
    try:
        save(baseline)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None
    docs = len(report.documents)
    print(f"baseline: {sum(baseline.entries.values())} findings from {docs} "
          f"document{'s' if docs != 1 else ''} recorded in {args.output}")  # fmt: skip
    return 0


def _nothing_readable(report: Report) -> bool:
    """Exit 2 only when nothing at all could be checked (nothing changed since the ref is
    not that: those blocks were read, and left out)."""
    if report.left_out:
        return False
    return not report.documents or all(d.errors and not d.blocks for d in report.documents)


def _print_errors(report: Report) -> None:
    for line in report.errors:
        print(f"exampletest: {line}", file=sys.stderr)
    for doc in report.documents:
        for line in doc.errors:
            print(f"exampletest: {line}", file=sys.stderr)


def _extract(args: argparse.Namespace, config: Config) -> int:
    from exampletest.extract import extract
    from exampletest.pipeline import load_documents

    options = Options(paths=tuple(resolve_paths(args.paths, config)),
                      exclude=tuple(config.exclude) + tuple(args.exclude))  # fmt: skip
    documents, errors = load_documents(options)
    for line in errors + [e for d in documents for e in d.errors]:
        print(f"exampletest: {line}", file=sys.stderr)
    if not documents:
        return 2
    differing = extract(documents, Path(args.output), check=args.check)
    verb = "out of date" if args.check else "written"
    for path in differing:
        print(f"{verb}: {path}")
    if args.check:
        return 1 if differing else 0
    blocks = sum(len(d.blocks) for d in documents)
    print(f"{blocks} blocks from {len(documents)} documents; {len(differing)} modules changed")
    return 0


def _fix(args: argparse.Namespace, config: Config) -> int:
    from exampletest.fix.diff import document_diff
    from exampletest.pipeline import load_documents, run
    from exampletest.writeback import WriteError, replace_blocks, write_document

    options = options_from(args, config)
    # The bytes the fixes are made for: a document edited while the run checks it is then
    # refused when written (its bytes on disk differ), never overwritten.
    documents = {d.path: d for d in load_documents(options)[0]}
    report = run(options)
    _print_errors(report)
    changed = refused = 0
    for doc_result in report.documents:
        doc = documents.get(doc_result.path)
        if doc is not None and [b.code for b in doc.blocks] != [
            r.block.code for r in doc_result.blocks
        ]:
            print(f"exampletest: {doc.path}: changed on disk since it was read; not written",
                  file=sys.stderr)  # fmt: skip
            refused += 1
            continue
        fixes = {
            r.block.index: r.fix.replacement
            for r in doc_result.blocks
            if r.fix is not None and r.fix.diff and (r.fix.verified or args.unverified)
        }
        for r in doc_result.blocks:
            if r.fix is None:
                continue
            where = f"{doc_result.path}:{r.block.fence_line}"
            if r.fix.diff and not r.fix.verified and not args.unverified:
                print(f"{where}: fix not verified, skipped (use --unverified to include it)",
                      file=sys.stderr)  # fmt: skip
            elif not r.fix.diff:
                print(f"{where}: no fix", file=sys.stderr)
            # What was left in words, refused, or only partly resolved (stderr: a --diff on
            # stdout stays a patch).
            for note in r.fix.notes:
                print(f"{where}: note: {note}", file=sys.stderr)
        if doc is None or not fixes:
            continue
        changed += len(fixes)
        try:
            if args.write:
                write_document(doc, replace_blocks(doc, fixes))
                print(f"fixed {len(fixes)} block(s) in {doc.path}")
            else:
                sys.stdout.write(document_diff(doc, fixes))
        except WriteError as exc:
            print(f"exampletest: {exc}", file=sys.stderr)
            refused += 1
    if _not_done(report, options) or (not report.blocks() and _nothing_readable(report)):
        return 2
    if args.write:
        return 1 if refused else 0  # a fix that could not be written is not done
    return 1 if changed else 0


def _stubs(args: argparse.Namespace, config: Config) -> int:
    from exampletest.pipeline import load_documents
    from exampletest.stubs import write_stubs

    options = options_from(args, config)
    documents, errors = load_documents(options)
    for line in errors + [e for d in documents for e in d.errors]:
        print(f"exampletest: {line}", file=sys.stderr)
    for line in write_stubs(options, documents):
        print(line)
    missing = any(not os.path.exists(p) for p in options.paths)
    return 2 if missing or _named_unread(options.paths, documents) or not documents else 0


def _clean(args: argparse.Namespace, config: Config) -> int:
    """Remove the cache a run would use (``--cache-dir``, ``EXAMPLETEST_CACHE_DIR``, the
    config's), only if it is one: a mistyped ``cache-dir = "docs"`` must not cost the docs."""
    from exampletest.cache import is_cache_folder

    folder = Path(args.cache_dir or os.environ.get("EXAMPLETEST_CACHE_DIR") or config.cache_dir)
    if not folder.exists():
        print(f"nothing to remove: {folder} does not exist")
        return 0
    if not folder.is_dir():
        raise UsageError(f"clean: {folder} is not a folder; not removed")
    if folder.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        raise UsageError(f"clean: {folder} holds the current folder; not removed")
    if not is_cache_folder(folder):
        raise UsageError(
            f"clean: {folder} is not an exampletest cache (no CACHEDIR.TAG, and files the "
            "cache never writes); not removed"
        )
    shutil.rmtree(folder)
    print(f"removed {folder}")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI job cancelled or timed out): unwound like Ctrl-C, so that the run's
    workers, in sessions of their own that a group kill does not reach, are stopped too."""


#: Python's import system: an exception raised in its own code can leave its lock held.
_IMPORT_SYSTEM = "<frozen importlib._bootstrap"
_REDELIVER_S = 0.02


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGINT: stop the run's mypy, then unwind. Not while the main thread is in
    the import system's own code (a garbage-collected module lock's callback can run there at
    any time): raising there can leave the import lock held, and the run's other threads,
    which import too, would then wait for it forever. Nor while it holds the parse lock
    (``symbols.parse_code``): an exception between taking a lock and the ``with`` that
    releases it leaves it held, and the stage threads the run then joins parse too. The
    signal comes again a moment later."""
    symbols = sys.modules.get("exampletest.symbols")
    parsing = getattr(symbols, "parsing_here", None)
    if (frame is not None and frame.f_code.co_filename.startswith(_IMPORT_SYSTEM)) or (
        parsing is not None and parsing()
    ):
        threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signum)).start()
        return
    # The stage's thread would wait for a mypy that is running. The types stage loads only
    # when there is something to check, maybe at this very moment: a module still loading
    # has started no mypy.
    types = sys.modules.get("exampletest.stages.types")
    stop_running = getattr(types, "stop_running", None)
    if stop_running is not None:
        stop_running()
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def entry() -> int:
    """The console script: :func:`main` with SIGTERM handled as an interrupt, then an exit
    that does not walk the run's objects (the interpreter's last collection of a corpus run
    costs half a second)."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    # A run keeps its documents, trees and results to the end: with the default thresholds
    # the collector walks them again and again (0.6 s of a corpus run), for little garbage.
    gc.set_threshold(20_000, 20, 20)
    try:
        code = main()
        sys.stdout.flush()
    except OSError as exc:  # the report could not be written: a full disk, `| head` gone
        if not isinstance(exc, BrokenPipeError):
            print(f"exampletest: error: cannot write to stdout: {exc.strerror}", file=sys.stderr)
        # what is still buffered would fail again when the interpreter flushes it at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 2
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
