"""The fix engine's first round, started while mypy runs, must change nothing but the timing:
the same fixes, verified the same way, with nothing left to check at the end."""

from __future__ import annotations

import textwrap
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from exampletest import pipeline
from exampletest.context import MISSING_IMPORT, UNDEFINED
from exampletest.fix import engine
from exampletest.fix.base import Rewrite
from exampletest.model import STAGES, Category, Document, Finding, Report
from exampletest.nameindex import NameIndex
from exampletest.stages.types import SharedRun

DOC = textwrap.dedent(
    """\
    # Models

    ```python
    from datetime import datetime
    from pydantic import BaseModel, validator

    class User(BaseModel):
        name: str
        created: datetime = datetime.utcnow()

        @validator("name")
        def strip(cls, v):
            return v.strip()
    ```

    ```python
    user = User(name=" ada ")
    print(user.dict())
    ```

    ```python
    def total(items: List[int]) -> int:
        return sum(items)
    ```
    """
)


def _fixes(report: Report) -> list[tuple[str | None, bool | None, tuple[str, ...]]]:
    out: list[tuple[str | None, bool | None, tuple[str, ...]]] = []
    for doc in report.documents:
        for result in doc.blocks:
            fix = result.fix
            out.append((fix.replacement, fix.verified, fix.resolves) if fix else (None, None, ()))
    return out


@dataclass
class Setup:
    options: pipeline.Options
    documents: list[Document]
    index: NameIndex

    def fixes(self, speculation: engine.Trial | None = None) -> list[Any]:
        """The full run's fixes, with the fix engine given ``speculation``."""
        report = Report([], "test", {})
        checked = pipeline.check(self.documents, self.options, self.index, [])
        report.documents = pipeline.conclude(checked)
        engine.propose(report, self.documents, self.options, self.index, speculation=speculation)
        return _fixes(report)

    def speculate(self, shared: SharedRun | None = None) -> engine.Trial:
        """What every stage but types finds, then the speculative round from it (its mypy
        joining ``shared`` if that has not started)."""
        early = replace(self.options, stages=frozenset(STAGES) - {"types"})
        preliminary = pipeline.conclude(pipeline.check(self.documents, early, self.index, []))
        return engine.speculate(
            preliminary, self.documents, self.options, self.index, shared=shared
        )


@pytest.fixture
def setup(in_tmp: Path) -> Setup:
    (in_tmp / "doc.md").write_text(DOC, encoding="utf-8")
    options = pipeline.Options(paths=("doc.md",), cache_dir=in_tmp / ".cache", use_cache=False)
    documents, _ = pipeline.load_documents(options)
    return Setup(options, documents, pipeline.load_index(options, documents))


