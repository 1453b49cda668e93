"""pytest plugin: ``pytest --exampletest`` makes every Python block of the documents a test.

Each block is one item, ``path::L<fence line>``, that fails when the block's status reaches
``--exampletest-fail-on``. The pipeline checks the blocks of a whole run together (one ruff and
one mypy process, warm smoke workers), so it runs once per session, at the first block's setup,
over every block selected for the session (after ``-k`` and friends). Under pytest-xdist all
workers collect the same items; the first one to get there runs the pipeline and the others
read its results from the shared temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from exampletest.config import FAIL_ON, Config, ConfigError, load
from exampletest.discover import SUFFIXES
from exampletest.model import Block, BlockResult, Finding, Report, Status

#: (absolute document path, block index) -> what an item needs to know about its block.
Results = dict[tuple[str, int], "Outcome"]


@dataclass(frozen=True)
class Outcome:
    status: str
    text: str  # the findings (and run errors), as the failure message shows them


class BlockFailed(Exception):
    """The block's status reached --exampletest-fail-on; the message is the findings."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("exampletest", "check the Python blocks of Markdown documents")
    group.addoption("--exampletest", action="store_true",
                    help="collect the Python blocks of Markdown files as test items")  # fmt: skip
    group.addoption("--exampletest-paths", action="append", default=[], metavar="PATH",
                    help="Markdown files or folders to check (default: [tool.exampletest] "
                         "paths, unless Markdown paths are given as arguments)")  # fmt: skip
    group.addoption("--exampletest-fail-on", choices=FAIL_ON, default=None,
                    help="lowest block status that fails its item (default: broken)")  # fmt: skip
    group.addoption("--exampletest-stages", metavar="LIST",
                    help="lint,types,smoke (default: all)")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("exampletest"):
        return
    try:
        settings = load(config.rootpath)
    except ConfigError as exc:
        raise pytest.UsageError(f"exampletest: {exc}") from None
    here = config.invocation_params.dir
    given = [here / a.split("::")[0] for a in config.args]
    explicit = config.args_source is pytest.Config.ArgsSource.ARGS
    roots = [here / p for p in config.getoption("exampletest_paths")]
    if not roots and not explicit and settings.source is not None:
        roots = [settings.source.parent / p for p in settings.paths]
    config.args.extend(str(r) for r in roots if not _under(r, given))  # pytest collects these
    if explicit:
        roots += given
    config.stash[_RUNNER] = Runner(config, settings, [r.resolve() for r in roots])


def _under(path: Path, roots: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in (x.resolve() for x in roots))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> MarkdownFile | None:
    runner = parent.config.stash.get(_RUNNER, None)
    if runner is None or not file_path.name.lower().endswith(SUFFIXES):
        return None
    if not (parent.session.isinitpath(file_path) or _under(file_path, runner.roots)):
        return None
    file: MarkdownFile = MarkdownFile.from_parent(parent, path=file_path)
    return file


class MarkdownFile(pytest.File):
    def collect(self) -> Iterator[BlockItem]:
        from exampletest.parse import read_document

        doc = read_document(os.path.relpath(self.path))
        if doc.errors and not doc.blocks:
            raise self.CollectError("; ".join(doc.errors))
        for block in doc.blocks:
            item: BlockItem = BlockItem.from_parent(self, name=f"L{block.fence_line}", block=block)
            yield item


