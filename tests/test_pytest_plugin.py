"""``pytest --exampletest``: one item per block, one pipeline run per session (xdist too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exampletest import pipeline

pytest_plugins = ["pytester"]

DOC = """# Doc

```python
x = 1
```

```python
import json
json.loads(
```

<!-- exampletest: skip -->
```python
raise SystemExit
```
"""
OTHER = "# Other\n\n```python\nfrom pydantic import BaseSettings\n```\n"
LINT = ("--exampletest", "--exampletest-stages", "lint", "-p", "no:cacheprovider")
QUIET_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:anyio")  # faster worker start-up

#: Counts pipeline runs (one line each) in every process, xdist workers included.
SPY = """
import exampletest.pipeline as pipeline

_real = pipeline.run

def _spy(options, progress=None):
    with open("pipeline-runs.txt", "a") as fh:
        fh.write(" ".join(options.paths) + "\\n")
    return _real(options, progress)

pipeline.run = _spy
"""


@pytest.fixture
def docs(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".md", doc=DOC, other=OTHER)
    return pytester


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The paths of each pipeline run made in this process."""
    seen: list[tuple[str, ...]] = []
    real = pipeline.run

    def spy(options: pipeline.Options, progress: Any = None) -> Any:
        seen.append(options.paths)
        return real(options, progress)

    monkeypatch.setattr(pipeline, "run", spy)
    return seen


def test_blocks_are_items_that_fail_when_broken(
    docs: pytest.Pytester, runs: list[tuple[str, ...]]
) -> None:
    result = docs.runpytest(*LINT, "doc.md", "other.md", "-v", "-rs")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "doc.md::L3 PASSED*",
            "doc.md::L7 FAILED*",
            "doc.md::L13 SKIPPED*",
            "other.md::L3 FAILED*",
            "*block 2 (Doc) at line 7 is broken",
            "doc.md:9:*SyntaxError broken SyntaxError: '(' was never closed",
            "other.md:4:1 ET106 broken `BaseSettings` moved to the `pydantic-settings` package*",
            "    suggestion: *pydantic_settings*",
        ]
    )
    assert runs == [("doc.md", "other.md")]  # once for the session, not once per item


def test_fail_on_threshold(docs: pytest.Pytester) -> None:
    docs.runpytest(*LINT, "doc.md", "--exampletest-fail-on", "never").assert_outcomes(
        passed=2, skipped=1
    )


def test_markdown_is_not_collected_without_the_flag(docs: pytest.Pytester) -> None:
    result = docs.runpytest("doc.md", "-p", "no:cacheprovider")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["collected 0 items"])


def test_keyword_selection_checks_only_the_selected_blocks(
    docs: pytest.Pytester, runs: list[tuple[str, ...]]
) -> None:
    result = docs.runpytest(*LINT, "doc.md", "other.md", "-k", "doc and L3")
    result.assert_outcomes(passed=1, deselected=3)
    assert runs == [("doc.md",)]


def test_exitfirst_and_junitxml(docs: pytest.Pytester) -> None:
    result = docs.runpytest(*LINT, "doc.md", "other.md", "-x", "--junitxml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    xml = (docs.path / "out.xml").read_text("utf-8")
    assert 'classname="doc.md" name="L7"' in xml
    assert "SyntaxError: &apos;(&apos; was never closed" in xml or "was never closed" in xml


def test_paths_from_pyproject_or_option(docs: pytest.Pytester) -> None:
    (docs.path / "guide").mkdir()
    (docs.path / "guide" / "g.md").write_text(OTHER, "utf-8")
    docs.makepyfile(test_plain="def test_plain():\n    pass\n")
    docs.makepyprojecttoml('[tool.exampletest]\npaths = ["guide"]\n')
    result = docs.runpytest(*LINT, "--co", "-q")  # README-like doc.md at the root is not a doc
    result.stdout.fnmatch_lines(["guide/g.md::L3", "test_plain.py::test_plain"])
    assert "doc.md" not in result.stdout.str()
    result = docs.runpytest(*LINT, "--co", "-q", "--exampletest-paths", "doc.md", "test_plain.py")
    result.stdout.fnmatch_lines(["test_plain.py::test_plain", "doc.md::L3", "doc.md::L7"])
    assert "guide" not in result.stdout.str()


def test_xdist_workers_share_one_pipeline_run(docs: pytest.Pytester) -> None:
    docs.makeconftest(SPY)
    result = docs.runpytest_subprocess(*LINT, "doc.md", "other.md", "-n", "2", *QUIET_PLUGINS)
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    runs = Path(docs.path / "pipeline-runs.txt").read_text("utf-8").splitlines()
    assert runs == ["doc.md other.md"]