def _spy_on_trials(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """Record the stages each trial check runs per document (the real check still runs)."""
    stages_run: list[frozenset[str]] = []
    real_check = pipeline.check

    def spy(docs: Any, opts: pipeline.Options, *args: Any, **kwargs: Any) -> Any:
        for d in docs:
            chosen = opts.stages_for(d.path) if opts.stages_for else None
            stages_run.append(opts.stages if chosen is None else chosen)
        return real_check(docs, opts, *args, **kwargs)

    monkeypatch.setattr(engine, "check", spy)
    return stages_run


def test_speculative_round_gives_the_same_fixes_and_leaves_nothing_to_check(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = setup.fixes()
    speculation = setup.speculate()
    assert speculation.checked is not None and speculation.codes
    stages_run = _spy_on_trials(monkeypatch)
    assert setup.fixes(speculation) == plain
    assert any(f[1] for f in plain)  # something was fixed and verified
    assert stages_run == []  # round one was checked whole (types included) ahead of time


def test_a_speculation_that_no_longer_matches_is_not_reused(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = setup.fixes()
    speculation = setup.speculate()
    # A stale speculation (other trial code for the block): every stage runs again.
    key = next(iter(speculation.codes))
    speculation.codes[key] += "\nundefined_name_from_a_stale_trial\n"
    stages_run = _spy_on_trials(monkeypatch)
    assert setup.fixes(speculation) == plain
    assert stages_run and stages_run[0] == frozenset(STAGES)


def test_a_speculation_too_late_for_the_runs_mypy_types_its_trials_once_that_is_over(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's mypy had started without the head start's trials: they wait for it to end
    (the two share mypy's cache) and are typed then, in the head start, so that the first
    round has nothing left to check, with the same fixes."""
    plain = setup.fixes()
    started = SharedRun()
    assert started.depart() == []  # the run's mypy has left: nothing can board it now
    ended = threading.Timer(1.0, started.end)  # ... and is over a second later
    ended.start()
    began = time.monotonic()
    speculation = setup.speculate(shared=started)
    assert time.monotonic() - began >= 1.0  # its own mypy waited for the run's
    assert speculation.checked is not None
    assert all(r.stages["types"] == "ran" for r in speculation.checked.results.values())
    stages_run = _spy_on_trials(monkeypatch)
    assert setup.fixes(speculation) == plain
    assert stages_run == []


def test_a_speculation_after_the_runs_mypy_checks_its_types_at_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large run's head start comes after the run's mypy is over: its trials are typed
    then (mypy's cache is free), and the first round has nothing left to check."""
    plain = setup.fixes()
    over = SharedRun()
    over.end()
    speculation = setup.speculate(shared=over)
    assert speculation.checked is not None
    assert all(r.stages["types"] == "ran" for r in speculation.checked.results.values())
    stages_run = _spy_on_trials(monkeypatch)
    assert setup.fixes(speculation) == plain
    assert stages_run == []


RULE_STAYS = textwrap.dedent(
    """\
    ```python
    import jwt

    def claims(token: str) -> dict:
        return jwt.decode(token, "secret", algorithms=["HS256"], verify=False)

    print(datetime.now())
    ```
    """
)


def test_what_the_rule_pack_finds_in_a_trial_counts_once(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding no rewrite removes (here a rule's) is in the trial's head start and must not
    be counted twice: twice would look like a new problem and drop the rewrite (the missing
    import) that fixes the block."""
    (in_tmp / "doc.md").write_text(RULE_STAYS, encoding="utf-8")
    options = pipeline.Options(paths=("doc.md",), cache_dir=in_tmp / ".cache", use_cache=False)
    documents, _ = pipeline.load_documents(options)
    setup = Setup(options, documents, pipeline.load_index(options, documents))
    plain = setup.fixes()
    speculation = setup.speculate()
    stages_run = _spy_on_trials(monkeypatch)
    assert setup.fixes(speculation) == plain
    assert stages_run == []
    replacement, verified, _ = plain[0]
    assert replacement is not None and "from datetime import datetime" in replacement
    assert verified


def test_a_later_round_with_the_same_rewrites_reuses_the_earlier_check(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving out a group that no block of a document used rewrites it as before: the earlier
    round's findings are the answer, and nothing runs again. Other code runs again."""
    checked = pipeline.check(setup.documents, setup.options, setup.index, [])
    results = pipeline.conclude(checked)
    by_path = {d.path: d for d in setup.documents}
    states = engine._states(results, by_path, None)
    rctxs = engine._rewrite_ctxs(setup.options, by_path, states, setup.index)
    applied = engine._apply_all(states, rctxs, None, {key: set() for key in states})
    trial = {k: (code, Rewrite(code)) for k, (code, groups) in applied.items() if groups}
    assert trial
    history: list[engine.Trial] = []
    first = engine._recheck(trial, states, setup.options, setup.index, None, history)
    stages_run = _spy_on_trials(monkeypatch)
    again = engine._recheck(trial, states, setup.options, setup.index, None, history)
    assert again == first and stages_run == []
    key = next(iter(trial))
    other = trial[key][0] + "\nprint('another rewrite')\n"
    engine._recheck(
        {key: (other, Rewrite(other))}, states, setup.options, setup.index, None, history
    )
    assert stages_run and stages_run[0] == frozenset(STAGES)


def test_a_rewrite_that_leaves_a_name_undefined_is_worse() -> None:
    """A name the rewrite uses and nothing defines is a NameError for the reader, though
    the context calls it incomplete (a stand-in lets the block run)."""

    def missing(name: str) -> Finding:
        message = f"`{name}` is used but never imported (used 1x)"
        return Finding("context", "exampletest", MISSING_IMPORT, Category.INCOMPLETE, 3, 5, message)

    before = [missing("datetime")]
    assert not engine._new_worse([missing("datetime")], before)
    assert engine._new_worse([missing("datetime"), missing("UTC")], before)


def test_a_name_undefined_before_and_after_is_not_worse_whatever_the_rule() -> None:
    """`Timeout`, a fragment's name before, is guessable from `requests` once the fix
    imports it: the same undefined name, not a new one."""
    fragment = Finding(
        "context", "exampletest", UNDEFINED, Category.INCOMPLETE, 3, 5,
        "fragment: `Timeout` is never defined in this document (used 2x)",
    )  # fmt: skip
    guessable = fragment.replace(
        rule=MISSING_IMPORT, message="`Timeout` is used but never imported (used 2x)"
    )
    assert not engine._new_worse([guessable], [fragment])