class BlockItem(pytest.Item):
    def __init__(self, *, block: Block, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block

    def runtest(self) -> None:
        from exampletest.model import reaches

        runner = self.config.stash[_RUNNER]
        outcome = runner.outcome(self)
        if outcome.status == Status.SKIPPED:
            pytest.skip(self.block.skip_reason or "skipped (directive or --exampletest-stages)")
        if reaches(Status(outcome.status), runner.fail_on(self.block.doc_path)):
            raise BlockFailed(outcome.text)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, BlockFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        heading = f" ({self.block.heading})" if self.block.heading else ""
        return self.path, self.block.fence_line - 1, f"block {self.block.index}{heading}"


class Runner:
    """The session's one pipeline run, over the blocks whose items were selected."""

    def __init__(self, config: pytest.Config, settings: Config, roots: list[Path]) -> None:
        self.config = config
        self.settings = settings
        self.roots = roots
        self._results: Results | None = None
        self._error: str | None = None

    def fail_on(self, doc_path: str) -> str:
        given: str | None = self.config.getoption("exampletest_fail_on")
        return given or self.settings.fail_on_for(doc_path)

    def outcome(self, item: BlockItem) -> Outcome:
        if self._results is None and self._error is None:
            try:
                self._results = self._shared(item.session)
            except (ConfigError, ValueError, OSError) as exc:
                self._error = f"exampletest could not run: {exc}"
        found = (self._results or {}).get((os.path.abspath(item.block.doc_path), item.block.index))
        if found is None:
            raise BlockFailed(self._error or "exampletest: no result for this block")
        return found

    def _shared(self, session: pytest.Session) -> Results:
        """Under xdist, one worker computes and the others read; else compute."""
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is None or sys.platform == "win32" or not self.config.option.basetemp:
            return self._compute(session)
        folder = Path(self.config.option.basetemp).parent / "exampletest"
        folder.mkdir(parents=True, exist_ok=True)
        shared = folder / f"{workerinput['testrunuid']}.json"
        with _locked(folder / f"{workerinput['testrunuid']}.lock"):
            if shared.exists():
                return _load_results(shared.read_text(encoding="utf-8"))
            results = self._compute(session)
            tmp = shared.with_suffix(".tmp")
            tmp.write_text(_dump_results(results), encoding="utf-8")
            tmp.replace(shared)
            return results

    def _compute(self, session: pytest.Session) -> Results:
        from exampletest.cli import UsageError, options_from
        from exampletest.pipeline import run

        wanted: dict[str, set[int]] = {}
        for item in session.items:
            if isinstance(item, BlockItem):
                path = os.path.abspath(item.block.doc_path)
                wanted.setdefault(path, set()).add(item.block.index)
        if not wanted:
            return {}
        paths = sorted(os.path.relpath(p) for p in wanted)
        stages = self.config.getoption("exampletest_stages")
        args = argparse.Namespace(paths=paths, stages=stages, jobs=None, no_cache=False,
                                  exclude=[], smoke_timeout=None)  # fmt: skip
        try:
            options = options_from(args, self.settings)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        only = lambda d: wanted.get(os.path.abspath(d.path), set())  # noqa: E731
        options = replace(options, only=only, fixes=False)
        return outcomes(run(options))


def outcomes(report: Report) -> Results:
    """Each block's status and failure text; a stage that failed makes its blocks broken."""
    out: Results = {}
    for doc in report.documents:
        for result in doc.blocks:
            failed = [s for s, v in result.stages.items() if v == "error"]
            lines = [_finding_line(doc.path, f) for f in result.findings if not f.intentional]
            state = result.status
            if failed:
                lines += [f"exampletest: {e}" for e in report.errors + doc.errors]
                state = Status.BROKEN
            out[(os.path.abspath(doc.path), result.block.index)] = Outcome(
                state.value, _header(result, state) + "\n".join(lines)
            )
    return out


def _header(result: BlockResult, state: Status) -> str:
    b = result.block
    return f"block {b.index} ({b.heading or 'no heading'}) at line {b.fence_line} is {state}\n"


def _finding_line(path: str, f: Finding) -> str:
    text = f"{path}:{f.line}:{f.column} {f.rule} {f.category} {f.message}"
    return text + (f"\n    suggestion: {f.suggestion}" if f.suggestion else "")


def _dump_results(results: Results) -> str:
    rows = [[p, i, o.status, o.text] for (p, i), o in results.items()]
    return json.dumps(rows)


def _load_results(text: str) -> Results:
    return {(p, i): Outcome(s, t) for p, i, s, t in json.loads(text)}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_RUNNER = pytest.StashKey[Runner]()
