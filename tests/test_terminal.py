"""The text (terminal) report: snapshot without colour, code frames in document lines.

Update the snapshots after an intended change with:
    EXAMPLETEST_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_terminal.py
and review the diff of tests/data/formats/*.txt.
"""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from exampletest.formats import text
from exampletest.model import Report

DATA = Path(__file__).parent / "data" / "formats"
sample_report = runpy.run_path(str(DATA / "sample_report.py"))["sample_report"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def check_snapshot(name: str, actual: str) -> None:
    path = DATA / name
    if os.environ.get("EXAMPLETEST_UPDATE_SNAPSHOTS"):
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; EXAMPLETEST_UPDATE_SNAPSHOTS=1 to accept"


@pytest.mark.parametrize("verbose", [0, 1])
def test_snapshot(verbose: int) -> None:
    check_snapshot(f"text-report-v{verbose}.txt", text.render(sample_report(), verbose=verbose))


def test_no_control_codes_without_colour() -> None:
    for verbose in (0, 1, 2):
        out = text.render(sample_report(), color=False, verbose=verbose)
        assert not CONTROL.search(out)
        assert all(line == line.rstrip() for line in out.splitlines())
    assert not CONTROL.search(text.render_summary(sample_report()))


def test_colour_uses_ansi() -> None:
    out = text.render(sample_report(), color=True)
    assert "\x1b[" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "tags: List[str] = []" in plain


def test_verbose_shows_every_block() -> None:
    quiet = text.render(sample_report())
    loud = text.render(sample_report(), verbose=1)
    assert 'print("hello")' not in quiet and "block 3  Settings" not in quiet
    assert "block 3  Settings" in loud and "block 2  Routes" in loud  # ok, skipped
    assert "skipped: directive" in loud
    # An ok block still carrying a style finding is shown by default.
    assert "ruff:E711" in quiet
    # Intentional findings: one line by default, a frame with -v.
    assert "[intentional]" in quiet
    assert '> 30 | PASSWORD = "hunter2"' not in quiet
    assert '> 30 | PASSWORD = "hunter2"' in loud


def test_frame_uses_document_lines_and_caret_column() -> None:
    out = text.render(sample_report()).splitlines()
    i = out.index("     > 18 |     tags: List[str] = []")
    caret = out[i + 1]
    assert caret.index("^") == out[i].index("List")
    assert caret.count("^") == len("List")
    # A pycon block: the frame shows the document's own text, prompt included.
    j = out.index("     > 19 |     >>> x == None")
    assert out[j + 1].index("^") == out[j].index("| ") + 2 + 10  # document column 11


def test_fix_is_shown_as_diff() -> None:
    out = text.render(sample_report())
    assert "verified fix   resolves UP035, UP006, UP045" in out
    assert "\n      -    tags: List[str] = []\n" in out
    assert "\n      +    tags: list[str] = []\n" in out
    assert "\n      @@ -17,4 +15,4 @@\n" in out
    assert "proposed fix (not verified)" in out
    assert "note: pydantic-settings is not installed here" in out


def test_summary_and_verdict() -> None:
    summary = text.render_summary(sample_report())
    assert "blocks by status" in summary and "findings by category" in summary
    assert re.search(r"stale\s+4", summary)  # findings by category
    assert re.search(r"ok\s+2", summary)  # blocks by status
    assert "3 documents, 7 blocks in 3.21 s: FAIL (1 at or above --fail-on broken)" in summary
    assert "tags: List" not in summary
    assert "FAIL (3 at or above --fail-on incomplete)" in text.render_summary(
        sample_report(), fail_on="incomplete"
    )
    assert "PASS" in text.render(sample_report(), fail_on="never")


def test_document_and_run_errors() -> None:
    report = sample_report()
    report.errors.append("mypy is not installed")
    out = text.render(report)
    assert "document error: not valid UTF-8 at byte 120" in out
    assert "error: mypy is not installed" in out


def test_empty_report() -> None:
    out = text.render(Report([], tool_version="0", environment={}))
    assert "0 documents, 0 blocks" in out and "PASS" in out


def test_progress_is_silent_off_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    for enabled in (True, False):
        with text.progress(3, enabled) as bar:
            for name in ("a.md:1", "a.md:9"):
                bar.tick(name)
            bar(1)  # the pipeline's Callable[[int], None]
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_the_caret_stays_under_its_column_on_a_tab_indented_line(
    write_doc: Any, run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from exampletest.cli import main

    write_doc("t.md", "```python\nif True:\n\tunused_name = 1\n\tprint(undefined_x)\n```\n")
    main(["run", "--stages", "lint", "--no-cache", "t.md"])
    out = capsys.readouterr().out.splitlines()
    i = next(n for n, line in enumerate(out) if line.endswith("print(undefined_x)"))
    assert "\t" not in out[i]
    assert out[i + 1].index("^") == out[i].index("undefined_x")
