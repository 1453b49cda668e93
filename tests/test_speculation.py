"""The fix engine's first round, started while mypy runs, must change nothing but the timing:
the same fixes, verified the same way, with types the only stage left for the end."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from exampletest import pipeline
from exampletest.fix import engine
from exampletest.model import STAGES, Report

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


def _report(options: pipeline.Options) -> tuple[Report, list[Any]]:
    documents, errors = pipeline.load_documents(options)
    index = pipeline.load_index(options, documents)
    report = Report([], "test", {}, errors=list(errors))
    return report, [documents, index]


def _spy_on_trials(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """Record the stages each trial check runs per document (the real check still runs)."""
    stages_run: list[frozenset[str]] = []
    real_check = pipeline.check

    def spy(docs: Any, opts: pipeline.Options, *args: Any, **kwargs: Any) -> Any:
        assert opts.stages_for is not None
        stages_run.extend(opts.stages_for(d.path) or frozenset() for d in docs)
        return real_check(docs, opts, *args, **kwargs)

    monkeypatch.setattr(engine, "check", spy)
    return stages_run


def test_speculative_round_gives_the_same_fixes_and_leaves_only_types(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / "doc.md").write_text(DOC, encoding="utf-8")
    options = pipeline.Options(paths=("doc.md",), cache_dir=in_tmp / ".cache", use_cache=False)

    plain, (documents, index) = _report(options)
    plain.documents = pipeline.evaluate(documents, options, index, plain.errors)
    engine.propose(plain, documents, options, index)

    # What every stage but types finds, then the speculative round from it.
    early = replace(options, stages=frozenset(STAGES) - {"types"})
    checked = pipeline.check(documents, early, index, [])
    preliminary = pipeline.conclude(checked)
    speculation = engine.speculate(preliminary, documents, options, index)
    assert speculation.checked is not None and speculation.codes

    stages_run = _spy_on_trials(monkeypatch)
    again, _ = _report(options)
    again.documents = pipeline.evaluate(documents, options, index, again.errors)
    engine.propose(again, documents, options, index, speculation=speculation)

    assert _fixes(again) == _fixes(plain)
    assert any(f[1] for f in _fixes(plain))  # something was fixed and verified
    assert stages_run and stages_run[0] == frozenset({"types"})  # round one: only types left


def test_a_speculation_that_no_longer_matches_is_not_reused(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / "doc.md").write_text(DOC, encoding="utf-8")
    options = pipeline.Options(paths=("doc.md",), cache_dir=in_tmp / ".cache", use_cache=False)
    report, (documents, index) = _report(options)
    report.documents = pipeline.evaluate(documents, options, index, report.errors)
    engine.propose(report, documents, options, index)
    expected = _fixes(report)

    early = replace(options, stages=frozenset(STAGES) - {"types"})
    preliminary = pipeline.conclude(pipeline.check(documents, early, index, []))
    speculation = engine.speculate(preliminary, documents, options, index)
    # A stale speculation (other trial code for the block): every stage runs again.
    key = next(iter(speculation.codes))
    speculation.codes[key] += "\nundefined_name_from_a_stale_trial\n"
    stages_run = _spy_on_trials(monkeypatch)
    again, _ = _report(options)
    again.documents = pipeline.evaluate(documents, options, index, again.errors)
    engine.propose(again, documents, options, index, speculation=speculation)
    assert _fixes(again) == expected
    assert stages_run and stages_run[0] == frozenset(STAGES)
